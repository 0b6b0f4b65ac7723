/*
 * Faults for system tests of a cluster (see fault_fixture.h): freezing
 * and killing node processes, bounded status polls, bounded CLI runs,
 * damaged files.
 */
/* pipe2 and O_CLOEXEC (Linux), prctl, setenv beyond POSIX 2008 C11. */
#define _GNU_SOURCE

#include "fault_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "dsuit/crypto.h"

/* The pid each node had when ff_freeze() stopped it (0: not frozen). Test
 * helpers run on the test's thread only; one cluster at a time. */
static pid_t ff_frozen_pid[CL_MAX_NODES];

void ff_freeze(cl_t *cl, size_t i)
{
    assert_true(i < cl->n);
    assert_true(cl->pid[i] > 0);
    assert_int_equal(kill(cl->pid[i], SIGSTOP), 0);
    ff_frozen_pid[i] = cl->pid[i];
}

void ff_thaw(cl_t *cl, size_t i)
{
    if (i >= CL_MAX_NODES || ff_frozen_pid[i] == 0)
        return;
    if (cl->pid[i] == ff_frozen_pid[i])
        kill(cl->pid[i], SIGCONT);
    ff_frozen_pid[i] = 0;
}

void ff_thaw_all(cl_t *cl)
{
    if (cl == NULL)
        return;
    for (size_t i = 0; i < CL_MAX_NODES; i++)
        ff_thaw(cl, i);
}

int ff_frozen(const cl_t *cl, size_t i)
{
    return i < CL_MAX_NODES && ff_frozen_pid[i] != 0 &&
           cl->pid[i] == ff_frozen_pid[i];
}

int ff_teardown(void **state)
{
    ff_thaw_all(*state);
    return cl_teardown(state);
}

void ff_kill9_all(cl_t *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->pid[i] > 0)
            kill(cl->pid[i], SIGKILL);
    for (size_t i = 0; i < cl->n; i++) {
        int st;
        if (cl->pid[i] <= 0)
            continue;
        while (waitpid(cl->pid[i], &st, 0) < 0 && errno == EINTR)
            ;
        cl->pid[i] = 0;
        if (i < CL_MAX_NODES)
            ff_frozen_pid[i] = 0;
    }
}

static uint64_t json_u64(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

int ff_status(const cl_t *cl, size_t i, unsigned timeout_ms, cl_status_t *out)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    long st = cl_http_ex(cl, i, "GET", "/v1/status", NULL, NULL, 0, timeout_ms,
                         1u << 20, &b, &bl);
    json_t *j = st == 200 ? json_loadb((const char *)b, bl, 0, NULL) : NULL;
    const char *role, *leader;
    cl_status_t s;
    free(b);
    if (j == NULL)
        return -1;
    memset(&s, 0, sizeof s);
    s.leader_index = -1;
    role = json_string_value(json_object_get(j, "role"));
    leader = json_string_value(json_object_get(j, "leader"));
    if (role != NULL)
        snprintf(s.role, sizeof s.role, "%s", role);
    if (leader != NULL) {
        snprintf(s.leader, sizeof s.leader, "%s", leader);
        for (size_t k = 0; k < cl->n; k++)
            if (strcmp(cl->g->validators[k].name, leader) == 0)
                s.leader_index = (int)k;
    }
    s.term = json_u64(j, "term");
    s.height = json_u64(j, "height");
    s.certified = json_u64(j, "certified_height");
    s.applied = json_u64(j, "blocks_applied");
    s.rejected = json_u64(j, "blocks_rejected");
    json_decref(j);
    *out = s;
    return 0;
}

