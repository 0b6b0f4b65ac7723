/*
 * `dsuit demo`: the draft's Figure 3 on a real local network, one line per
 * step with its timing. In a fresh temporary folder it starts a 4-node
 * devnet (3 registrars, 2 of them needed) and runs, as separate `dsuit`
 * processes, what each party does:
 *
 *   network        dsuit devnet up (4 validators, each a registration,
 *                  general and retrieval node)
 *   keys           the author's ES256 key, an RPK device's ES256 key
 *   register       2 of 3 registrars register the author for the vendor
 *                  and class (dsuit author register), certified
 *   firmware       a 1 MiB image
 *   manifest       the author creates and signs the SUIT manifest
 *   publish        through node-2 (the registration node); the phases
 *                  below come from the nodes' own logs:
 *                    registration check and manifest verification
 *                    image upload
 *                    chunk distribution (R copies of each chunk)
 *                    commit: every node applied the block (and verified the
 *                      manifest while applying it)
 *                    every node verified the image from the chunk store
 *                    certificate (as seen by the author's client)
 *   credentials    a PSK device provisioned on every node, an RPK device
 *                  registered on the ledger
 *   psk device     dsuit device once over CoAP/DTLS-PSK from node-1: latest
 *                  manifest, author signature, ledger proof against the
 *                  genesis, image download, image-match, install, report
 *   rpk device     the same with a raw public key, from node-3
 *   reports        both reports listed by the nodes (GET /v1/devices)
 *   author gone    the author's private key deleted, node-2 killed (-9)
 *   third device   a new device asks node-2 first, then node-4: it fails
 *                  over and updates from node-4
 *
 * Then a summary table. Every process started here is stopped at the end
 * (devnet down, then SIGKILL of any node pid that is still that devnet's),
 * also on failure and on Ctrl-C. Page: docs/cli/dsuit-demo.md.
 */
#define _DEFAULT_SOURCE /* timegm */
#define _XOPEN_SOURCE 700 /* strptime, nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dsuit/crypto.h"
#include "net/http/client.h"

#define CMD          "demo"
#define NODES        4
#define IMAGE_LEN    (1024 * 1024)
#define VENDOR       "example.com"
#define KLASS        "demo-board"
/* Where the manifest says the image is; devices fetch it by digest from
 * whichever retrieval node they use (images are content-addressed). */
#define URI "coaps://firmware.example.com/demo-board/1.bin"
#define RUN_MAX_S    60  /* any one subprocess */
#define OUT_MAX      16384
#define MAX_ROWS     32
#define PSK_HEX      "64656d6f2d6465766963652d70736b2d6b6579" /* demo-device-psk-key */

static const char usage[] =
    "usage: dsuit demo [--keep]\n"
    "\n"
    "Run the Distributed SUIT procedure (draft-lee-suit-distarch, Figure 3)\n"
    "on a local network it starts in a temporary folder: a 4-node devnet;\n"
    "registrars register an author; the author signs a SUIT manifest for a\n"
    "1 MiB image and publishes it (registration check, upload, chunk\n"
    "distribution, every node verifying manifest and image, commit and\n"
    "certificate); a PSK device and an RPK device update over CoAP/DTLS and\n"
    "report; then the author disappears (key deleted, its registration node\n"
    "killed) and a third device still updates from another node. One line\n"
    "per step with its time, then a summary. Stops every process it started.\n"
    "\n"
    "options:\n"
    "  --help, -h   show this help\n"
    "  --keep       keep the folder (and its node logs) and print its path\n";

enum { OPT_KEEP = 256 };

/* Sorted by name. */
static const struct option longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"keep", no_argument, NULL, OPT_KEEP},
    {NULL, 0, NULL, 0},
};

typedef struct {
    char name[48];
    double ms;
    int ok;
    char note[160];
} row_t;

