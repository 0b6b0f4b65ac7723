/*
 * Test harness for system tests of the replicated node (see cluster.h):
 * makes a chain on free loopback ports, runs `dsuit node` processes, and
 * reads their HTTP API.
 */
/* prctl (Linux) and mkdtemp beyond the project's POSIX 2008. */
#define _DEFAULT_SOURCE

#include "cluster.h"
#include "net/ports.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <jansson.h>

#include "dsuit/tx.h"
#include "net/http/client.h"

#define CL_HTTP_TIMEOUT_MS 3000u
#define CL_MAX_RESPONSE    (16u << 20)

static const uint8_t cl_vendor[16] = {0x5e, 0x57, 0x00, 0x01, 0x02, 0x03,
                                      0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                      0x0a, 0x0b, 0x0c, 0x0d};

uint64_t cl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cl_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cl_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void cl_hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void write_file(const char *path, const void *p, size_t n, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    if (write(fd, p, n) != (ssize_t)n)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    close(fd);
}

/* count distinct free TCP ports on 127.0.0.1, below the ephemeral range
 * (src/net/ports.h): a node restarted by a test finds its ports free. */
static void free_ports(size_t count, uint16_t *out)
{
    if (dsuit_free_ports(count, NULL, out) != DSUIT_OK)
        fail_msg("cannot find %zu free ports on 127.0.0.1", count);
}

void cl_create(cl_t *cl, size_t n, uint64_t heartbeat_ms)
{
    cl_create_opts(cl, n, heartbeat_ms, NULL);
}

void cl_genesis_file(const cl_t *cl, char *out, size_t cap)
{
    snprintf(out, cap, "%s/genesis.cbor", cl->root);
}

void cl_registrar_key_file(const cl_t *cl, size_t k, char *out, size_t cap)
{
    snprintf(out, cap, "%s/registrar%zu.key", cl->root, k);
}

void cl_create_opts(cl_t *cl, size_t n, uint64_t heartbeat_ms,
                    const cl_opts_t *opts)
{
    cl_opts_t o = {0};
    const char *tmp = getenv("TMPDIR");
    uint16_t ports[3 * CL_MAX_NODES];
    dsuit_genesis_t *g;
    const char *why = NULL;
    char path[400];
    int rc;

    if (opts != NULL)
        o = *opts;
    if (o.registrars == 0)
        o.registrars = 1;
    if (o.threshold == 0)
        o.threshold = 1;
    assert_true(n >= 1 && n <= CL_MAX_NODES);
    assert_true(o.registrars <= CL_MAX_REGISTRARS);
    memset(cl, 0, sizeof *cl);
    cl->keep = 1; /* until the test says it passed */
    cl->bin = getenv("DSUIT_BIN");
    if (cl->bin == NULL || access(cl->bin, X_OK) != 0)
        fail_msg("DSUIT_BIN is not set to the dsuit program (got '%s')",
                 cl->bin ? cl->bin : "(unset)");
    snprintf(cl->root, sizeof cl->root, "%s/dsuit-cluster-XXXXXX",
             tmp != NULL && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(cl->root) == NULL)
        fail_msg("mkdtemp: %s", strerror(errno));
    cl->n = n;

    free_ports(3 * n, ports);
    assert_int_equal(dsuit_genesis_new(&g), DSUIT_OK);
    snprintf(g->chain_name, sizeof g->chain_name, "system-test");
    g->time = cl_wall_ms() / 1000;
    for (size_t i = 0; i < n; i++) {
        char name[16];
        assert_int_equal(
            dsuit_key_generate(i % 2 ? DSUIT_KEY_ED25519 : DSUIT_KEY_P256,
                               &cl->val[i]),
            DSUIT_OK);
        snprintf(name, sizeof name, "n%zu", i);
        assert_int_equal(dsuit_genesis_add_validator(
                             g, name, &cl->val[i], "127.0.0.1", ports[3 * i],
                             ports[3 * i + 1], ports[3 * i + 2]),
                         DSUIT_OK);
        snprintf(cl->base[i], sizeof cl->base[i], "http://127.0.0.1:%u",
                 (unsigned)ports[3 * i + 1]);
    }
    cl->n_reg = o.registrars;
    for (size_t k = 0; k < o.registrars; k++) {
        dsuit_key_t *r = k == 0 ? &cl->reg : &cl->reg_more[k - 1];
        char pem[1024], keyfile[400];
        size_t pl;
        assert_int_equal(dsuit_key_generate(DSUIT_KEY_P256, r), DSUIT_OK);
        assert_int_equal(dsuit_genesis_add_registrar(g, r), DSUIT_OK);
        assert_int_equal(dsuit_key_to_pem(r, 1, pem, sizeof pem, &pl),
                         DSUIT_OK);
        cl_registrar_key_file(cl, k, keyfile, sizeof keyfile);
        write_file(keyfile, pem, pl, 0600);
        dsuit_wipe(pem, sizeof pem);
    }
    g->threshold = o.threshold;
    g->policy.heartbeat_ms = heartbeat_ms;
    if (o.max_image_size != 0)
        g->policy.max_image_size = o.max_image_size;
    if (o.chunk_size != 0)
        g->policy.chunk_size = o.chunk_size;
    if (o.replicas != 0)
        g->policy.replicas = o.replicas;
    if (dsuit_genesis_validate(g, &why) != DSUIT_OK)
        fail_msg("genesis: %s", why ? why : "?");
    rc = dsuit_genesis_encode(g, cl->genesis, sizeof cl->genesis,
                              &cl->genesis_len);
    dsuit_genesis_free(g);
    assert_int_equal(rc, DSUIT_OK);
    assert_int_equal(
        dsuit_genesis_decode(cl->genesis, cl->genesis_len, &cl->g, &why),
        DSUIT_OK);
    snprintf(path, sizeof path, "%s/genesis.cbor", cl->root);
    write_file(path, cl->genesis, cl->genesis_len, 0644);

    for (size_t i = 0; i < n; i++) {
        char pem[1024], keyfile[400], name[16], out[2048];
        size_t pl;
        assert_int_equal(dsuit_key_to_pem(&cl->val[i], 1, pem, sizeof pem, &pl),
                         DSUIT_OK);
        snprintf(keyfile, sizeof keyfile, "%s/n%zu.key", cl->root, i);
        write_file(keyfile, pem, pl, 0600);
        dsuit_wipe(pem, sizeof pem);
        snprintf(name, sizeof name, "n%zu", i);
        snprintf(cl->data[i], sizeof cl->data[i], "%s/n%zu", cl->root, i);
        const char *args[] = {"node",   "init",      "--genesis", path,
                              "--name", name,        "--key",     keyfile,
                              "--data", cl->data[i], NULL};
        rc = cl_run_cli(cl, args, out, sizeof out);
        if (rc != 0)
            fail_msg("dsuit node init %s exited %d: %s", name, rc, out);
    }
}