int ff_wait_leader_among(const cl_t *cl, unsigned mask, uint64_t min_term,
                         unsigned timeout_ms, uint64_t *out_term)
{
    uint64_t t0 = cl_now_ms();
    do {
        cl_status_t st[CL_MAX_NODES];
        int ok[CL_MAX_NODES];
        for (size_t i = 0; i < cl->n; i++)
            ok[i] = (mask >> i & 1u) && cl->pid[i] > 0 &&
                    ff_status(cl, i, 1000, &st[i]) == 0;
        for (size_t i = 0; i < cl->n; i++) {
            size_t agree = 0;
            if (!ok[i] || strcmp(st[i].role, "leader") != 0 ||
                st[i].term <= min_term)
                continue;
            for (size_t k = 0; k < cl->n; k++)
                agree += ok[k] && st[k].leader_index == (int)i;
            if (agree >= cl->n / 2 + 1) {
                if (out_term != NULL)
                    *out_term = st[i].term;
                return (int)i;
            }
        }
        cl_sleep_ms(20);
    } while (cl_now_ms() - t0 < timeout_ms);
    return -1;
}

int ff_run(const cl_t *cl, const char *const *args, const char *const *env,
           unsigned timeout_ms, char *out, size_t out_cap, char *err,
           size_t err_cap)
{
    const char *argv[48];
    size_t k = 0;
    argv[k++] = cl->bin;
    for (size_t a = 0; args[a] != NULL; a++) {
        if (k + 1 >= sizeof argv / sizeof argv[0])
            return -1;
        argv[k++] = args[a];
    }
    argv[k] = NULL;
    return df_run(argv, env, timeout_ms, out, out_cap, err, err_cap);
}

const char *ff_damage_name(ff_damage_t kind)
{
    static const char *const names[FF_DAMAGE_KINDS] = {
        "bit flipped in the middle",
        "bit flipped in the first byte",
        "bit flipped in the last byte",
        "cut to half",
        "emptied",
        "one byte appended",
        "zeroed"};
    return (unsigned)kind < FF_DAMAGE_KINDS ? names[kind] : "?";
}

void ff_damage(const char *path, ff_damage_t kind)
{
    int fd = open(path, O_RDWR);
    struct stat sb;
    off_t at = 0;
    uint8_t b;

    if (fd < 0)
        fail_msg("cannot open %s to damage it: %s", path, strerror(errno));
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true(sb.st_size > 0);
    switch (kind) {
    case FF_FLIP_MIDDLE:
    case FF_FLIP_FIRST:
    case FF_FLIP_LAST:
        at = kind == FF_FLIP_FIRST  ? 0
             : kind == FF_FLIP_LAST ? sb.st_size - 1
                                    : sb.st_size / 2;
        assert_int_equal(pread(fd, &b, 1, at), 1);
        b ^= 0x10;
        assert_int_equal(pwrite(fd, &b, 1, at), 1);
        break;
    case FF_TRUNCATE:
        assert_int_equal(ftruncate(fd, sb.st_size / 2), 0);
        break;
    case FF_EMPTY:
        assert_int_equal(ftruncate(fd, 0), 0);
        break;
    case FF_EXTEND:
        b = 0x5a;
        assert_int_equal(pwrite(fd, &b, 1, sb.st_size), 1);
        break;
    case FF_ZEROES: {
        uint8_t z[4096] = {0};
        for (off_t o = 0; o < sb.st_size; o += (off_t)sizeof z) {
            size_t n = (size_t)(sb.st_size - o) < sizeof z
                           ? (size_t)(sb.st_size - o)
                           : sizeof z;
            assert_int_equal(pwrite(fd, z, n, o), (ssize_t)n);
        }
        break;
    }
    default:
        fail_msg("unknown damage kind %d", (int)kind);
    }
    close(fd);
}

void ff_write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail_msg("cannot write %s: %s", path, strerror(errno));
        done += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

int ff_sha256_file(const char *path, uint8_t out[32])
{
    size_t n = 0;
    uint8_t *p = df_slurp(path, &n);
    int rc;
    if (p == NULL)
        return -1;
    rc = dsuit_sha256(p, n, out) == DSUIT_OK ? 0 : -1;
    free(p);
    return rc;
}

uint64_t ff_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