typedef struct {
    char dir[PATH_MAX];
    char net[PATH_MAX + 8];
    char self[PATH_MAX];
    char rpk_key[PATH_MAX + 32];
    int keep, devnet_up;
    char name[NODES][32], http[NODES][64], coap[NODES][64];
    long pid[NODES];
    uint64_t t0;
    row_t rows[MAX_ROWS];
    size_t n_rows;
    char out[OUT_MAX]; /* stdout of the last subprocess */
    char why[400];     /* why a step failed */
    uint64_t publish_start, publish_end;
    char manifest[65];
} demo_t;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void fail_why(demo_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail_why(demo_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
}

/* Print one line: "  [  1234 ms] name: note", and keep it for the table. */
static void row(demo_t *d, const char *name, double ms, int ok,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void row(demo_t *d, const char *name, double ms, int ok,
                const char *fmt, ...)
{
    row_t *r = d->n_rows < MAX_ROWS ? &d->rows[d->n_rows++] : NULL;
    char note[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    printf("  %-44s %8.0f ms  %s%s\n", name, ms, ok ? "" : "FAILED: ", note);
    fflush(stdout);
    if (r != NULL) {
        snprintf(r->name, sizeof r->name, "%s", name);
        r->ms = ms;
        r->ok = ok;
        snprintf(r->note, sizeof r->note, "%s", note);
    }
}

/* ---- running dsuit ------------------------------------------------------- */

/*
 * Run this program with args (NULL-terminated), stdout into d->out, stderr
 * into DIR/last-stderr; at most RUN_MAX_S seconds (then SIGKILL). Returns
 * the exit code, or -1 when it could not run or was killed.
 */
static int run_dsuit(demo_t *d, const char *const *args)
{
    char err_path[PATH_MAX + 32];
    const char *argv[40];
    int pipefd[2], status, efd;
    size_t n = 0, got = 0;
    uint64_t deadline = cli_wall_ms() + RUN_MAX_S * 1000u;
    pid_t pid;

    argv[n++] = "dsuit";
    for (size_t i = 0; args[i] != NULL && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(err_path, sizeof err_path, "%s/last-stderr", d->dir);
    if (pipe(pipefd) != 0)
        return -1;
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        dup2(pipefd[1], 1);
        if (efd >= 0)
            dup2(efd, 2);
        close(pipefd[0]);
        execv(d->self, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        ssize_t r = read(pipefd[0], d->out + got, sizeof d->out - 1 - got);
        if (r > 0) {
            got += (size_t)r;
            if (got == sizeof d->out - 1)
                got = 0; /* keep the tail only */
            continue;
        }
        if (r == 0)
            break;
        if (errno != EAGAIN && errno != EINTR)
            break;
        if (interrupted || cli_wall_ms() > deadline) {
            kill(pid, SIGKILL);
            break;
        }
        sleep_ms(10);
    }
    close(pipefd[0]);
    d->out[got] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* The last line of the last subprocess's stderr, for a failure message. */
static void last_stderr(demo_t *d, char *out, size_t cap)
{
    char path[PATH_MAX + 32], line[512] = "";
    FILE *f;
    snprintf(path, sizeof path, "%s/last-stderr", d->dir);
    out[0] = '\0';
    f = fopen(path, "r");
    if (f == NULL)
        return;
    /* The first line says why; the last what it ended with. */
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (out[0] == '\0')
            snprintf(out, cap, "%s", line);
        else if (strstr(out, " | ") == NULL)
            snprintf(out + strlen(out), cap - strlen(out), " | %s", line);
    }
    fclose(f);
}

/* Run and require exit code 0; on failure set d->why. */
static int run_ok(demo_t *d, const char *const *args)
{
    int rc = run_dsuit(d, args);
    if (rc != 0) {
        char err[400];
        last_stderr(d, err, sizeof err);
        fail_why(d, "dsuit %s %s exited %d: %s", args[0],
                 args[1] ? args[1] : "", rc, err[0] ? err : "(no message)");
        return -1;
    }
    return 0;
}

static void path_in(const demo_t *d, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", d->dir, name);
}

/* The line of d->out starting with prefix, after it, or "". */
static const char *out_line(demo_t *d, const char *prefix, char *buf,
                            size_t cap)
{
    const char *p = d->out;
    size_t n = strlen(prefix);
    buf[0] = '\0';
    while (p != NULL && *p) {
        if (strncmp(p, prefix, n) == 0) {
            size_t l = strcspn(p + n, "\n");
            snprintf(buf, cap, "%.*s", (int)l, p + n);
            break;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return buf;
}

/* ---- node logs ---------------------------------------------------------- */

/* Unix ms of a log line's "YYYY-mm-ddTHH:MM:SS.mmmZ" stamp, or 0. */
static uint64_t log_time(const char *line)
{
    struct tm tm;
    int ms = 0;
    char *end;
    memset(&tm, 0, sizeof tm);
    end = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL || sscanf(end, ".%3dZ", &ms) != 1)
        return 0;
    return (uint64_t)timegm(&tm) * 1000u + (uint64_t)ms;
}

/* The time of the first line of node i's log at or after `since` that
 * holds `what`, or 0. */
static uint64_t log_find(const demo_t *d, size_t i, const char *what,
                         uint64_t since)
{
    char path[PATH_MAX + 64], line[1024];
    uint64_t t = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/node.log", d->net, d->name[i]);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        uint64_t lt;
        if (strstr(line, what) == NULL)
            continue;
        lt = log_time(line);
        if (lt + 1 >= since) { /* the stamp has ms, our clock too */
            t = lt;
            break;
        }
    }
    fclose(f);
    return t;
}

/* ---- steps --------------------------------------------------------------- */

static int step_network(demo_t *d)
{
    const char *up[] = {"devnet", "up", "--nodes", "4", "--registrars", "3",
                        "--threshold", "2", "--heartbeat-ms", "500", "--dir",
                        d->net, "--detach", NULL};
    const char *st[] = {"devnet", "status", "--dir", d->net, "--json", NULL};
    json_t *j, *nodes;
    json_error_t e;
    size_t i;
    d->devnet_up = 1; /* from now on, stop it at the end */
    if (run_ok(d, up) != 0 || run_ok(d, st) != 0)
        return -1;
    j = json_loads(d->out, 0, &e);
    nodes = j ? json_object_get(j, "nodes") : NULL;
    if (!json_is_array(nodes) || json_array_size(nodes) != NODES) {
        json_decref(j);
        fail_why(d, "devnet status did not list %d nodes", NODES);
        return -1;
    }
    for (i = 0; i < NODES; i++) {
        json_t *n = json_array_get(nodes, i);
        const char *name = json_string_value(json_object_get(n, "name"));
        const char *http = json_string_value(json_object_get(n, "http"));
        const char *coap = json_string_value(json_object_get(n, "coap"));
        json_t *pid = json_object_get(n, "pid");
        if (!name || !http || !coap || !json_is_integer(pid)) {
            json_decref(j);
            fail_why(d, "devnet status: node %zu incomplete", i + 1);
            return -1;
        }
        snprintf(d->name[i], sizeof d->name[i], "%s", name);
        snprintf(d->http[i], sizeof d->http[i], "%s", http);
        snprintf(d->coap[i], sizeof d->coap[i], "%s", coap);
        d->pid[i] = (long)json_integer_value(pid);
    }
    json_decref(j);
    return 0;
}

static int step_keys(demo_t *d)
{
    char a[PATH_MAX + 32], v[PATH_MAX + 32];
    const char *k1[] = {"keygen", "--alg", "es256", "--out", a, NULL};
    const char *k2[] = {"keygen", "--alg", "es256", "--out", v, NULL};
    path_in(d, "author", a, sizeof a);
    path_in(d, "device-rpk", v, sizeof v);
    return run_ok(d, k1) || run_ok(d, k2) ? -1 : 0;
}

static int step_register(demo_t *d)
{
    char g[PATH_MAX + 32], r1[PATH_MAX + 32], r2[PATH_MAX + 32],
        pub[PATH_MAX + 32];
    const char *args[] = {"author", "register", "--node", d->http[0],
                          "--genesis", g, "--registrar-key", r1,
                          "--registrar-key", r2, "--author-pub", pub,
                          "--name", "Example Corp firmware team",
                          "--vendor-domain", VENDOR, "--class", KLASS,
                          "--timeout", "30", NULL};
    snprintf(g, sizeof g, "%s/genesis.cbor", d->net);
    snprintf(r1, sizeof r1, "%s/registrar-1.key", d->net);
    snprintf(r2, sizeof r2, "%s/registrar-3.key", d->net);
    path_in(d, "author.pub", pub, sizeof pub);
    return run_ok(d, args);
}

static int step_firmware(demo_t *d)
{
    char path[PATH_MAX + 32];
    uint8_t *img = malloc(IMAGE_LEN);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    FILE *f;
    int ok;
    if (img == NULL) {
        fail_why(d, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < IMAGE_LEN; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        img[i] = (uint8_t)s;
    }
    path_in(d, "firmware.bin", path, sizeof path);
    f = fopen(path, "wb");
    ok = f != NULL && fwrite(img, 1, IMAGE_LEN, f) == IMAGE_LEN;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    free(img);
    if (!ok)
        fail_why(d, "cannot write %s", path);
    return ok ? 0 : -1;
}

static int step_manifest(demo_t *d)
{
    char key[PATH_MAX + 32], img[PATH_MAX + 32], out[PATH_MAX + 32],
        buf[128];
    const char *args[] = {"manifest", "create", "--vendor-domain", VENDOR,
                          "--class", KLASS, "--seq", "1", "--image", img,
                          "--uri", URI, "--key", key, "--kid", "-o", out,
                          NULL};
    const char *show[] = {"manifest", "show", out, "--json", NULL};
    json_t *j;
    path_in(d, "author.key", key, sizeof key);
    path_in(d, "firmware.bin", img, sizeof img);
    path_in(d, "firmware.suit", out, sizeof out);
    if (run_ok(d, args) != 0 || run_ok(d, show) != 0)
        return -1;
    j = json_loads(d->out, 0, NULL);
    {
        const char *md =
            j ? json_string_value(json_object_get(j, "manifest-digest")) : NULL;
        snprintf(buf, sizeof buf, "%s", md ? md : "");
    }
    json_decref(j);
    snprintf(d->manifest, sizeof d->manifest, "%.64s", buf);
    return 0;
}

static int step_publish(demo_t *d)
{
    char m[PATH_MAX + 32], img[PATH_MAX + 32];
    const char *args[] = {"publish", "--node", d->http[1], "--manifest", m,
                          "--image", img, "--timeout", "60", NULL};
    path_in(d, "firmware.suit", m, sizeof m);
    path_in(d, "firmware.bin", img, sizeof img);
    d->publish_start = cli_wall_ms();
    if (run_ok(d, args) != 0)
        return -1;
    d->publish_end = cli_wall_ms();
    return 0;
}

/* The publish's phases from the nodes' logs. */
static void publish_phases(demo_t *d)
{
    uint64_t t0 = d->publish_start, check, recv, stored, applied = 0,
             verified = 0;
    size_t n_applied = 0, n_verified = 0;
    check = log_find(d, 1, "manifest checked", t0);
    recv = log_find(d, 1, "image received", t0);
    stored = log_find(d, 1, "image stored", t0);
    for (size_t i = 0; i < NODES; i++) {
        uint64_t a = log_find(d, i, "applied block", stored ? stored : t0);
        uint64_t v = log_find(d, i, "images check out", stored ? stored : t0);
        if (a) {
            n_applied++;
            if (a > applied)
                applied = a;
        }
        if (v) {
            n_verified++;
            if (v > verified)
                verified = v;
        }
    }
    if (!check || !recv || !stored || !n_applied || !n_verified) {
        row(d, "  (phases)", 0, 1, "not all found in the node logs");
        return;
    }
    row(d, "  registration check + manifest verification",
        (double)(check - t0), 1, "%s: author registered, SUIT signature ok",
        d->name[1]);
    row(d, "  image upload", (double)(recv - check), 1,
        "1 MiB to %s, size and digest checked", d->name[1]);
    row(d, "  chunk distribution", (double)(stored - recv), 1,
        "4 chunks of 256 KiB, 3 copies each");
    row(d, "  commit (every node applies the block)",
        (double)(applied > stored ? applied - stored : 0), 1,
        "%zu of %d nodes; each re-verified the manifest", n_applied, NODES);
    row(d, "  every node verifies the image",
        (double)(verified > applied ? verified - applied : 0), 1,
        "%zu of %d nodes, from the chunk store", n_verified, NODES);
    row(d, "  commit certificate", (double)(d->publish_end - verified), 1,
        "quorum of validator signatures, checked by the author's client");
}

static int step_credentials(demo_t *d)
{
    char data[PATH_MAX + 64], g[PATH_MAX + 32], r1[PATH_MAX + 32],
        r2[PATH_MAX + 32], pub[PATH_MAX + 32];
    const char *reg[] = {"device", "register", "--node", d->http[0],
                         "--genesis", g, "--registrar-key", r1,
                         "--registrar-key", r2, "--device-pub", pub,
                         "--vendor-domain", VENDOR, "--class", KLASS,
                         "--timeout", "30", NULL};
    for (size_t i = 0; i < NODES; i++) {
        for (int k = 1; k <= 2; k++) {
            char id[32];
            const char *prov[] = {"device", "provision", "--data", data, "--id",
                                  id, "--vendor-domain", VENDOR, "--class",
                                  KLASS, "--key", PSK_HEX, NULL};
            snprintf(id, sizeof id, "demo-psk-%d", k);
            snprintf(data, sizeof data, "%s/%s", d->net, d->name[i]);
            if (run_ok(d, prov) != 0)
                return -1;
        }
    }
    snprintf(g, sizeof g, "%s/genesis.cbor", d->net);
    snprintf(r1, sizeof r1, "%s/registrar-1.key", d->net);
    snprintf(r2, sizeof r2, "%s/registrar-2.key", d->net);
    path_in(d, "device-rpk.pub", pub, sizeof pub);
    return run_ok(d, reg);
}

/* dsuit device once for one device; the update line is in d->why on
 * success too (for the note). */
static int device_once(demo_t *d, const char *state, const char *cred1,
                       const char *cred2, const char *cred3, const char *cred4,
                       const char *node1, const char *node2, char *note,
                       size_t cap)
{
    char st[PATH_MAX + 32], g[PATH_MAX + 32], pub[PATH_MAX + 32], buf[256];
    const char *args[32];
    size_t n = 0;
    args[n++] = "device";
    args[n++] = "once";
    args[n++] = "--state";
    args[n++] = st;
    args[n++] = "--node";
    args[n++] = node1;
    if (node2 != NULL) {
        args[n++] = "--node";
        args[n++] = node2;
    }
    args[n++] = cred1;
    args[n++] = cred2;
    if (cred3 != NULL) {
        args[n++] = cred3;
        args[n++] = cred4;
    }
    args[n++] = "--trust-author";
    args[n++] = pub;
    args[n++] = "--trust-genesis";
    args[n++] = g;
    args[n++] = "--max-age";
    args[n++] = "60";
    args[n++] = "--vendor-domain";
    args[n++] = VENDOR;
    args[n++] = "--class";
    args[n++] = KLASS;
    args[n] = NULL;
    path_in(d, state, st, sizeof st);
    snprintf(g, sizeof g, "%s/genesis.cbor", d->net);
    path_in(d, "author.pub", pub, sizeof pub);
    if (run_ok(d, args) != 0)
        return -1;
    out_line(d, "updated: ", buf, sizeof buf);
    if (buf[0] == '\0') {
        fail_why(d, "the device did not update: %s", d->out);
        return -1;
    }
    snprintf(note, cap, "%s", buf);
    return 0;
}

static int step_reports(demo_t *d, size_t node, const char *want, char *note,
                        size_t cap)
{
    char url[128], *body = NULL;
    size_t len = 0;
    long status = 0;
    json_t *j, *list, *it;
    size_t i;
    int found = 0;
    snprintf(url, sizeof url, "%s/v1/devices", d->http[node]);
    if (dsuit_http_request("GET", url, NULL, NULL, 0, 10000, &status,
                           (uint8_t **)&body, &len, 1 << 20) != DSUIT_OK ||
        status != 200) {
        free(body);
        fail_why(d, "GET %s failed", url);
        return -1;
    }
    j = json_loads(body, 0, NULL);
    free(body);
    list = j ? json_object_get(j, "devices") : NULL;
    json_array_foreach(list, i, it)
    {
        const char *dev = json_string_value(json_object_get(it, "device"));
        const char *res = json_string_value(json_object_get(it, "last_result"));
        if (dev && res && strncmp(dev, want, strlen(want)) == 0 &&
            strcmp(res, "ok") == 0) {
            snprintf(note, cap, "%s: %s installed sequence %" JSON_INTEGER_FORMAT
                     ", result ok",
                     d->name[node], dev,
                     json_integer_value(json_object_get(it, "installed_sequence")));
            found = 1;
        }
    }
    json_decref(j);
    if (!found)
        fail_why(d, "%s lists no ok report from a %s device", d->name[node],
                 want);
    return found ? 0 : -1;
}

static int step_author_gone(demo_t *d)
{
    char key[PATH_MAX + 32];
    int status;
    path_in(d, "author.key", key, sizeof key);
    if (unlink(key) != 0) {
        fail_why(d, "cannot delete %s", key);
        return -1;
    }
    /* Only our own devnet's node-2: the pid devnet status gave. */
    if (d->pid[1] <= 0 || kill((pid_t)d->pid[1], SIGKILL) != 0) {
        fail_why(d, "cannot kill %s (pid %ld)", d->name[1], d->pid[1]);
        return -1;
    }
    for (int i = 0; i < 100; i++) { /* reaped by init: wait until gone */
        if (kill((pid_t)d->pid[1], 0) != 0)
            return 0;
        (void)waitpid((pid_t)d->pid[1], &status, WNOHANG);
        sleep_ms(20);
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------- */

static void stop_devnet(demo_t *d)
{
    const char *down[] = {"devnet", "down", "--dir", d->net, NULL};
    if (!d->devnet_up)
        return;
    interrupted = 0; /* let the stop itself run */
    (void)run_dsuit(d, down);
    for (size_t i = 0; i < NODES; i++) {
        char path[64], cmd[PATH_MAX + 64] = "";
        FILE *f;
        if (d->pid[i] <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/cmdline", d->pid[i]);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t k = 0; k < n; k++)
            if (cmd[k] == '\0')
                cmd[k] = ' ';
        if (strstr(cmd, d->net) != NULL)
            kill((pid_t)d->pid[i], SIGKILL);
    }
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

/* Our own temporary folder, made by mkdtemp: removed whole, never
 * following a symbolic link out of it. */
static int remove_tree(const char *path)
{
    if (strstr(path, "/dsuit-demo-") == NULL)
        return -1;
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define STEP(label, call, ...)                                                 \
    do {                                                                       \
        uint64_t t_ = cli_wall_ms();                                               \
        if (interrupted) {                                                     \
            fail_why(d, "interrupted");                                        \
            goto done;                                                         \
        }                                                                      \
        if ((call) != 0) {                                                     \
            row(d, label, (double)(cli_wall_ms() - t_), 0, "%s", d->why);          \
            goto done;                                                         \
        }                                                                      \
        row(d, label, (double)(cli_wall_ms() - t_), 1, __VA_ARGS__);               \
    } while (0)

static int demo_run(demo_t *d)
{
    char note1[200], note2[200], note3[200], rep[200];
    int ok = 0;

    printf("dsuit demo: the Distributed SUIT procedure on a local network\n"
           "(draft-lee-suit-distarch, Figure 3), in %s\n\n",
           d->dir);
    STEP("network: 4 validator nodes", step_network(d),
         "devnet: %s %s %s %s; registrars 2 of 3", d->name[0], d->name[1],
         d->name[2], d->name[3]);
    STEP("keys: author, RPK device", step_keys(d), "ES256 (P-256)");
    STEP("registrars register the author", step_register(d),
         "2 of 3 registrar signatures; vendor %s, class %s; certified", VENDOR,
         KLASS);
    STEP("firmware image", step_firmware(d), "1 MiB");
    STEP("author creates and signs the SUIT manifest", step_manifest(d),
         "sequence 1, manifest %.16s", d->manifest);
    STEP("publish through the registration node", step_publish(d),
         "%s: upload, chunks, votes, certificate", d->name[1]);
    publish_phases(d);
    STEP("device credentials", step_credentials(d),
         "PSK provisioned on 4 nodes; RPK device registered on the ledger");
    STEP("PSK device updates (CoAP/DTLS-PSK)",
         device_once(d, "device-psk-1", "--psk-id", "demo-psk-1", "--psk-key",
                     PSK_HEX, d->coap[0], NULL, note1, sizeof note1),
         "%s", note1);
    STEP("RPK device updates (CoAP/DTLS-RPK)",
         device_once(d, "device-rpk", "--key", d->rpk_key, NULL, NULL,
                     d->coap[2], NULL, note2, sizeof note2),
         "%s", note2);
    STEP("the nodes list the devices' reports",
         step_reports(d, 0, "psk:", rep, sizeof rep), "%s", rep);
    STEP("  ...", step_reports(d, 2, "rpk:", rep, sizeof rep), "%s", rep);
    STEP("the author disappears", step_author_gone(d),
         "author.key deleted; %s (its registration node) killed -9",
         d->name[1]);
    STEP("a third device still updates",
         device_once(d, "device-psk-2", "--psk-id", "demo-psk-2", "--psk-key",
                     PSK_HEX, d->coap[1], d->coap[3], note3, sizeof note3),
         "%s (after %s did not answer)", note3, d->name[1]);
    ok = 1;
done:
    return ok;
}

int cmd_demo(int argc, char **argv)
{
    demo_t *d;
    struct sigaction sa;
    const char *tmp = getenv("TMPDIR");
    int c, ok;
    ssize_t sl;
    double total;

    opterr = 0;
    d = calloc(1, sizeof *d);
    if (d == NULL) {
        cli_error(CMD, "out of memory");
        return DSUIT_EXIT_FAIL;
    }
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            free(d);
            return DSUIT_EXIT_OK;
        case OPT_KEEP:
            d->keep = 1;
            break;
        default:
            free(d);
            return cli_getopt_error(CMD, c, argv, longopts);
        }
    }
    if (optind < argc) {
        free(d);
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    }
    sl = readlink("/proc/self/exe", d->self, sizeof d->self - 1);
    if (sl <= 0) {
        free(d);
        cli_error(CMD, "cannot find this program (/proc/self/exe)");
        return DSUIT_EXIT_FAIL;
    }
    d->self[sl] = '\0';
    snprintf(d->dir, sizeof d->dir, "%s/dsuit-demo-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(d->dir) == NULL) {
        cli_error_subject(CMD, "cannot create folder in",
                          tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
        free(d);
        return DSUIT_EXIT_FAIL;
    }
    snprintf(d->net, sizeof d->net, "%s/net", d->dir);
    snprintf(d->rpk_key, sizeof d->rpk_key, "%s/device-rpk.key", d->dir);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    d->t0 = cli_wall_ms();
    ok = demo_run(d);
    stop_devnet(d);
    total = (double)(cli_wall_ms() - d->t0);

    printf("\nsummary\n");
    printf("  %-44s %8s  %s\n", "step", "time", "result");
    for (size_t i = 0; i < d->n_rows; i++)
        printf("  %-44s %5.0f ms  %s\n", d->rows[i].name, d->rows[i].ms,
               d->rows[i].ok ? "ok" : "FAILED");
    printf("  %-44s %5.1f s   %s\n", "total", total / 1000.0,
           ok ? "passed" : "failed");
    if (d->keep)
        printf("\nkept: %s (node logs in net/node-*/node.log)\n", d->dir);
    else if (remove_tree(d->dir) != 0)
        cli_warn(CMD, "could not remove %s", d->dir);
    if (!ok)
        cli_error(CMD, "%s", interrupted ? "interrupted" : d->why);
    free(d);
    return ok ? DSUIT_EXIT_OK : DSUIT_EXIT_FAIL;
}
