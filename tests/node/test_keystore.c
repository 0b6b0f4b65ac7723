/*
 * Tests of the node's device keystore (src/node/keystore.h): the file
 * DATA/device-keys, one "<identity> <vendor-id> <class-id> <key hex>" line
 * per device, read by node_keystore_load()/node_keystore_read() and
 * rewritten whole by node_keystore_put().
 *
 * - A valid file with comments, blank lines, tabs and CRLF loads, sorted
 *   by identity; the limits (64-byte identity, 16- and 64-byte keys, a
 *   511-byte line) are accepted at the boundary.
 * - A table of malformed lines (identity characters and length, key
 *   length and digits, UUIDs, field count, line length) each give
 *   DSUIT_E_INVAL with *bad_line naming that line; a duplicate identity
 *   is DSUIT_E_INVAL too; more than NODE_KEYSTORE_MAX devices is
 *   DSUIT_E_LIMIT; a missing file is an empty keystore.
 * - node_keystore_put() adds, replaces (and says so), keeps the other
 *   devices, leaves no temporary file, writes mode 0600, and refuses to
 *   touch a malformed keystore.
 * - node_keystore_find() and node_psk_id_valid().
 *
 * With DSUIT_FUZZ_SEEDS=<folder> set, the first test also writes seed
 * inputs for fuzz/fuzz_keystore.c into <folder>/fuzz_keystore/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsuit/error.h"
#include "node/keystore.h"

#define V   "00112233-4455-6677-8899-aabbccddeeff"
#define C   "ffeeddcc-bbaa-9988-7766-554433221100"
#define K16 "000102030405060708090a0b0c0d0e0f"
#define K32 K16 "101112131415161718191a1b1c1d1e1f"
#define K64 K32 K32

static const uint8_t V_BYTES[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                                    0xcc, 0xdd, 0xee, 0xff};
static const uint8_t C_BYTES[16] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa,
                                    0x99, 0x88, 0x77, 0x66, 0x55, 0x44,
                                    0x33, 0x22, 0x11, 0x00};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    char dir[64];
    char path[128];
    char tmp[160];
} ks_dir_t;

static int setup_dir(void **state)
{
    ks_dir_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -1;
    snprintf(d->dir, sizeof d->dir, "/tmp/dsuit-keystore-XXXXXX");
    if (mkdtemp(d->dir) == NULL) {
        free(d);
        return -1;
    }
    snprintf(d->path, sizeof d->path, "%s/%s", d->dir, NODE_KEYSTORE_FILE);
    snprintf(d->tmp, sizeof d->tmp, "%s.tmp", d->path);
    umask(022);
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    ks_dir_t *d = *state;
    char p[200];
    unlink(d->path);
    unlink(d->tmp);
    snprintf(p, sizeof p, "%s.lock", d->path);
    unlink(p);
    rmdir(d->dir);
    free(d);
    return 0;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        fail_msg("cannot write '%s'", path);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Read a whole file into a malloc'd NUL-terminated buffer. */
static char *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        fail_msg("cannot read '%s'", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *out_len = (size_t)n;
    return buf;
}

/* node_keystore_read() over an in-memory text. */
static int read_text(const char *text, size_t len, node_psk_t **out, size_t *n,
                     size_t *bad)
{
    FILE *f = fmemopen((void *)text, len, "r");
    int rc;
    if (f == NULL)
        fail_msg("fmemopen failed");
    rc = node_keystore_read(f, out, n, bad);
    fclose(f);
    return rc;
}

static void write_seed(const char *name, const char *text)
{
    const char *dir = getenv("DSUIT_FUZZ_SEEDS");
    char path[1024];
    if (dir == NULL || *dir == '\0')
        return;
    snprintf(path, sizeof path, "%s/fuzz_keystore", dir);
    (void)mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/fuzz_keystore/%s", dir, name);
    write_file(path, text, strlen(text));
}

