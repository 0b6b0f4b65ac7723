/*
 * Helpers shared by the dsuit subcommands (src/cli/cmd_*.c): messages in the
 * house format, exit codes for library errors, whole-file reads with a size
 * cap, atomic file writes, hex and key loading. The contracts are in
 * src/cli/cli.h; STYLE.md ("Errors and messages") gives the wording rules.
 *
 * Atomic write (cli_write_file_atomic) follows the usual POSIX recipe: write
 * a temporary file in the target's folder (same file system, so the final
 * step is a rename, not a copy), fsync it, rename or link it into place and
 * fsync the folder so the new directory entry survives a crash as well.
 *
 * Also the command-line pieces every verb repeats (verb dispatch, the one
 * operand, --help/--json, decimal numbers) and small JSON output helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_uuid.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"

/* ---- messages ------------------------------------------------------------ */

static void print_prefix(const char *cmd)
{
    if (cmd != NULL)
        fprintf(stderr, "dsuit %s: ", cmd);
    else
        fputs("dsuit: ", stderr);
}

/* The error line "dsuit <cmd>: <formatted message>". */
__attribute__((format(printf, 2, 0))) static void
print_error_line(const char *cmd, const char *fmt, va_list ap)
{
    print_prefix(cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error_line(cmd, fmt, ap);
    va_end(ap);
}

void cli_error_subject(const char *cmd, const char *what, const char *subject,
                       const char *reason)
{
    print_prefix(cmd);
    fprintf(stderr, "%s '%s': %s\n", what, subject, reason);
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    print_prefix(cmd);
    fputs("warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void print_hint(const char *cmd)
{
    if (cmd != NULL)
        fprintf(stderr, "try 'dsuit %s --help'\n", cmd);
    else
        fputs("try 'dsuit --help'\n", stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error_line(cmd, fmt, ap);
    va_end(ap);
    print_hint(cmd);
    return DSUIT_EXIT_USAGE;
}

/* The long option whose val is c, or NULL. */
static const struct option *option_by_val(const struct option *longopts, int c)
{
    for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
        if (o->flag == NULL && o->val == c)
            return o;
    return NULL;
}

/* Number of long options whose name starts with the len bytes at p. */
static int options_with_prefix(const struct option *longopts, const char *p,
                               size_t len)
{
    int n = 0;
    for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
        if (strncmp(o->name, p, len) == 0)
            n++;
    return n;
}

int cli_getopt_error(const char *cmd, int c, char *const *argv,
                     const struct option *longopts)
{
    /* getopt_long() leaves the offending word at argv[optind - 1] for long
     * options; for short ones only optopt is reliable, since optind has
     * not moved on when the bad letter is inside a cluster such as -xq. */
    const char *word = optind > 0 ? argv[optind - 1] : "";
    int is_long = strncmp(word, "--", 2) == 0;
    const struct option *o = option_by_val(longopts, optopt);

    if (is_long) {
        const char *name = word + 2;
        size_t len = strcspn(name, "=");
        if (o != NULL && strncmp(o->name, name, len) == 0) {
            if (c == ':')
                return cli_usage_error(cmd, "option '--%s' needs an argument",
                                       o->name);
            return cli_usage_error(cmd, "option '--%s' takes no argument",
                                   o->name);
        }
        if (len > 0 && options_with_prefix(longopts, name, len) > 1)
            return cli_usage_error(cmd, "ambiguous option '--%.*s'", (int)len,
                                   name);
        return cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
    }
    if (c == ':')
        return cli_usage_error(cmd, "option '-%c' needs an argument", optopt);
    if (optopt > 0 && optopt < 256)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", word);
}

int cli_exit_for_err(int err)
{
    switch (err) {
    case DSUIT_OK:
        return DSUIT_EXIT_OK;
    case DSUIT_E_NOMEM:
    case DSUIT_E_CRYPTO:
    case DSUIT_E_IO:
    case DSUIT_E_UNSUPPORTED:
    case DSUIT_E_INVAL:
        return DSUIT_EXIT_FAIL;
    default:
        return DSUIT_EXIT_REJECT;
    }
}

/* ---- command line -------------------------------------------------------- */

int cli_run_verb(const char *cmd, const char *usage, const char *missing,
                 int dash_is_option, const cli_verb_t *verbs, size_t n_verbs,
                 int argc, char **argv)
{
    const char *verb;

    if (argc < 2)
        return cli_usage_error(cmd, "%s", missing);
    verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage, stdout);
        return DSUIT_EXIT_OK;
    }
    if (dash_is_option && verb[0] == '-')
        return cli_usage_error(cmd, "unknown option '%s'", verb);
    for (size_t i = 0; i < n_verbs; i++)
        if (strcmp(verbs[i].name, verb) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    return cli_usage_error(cmd, "unknown verb '%s'", verb);
}

int cli_one_operand(const char *cmd, int argc, char **argv, const char *missing,
                    const char **out)
{
    if (optind >= argc)
        return cli_usage_error(cmd, "%s", missing);
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'",
                               argv[optind + 1]);
    *out = argv[optind];
    return DSUIT_EXIT_OK;
}

int cli_show_args(const char *cmd, const char *usage,
                  const struct option *longopts, int json_val,
                  const char *missing, int argc, char **argv, int *out_json,
                  const char **out_operand)
{
    const char *operand;
    int c, json = 0, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return DSUIT_EXIT_OK;
        }
        if (c != json_val)
            return cli_getopt_error(cmd, c, argv, longopts);
        json = 1;
    }
    rc = cli_one_operand(cmd, argc, argv, missing, &operand);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    *out_json = json;
    *out_operand = operand;
    return CLI_GO_ON;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* ---- files --------------------------------------------------------------- */

void cli_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    dsuit_wipe(p, len);
    free(p);
}