int cl_exited(cl_t *cl, size_t i, int *out_status)
{
    int st;
    if (cl->pid[i] <= 0)
        return 0;
    if (waitpid(cl->pid[i], &st, WNOHANG) == cl->pid[i]) {
        cl->pid[i] = 0;
        if (out_status != NULL)
            *out_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 1;
    }
    return 0;
}

static void print_log_tail(const cl_t *cl, size_t i)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd,
             "echo '--- tail of %s/node.log:'; tail -n 15 '%s/node.log' "
             "'%s/stdio.log' 2>&1",
             cl->data[i], cl->data[i], cl->data[i]);
    if (system(cmd) != 0)
        printf("(cannot show the log)\n");
}

void cl_start(cl_t *cl, size_t i)
{
    char logfile[400], stdio[400];
    pid_t parent = getpid(), pid;
    uint64_t t0 = cl_now_ms();
    cl_status_t st;
    int status;

    assert_true(i < cl->n);
    assert_int_equal(cl->pid[i], 0);
    snprintf(logfile, sizeof logfile, "%s/node.log", cl->data[i]);
    snprintf(stdio, sizeof stdio, "%s/stdio.log", cl->data[i]);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Die with the test process: no node outlives a crashed test. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(stdio, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(cl->bin, cl->bin, "node", "run", "--data", cl->data[i], "--log",
              logfile, "--election-timeout-ms", "500", "--block-interval-ms",
              "20", (char *)NULL);
        _exit(127);
    }
    cl->pid[i] = pid;
    /* Ready when its HTTP API answers. */
    while (cl_status(cl, i, &st) != 0) {
        if (cl_exited(cl, i, &status)) {
            print_log_tail(cl, i);
            fail_msg("node n%zu exited %d at start", i, status);
        }
        if (cl_now_ms() - t0 > 10000) {
            print_log_tail(cl, i);
            fail_msg("node n%zu does not answer 10 s after start", i);
        }
        cl_sleep_ms(20);
    }
}

void cl_start_all(cl_t *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        cl_start(cl, i);
}