static void assert_entry(const node_psk_t *e, const char *id,
                         const char *key_hex)
{
    uint8_t key[NODE_PSK_KEY_MAX];
    size_t kl = strlen(key_hex) / 2;
    for (size_t i = 0; i < kl; i++) {
        unsigned b;
        assert_int_equal(sscanf(key_hex + 2 * i, "%2x", &b), 1);
        key[i] = (uint8_t)b;
    }
    if (e->id_len != strlen(id) || memcmp(e->id, id, e->id_len) != 0)
        fail_msg("entry: id '%.*s', want '%s'", (int)e->id_len, e->id, id);
    assert_int_equal(e->key_len, kl);
    assert_memory_equal(e->key, key, kl);
}

static node_psk_t entry(const char *id, const uint8_t vendor[16],
                        const uint8_t klass[16], uint8_t key_byte,
                        size_t key_len)
{
    node_psk_t e;
    memset(&e, 0, sizeof e);
    e.id_len = strlen(id);
    memcpy(e.id, id, e.id_len);
    memcpy(e.vendor, vendor, 16);
    memcpy(e.klass, klass, 16);
    memset(e.key, key_byte, key_len);
    e.key_len = key_len;
    return e;
}

/* Field by field: padding bytes are not part of an entry. */
static void assert_same(const node_psk_t *got, const node_psk_t *want)
{
    if (got->id_len != want->id_len ||
        memcmp(got->id, want->id, want->id_len) != 0)
        fail_msg("entry: id '%.*s', want '%.*s'", (int)got->id_len, got->id,
                 (int)want->id_len, want->id);
    assert_memory_equal(got->vendor, want->vendor, 16);
    assert_memory_equal(got->klass, want->klass, 16);
    assert_int_equal(got->key_len, want->key_len);
    assert_memory_equal(got->key, want->key, want->key_len);
}

static void assert_no_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        fail_msg("'%s' exists", path);
}

/* ------------------------------------------------------------------ */
/* Reading                                                            */
/* ------------------------------------------------------------------ */

static void keystore_loads_a_valid_file_sorted(void **state)
{
    static const char text[] =
        "# dsuit device keystore\n"
        "\n"
        "zeta " V " " C " " K16 "\n"
        "   \t \n"
        "# another comment, with a key-like line: a b c d\n"
        "Alpha\t" V "\t" C "\t" K32 "\r\n"
        "mid.dev@x:1_2-3  " C "   " V " " K64 "\n"
        "last-without-newline " V " " C " " K16;
    ks_dir_t *d = *state;
    node_psk_t *v = NULL;
    size_t n = 0, bad = 99;

    write_seed("valid.txt", text);
    write_seed("one.txt", "dev-1 " V " " C " " K32 "\n");
    write_seed("malformed-uuid.txt", "dev-1 " V " 0011 " K32 "\n");
    write_seed("duplicate.txt",
               "d " V " " C " " K16 "\nd " V " " C " " K32 "\n");

    write_file(d->path, text, sizeof text - 1);
    assert_int_equal(node_keystore_load(d->path, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 4);
    /* Bytewise order: upper case sorts before lower case. */
    assert_entry(&v[0], "Alpha", K32);
    assert_entry(&v[1], "last-without-newline", K16);
    assert_entry(&v[2], "mid.dev@x:1_2-3", K64);
    assert_entry(&v[3], "zeta", K16);
    assert_memory_equal(v[3].vendor, V_BYTES, 16);
    assert_memory_equal(v[3].klass, C_BYTES, 16);
    assert_memory_equal(v[2].vendor, C_BYTES, 16);
    assert_memory_equal(v[2].klass, V_BYTES, 16);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].id[v[i].id_len], '\0');
    node_keystore_free(v, n);

    /* The same text from a stream. */
    v = NULL;
    assert_int_equal(read_text(text, sizeof text - 1, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 4);
    assert_entry(&v[0], "Alpha", K32);
    node_keystore_free(v, n);
}

