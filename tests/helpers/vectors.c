/*
 * Test helpers: read official vectors from $DSUIT_VECTORS and decode hex
 * constants (see vectors.h). Failures end the running cmocka test with a
 * message naming the file, so a missing vector can never pass silently.
 */
#include "vectors.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Read the whole file into buf; cap counts the bytes usable for content. */
static void read_file(const char *relpath, uint8_t *buf, size_t cap,
                      size_t *out_len)
{
    const char *dir = getenv("DSUIT_VECTORS");
    char path[4096];
    if (dir == NULL || dir[0] == '\0') {
        fail_msg("DSUIT_VECTORS is not set; cannot read vector '%s' "
                 "(run the test through ctest)",
                 relpath);
    }
    int n = snprintf(path, sizeof path, "%s/%s", dir, relpath);
    if (n < 0 || (size_t)n >= sizeof path)
        fail_msg("vector path too long: '%s/%s'", dir, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open vector '%s': %s", path, strerror(errno));
    size_t len = fread(buf, 1, cap, f);
    int err = ferror(f);
    int more = (len == cap && fgetc(f) != EOF);
    fclose(f);
    if (err)
        fail_msg("cannot read vector '%s'", path);
    if (more)
        fail_msg("vector '%s' is larger than the test buffer (%zu bytes)", path,
                 cap);
    *out_len = len;
}

int tv_read(const char *relpath, uint8_t *buf, size_t cap, size_t *out_len)
{
    read_file(relpath, buf, cap, out_len);
    return 0;
}

int tv_read_text(const char *relpath, char *buf, size_t cap, size_t *out_len)
{
    size_t len = 0;
    if (cap == 0)
        fail_msg("tv_read_text('%s'): no room for the NUL", relpath);
    read_file(relpath, (uint8_t *)buf, cap - 1, &len);
    buf[len] = '\0';
    *out_len = len;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t tv_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            continue;
        int d = hex_digit(*p);
        if (d < 0)
            fail_msg("tv_hex: '%c' is not a hex digit in \"%s\"", *p, hex);
        if (hi < 0) {
            hi = d;
            continue;
        }
        if (n >= cap)
            fail_msg("tv_hex: more than %zu bytes in \"%s\"", cap, hex);
        out[n++] = (uint8_t)(hi << 4 | d);
        hi = -1;
    }
    if (hi >= 0)
        fail_msg("tv_hex: odd number of hex digits in \"%s\"", hex);
    return n;
}