/* Grow *buf from cap to new_cap bytes by copying, wiping the old buffer
 * rather than realloc()ing, which could leave file contents (perhaps a
 * private key) behind in freed memory. */
static int grow_buffer(uint8_t **buf, size_t cap, size_t new_cap)
{
    uint8_t *p = malloc(new_cap);
    if (p == NULL)
        return -1;
    if (*buf != NULL) {
        memcpy(p, *buf, cap);
        cli_free_secret(*buf, cap);
    }
    *buf = p;
    return 0;
}

int cli_read_file(const char *cmd, const char *path, size_t max_len,
                  uint8_t **out, size_t *out_len)
{
    int is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    char reason[64];
    struct stat st;
    int rc = DSUIT_EXIT_FAIL;

    if (fd < 0) {
        cli_error_subject(cmd, "cannot read", path, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    if (fstat(fd, &st) != 0) {
        cli_error_subject(cmd, "cannot read", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error_subject(cmd, "cannot read", path, strerror(EISDIR));
        goto out;
    }
    snprintf(reason, sizeof(reason), "file is larger than %zu bytes", max_len);
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_len) {
        cli_error_subject(cmd, "cannot read", path, reason);
        goto out;
    }
    /* Regular files: room for the size fstat() gave, the NUL and one byte
     * more so that a file that grew meanwhile is noticed. Others: 4 KiB. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 4096;
    if (grow_buffer(&buf, 0, cap) != 0) {
        cli_error_subject(cmd, "cannot read", path, strerror(ENOMEM));
        goto out;
    }
    for (;;) {
        ssize_t n;
        if (len + 1 == cap) {
            size_t new_cap = cap * 2;
            if (len > max_len) {
                cli_error_subject(cmd, "cannot read", path, reason);
                goto out;
            }
            if (grow_buffer(&buf, cap, new_cap) != 0) {
                cli_error_subject(cmd, "cannot read", path, strerror(ENOMEM));
                goto out;
            }
            cap = new_cap;
        }
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error_subject(cmd, "cannot read", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max_len) {
        cli_error_subject(cmd, "cannot read", path, reason);
        goto out;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = DSUIT_EXIT_OK;
out:
    cli_free_secret(buf, cap);
    if (!is_stdin)
        close(fd);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync a folder so that a rename or link inside it is durable. Some file
 * systems cannot fsync a folder and say EINVAL; nothing more can be done
 * there, so that is not an error. */
static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = 0;
    if (fd < 0)
        return -1;
    if (fsync(fd) != 0 && errno != EINVAL)
        err = -1;
    if (close(fd) != 0 && err == 0)
        err = -1;
    return err;
}

/* Move tmp to path without replacing an existing path. link(2) fails with
 * EEXIST atomically, unlike a check followed by rename(2). File systems
 * without hard links fall back to check-then-rename, which is racy only
 * against another writer of the same name. */
static int move_no_replace(const char *tmp, const char *path)
{
    struct stat st;
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS)
        return -1;
    if (lstat(path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(tmp, path);
}

int cli_write_file_atomic(const char *cmd, const char *path, const void *data,
                          size_t len, mode_t mode, int force)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t dir_len = slash != NULL ? (size_t)(slash - path) : 0;
    char *dir = NULL, *tmp = NULL;
    int fd = -1, err = 0, rc = DSUIT_EXIT_FAIL;
    mode_t mask;

    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        cli_error_subject(cmd, "cannot write", path, "not a file name");
        return DSUIT_EXIT_FAIL;
    }
    /* The folder: "." for a bare name, "/" for a file in the root. */
    dir = malloc(dir_len + 2);
    tmp = malloc(strlen(path) + sizeof("/..tmp-XXXXXX"));
    if (dir == NULL || tmp == NULL) {
        cli_error_subject(cmd, "cannot write", path, strerror(ENOMEM));
        goto out;
    }
    if (slash == NULL)
        strcpy(dir, ".");
    else if (dir_len == 0)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, dir_len);
        dir[dir_len] = '\0';
    }
    sprintf(tmp, "%.*s%s.%s.tmp-XXXXXX", (int)dir_len, path,
            slash != NULL ? "/" : "", base);

    /* mkstemp() creates the file with mode 0600: a private key is never
     * readable by others, not even between creation and fchmod(). */
    fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error_subject(cmd, "cannot write", path, strerror(errno));
        goto out;
    }
    /* Honour the umask as open(2) would. The CLI is single-threaded when
     * this runs, so reading the umask by setting it is safe. */
    mask = umask(0);
    umask(mask);
    if (write_all(fd, data, len) != 0 || fchmod(fd, mode & ~mask) != 0 ||
        fsync(fd) != 0) {
        err = errno;
        close(fd);
        goto fail_unlink;
    }
    if (close(fd) != 0) {
        err = errno;
        goto fail_unlink;
    }
    if (force ? rename(tmp, path) : move_no_replace(tmp, path)) {
        err = errno;
        goto fail_unlink;
    }
    if (fsync_dir(dir) != 0) {
        cli_error_subject(cmd, "cannot write", path, strerror(errno));
        goto out;
    }
    rc = DSUIT_EXIT_OK;
    goto out;

