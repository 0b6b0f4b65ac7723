/*
 * The device keystore file (keystore.h). Node side.
 */
#include "node/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "node/node_int.h"

#define LINE_MAX_LEN 512

static const char header[] =
    "# dsuit device keystore: identity vendor-id class-id key (hex)\n"
    "# written by `dsuit device provision`; keep it secret\n";

int node_psk_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > NODE_PSK_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '@' || c == '-'))
            return 0;
    }
    return 1;
}

static int cmp_entry(const void *a, const void *b)
{
    const node_psk_t *x = a, *y = b;
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = memcmp(x->id, y->id, n);
    if (c != 0)
        return c;
    return x->id_len < y->id_len ? -1 : x->id_len > y->id_len;
}

/* A UUID in exactly the 8-4-4-4-12 form, lower-case hex. */
static int uuid_text_ok(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* One line: "id vendor class keyhex". Returns 1 parsed, 0 blank/comment,
 * -1 malformed. */
static int parse_line(char *line, node_psk_t *e)
{
    char *f[5], *save = NULL, *tok;
    size_t k = 0, hl;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
        return 0;
    for (tok = strtok_r(line, " \t", &save); tok != NULL && k < 5;
         tok = strtok_r(NULL, " \t", &save))
        f[k++] = tok;
    if (k != 4)
        return -1;
    memset(e, 0, sizeof *e);
    e->id_len = strlen(f[0]);
    hl = strlen(f[3]);
    if (!node_psk_id_valid(f[0], e->id_len) || !uuid_text_ok(f[1]) ||
        !uuid_text_ok(f[2]) || !node_uuid_parse(f[1], e->vendor) ||
        !node_uuid_parse(f[2], e->klass) || hl % 2 != 0 ||
        hl / 2 < NODE_PSK_KEY_MIN || hl / 2 > NODE_PSK_KEY_MAX ||
        !node_unhex(f[3], e->key, hl / 2))
        return -1;
    memcpy(e->id, f[0], e->id_len);
    e->key_len = hl / 2;
    return 1;
}

int node_keystore_load(const char *path, node_psk_t **out, size_t *n,
                       size_t *bad_line)
{
    FILE *f = fopen(path, "r");
    int rc;
    if (f == NULL) {
        if (errno != ENOENT)
            return DSUIT_E_IO;
        *out = NULL;
        *n = 0;
        return DSUIT_OK;
    }
    rc = node_keystore_read(f, out, n, bad_line);
    fclose(f);
    return rc;
}

int node_keystore_read(FILE *f, node_psk_t **out, size_t *n, size_t *bad_line)
{
    node_psk_t *v = NULL, e;
    size_t cnt = 0, cap = 0, line_no = 0;
    char line[LINE_MAX_LEN];
    int rc = DSUIT_OK;

    memset(&e, 0, sizeof e);
    while (fgets(line, sizeof line, f) != NULL) {
        int r;
        line_no++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = DSUIT_E_INVAL; /* a line too long */
            break;
        }
        r = parse_line(line, &e);
        if (r == 0)
            continue;
        if (r < 0) {
            rc = DSUIT_E_INVAL;
            break;
        }
        if (cnt == NODE_KEYSTORE_MAX) {
            rc = DSUIT_E_LIMIT;
            break;
        }
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            node_psk_t *nv = realloc(v, nc * sizeof *v);
            if (nv == NULL) {
                rc = DSUIT_E_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        v[cnt++] = e;
    }
    if (rc == DSUIT_OK && ferror(f))
        rc = DSUIT_E_IO;
    dsuit_wipe(&e, sizeof e);
    dsuit_wipe(line, sizeof line);
    if (rc != DSUIT_OK) {
        if (bad_line != NULL)
            *bad_line = line_no;
        node_keystore_free(v, cnt);
        return rc;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof *v, cmp_entry);
    /* One identity, one key: a duplicate is a malformed file. */
    for (size_t i = 1; i < cnt; i++)
        if (cmp_entry(&v[i - 1], &v[i]) == 0) {
            node_keystore_free(v, cnt);
            if (bad_line != NULL)
                *bad_line = 0;
            return DSUIT_E_INVAL;
        }
    *out = v;
    *n = cnt;
    return DSUIT_OK;
}

void node_keystore_free(node_psk_t *v, size_t n)
{
    if (v != NULL)
        dsuit_wipe(v, n * sizeof *v);
    free(v);
}

const node_psk_t *node_keystore_find(const node_psk_t *v, size_t n,
                                     const uint8_t *id, size_t id_len)
{
    node_psk_t key;
    if (id_len == 0 || id_len > NODE_PSK_ID_MAX || n == 0)
        return NULL;
    memcpy(key.id, id, id_len);
    key.id_len = id_len;
    return bsearch(&key, v, n, sizeof *v, cmp_entry);
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return DSUIT_E_IO;
        s += w;
        len -= (size_t)w;
    }
    return DSUIT_OK;
}

