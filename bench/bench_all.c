/*
 * bench_all: runs every benchmark module (BENCH_MODULES in bench.h), or
 * those named on the command line, and writes the result table. See
 * bench/README.md.
 */
#include "bench.h"

int main(int argc, char **argv)
{
    bench_t *b = bench_new(argc, argv);
    if (b == NULL)
        return 2;
#define BENCH__RUN(name)                                                       \
    if (bench_wants(b, #name)) {                                               \
        bench_section(b, #name);                                               \
        bench_##name(b);                                                       \
    }
    BENCH_MODULES(BENCH__RUN)
#undef BENCH__RUN
    return bench_finish(b);
}