fail_unlink:
    unlink(tmp);
    if (err == EEXIST && !force)
        cli_error_subject(cmd, "cannot write", path,
                          "file exists (use --force to replace it)");
    else
        cli_error_subject(cmd, "cannot write", path, strerror(err));
out:
    free(tmp);
    free(dir);
    return rc;
}

/* ---- encodings and keys ------------------------------------------------- */

int cli_hex_encode(const uint8_t *p, size_t len, char *out, size_t out_cap)
{
    static const char digits[] = "0123456789abcdef";
    if (out_cap == 0 || len > (out_cap - 1) / 2) {
        if (out_cap > 0)
            out[0] = '\0';
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return 0;
}

int cli_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cli_hex_decode(const char *s, size_t n, uint8_t *out)
{
    if (n % 2 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = cli_hex_digit(s[i]), lo = cli_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

uint64_t cli_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cli_print_textn(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

void cli_print_text(const char *s)
{
    cli_print_textn(s, strlen(s));
}

static int looks_like_pem(const uint8_t *buf, size_t len)
{
    static const char begin[] = "-----BEGIN";
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
                       buf[i] == '\n'))
        i++;
    return len - i >= sizeof(begin) - 1 &&
           memcmp(buf + i, begin, sizeof(begin) - 1) == 0;
}

int cli_load_key(const char *cmd, const char *path, dsuit_key_t *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    dsuit_key_t key;
    char reason[160];
    int err, rc;

    rc = cli_read_file(cmd, path, DSUIT_CLI_KEY_FILE_MAX, &buf, &len);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    memset(&key, 0, sizeof(key));
    if (len == 0) {
        cli_error_subject(cmd, "cannot load key", path, "file is empty");
        rc = DSUIT_EXIT_REJECT;
        goto out;
    }
    if (looks_like_pem(buf, len)) {
        err = dsuit_key_from_pem((const char *)buf, len, &key);
        snprintf(reason, sizeof(reason), "%s", dsuit_strerror(err));
    } else {
        err = dsuit_cose_key_decode(buf, len, &key);
        snprintf(reason, sizeof(reason), "not PEM, and not a COSE_Key: %s",
                 dsuit_strerror(err));
    }
    if (err != DSUIT_OK) {
        cli_error_subject(cmd, "cannot load key", path, reason);
        rc = cli_exit_for_err(err);
        goto out;
    }
    *out = key;
    rc = DSUIT_EXIT_OK;
out:
    dsuit_key_wipe(&key);
    cli_free_secret(buf, len + 1);
    return rc;
}

/* ---- JSON output --------------------------------------------------------- */

json_t *cli_hex_json(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    json_t *j;
    if (h == NULL || cli_hex_encode(p, n, h, 2 * n + 1) != 0) {
        free(h);
        return json_null();
    }
    j = json_string(h);
    free(h);
    return j;
}

json_t *cli_uuid_json(const uint8_t u[16])
{
    char s[CLI_UUID_TEXT_LEN + 1];
    cli_uuid_format(u, s);
    return json_string(s);
}

json_t *cli_u64_json(uint64_t v)
{
    char buf[24];
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_string(buf);
}

void cli_print_json(const json_t *root)
{
    json_dumpf(root, stdout, JSON_INDENT(2));
    putchar('\n');
}

int cli_print_json_new(const char *cmd, json_t *root)
{
    if (root == NULL) {
        cli_error(cmd, "out of memory");
        return DSUIT_EXIT_FAIL;
    }
    cli_print_json(root);
    json_decref(root);
    return DSUIT_EXIT_OK;
}

/* ---- time --------------------------------------------------------------- */

double cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