int node_keystore_put(const char *dir, const node_psk_t *e, int *replaced)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], lock[PATH_MAX + 8];
    char line[LINE_MAX_LEN], v[37], c[37], hex[2 * NODE_PSK_KEY_MAX + 1];
    node_psk_t *all = NULL;
    size_t n = 0, bad = 0;
    int lfd, fd = -1, rc, rep = 0, dfd;

    if (!node_psk_id_valid(e->id, e->id_len) ||
        e->key_len < NODE_PSK_KEY_MIN || e->key_len > NODE_PSK_KEY_MAX)
        return DSUIT_E_INVAL;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
                         NODE_KEYSTORE_FILE) >= sizeof path)
        return DSUIT_E_LIMIT;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(lock, sizeof lock, "%s.lock", path);
    lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0)
        return DSUIT_E_IO;
    if (flock(lfd, LOCK_EX) != 0) {
        close(lfd);
        return DSUIT_E_IO;
    }
    rc = node_keystore_load(path, &all, &n, &bad);
    if (rc != DSUIT_OK)
        goto out;
    /* A fresh file of our own: a stale temp file (a crash) or a link
     * planted there must not decide the keystore's mode or destination. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        rc = DSUIT_E_IO;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = DSUIT_E_IO;
        goto out;
    }
    rc = write_all(fd, header, sizeof header - 1);
    for (size_t i = 0; i <= n && rc == DSUIT_OK; i++) {
        const node_psk_t *x;
        if (i < n) {
            x = &all[i];
            if (x->id_len == e->id_len && memcmp(x->id, e->id, e->id_len) == 0)
            {
                rep = 1;
                x = e;
            }
        } else if (!rep) {
            x = e;
        } else {
            break;
        }
        node_uuid_text(x->vendor, v);
        node_uuid_text(x->klass, c);
        node_hex(x->key, x->key_len, hex);
        snprintf(line, sizeof line, "%.*s %s %s %s\n", (int)x->id_len, x->id, v,
                 c, hex);
        rc = write_all(fd, line, strlen(line));
    }
    if (rc == DSUIT_OK && fsync(fd) != 0)
        rc = DSUIT_E_IO;
    if (close(fd) != 0 && rc == DSUIT_OK)
        rc = DSUIT_E_IO;
    fd = -1;
    if (rc == DSUIT_OK && rename(tmp, path) != 0)
        rc = DSUIT_E_IO;
    if (rc == DSUIT_OK) {
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    } else {
        unlink(tmp);
    }
out:
    dsuit_wipe(line, sizeof line);
    dsuit_wipe(hex, sizeof hex);
    node_keystore_free(all, n);
    flock(lfd, LOCK_UN);
    close(lfd);
    if (rc == DSUIT_OK && replaced != NULL)
        *replaced = rep;
    return rc;
}