int cl_stop(cl_t *cl, size_t i, unsigned wait_ms)
{
    uint64_t t0 = cl_now_ms();
    int st;
    if (cl->pid[i] <= 0)
        return -1;
    kill(cl->pid[i], SIGTERM);
    while (cl_now_ms() - t0 < wait_ms) {
        if (waitpid(cl->pid[i], &st, WNOHANG) == cl->pid[i]) {
            cl->pid[i] = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        cl_sleep_ms(10);
    }
    printf("# node n%zu did not stop %u ms after SIGTERM: SIGKILL\n", i,
           wait_ms);
    kill(cl->pid[i], SIGKILL);
    waitpid(cl->pid[i], &st, 0);
    cl->pid[i] = 0;
    return 128 + SIGKILL;
}

void cl_kill9(cl_t *cl, size_t i)
{
    int st;
    assert_true(cl->pid[i] > 0);
    kill(cl->pid[i], SIGKILL);
    waitpid(cl->pid[i], &st, 0);
    cl->pid[i] = 0;
}

void cl_destroy(cl_t *cl)
{
    if (cl == NULL || cl->root[0] == '\0')
        return;
    for (size_t i = 0; i < cl->n; i++) {
        int st;
        if (cl->pid[i] <= 0)
            continue;
        if (cl_exited(cl, i, &st)) {
            printf("# node n%zu had exited with %d\n", i, st);
            cl->keep = 1;
            continue;
        }
        st = cl_stop(cl, i, 5000);
        if (st != 0) {
            printf("# node n%zu stopped with %d\n", i, st);
            cl->keep = 1;
        }
    }
    if (cl->keep || getenv("DSUIT_KEEP_CLUSTER") != NULL) {
        printf("# cluster kept in %s (node logs: nI/node.log)\n", cl->root);
    } else {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cl->root);
        if (system(cmd) != 0)
            printf("# cannot remove %s\n", cl->root);
    }
    for (size_t i = 0; i < cl->n; i++)
        dsuit_key_wipe(&cl->val[i]);
    dsuit_key_wipe(&cl->reg);
    for (size_t k = 0; k + 1 < CL_MAX_REGISTRARS; k++)
        dsuit_key_wipe(&cl->reg_more[k]);
    dsuit_genesis_free(cl->g);
    cl->g = NULL;
    cl->root[0] = '\0';
}

long cl_http(const cl_t *cl, size_t i, const char *method, const char *path,
             const char *const *headers, const uint8_t *body, size_t len,
             uint8_t **body_out, size_t *len_out)
{
    return cl_http_ex(cl, i, method, path, headers, body, len,
                      CL_HTTP_TIMEOUT_MS, CL_MAX_RESPONSE, body_out, len_out);
}

long cl_http_ex(const cl_t *cl, size_t i, const char *method, const char *path,
                const char *const *headers, const uint8_t *body, size_t len,
                unsigned timeout_ms, size_t max_response, uint8_t **body_out,
                size_t *len_out)
{
    char url[512];
    long status;
    uint8_t *b = NULL;
    size_t bl = 0;
    snprintf(url, sizeof url, "%s%s", cl->base[i], path);
    if (dsuit_http_request(method, url, headers, body, len, timeout_ms, &status,
                           &b, &bl, max_response) != DSUIT_OK)
        return -1;
    if (body_out != NULL) {
        *body_out = b;
        if (len_out != NULL)
            *len_out = bl;
    } else {
        free(b);
    }
    return status;
}

static json_t *get_json(const cl_t *cl, size_t i, const char *path,
                        long *status)
{
    uint8_t *b = NULL;
    size_t bl = 0;
    json_t *j;
    *status = cl_http(cl, i, "GET", path, NULL, NULL, 0, &b, &bl);
    if (*status < 0)
        return NULL;
    j = json_loadb((const char *)b, bl, 0, NULL);
    free(b);
    return j;
}