static void keystore_accepts_each_limit_at_its_boundary(void **state)
{
    char text[1024], id64[NODE_PSK_ID_MAX + 1];
    node_psk_t *v = NULL;
    size_t n = 0, bad = 0;
    (void)state;
    memset(id64, 'i', NODE_PSK_ID_MAX);
    id64[NODE_PSK_ID_MAX] = '\0';
    /* 64-byte identity, 16- and 64-byte keys. */
    snprintf(text, sizeof text,
             "%s " V " " C " " K16 "\nk64 " V " " C " " K64 "\n", id64);
    assert_int_equal(read_text(text, strlen(text), &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id_len, NODE_PSK_ID_MAX);
    assert_int_equal(v[0].key_len, NODE_PSK_KEY_MIN);
    assert_int_equal(v[1].key_len, NODE_PSK_KEY_MAX);
    node_keystore_free(v, n);

    /* A line of 511 bytes with its newline (trailing blanks). */
    int k = snprintf(text, sizeof text, "d " V " " C " " K16);
    memset(text + k, ' ', 510 - (size_t)k);
    text[510] = '\n';
    text[511] = '\0';
    assert_int_equal(read_text(text, 511, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 1);
    node_keystore_free(v, n);
}

static void keystore_loads_a_missing_file_as_empty(void **state)
{
    ks_dir_t *d = *state;
    node_psk_t *v = (node_psk_t *)1;
    size_t n = 7, bad = 0;
    assert_int_equal(node_keystore_load(d->path, &v, &n, &bad), DSUIT_OK);
    assert_null(v);
    assert_int_equal(n, 0);
    /* An empty file, and one of comments only, are empty too. */
    v = (node_psk_t *)1;
    assert_int_equal(read_text("", 0, &v, &n, &bad), DSUIT_OK);
    assert_null(v);
    assert_int_equal(n, 0);
    v = (node_psk_t *)1;
    assert_int_equal(read_text("# x\n\n", 5, &v, &n, &bad), DSUIT_OK);
    assert_null(v);
    assert_int_equal(n, 0);
}

static void keystore_load_of_a_folder_is_an_io_error(void **state)
{
    ks_dir_t *d = *state;
    node_psk_t *v = NULL;
    size_t n = 0, bad = 0;
    assert_int_equal(node_keystore_load(d->dir, &v, &n, &bad), DSUIT_E_IO);
}

typedef struct {
    const char *name;
    const char *line; /* line 3 of the file, without its newline */
} bad_line_case_t;

static const bad_line_case_t bad_lines[] = {
    {"identity with '/'", "dev/1 " V " " C " " K16},
    {"identity with '#'", "dev#1 " V " " C " " K16},
    {"identity with '*'", "dev*1 " V " " C " " K16},
    {"identity with '+'", "dev+1 " V " " C " " K16},
    {"identity with a quote", "dev'1 " V " " C " " K16},
    {"identity in UTF-8", "d\xc3\xa9v " V " " C " " K16},
    {"identity with a control byte", "dev\x01 " V " " C " " K16},
    {"identity of 65 bytes",
     "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii " V
     " " C " " K16},
    {"key of 15 bytes", "dev " V " " C " 000102030405060708090a0b0c0d0e"},
    {"key of 65 bytes", "dev " V " " C " " K64 "40"},
    {"key of an odd digit count", "dev " V " " C " " K16 "1"},
    {"key with a non-hex digit",
     "dev " V " " C " 0g0102030405060708090a0b0c0d0e0f"},
    {"key with a 0x prefix",
     "dev " V " " C " 0x0102030405060708090a0b0c0d0e0f"},
    {"vendor of 35 characters",
     "dev 00112233-4455-6677-8899-aabbccddeef " C " " K16},
    {"vendor of 37 characters",
     "dev 00112233-4455-6677-8899-aabbccddeeff0 " C " " K16},
    {"vendor without hyphens",
     "dev 00112233445566778899aabbccddeeff " C " " K16},
    {"vendor of 36 hex digits",
     "dev 00112233445566778899aabbccddeeff0011 " C " " K16},
    {"vendor with a non-hex digit",
     "dev 0011223g-4455-6677-8899-aabbccddeeff " C " " K16},
    {"vendor with a space for a hyphen",
     "dev 00112233 4455-6677-8899-aabbccddeeff " C " " K16},
    {"class of 35 characters",
     "dev " V " ffeeddcc-bbaa-9988-7766-55443322110 " K16},
    {"class with a non-hex digit",
     "dev " V " ffeeddcc-bbaa-9988-7766-55443322110z " K16},
    {"three fields", "dev " V " " C},
    {"five fields", "dev " V " " C " " K16 " extra"},
    {"one field", "dev"},
    {"fields in the wrong order", V " dev " C " " K16},
};

static void keystore_refuses_each_malformed_line_with_its_number(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        char text[1024];
        node_psk_t *v = (node_psk_t *)1;
        size_t n = 99, bad = 0;
        int rc;
        snprintf(text, sizeof text,
                 "# keys\ngood-1 " V " " C " " K16 "\n%s\ngood-2 " V " " C
                 " " K16 "\n",
                 bad_lines[i].line);
        rc = read_text(text, strlen(text), &v, &n, &bad);
        if (rc != DSUIT_E_INVAL || bad != 3)
            fail_msg("row '%s': got %s at line %zu, want DSUIT_E_INVAL at 3",
                     bad_lines[i].name, dsuit_err_name(rc), bad);
        /* Out-params untouched on failure. */
        assert_ptr_equal(v, (node_psk_t *)1);
        assert_int_equal(n, 99);
        /* The same line last, without a newline. */
        snprintf(text, sizeof text, "good-1 " V " " C " " K16 "\n%s",
                 bad_lines[i].line);
        rc = read_text(text, strlen(text), &v, &n, &bad);
        if (rc != DSUIT_E_INVAL || bad != 2)
            fail_msg("row '%s' (last line): got %s at line %zu, want "
                     "DSUIT_E_INVAL at 2",
                     bad_lines[i].name, dsuit_err_name(rc), bad);
    }
}

static void keystore_refuses_a_line_longer_than_511_bytes(void **state)
{
    char text[2048];
    node_psk_t *v = NULL;
    size_t n = 0, bad = 0;
    (void)state;
    /* A valid line padded with blanks to 512 bytes with its newline. */
    int k = snprintf(text, sizeof text, "# c\nd " V " " C " " K16);
    memset(text + k, ' ', 4 + 511 - (size_t)k);
    text[4 + 511] = '\n';
    text[4 + 512] = '\0';
    assert_int_equal(read_text(text, strlen(text), &v, &n, &bad),
                     DSUIT_E_INVAL);
    assert_int_equal(bad, 2);
    /* A long comment is a long line too; so is a long last line. */
    memset(text, '#', 1500);
    text[1500] = '\0';
    assert_int_equal(read_text(text, strlen(text), &v, &n, &bad),
                     DSUIT_E_INVAL);
    assert_int_equal(bad, 1);
}

static void keystore_refuses_a_duplicate_identity(void **state)
{
    static const char text[] = "a " V " " C " " K16 "\n"
                               "dup " V " " C " " K16 "\n"
                               "b " V " " C " " K16 "\n"
                               "dup " C " " V " " K32 "\n";
    node_psk_t *v = (node_psk_t *)1;
    size_t n = 99, bad = 0;
    (void)state;
    assert_int_equal(read_text(text, sizeof text - 1, &v, &n, &bad),
                     DSUIT_E_INVAL);
    assert_ptr_equal(v, (node_psk_t *)1);
    assert_int_equal(n, 99);
}

static void keystore_refuses_more_than_its_device_limit(void **state)
{
    FILE *f = tmpfile();
    node_psk_t *v = NULL;
    size_t n = 0, bad = 0;
    (void)state;
    assert_non_null(f);
    for (size_t i = 0; i <= NODE_KEYSTORE_MAX; i++)
        fprintf(f, "d%06zu " V " " C " " K16 "\n", i);
    rewind(f);
    assert_int_equal(node_keystore_read(f, &v, &n, &bad), DSUIT_E_LIMIT);
    assert_int_equal(bad, NODE_KEYSTORE_MAX + 1);
    fclose(f);
}

/* The header: "vendor and class ids as 8-4-4-4-12 UUIDs". */
static void keystore_refuses_uuids_with_misplaced_hyphens(void **state)
{
    static const char *const uuids[] = {
        "0011223344-55-6677-8899-aabbccddeeff",
        "00112233445566778899aabbccddeeff----",
        "-00112233-4455-6677-8899aabbccddeeff",
    };
    (void)state;
    for (size_t i = 0; i < sizeof uuids / sizeof uuids[0]; i++) {
        char text[256];
        node_psk_t *v = NULL;
        size_t n = 0, bad = 0;
        int rc;
        assert_int_equal(strlen(uuids[i]), 36);
        snprintf(text, sizeof text, "dev %s " C " " K16 "\n", uuids[i]);
        rc = read_text(text, strlen(text), &v, &n, &bad);
        if (rc == DSUIT_OK)
            node_keystore_free(v, n);
        if (rc != DSUIT_E_INVAL)
            fail_msg("vendor '%s': got %s, want DSUIT_E_INVAL", uuids[i],
                     dsuit_err_name(rc));
    }
}

/* ------------------------------------------------------------------ */
/* Finding                                                            */
/* ------------------------------------------------------------------ */

static void keystore_find_returns_only_exact_identities(void **state)
{
    static const char text[] = "Alpha " V " " C " " K16 "\n"
                               "alpha " V " " C " " K32 "\n"
                               "beta " V " " C " " K64 "\n";
    node_psk_t *v = NULL;
    size_t n = 0, bad = 0;
    const node_psk_t *e;
    (void)state;
    assert_null(node_keystore_find(NULL, 0, (const uint8_t *)"alpha", 5));
    assert_int_equal(read_text(text, sizeof text - 1, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 3);
    e = node_keystore_find(v, n, (const uint8_t *)"alpha", 5);
    assert_non_null(e);
    assert_entry(e, "alpha", K32);
    e = node_keystore_find(v, n, (const uint8_t *)"Alpha", 5);
    assert_non_null(e);
    assert_entry(e, "Alpha", K16);
    e = node_keystore_find(v, n, (const uint8_t *)"beta", 4);
    assert_non_null(e);
    assert_entry(e, "beta", K64);
    /* Absent, a prefix, an extension, empty, too long. */
    assert_null(node_keystore_find(v, n, (const uint8_t *)"gamma", 5));
    assert_null(node_keystore_find(v, n, (const uint8_t *)"alph", 4));
    assert_null(node_keystore_find(v, n, (const uint8_t *)"alphax", 6));
    assert_null(node_keystore_find(v, n, (const uint8_t *)"betaalpha", 4 + 1));
    assert_null(node_keystore_find(v, n, (const uint8_t *)"", 0));
    char longid[NODE_PSK_ID_MAX + 1];
    memset(longid, 'a', sizeof longid);
    assert_null(
        node_keystore_find(v, n, (const uint8_t *)longid, sizeof longid));
    node_keystore_free(v, n);
}

static void psk_id_valid_accepts_only_the_allowed_characters(void **state)
{
    char id64[NODE_PSK_ID_MAX + 1];
    (void)state;
    assert_true(node_psk_id_valid("a", 1));
    assert_true(node_psk_id_valid("AZaz09._:@-", 11));
    memset(id64, 'x', sizeof id64);
    assert_true(node_psk_id_valid(id64, NODE_PSK_ID_MAX));
    assert_false(node_psk_id_valid(id64, NODE_PSK_ID_MAX + 1));
    assert_false(node_psk_id_valid("", 0));
    static const char bad[] =
        " /\\#*+,;=?!\"'`$%&()[]{}<>|~^\t\r\n\x7f\x80\xff";
    for (size_t i = 0; i < sizeof bad - 1; i++) {
        char id[4] = {'a', bad[i], 'b', '\0'};
        if (node_psk_id_valid(id, 3))
            fail_msg("identity with byte 0x%02x accepted",
                     (unsigned)(uint8_t)bad[i]);
    }
    /* The length given counts: a NUL inside is a bad character. */
    assert_false(node_psk_id_valid("ab\0c", 4));
}

/* ------------------------------------------------------------------ */
/* Writing                                                            */
/* ------------------------------------------------------------------ */

static void keystore_put_adds_a_device_with_mode_0600_and_no_tmp(void **state)
{
    ks_dir_t *d = *state;
    node_psk_t e = entry("dev-1", V_BYTES, C_BYTES, 0xab, 32), *v = NULL;
    size_t n = 0, bad = 0;
    int replaced = 42;
    struct stat st;

    assert_int_equal(node_keystore_put(d->dir, &e, &replaced), DSUIT_OK);
    assert_int_equal(replaced, 0);
    assert_int_equal(stat(d->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_no_file(d->tmp);
    assert_int_equal(node_keystore_load(d->path, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 1);
    assert_same(&v[0], &e);
    node_keystore_free(v, n);

    /* A second device: both there. */
    node_psk_t e2 = entry("Dev-0", C_BYTES, V_BYTES, 0x01, 16);
    replaced = 42;
    assert_int_equal(node_keystore_put(d->dir, &e2, &replaced), DSUIT_OK);
    assert_int_equal(replaced, 0);
    assert_int_equal(node_keystore_load(d->path, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 2);
    assert_same(&v[0], &e2);
    assert_same(&v[1], &e);
    node_keystore_free(v, n);
    assert_int_equal(stat(d->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_no_file(d->tmp);
}

static void keystore_put_replaces_a_known_identity_and_says_so(void **state)
{
    static const char text[] = "# written by hand\n"
                               "keep-a " V " " C " " K16 "\n"
                               "\n"
                               "dev-1 " V " " C " " K16 "\n"
                               "keep-b " C " " V " " K64 "\n";
    ks_dir_t *d = *state;
    node_psk_t e = entry("dev-1", C_BYTES, C_BYTES, 0x5a, 64), *v = NULL;
    size_t n = 0, bad = 0;
    int replaced = 42;
    struct stat st;

    write_file(d->path, text, sizeof text - 1);
    assert_int_equal(chmod(d->path, 0600), 0);
    assert_int_equal(node_keystore_put(d->dir, &e, &replaced), DSUIT_OK);
    assert_int_equal(replaced, 1);
    assert_int_equal(node_keystore_load(d->path, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 3);
    assert_same(&v[0], &e); /* new key and scope */
    assert_entry(&v[1], "keep-a", K16);
    assert_memory_equal(v[1].vendor, V_BYTES, 16);
    assert_memory_equal(v[1].klass, C_BYTES, 16);
    assert_entry(&v[2], "keep-b", K64);
    assert_memory_equal(v[2].vendor, C_BYTES, 16);
    assert_memory_equal(v[2].klass, V_BYTES, 16);
    node_keystore_free(v, n);
    assert_int_equal(stat(d->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_no_file(d->tmp);

    /* Putting the same entry again replaces it with itself. */
    replaced = 0;
    assert_int_equal(node_keystore_put(d->dir, &e, &replaced), DSUIT_OK);
    assert_int_equal(replaced, 1);
    assert_int_equal(node_keystore_load(d->path, &v, &n, &bad), DSUIT_OK);
    assert_int_equal(n, 3);
    node_keystore_free(v, n);
}

static void keystore_put_leaves_a_malformed_keystore_untouched(void **state)
{
    static const char text[] = "good " V " " C " " K16 "\n"
                               "bad line\n";
    ks_dir_t *d = *state;
    node_psk_t e = entry("dev-1", V_BYTES, C_BYTES, 0xab, 32);
    int replaced = 42;
    size_t len = 0;
    char *after;

    write_file(d->path, text, sizeof text - 1);
    assert_int_equal(node_keystore_put(d->dir, &e, &replaced), DSUIT_E_INVAL);
    assert_int_equal(replaced, 42);
    after = read_file(d->path, &len);
    assert_int_equal(len, sizeof text - 1);
    assert_memory_equal(after, text, len);
    free(after);
    assert_no_file(d->tmp);
}

static void keystore_put_refuses_a_malformed_entry(void **state)
{
    ks_dir_t *d = *state;
    node_psk_t bad[5];
    int replaced = 42;
    bad[0] = entry("dev-1", V_BYTES, C_BYTES, 1, NODE_PSK_KEY_MIN - 1);
    bad[1] = entry("dev-1", V_BYTES, C_BYTES, 1, 32);
    bad[1].key_len = NODE_PSK_KEY_MAX + 1;
    bad[2] = entry("dev 1", V_BYTES, C_BYTES, 1, 32);
    bad[3] = entry("", V_BYTES, C_BYTES, 1, 32);
    bad[4] = entry("dev-1", V_BYTES, C_BYTES, 1, 32);
    bad[4].id_len = NODE_PSK_ID_MAX + 1;
    for (size_t i = 0; i < 5; i++) {
        if (node_keystore_put(d->dir, &bad[i], &replaced) != DSUIT_E_INVAL)
            fail_msg("entry %zu was not refused", i);
        assert_int_equal(replaced, 42);
        assert_no_file(d->path);
        assert_no_file(d->tmp);
    }
}

static void keystore_put_into_a_missing_folder_is_an_io_error(void **state)
{
    ks_dir_t *d = *state;
    char dir[128];
    node_psk_t e = entry("dev-1", V_BYTES, C_BYTES, 0xab, 32);
    int replaced = 42;
    snprintf(dir, sizeof dir, "%s/absent", d->dir);
    assert_int_equal(node_keystore_put(dir, &e, &replaced), DSUIT_E_IO);
    assert_int_equal(replaced, 42);
}

/* A temporary file left by a crash (or made by someone else) must not
 * decide the mode of the keystore: the header promises 0600. */
static void keystore_put_writes_mode_0600_over_a_stale_tmp_file(void **state)
{
    ks_dir_t *d = *state;
    node_psk_t e = entry("dev-1", V_BYTES, C_BYTES, 0xab, 32);
    int replaced = 42;
    struct stat st;
    write_file(d->tmp, "stale\n", 6);
    assert_int_equal(chmod(d->tmp, 0644), 0);
    assert_int_equal(node_keystore_put(d->dir, &e, &replaced), DSUIT_OK);
    assert_int_equal(stat(d->path, &st), 0);
    if ((st.st_mode & 0777) != 0600)
        fail_msg(
            "keystore mode %03o after a stale .tmp of mode 0644, want 0600",
            (unsigned)(st.st_mode & 0777));
    assert_no_file(d->tmp);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(keystore_loads_a_valid_file_sorted),
        T(keystore_accepts_each_limit_at_its_boundary),
        T(keystore_loads_a_missing_file_as_empty),
        T(keystore_load_of_a_folder_is_an_io_error),
        T(keystore_refuses_each_malformed_line_with_its_number),
        T(keystore_refuses_a_line_longer_than_511_bytes),
        T(keystore_refuses_a_duplicate_identity),
        T(keystore_refuses_more_than_its_device_limit),
        T(keystore_refuses_uuids_with_misplaced_hyphens),
        T(keystore_find_returns_only_exact_identities),
        T(psk_id_valid_accepts_only_the_allowed_characters),
        T(keystore_put_adds_a_device_with_mode_0600_and_no_tmp),
        T(keystore_put_replaces_a_known_identity_and_says_so),
        T(keystore_put_leaves_a_malformed_keystore_untouched),
        T(keystore_put_refuses_a_malformed_entry),
        T(keystore_put_into_a_missing_folder_is_an_io_error),
        T(keystore_put_writes_mode_0600_over_a_stale_tmp_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