static uint64_t json_u64(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

int cl_status(const cl_t *cl, size_t i, cl_status_t *out)
{
    long status;
    json_t *j = get_json(cl, i, "/v1/status", &status);
    const json_t *role, *leader;
    cl_status_t st;
    if (j == NULL || status != 200) {
        json_decref(j);
        return -1;
    }
    memset(&st, 0, sizeof st);
    st.leader_index = -1;
    role = json_object_get(j, "role");
    leader = json_object_get(j, "leader");
    if (json_is_string(role))
        snprintf(st.role, sizeof st.role, "%s", json_string_value(role));
    if (json_is_string(leader)) {
        snprintf(st.leader, sizeof st.leader, "%s", json_string_value(leader));
        for (size_t k = 0; k < cl->n; k++)
            if (strcmp(cl->g->validators[k].name, st.leader) == 0)
                st.leader_index = (int)k;
    }
    st.term = json_u64(j, "term");
    st.height = json_u64(j, "height");
    st.certified = json_u64(j, "certified_height");
    st.applied = json_u64(j, "blocks_applied");
    st.rejected = json_u64(j, "blocks_rejected");
    json_decref(j);
    *out = st;
    return 0;
}

int cl_wait_leader(const cl_t *cl, uint64_t min_term, unsigned timeout_ms,
                   uint64_t *out_term)
{
    uint64_t t0 = cl_now_ms();
    do {
        cl_status_t st[CL_MAX_NODES];
        int ok[CL_MAX_NODES];
        for (size_t i = 0; i < cl->n; i++)
            ok[i] = cl->pid[i] > 0 && cl_status(cl, i, &st[i]) == 0;
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
        cl_sleep_ms(10);
    } while (cl_now_ms() - t0 < timeout_ms);
    return -1;
}

size_t cl_tx_register(cl_t *cl, uint8_t *out, size_t cap, uint8_t id[32])
{
    dsuit_key_t author;
    uint8_t body[1024];
    size_t bl, len;
    assert_int_equal(dsuit_key_generate(DSUIT_KEY_ED25519, &author), DSUIT_OK);
    assert_int_equal(dsuit_tx_body_register_author(
                         cl->g->hash, cl->nonce++, &author, "system test",
                         cl_vendor, NULL, 0, body, sizeof body, &bl),
                     DSUIT_OK);
    assert_int_equal(dsuit_tx_assemble(body, bl, &cl->reg, 1, out, cap, &len),
                     DSUIT_OK);
    assert_int_equal(dsuit_sha256(body, bl, id), DSUIT_OK);
    dsuit_key_wipe(&author);
    return len;
}

long cl_submit(const cl_t *cl, size_t i, const uint8_t *tx, size_t len)
{
    static const char *const h[] = {"Content-Type: application/cbor", NULL};
    return cl_http(cl, i, "POST", "/v1/tx", h, tx, len, NULL, NULL);
}

cl_tx_state_t cl_tx_state(const cl_t *cl, size_t i, const uint8_t id[32],
                          uint64_t *height, uint64_t *index)
{
    char path[100], idh[65];
    long status;
    json_t *j;
    const char *s;
    cl_tx_state_t r = CL_TX_ERROR;
    cl_hex(id, 32, idh);
    snprintf(path, sizeof path, "/v1/tx/%s", idh);
    j = get_json(cl, i, path, &status);
    if (status == 404) {
        json_decref(j);
        return CL_TX_UNKNOWN;
    }
    if (j == NULL || status != 200) {
        json_decref(j);
        return CL_TX_ERROR;
    }
    s = json_string_value(json_object_get(j, "status"));
    if (s == NULL)
        r = CL_TX_ERROR;
    else if (strcmp(s, "pending") == 0)
        r = CL_TX_PENDING;
    else if (strcmp(s, "committed") == 0)
        r = CL_TX_COMMITTED;
    else if (strcmp(s, "certified") == 0)
        r = CL_TX_CERTIFIED;
    else if (strcmp(s, "invalid") == 0)
        r = CL_TX_INVALID;
    if (height != NULL)
        *height = json_u64(j, "height");
    if (index != NULL)
        *index = json_u64(j, "index");
    json_decref(j);
    return r;
}

int cl_wait_tx(const cl_t *cl, size_t i, const uint8_t id[32],
               unsigned timeout_ms, uint64_t *height, uint64_t *index)
{
    uint64_t t0 = cl_now_ms();
    do {
        cl_tx_state_t s = cl_tx_state(cl, i, id, height, index);
        if (s == CL_TX_COMMITTED || s == CL_TX_CERTIFIED)
            return 1;
        cl_sleep_ms(10);
    } while (cl_now_ms() - t0 < timeout_ms);
    return 0;
}

int64_t cl_height(const cl_t *cl, size_t i)
{
    cl_status_t st;
    if (cl_status(cl, i, &st) != 0)
        return -1;
    return (int64_t)st.height;
}

int cl_block(const cl_t *cl, size_t i, uint64_t h, char hash[65],
             char state_root[65])
{
    char path[64];
    long status;
    json_t *j;
    const char *hs, *sr;
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
    j = get_json(cl, i, path, &status);
    if (j == NULL || status != 200) {
        json_decref(j);
        return -1;
    }
    hs = json_string_value(json_object_get(j, "hash"));
    sr = json_string_value(json_object_get(j, "state_root"));
    if (hs == NULL || sr == NULL || strlen(hs) != 64 || strlen(sr) != 64) {
        json_decref(j);
        return -1;
    }
    memcpy(hash, hs, 65);
    if (state_root != NULL)
        memcpy(state_root, sr, 65);
    json_decref(j);
    return 0;
}

int cl_wait_height(const cl_t *cl, uint64_t h, unsigned timeout_ms)
{
    uint64_t t0 = cl_now_ms();
    do {
        int all = 1;
        for (size_t i = 0; i < cl->n && all; i++)
            if (cl->pid[i] > 0 && cl_height(cl, i) < (int64_t)h)
                all = 0;
        if (all)
            return 1;
        cl_sleep_ms(10);
    } while (cl_now_ms() - t0 < timeout_ms);
    return 0;
}

uint64_t cl_max_height(const cl_t *cl)
{
    uint64_t m = 0;
    for (size_t i = 0; i < cl->n; i++) {
        int64_t h = cl->pid[i] > 0 ? cl_height(cl, i) : -1;
        if (h > (int64_t)m)
            m = (uint64_t)h;
    }
    return m;
}

int cl_run_cli(const cl_t *cl, const char *const *args, char *out, size_t cap)
{
    const char *argv[32];
    int p[2], st;
    size_t n = 0, k = 0;
    pid_t pid;
    argv[k++] = cl->bin;
    while (args[k - 1] != NULL && k < 31) {
        argv[k] = args[k - 1];
        k++;
    }
    argv[k] = NULL;
    if (pipe(p) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execv(cl->bin, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    for (;;) {
        char buf[512];
        ssize_t r = read(p[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t j = 0; j < r && n + 1 < cap; j++)
            out[n++] = buf[j];
    }
    close(p[0]);
    if (cap > 0)
        out[n] = '\0';
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cl_store(const cl_t *cl, size_t i, cl_store_t *out)
{
    long status;
    json_t *j = get_json(cl, i, "/v1/store", &status);
    cl_store_t st;
    if (j == NULL || status != 200 ||
        !json_is_integer(json_object_get(j, "chunks"))) {
        json_decref(j);
        return -1;
    }
    st.chunks = json_u64(j, "chunks");
    st.bytes = json_u64(j, "bytes");
    st.replicas = json_u64(j, "replicas");
    st.published = json_u64(j, "published_chunks");
    st.under = json_u64(j, "under_replicated");
    st.repaired = json_u64(j, "repaired");
    json_decref(j);
    *out = st;
    return 0;
}

int cl_chunk_file(const cl_t *cl, size_t i, const uint8_t digest[32], char *out,
                  size_t cap)
{
    char hex[65];
    cl_hex(digest, 32, hex);
    snprintf(out, cap, "%s/chunks/%.2s/%.2s/%s", cl->data[i], hex, hex + 2,
             hex);
    return access(out, F_OK) == 0;
}

/* Two levels of two hex digits, then files named by 64 hex digits. */
static int is_hex_name(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f')))
            return 0;
    return 1;
}

size_t cl_chunk_files(const cl_t *cl, size_t i)
{
    char root[400], l1[420], l2[440];
    size_t count = 0;
    DIR *d1, *d2, *d3;
    struct dirent *a, *b, *c;
    snprintf(root, sizeof root, "%s/chunks", cl->data[i]);
    d1 = opendir(root);
    if (d1 == NULL)
        return 0;
    while ((a = readdir(d1)) != NULL) {
        if (!is_hex_name(a->d_name, 2))
            continue;
        snprintf(l1, sizeof l1, "%s/%s", root, a->d_name);
        d2 = opendir(l1);
        if (d2 == NULL)
            continue;
        while ((b = readdir(d2)) != NULL) {
            if (!is_hex_name(b->d_name, 2))
                continue;
            snprintf(l2, sizeof l2, "%s/%s", l1, b->d_name);
            d3 = opendir(l2);
            if (d3 == NULL)
                continue;
            while ((c = readdir(d3)) != NULL)
                count += is_hex_name(c->d_name, 64);
            closedir(d3);
        }
        closedir(d2);
    }
    closedir(d1);
    return count;
}

int cl_setup(void **state)
{
    cl_t *cl = calloc(1, sizeof *cl);
    if (cl == NULL)
        return -1;
    *state = cl;
    return 0;
}

int cl_teardown(void **state)
{
    cl_t *cl = *state;
    cl_destroy(cl);
    free(cl);
    return 0;
}
