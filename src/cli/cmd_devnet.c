/*
 * `dsuit devnet`: a whole chain on this machine, the network a new user
 * starts with. It makes validator and registrar keys, a genesis and one
 * node data folder per validator (as `dsuit node init` does), picks free
 * ports on 127.0.0.1 for them, and runs every node as a child process of
 * this same program (`dsuit node run`). Page: docs/cli/dsuit-devnet.md.
 *
 *   dsuit devnet up [--nodes N] [--dir DIR] [--registrars R]
 *                   [--threshold K] [--heartbeat-ms MS] [--detach]
 *   dsuit devnet status [--dir DIR] [--json]
 *   dsuit devnet down [--dir DIR]
 *
 * Layout of DIR (default ./devnet):
 *
 *   genesis.cbor              the chain; its presence means "DIR holds a
 *                             devnet" (written last when the devnet is made)
 *   node-N.key, node-N.pub    validator N's key pair (Ed25519; .key 0600)
 *   registrar-N.key, .pub     registrar N's key pair
 *   node-N/                   validator N's data folder (node.h): a copy of
 *                             genesis.cbor, node.key (0600), ledger/, raft/,
 *                             lock, and node.log, the node's event log
 *   devnet.pids               while running: the pid of node-N on line N
 *   devnet.lock               held (flock) while `up` starts nodes and
 *                             while `down` stops them
 *
 * Nodes are found again by their pids, and a pid is trusted only while
 * /proc/PID/cmdline is still "dsuit node run --data DIR/node-N ...": a pid
 * the kernel has handed to another program since is never signalled. The
 * check and the signal go through a pidfd where the kernel has them, so a
 * pid cannot be recycled between the two either.
 *
 * Linux only (/proc, pidfd, prctl), like the node's tests; only 127.0.0.1.
 */
/* flock, syscall (BSD/SVID), realpath (XSI) beyond POSIX 2008. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "net/ports.h"
#include "dsuit/cose.h"
#include "dsuit/crypto.h"
#include "dsuit/error.h"
#include "dsuit/genesis.h"
#include "dsuit/ledger.h"
#include "net/http/client.h"

#define CMD        "devnet"
#define CMD_UP     "devnet up"
#define CMD_STATUS "devnet status"
#define CMD_DOWN   "devnet down"

#define DEFAULT_DIR "devnet"
#define HOST        "127.0.0.1"
#define CHAIN_NAME  "devnet"

#define MAX_NODES        DSUIT_GENESIS_MAX_VALIDATORS
#define MAX_REGISTRARS   DSUIT_GENESIS_MAX_REGISTRARS
#define START_TIMEOUT_MS 20000 /* every node answers and knows the leader */
#define STOP_TIMEOUT_MS  10000 /* SIGTERM to exit; then SIGKILL */
#define LOCK_TIMEOUT_MS  30000 /* another up/down holds devnet.lock */
#define POLL_MS          200
#define STATUS_TIMEOUT   1000 /* one GET /v1/status */
#define STATUS_MAX       (256 * 1024)
#define GENESIS_MAX      (1 << 20)
#define LOG_TAIL_LINES   10
#define PEM_MAX          1024

static const char usage[] =
    "usage: dsuit devnet up [--nodes N] [--dir DIR] [--registrars R]\n"
    "                       [--threshold K] [--heartbeat-ms MS] [--detach]\n"
    "       dsuit devnet status [--dir DIR] [--json]\n"
    "       dsuit devnet down [--dir DIR]\n"
    "\n"
    "Run a whole dsuit chain on this machine (127.0.0.1), in DIR\n"
    "(default ./devnet).\n"
    "\n"
    "  up      make the devnet if DIR holds none (keys, genesis, one data\n"
    "          folder per node), then start its nodes and wait until they\n"
    "          agree on a leader\n"
    "  status  show each node's process, role, leader and heights\n"
    "  down    stop the nodes; the data stays (rm -rf DIR to start over)\n"
    "\n"
    "Run 'dsuit devnet <verb> --help' for the options of a verb.\n";

static const char up_usage[] =
    "usage: dsuit devnet up [--nodes N] [--dir DIR] [--registrars R]\n"
    "                       [--threshold K] [--heartbeat-ms MS] [--detach]\n"
    "\n"
    "If DIR holds no devnet, make one: N validator keys, R registrar keys,\n"
    "a genesis with free ports on 127.0.0.1 and one data folder per node.\n"
    "Then start every node, wait until all answer and agree on a leader,\n"
    "print their endpoints and stay in the foreground until Ctrl-C or\n"
    "SIGTERM, which stops the nodes. If DIR holds a devnet, its nodes are\n"
    "started again on the same chain and data.\n"
    "\n"
    "options:\n"
    "  --detach            leave the nodes running in the background and\n"
    "                      exit ('dsuit devnet down' stops them)\n"
    "  --dir DIR           the devnet's folder (default ./devnet)\n"
    "  --heartbeat-ms MS   empty-block interval of a new devnet (1000)\n"
    "  --help, -h          show this help\n"
    "  --nodes N           validators of a new devnet, 1 to 64 (4)\n"
    "  --registrars R      registrar keys of a new devnet, 1 to 64 (1)\n"
    "  --threshold K       registrar signatures needed, 1 to R (1)\n";

static const char status_usage[] =
    "usage: dsuit devnet status [--dir DIR] [--json]\n"
    "\n"
    "For each node of the devnet in DIR: its pid and whether it runs, and\n"
    "what its GET /v1/status says: role, leader, height, certified height.\n"
    "Exits 0 when every node runs and answers, 1 otherwise.\n"
    "\n"
    "options:\n"
    "  --dir DIR    the devnet's folder (default ./devnet)\n"
    "  --help, -h   show this help\n"
    "  --json       print one JSON object instead of a table\n";

static const char down_usage[] =
    "usage: dsuit devnet down [--dir DIR]\n"
    "\n"
    "Stop the nodes of the devnet in DIR (SIGTERM, then SIGKILL after\n"
    "10 s) and remove DIR/devnet.pids. Keys, genesis and ledgers stay: a\n"
    "later 'dsuit devnet up' continues the chain; rm -rf DIR starts over.\n"
    "\n"
    "options:\n"
    "  --dir DIR    the devnet's folder (default ./devnet)\n"
    "  --help, -h   show this help\n";

enum {
    OPT_DETACH = 256,
    OPT_DIR,
    OPT_HEARTBEAT_MS,
    OPT_JSON,
    OPT_NODES,
    OPT_REGISTRARS,
    OPT_THRESHOLD
};

/* Sorted by name. */
static const struct option up_longopts[] = {
    {"detach", no_argument, NULL, OPT_DETACH},
    {"dir", required_argument, NULL, OPT_DIR},
    {"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT_MS},
    {"help", no_argument, NULL, 'h'},
    {"nodes", required_argument, NULL, OPT_NODES},
    {"registrars", required_argument, NULL, OPT_REGISTRARS},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option status_longopts[] = {
    {"dir", required_argument, NULL, OPT_DIR},
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

/* Sorted by name. */
static const struct option down_longopts[] = {
    {"dir", required_argument, NULL, OPT_DIR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * The signal that asked `up` to stop (SIGINT, SIGTERM, SIGHUP), or 0. A
 * signal handler can reach nothing but a file-scope flag, so this is the
 * one piece of mutable file-scope state.
 */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/*
 * A devnet as found on disk. Invariants once devnet_load() succeeded: g is
 * the decoded DIR/genesis.cbor, n == g->n_validators, data[i] is
 * "<abs DIR>/<name of validator i>", pids[i] is 0 or the pid recorded for
 * node i.
 */
typedef struct {
    const char *dir_arg; /* DIR as the user gave it, for messages */
    char dir[PATH_MAX];  /* DIR made absolute */
    dsuit_genesis_t *g;
    uint8_t *gbytes;
    size_t glen;
    size_t n;
    char (*data)[PATH_MAX]; /* n data folders */
    pid_t *pids;            /* n pids (0: none) */
    int *own;               /* n flags: pids[i] is our child */
    int lock_fd;            /* devnet.lock, or -1 */
} devnet_t;

/* ---- small helpers ------------------------------------------------------ */

/* snprintf into out; -1 when the result does not fit. */
static int fmt_path(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fmt_path(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short: the caller checks */
}

/* A decimal number in [lo, hi], else a usage error naming the option. */
static int parse_num(const char *cmd, const char *opt, const char *s,
                     unsigned long lo, unsigned long hi, unsigned long *out)
{
    unsigned long v = 0;
    const char *p = s;
    if (*p == '\0')
        goto bad;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > (ULONG_MAX - 9) / 10)
            goto bad;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v < lo || v > hi)
        goto bad;
    *out = v;
    return DSUIT_EXIT_OK;
bad:
    return cli_usage_error(cmd,
                           "option '--%s' needs a number from %lu to %lu, "
                           "not '%s'",
                           opt, lo, hi, s);
}

/* ---- processes ---------------------------------------------------------- */

/*
 * Whether pid runs `dsuit node run` on data folder `data`: argv[1] and
 * argv[2] are "node" and "run" and some "--data" is followed by `data`.
 * A zombie or a process of another user has an empty or unreadable
 * cmdline and does not match.
 */
static int proc_is_node(pid_t pid, const char *data)
{
    char path[64], buf[8192];
    const char *args[64];
    size_t len = 0, nargs = 0;
    ssize_t r;
    int fd;

    snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    while (len < sizeof buf - 1 &&
           (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    if (len == 0)
        return 0;
    buf[len] = '\0';
    for (size_t i = 0; i < len && nargs < 64; i += strlen(buf + i) + 1)
        args[nargs++] = buf + i;
    if (nargs < 5 || strcmp(args[1], "node") != 0 ||
        strcmp(args[2], "run") != 0)
        return 0;
    for (size_t i = 3; i + 1 < nargs; i++)
        if (strcmp(args[i], "--data") == 0 && strcmp(args[i + 1], data) == 0)
            return 1;
    return 0;
}

/*
 * Send sig to pid if, and only if, it is the node of `data`. With a pidfd
 * the process checked is the process signalled; without (old kernels) a
 * recycled pid could slip in between, which the check makes unlikely.
 * @return 1 signalled, 0 not that node (or gone)
 */
static int signal_node(pid_t pid, const char *data, int sig)
{
    int ok = 0;
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        if (proc_is_node(pid, data) &&
            syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) == 0)
            ok = 1;
        close(pfd);
        return ok;
    }
    if (errno != ENOSYS)
        return 0; /* ESRCH: gone */
#endif
    if (proc_is_node(pid, data) && kill(pid, sig) == 0)
        ok = 1;
    return ok;
}

/*
 * Whether node i still runs. A child of ours is reaped here (once it has
 * exited, waitpid says so; its status goes to *out_status when not NULL);
 * any other pid is judged by its cmdline.
 */
static int node_alive(devnet_t *d, size_t i, int *out_status)
{
    int st;
    if (d->pids[i] <= 0)
        return 0;
    if (d->own[i]) {
        pid_t r = waitpid(d->pids[i], &st, WNOHANG);
        if (r == 0)
            return 1;
        if (r == d->pids[i] && out_status != NULL)
            *out_status = st;
        d->own[i] = 0;
        d->pids[i] = 0;
        return 0;
    }
    return proc_is_node(d->pids[i], d->data[i]);
}

/* "exited with status 1", "was killed by signal 9" */
static void describe_status(int st, char *out, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "was killed by signal %d", WTERMSIG(st));
    else
        snprintf(out, cap, "stopped");
}

/*
 * Stop every node of d that still runs: SIGTERM, wait up to 10 s, then
 * SIGKILL the ones still there (only those pids, checked again) and wait a
 * little more. @return how many had to be killed.
 */
static int stop_nodes(devnet_t *d, const char *cmd)
{
    int killed = 0, any = 0;
    double deadline;

    for (size_t i = 0; i < d->n; i++) {
        if (d->pids[i] <= 0)
            continue;
        if (d->own[i])
            kill(d->pids[i], SIGTERM); /* our child: cannot be recycled */
        else
            signal_node(d->pids[i], d->data[i], SIGTERM);
    }
    deadline = cli_now_ms() + STOP_TIMEOUT_MS;
    for (;;) {
        any = 0;
        for (size_t i = 0; i < d->n; i++)
            if (node_alive(d, i, NULL))
                any = 1;
        if (!any || cli_now_ms() >= deadline)
            break;
        sleep_ms(50);
    }
    if (!any)
        return 0;
    for (size_t i = 0; i < d->n; i++) {
        if (!node_alive(d, i, NULL))
            continue;
        cli_warn(cmd,
                 "node '%s' (pid %ld) did not stop within %d s; killing "
                 "it",
                 d->g->validators[i].name, (long)d->pids[i],
                 STOP_TIMEOUT_MS / 1000);
        if (d->own[i] ? kill(d->pids[i], SIGKILL) == 0
                      : signal_node(d->pids[i], d->data[i], SIGKILL))
            killed++;
    }
    deadline = cli_now_ms() + 2000;
    do {
        any = 0;
        for (size_t i = 0; i < d->n; i++)
            if (node_alive(d, i, NULL))
                any = 1;
        if (any)
            sleep_ms(50);
    } while (any && cli_now_ms() < deadline);
    return killed;
}

/*
 * Start node i: fork, and in the child exec this same program as
 * `dsuit node run --data DATA --log DATA/node.log`, with stdin from
 * /dev/null, stdout and stderr appended to the log (so that what the node
 * prints before it opens its log is kept too) and no other descriptor of
 * ours. detach: a new session, so the node outlives the terminal;
 * otherwise the node gets SIGTERM if this process dies.
 */
static int spawn_node(devnet_t *d, size_t i, int detach, pid_t *out)
{
    char log[PATH_MAX + 16];
    pid_t parent = getpid(), pid;

    if (fmt_path(log, sizeof log, "%s/node.log", d->data[i]) != 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *args[] = {"dsuit",    "node",  "run", "--data",
                        d->data[i], "--log", log,   NULL};
        sigset_t none;
        int fd;

        if (detach) {
            setsid();
        } else {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(1);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0 && fd != 0) {
            dup2(fd, 0);
            close(fd);
        }
        fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2)
                close(fd);
        }
#ifdef SYS_close_range
        if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
        {
            long max = sysconf(_SC_OPEN_MAX);
            for (long f = 3; f < (max > 0 && max < 65536 ? max : 1024); f++)
                close((int)f);
        }
        execv("/proc/self/exe", args);
        fprintf(stderr, "dsuit devnet: cannot run '/proc/self/exe': %s\n",
                strerror(errno));
        _exit(127);
    }
    *out = pid;
    return 0;
}

/* Print the last lines of node i's log to stderr, indented. */
static void print_log_tail(const devnet_t *d, size_t i)
{
    char path[PATH_MAX + 16], buf[4096];
    const char *p;
    ssize_t r;
    size_t len, lines = 0;
    off_t size;
    int fd;

    if (fmt_path(path, sizeof path, "%s/node.log", d->data[i]) != 0)
        return;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "  (no log: cannot read '%s': %s)\n", path,
                strerror(errno));
        return;
    }
    size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        size = 0;
    lseek(fd, size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0,
          SEEK_SET);
    r = read(fd, buf, sizeof buf - 1);
    close(fd);
    len = r > 0 ? (size_t)r : 0;
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    buf[len] = '\0';
    /* Back up over the last LOG_TAIL_LINES lines. */
    p = buf + len;
    while (p > buf) {
        if (p[-1] == '\n' && ++lines == LOG_TAIL_LINES)
            break;
        p--;
    }
    fprintf(stderr, "  last lines of '%s':\n", path);
    if (len == 0) {
        fputs("    (empty)\n", stderr);
        return;
    }
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        fprintf(stderr, "    %.*s\n", (int)n, p);
        p += n + (nl != NULL);
    }
}

/* ---- the devnet on disk ------------------------------------------------- */

static void devnet_init(devnet_t *d, const char *dir_arg)
{
    memset(d, 0, sizeof *d);
    d->dir_arg = dir_arg;
    d->lock_fd = -1;
}

static void devnet_release(devnet_t *d)
{
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    dsuit_genesis_free(d->g);
    free(d->gbytes);
    free(d->data);
    free(d->pids);
    free(d->own);
    d->g = NULL;
    d->gbytes = NULL;
    d->data = NULL;
    d->pids = NULL;
    d->own = NULL;
    d->lock_fd = -1;
}

/* d->dir = DIR made absolute, so that the nodes' command lines (which
 * `down` matches) do not depend on the folder `up` ran in. */
static int devnet_resolve(devnet_t *d, const char *cmd)
{
    if (realpath(d->dir_arg, d->dir) == NULL) {
        cli_error_subject(cmd, "cannot open", d->dir_arg, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    return DSUIT_EXIT_OK;
}

static int devnet_exists(const devnet_t *d)
{
    char path[PATH_MAX + 16];
    struct stat st;
    return fmt_path(path, sizeof path, "%s/genesis.cbor", d->dir) == 0 &&
           stat(path, &st) == 0;
}

/*
 * Read DIR/genesis.cbor and DIR/devnet.pids (when there is one). The
 * caller has resolved d->dir.
 */
static int devnet_load(devnet_t *d, const char *cmd)
{
    char path[PATH_MAX + 16];
    const char *why = NULL;
    uint8_t *pids = NULL;
    size_t plen = 0;
    int err, rc;

    if (!devnet_exists(d)) {
        cli_error_subject(cmd, "no devnet in", d->dir_arg,
                          "it holds no genesis.cbor (make one with 'dsuit "
                          "devnet up')");
        return DSUIT_EXIT_FAIL;
    }
    fmt_path(path, sizeof path, "%s/genesis.cbor", d->dir);
    rc = cli_read_file(cmd, path, GENESIS_MAX, &d->gbytes, &d->glen);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    err = dsuit_genesis_decode(d->gbytes, d->glen, &d->g, &why);
    if (err != DSUIT_OK) {
        cli_error_subject(cmd, "cannot use", path,
                          why != NULL ? why : dsuit_strerror(err));
        return cli_exit_for_err(err);
    }
    d->n = d->g->n_validators;
    d->data = calloc(d->n, sizeof *d->data);
    d->pids = calloc(d->n, sizeof *d->pids);
    d->own = calloc(d->n, sizeof *d->own);
    if (d->data == NULL || d->pids == NULL || d->own == NULL) {
        cli_error(cmd, "out of memory");
        return DSUIT_EXIT_FAIL;
    }
    for (size_t i = 0; i < d->n; i++)
        if (fmt_path(d->data[i], sizeof d->data[i], "%s/%s", d->dir,
                     d->g->validators[i].name) != 0) {
            cli_error_subject(cmd, "cannot use", d->dir_arg,
                              "path is too long");
            return DSUIT_EXIT_FAIL;
        }

    fmt_path(path, sizeof path, "%s/devnet.pids", d->dir);
    if (access(path, F_OK) != 0)
        return DSUIT_EXIT_OK;
    rc = cli_read_file(cmd, path, 64 * 1024, &pids, &plen);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    {
        /* One decimal pid per line, line i for node i; anything else
         * gives no pid, so it is never signalled. */
        char *line = (char *)pids, *next;
        for (size_t i = 0; i < d->n && line != NULL && *line != '\0'; i++) {
            long v;
            char *end;
            next = strchr(line, '\n');
            if (next != NULL)
                *next++ = '\0';
            errno = 0;
            v = strtol(line, &end, 10);
            if (errno == 0 && end != line && *end == '\0' && v > 1 &&
                v <= INT_MAX)
                d->pids[i] = (pid_t)v;
            line = next;
        }
    }
    free(pids);
    return DSUIT_EXIT_OK;
}

/* Take DIR/devnet.lock, waiting (bounded) while another up or down has
 * it. The descriptor is close-on-exec: nodes must never inherit the lock. */
static int devnet_lock(devnet_t *d, const char *cmd)
{
    char path[PATH_MAX + 16];
    double deadline = cli_now_ms() + LOCK_TIMEOUT_MS;

    fmt_path(path, sizeof path, "%s/devnet.lock", d->dir);
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lock_fd < 0) {
        cli_error_subject(cmd, "cannot open", path, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    while (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            cli_error_subject(cmd, "cannot lock", path, strerror(errno));
            return DSUIT_EXIT_FAIL;
        }
        if (cli_now_ms() >= deadline) {
            cli_error_subject(cmd, "cannot lock", path,
                              "another 'dsuit devnet' command holds it");
            return DSUIT_EXIT_FAIL;
        }
        sleep_ms(100);
    }
    return DSUIT_EXIT_OK;
}

static void devnet_unlock(devnet_t *d)
{
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* releases the flock */
    d->lock_fd = -1;
}

static int write_pids(devnet_t *d, const char *cmd)
{
    char path[PATH_MAX + 16], *buf;
    size_t len = 0, cap = d->n * 24 + 1;
    int rc;

    buf = malloc(cap);
    if (buf == NULL) {
        cli_error(cmd, "out of memory");
        return DSUIT_EXIT_FAIL;
    }
    for (size_t i = 0; i < d->n; i++)
        len +=
            (size_t)snprintf(buf + len, cap - len, "%ld\n", (long)d->pids[i]);
    fmt_path(path, sizeof path, "%s/devnet.pids", d->dir);
    rc = cli_write_file_atomic(cmd, path, buf, len, 0644, 1);
    free(buf);
    return rc;
}

static void remove_pids(const devnet_t *d)
{
    char path[PATH_MAX + 16];
    if (fmt_path(path, sizeof path, "%s/devnet.pids", d->dir) == 0)
        unlink(path);
}

/* ---- making a devnet ---------------------------------------------------- */

typedef struct {
    unsigned long nodes, registrars, threshold, heartbeat_ms;
    int detach;
    int given; /* a creation option was on the command line */
} up_opts_t;

/* Free TCP ports for Raft and HTTP and a free UDP port for CoAP per node,
 * below the ephemeral range (src/net/ports.h), so that a node restarted
 * later does not find its port taken by some outgoing connection. */
static int pick_ports(size_t n, uint16_t (*ports)[3])
{
    int udp[MAX_NODES * 3];
    uint16_t flat[MAX_NODES * 3];
    for (size_t i = 0; i < n * 3; i++)
        udp[i] = i % 3 == 2;
    if (dsuit_free_ports(n * 3, udp, flat) != DSUIT_OK)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            ports[i][k] = flat[i * 3 + (size_t)k];
    return 0;
}

/* Generate an Ed25519 key pair and write BASE.key (0600) and BASE.pub. */
static int make_key_pair(const char *base, dsuit_key_t *out)
{
    char path[PATH_MAX + 8], pem[PEM_MAX];
    uint8_t cose[DSUIT_COSE_KEY_MAX];
    size_t pem_len = 0, cose_len = 0;
    dsuit_key_t key;
    int err, rc = DSUIT_EXIT_FAIL;

    memset(&key, 0, sizeof key);
    err = dsuit_key_generate(DSUIT_KEY_ED25519, &key);
    if (err == DSUIT_OK)
        err = dsuit_key_to_pem(&key, 1, pem, sizeof pem, &pem_len);
    if (err == DSUIT_OK)
        err = dsuit_cose_key_encode(&key, cose, sizeof cose, &cose_len);
    if (err != DSUIT_OK) {
        cli_error(CMD_UP, "cannot generate a key: %s", dsuit_strerror(err));
        goto out;
    }
    fmt_path(path, sizeof path, "%s.key", base);
    if (cli_write_file_atomic(CMD_UP, path, pem, pem_len, 0600, 0) != 0)
        goto out;
    fmt_path(path, sizeof path, "%s.pub", base);
    if (cli_write_file_atomic(CMD_UP, path, cose, cose_len, 0644, 0) != 0)
        goto out;
    *out = key;
    memset(&key, 0, sizeof key);
    rc = DSUIT_EXIT_OK;
out:
    dsuit_key_wipe(&key);
    dsuit_wipe(pem, sizeof pem);
    return rc;
}

/*
 * Make validator i's data folder as `dsuit node init` does: the genesis,
 * node.key (PEM, 0600) and a ledger opened once, so that anything the
 * ledger refuses is found now.
 */
static int make_node_folder(const char *data, const uint8_t *g, size_t glen,
                            const dsuit_key_t *key)
{
    char path[PATH_MAX + 16], pem[PEM_MAX];
    size_t pem_len = 0;
    dsuit_ledger_t *l = NULL;
    const char *why = NULL;
    int err, rc = DSUIT_EXIT_FAIL;

    if (mkdir(data, 0700) != 0) {
        cli_error_subject(CMD_UP, "cannot create", data, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    fmt_path(path, sizeof path, "%s/genesis.cbor", data);
    if (cli_write_file_atomic(CMD_UP, path, g, glen, 0644, 0) != 0)
        goto out;
    err = dsuit_key_to_pem(key, 1, pem, sizeof pem, &pem_len);
    if (err != DSUIT_OK) {
        cli_error(CMD_UP, "cannot encode a key: %s", dsuit_strerror(err));
        goto out;
    }
    fmt_path(path, sizeof path, "%s/node.key", data);
    if (cli_write_file_atomic(CMD_UP, path, pem, pem_len, 0600, 0) != 0)
        goto out;
    fmt_path(path, sizeof path, "%s/ledger", data);
    if (mkdir(path, 0700) != 0) {
        cli_error_subject(CMD_UP, "cannot create", path, strerror(errno));
        goto out;
    }
    err = dsuit_ledger_open(path, g, glen, NULL, &l, &why);
    dsuit_ledger_close(l);
    if (err != DSUIT_OK) {
        cli_error_subject(CMD_UP, "cannot open the ledger in", data,
                          why != NULL ? why : dsuit_strerror(err));
        goto out;
    }
    rc = DSUIT_EXIT_OK;
out:
    dsuit_wipe(pem, sizeof pem);
    return rc;
}

/* Refuse to make a devnet over files that are in the way. */
static int check_free(const devnet_t *d, const up_opts_t *o)
{
    static const char *const suffix[] = {".key", ".pub", ""};
    char path[PATH_MAX + 32];
    struct stat st;

    for (unsigned long i = 1; i <= o->nodes; i++)
        for (size_t k = 0; k < 3; k++) {
            if (fmt_path(path, sizeof path, "%s/node-%lu%s", d->dir, i,
                         suffix[k]) != 0) {
                cli_error_subject(CMD_UP, "cannot use", d->dir_arg,
                                  "path is too long");
                return DSUIT_EXIT_FAIL;
            }
            if (lstat(path, &st) == 0)
                goto taken;
        }
    for (unsigned long i = 1; i <= o->registrars; i++)
        for (size_t k = 0; k < 2; k++) {
            fmt_path(path, sizeof path, "%s/registrar-%lu%s", d->dir, i,
                     suffix[k]);
            if (lstat(path, &st) == 0)
                goto taken;
        }
    return DSUIT_EXIT_OK;
taken:
    cli_error_subject(CMD_UP, "cannot make a devnet in", d->dir_arg,
                      "it holds files of an unfinished devnet (remove the "
                      "folder to start over)");
    return DSUIT_EXIT_FAIL;
}

/*
 * Make the devnet in d->dir (which exists): keys, data folders, and last
 * DIR/genesis.cbor, which marks the devnet as complete.
 */
static int devnet_create(devnet_t *d, const up_opts_t *o)
{
    dsuit_genesis_t *g = NULL;
    dsuit_key_t *keys = NULL;
    uint16_t(*ports)[3] = NULL;
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    char base[PATH_MAX + 16], path[PATH_MAX + 16];
    const char *why = NULL;
    int err, rc;

    rc = check_free(d, o);
    if (rc != DSUIT_EXIT_OK)
        return rc;
    rc = DSUIT_EXIT_FAIL;
    keys = calloc(o->nodes, sizeof *keys);
    ports = calloc(o->nodes, sizeof *ports);
    if (keys == NULL || ports == NULL || dsuit_genesis_new(&g) != DSUIT_OK) {
        cli_error(CMD_UP, "out of memory");
        goto out;
    }
    if (pick_ports(o->nodes, ports) != 0) {
        cli_error_subject(CMD_UP, "cannot find free ports on", HOST,
                          strerror(errno));
        goto out;
    }
    strcpy(g->chain_name, CHAIN_NAME);
    g->time = (uint64_t)time(NULL);
    g->threshold = o->threshold;
    g->policy.quorum = 0; /* floor(2n/3)+1 */
    g->policy.replicas = o->nodes < 3 ? o->nodes : 3;
    g->policy.heartbeat_ms = o->heartbeat_ms;

    for (unsigned long i = 0; i < o->nodes; i++) {
        char name[32];
        snprintf(name, sizeof name, "node-%lu", i + 1);
        fmt_path(base, sizeof base, "%s/%s", d->dir, name);
        if (make_key_pair(base, &keys[i]) != DSUIT_EXIT_OK)
            goto out;
        err = dsuit_genesis_add_validator(g, name, &keys[i], HOST, ports[i][0],
                                          ports[i][1], ports[i][2]);
        if (err != DSUIT_OK) {
            cli_error(CMD_UP, "cannot add validator '%s': %s", name,
                      dsuit_strerror(err));
            goto out;
        }
    }
    for (unsigned long i = 0; i < o->registrars; i++) {
        dsuit_key_t rk;
        fmt_path(base, sizeof base, "%s/registrar-%lu", d->dir, i + 1);
        if (make_key_pair(base, &rk) != DSUIT_EXIT_OK)
            goto out;
        err = dsuit_genesis_add_registrar(g, &rk);
        dsuit_key_wipe(&rk);
        if (err != DSUIT_OK) {
            cli_error(CMD_UP, "cannot add registrar %lu: %s", i + 1,
                      dsuit_strerror(err));
            goto out;
        }
    }
    err = dsuit_genesis_encode(g, NULL, 0, &enc_len);
    if (err == DSUIT_E_LIMIT || err == DSUIT_OK) {
        enc = malloc(enc_len);
        err = enc != NULL ? dsuit_genesis_encode(g, enc, enc_len, &enc_len)
                          : DSUIT_E_NOMEM;
    }
    if (err != DSUIT_OK) {
        /* The options were checked; only the machine can fail here. */
        (void)dsuit_genesis_validate(g, &why);
        cli_error(CMD_UP, "cannot encode the genesis: %s",
                  why != NULL ? why : dsuit_strerror(err));
        goto out;
    }
    for (unsigned long i = 0; i < o->nodes; i++) {
        fmt_path(path, sizeof path, "%s/node-%lu", d->dir, i + 1);
        if (make_node_folder(path, enc, enc_len, &keys[i]) != DSUIT_EXIT_OK)
            goto out;
    }
    fmt_path(path, sizeof path, "%s/genesis.cbor", d->dir);
    rc = cli_write_file_atomic(CMD_UP, path, enc, enc_len, 0644, 0);
out:
    if (keys != NULL)
        for (unsigned long i = 0; i < o->nodes; i++)
            dsuit_key_wipe(&keys[i]);
    free(keys);
    free(ports);
    free(enc);
    dsuit_genesis_free(g);
    return rc;
}

/* ---- asking nodes ------------------------------------------------------- */

/* GET http://127.0.0.1:PORT/v1/status as JSON, or NULL (no answer, not
 * 200, not JSON); *why says which. */
static json_t *get_status(uint16_t port, const char **why)
{
    char url[64];
    uint8_t *body = NULL;
    size_t len = 0;
    long status = 0;
    json_t *j;
    int err;

    snprintf(url, sizeof url, "http://%s:%u/v1/status", HOST, (unsigned)port);
    err = dsuit_http_request("GET", url, NULL, NULL, 0, STATUS_TIMEOUT, &status,
                             &body, &len, STATUS_MAX);
    if (err != DSUIT_OK) {
        *why = "no answer";
        return NULL;
    }
    if (status != 200) {
        free(body);
        *why = "answer is not 200 OK";
        return NULL;
    }
    j = json_loadb((const char *)body, len, 0, NULL);
    free(body);
    if (!json_is_object(j)) {
        json_decref(j);
        *why = "answer is not a JSON object";
        return NULL;
    }
    return j;
}

static const char *json_str(const json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

/*
 * Wait until every node answers GET /v1/status and all name the same
 * leader, or a node exits, or 20 s pass, or a signal asks to stop. On
 * success copies the leader's name into leader (64 bytes).
 * On failure prints the error (naming the node) and its log's tail.
 */
static int wait_ready(devnet_t *d, char leader[DSUIT_GENESIS_NAME_MAX + 1])
{
    double deadline = cli_now_ms() + START_TIMEOUT_MS;
    size_t bad = 0;
    const char *why = "no answer";
    char reason[160];

    for (;;) {
        int ready = 1;
        char first[DSUIT_GENESIS_NAME_MAX + 1] = "";

        if (stop_signal != 0) {
            cli_error(CMD_UP, "interrupted by signal %d while starting",
                      (int)stop_signal);
            return DSUIT_EXIT_FAIL;
        }
        for (size_t i = 0; i < d->n; i++) {
            int st = 0;
            if (!node_alive(d, i, &st)) {
                char how[64];
                describe_status(st, how, sizeof how);
                snprintf(reason, sizeof reason, "it %s", how);
                cli_error_subject(CMD_UP, "cannot start node",
                                  d->g->validators[i].name, reason);
                print_log_tail(d, i);
                return DSUIT_EXIT_FAIL;
            }
        }
        for (size_t i = 0; i < d->n && ready; i++) {
            json_t *j = get_status(d->g->validators[i].http_port, &why);
            const char *l = j != NULL ? json_str(j, "leader") : NULL;
            if (j != NULL && l == NULL)
                why = "no leader known";
            else if (j != NULL && first[0] != '\0' && strcmp(first, l) != 0)
                why = "nodes name different leaders";
            if (l == NULL || (first[0] != '\0' && strcmp(first, l) != 0)) {
                ready = 0;
                bad = i;
            } else if (first[0] == '\0') {
                snprintf(first, sizeof first, "%s", l);
            }
            json_decref(j);
        }
        if (ready) {
            memcpy(leader, first, sizeof first);
            return DSUIT_EXIT_OK;
        }
        if (cli_now_ms() >= deadline)
            break;
        sleep_ms(POLL_MS);
    }
    snprintf(reason, sizeof reason,
             "not ready within %d s: %s (GET %s:%u/v1/status)",
             START_TIMEOUT_MS / 1000, why, HOST,
             (unsigned)d->g->validators[bad].http_port);
    cli_error_subject(CMD_UP, "cannot start node", d->g->validators[bad].name,
                      reason);
    print_log_tail(d, bad);
    return DSUIT_EXIT_FAIL;
}

/* ---- up ----------------------------------------------------------------- */

static void print_endpoints(const devnet_t *d, const char *leader, int detach)
{
    char hex[2 * DSUIT_SHA256_LEN + 1];
    const char *dir = d->dir_arg;

    cli_hex_encode(d->g->hash, sizeof d->g->hash, hex, sizeof hex);
    printf("devnet '%s' is up: %zu nodes, leader %s\n", dir, d->n, leader);
    printf("chain id: %s\n", hex);
    for (size_t i = 0; i < d->n; i++) {
        const dsuit_validator_t *v = &d->g->validators[i];
        printf("%s (pid %ld)\n", v->name, (long)d->pids[i]);
        printf("  http:  http://%s:%u\n", HOST, (unsigned)v->http_port);
        printf("  coap:  coaps://%s:%u\n", HOST, (unsigned)v->coap_port);
        printf("  raft:  %s:%u\n", HOST, (unsigned)v->raft_port);
        printf("  key:   %s/%s.key\n", dir, v->name);
        printf("  data:  %s/%s\n", dir, v->name);
        printf("  log:   %s/%s/node.log\n", dir, v->name);
    }
    printf("registrar keys: %s/registrar-1.key", dir);
    if (d->g->n_registrars > 1)
        printf(" ... %s/registrar-%zu.key", dir, d->g->n_registrars);
    printf(" (threshold %" PRIu64 " of %zu)\n", d->g->threshold,
           d->g->n_registrars);
    if (detach)
        printf("stop: dsuit devnet down --dir %s\n", dir);
    else
        printf("stop: Ctrl-C here, or dsuit devnet down --dir %s\n", dir);
    printf("status: dsuit devnet status --dir %s\n", dir);
    printf("start over: dsuit devnet down --dir %s && rm -rf %s\n", dir, dir);
    fflush(stdout);
}

/* Any node of d still running from an earlier `up`? */
static int any_running(devnet_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (node_alive(d, i, NULL))
            return 1;
    return 0;
}

/*
 * Foreground: wait for a signal, then stop the nodes. A node that exits
 * on its own is reported; when none is left, `up` ends too.
 */
static int run_foreground(devnet_t *d)
{
    size_t left = d->n;
    int clean = 1;

    while (stop_signal == 0 && left > 0) {
        sleep_ms(POLL_MS);
        for (size_t i = 0; i < d->n; i++) {
            int st = 0;
            char how[64];
            if (d->pids[i] <= 0 || node_alive(d, i, &st))
                continue;
            left--;
            describe_status(st, how, sizeof how);
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                clean = 0;
            cli_warn(CMD_UP, "node '%s' %s; its log is '%s/%s/node.log'",
                     d->g->validators[i].name, how, d->dir_arg,
                     d->g->validators[i].name);
        }
    }
    if (left == 0) {
        remove_pids(d);
        cli_error(CMD_UP, "every node has stopped");
        return clean ? DSUIT_EXIT_OK : DSUIT_EXIT_FAIL;
    }
    fprintf(stderr, "dsuit devnet up: stopping %zu nodes (signal %d)\n", left,
            (int)stop_signal);
    stop_nodes(d, CMD_UP);
    remove_pids(d);
    return DSUIT_EXIT_OK;
}

static int devnet_up(int argc, char **argv)
{
    up_opts_t o = {4, 1, 1, 1000, 0, 0};
    const char *dir_arg = DEFAULT_DIR;
    char leader[DSUIT_GENESIS_NAME_MAX + 1] = "";
    struct sigaction sa;
    devnet_t d;
    int c, rc, threshold_given = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", up_longopts, NULL)) != -1) {
        rc = DSUIT_EXIT_OK;
        switch (c) {
        case OPT_DETACH:
            o.detach = 1;
            break;
        case OPT_DIR:
            dir_arg = optarg;
            break;
        case OPT_HEARTBEAT_MS:
            rc = parse_num(CMD_UP, "heartbeat-ms", optarg, 10, 600000,
                           &o.heartbeat_ms);
            o.given = 1;
            break;
        case 'h':
            fputs(up_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_NODES:
            rc = parse_num(CMD_UP, "nodes", optarg, 1, MAX_NODES, &o.nodes);
            o.given = 1;
            break;
        case OPT_REGISTRARS:
            rc = parse_num(CMD_UP, "registrars", optarg, 1, MAX_REGISTRARS,
                           &o.registrars);
            o.given = 1;
            break;
        case OPT_THRESHOLD:
            rc = parse_num(CMD_UP, "threshold", optarg, 1, MAX_REGISTRARS,
                           &o.threshold);
            o.given = threshold_given = 1;
            break;
        default:
            return cli_getopt_error(CMD_UP, c, argv, up_longopts);
        }
        if (rc != DSUIT_EXIT_OK)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error(CMD_UP, "unexpected argument '%s'",
                               argv[optind]);
    if (dir_arg[0] == '\0')
        return cli_usage_error(CMD_UP, "empty folder name for '--dir'");
    if (threshold_given && o.threshold > o.registrars)
        return cli_usage_error(CMD_UP,
                               "option '--threshold' (%lu) is more than the "
                               "registrars (%lu)",
                               o.threshold, o.registrars);

    devnet_init(&d, dir_arg);
    if (mkdir(dir_arg, 0700) != 0 && errno != EEXIST) {
        cli_error_subject(CMD_UP, "cannot create", dir_arg, strerror(errno));
        return DSUIT_EXIT_FAIL;
    }
    rc = devnet_resolve(&d, CMD_UP);
    if (rc == DSUIT_EXIT_OK)
        rc = devnet_lock(&d, CMD_UP);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    if (!devnet_exists(&d)) {
        rc = devnet_create(&d, &o);
        if (rc != DSUIT_EXIT_OK)
            goto out;
    } else if (o.given) {
        cli_warn(CMD_UP,
                 "'%s' already holds a devnet: --nodes, --registrars, "
                 "--threshold and --heartbeat-ms are ignored",
                 dir_arg);
    }
    rc = devnet_load(&d, CMD_UP);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    if (any_running(&d)) {
        cli_error_subject(CMD_UP, "cannot start", dir_arg,
                          "already running (stop it with 'dsuit devnet "
                          "down')");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < d.n; i++) {
        struct stat st;
        if (stat(d.data[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_error_subject(CMD_UP, "cannot start", d.data[i],
                              "no such data folder");
            rc = DSUIT_EXIT_FAIL;
            goto out;
        }
        d.pids[i] = 0;
    }

    /* From here on Ctrl-C, SIGTERM or a closed terminal stop the nodes
     * before `up` ends; the handlers are reset in the nodes by exec. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    rc = DSUIT_EXIT_FAIL;
    for (size_t i = 0; i < d.n; i++) {
        if (spawn_node(&d, i, o.detach, &d.pids[i]) != 0) {
            cli_error_subject(CMD_UP, "cannot start node",
                              d.g->validators[i].name, strerror(errno));
            goto fail;
        }
        d.own[i] = 1;
    }
    if (write_pids(&d, CMD_UP) != DSUIT_EXIT_OK)
        goto fail;
    if (wait_ready(&d, leader) != DSUIT_EXIT_OK)
        goto fail;
    devnet_unlock(&d);
    print_endpoints(&d, leader, o.detach);
    if (o.detach) {
        rc = DSUIT_EXIT_OK;
        goto out;
    }
    rc = run_foreground(&d);
    goto out;
fail:
    stop_nodes(&d, CMD_UP);
    remove_pids(&d);
out:
    devnet_release(&d);
    return rc;
}

/* ---- status ------------------------------------------------------------- */

static json_t *int_or_null(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return json_is_integer(v) ? json_integer(json_integer_value(v))
                              : json_null();
}

static json_t *str_or_null(const json_t *j, const char *key)
{
    const char *s = json_str(j, key);
    return s != NULL ? json_string(s) : json_null();
}

static int devnet_status(int argc, char **argv)
{
    const char *dir_arg = DEFAULT_DIR;
    int c, json = 0, rc;
    size_t silent = 0, running = 0;
    json_t *root = NULL, *nodes = NULL;
    char hex[2 * DSUIT_SHA256_LEN + 1];
    devnet_t d;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", status_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DIR:
            dir_arg = optarg;
            break;
        case 'h':
            fputs(status_usage, stdout);
            return DSUIT_EXIT_OK;
        case OPT_JSON:
            json = 1;
            break;
        default:
            return cli_getopt_error(CMD_STATUS, c, argv, status_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_STATUS, "unexpected argument '%s'",
                               argv[optind]);
    if (dir_arg[0] == '\0')
        return cli_usage_error(CMD_STATUS, "empty folder name for '--dir'");

    devnet_init(&d, dir_arg);
    rc = devnet_resolve(&d, CMD_STATUS);
    if (rc == DSUIT_EXIT_OK)
        rc = devnet_load(&d, CMD_STATUS);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    cli_hex_encode(d.g->hash, sizeof d.g->hash, hex, sizeof hex);
    root = json_object();
    nodes = json_array();
    if (root == NULL || nodes == NULL) {
        cli_error(CMD_STATUS, "out of memory");
        rc = DSUIT_EXIT_FAIL;
        goto out;
    }
    json_object_set_new(root, "dir", json_string(d.dir));
    json_object_set_new(root, "chain_id", json_string(hex));
    if (!json)
        printf("devnet '%s', chain id %s\n"
               "%-10s %-8s %-8s %-10s %-10s %-8s %-10s %s\n",
               dir_arg, hex, "node", "pid", "running", "role", "leader",
               "height", "certified", "http");
    for (size_t i = 0; i < d.n; i++) {
        const dsuit_validator_t *v = &d.g->validators[i];
        int alive = node_alive(&d, i, NULL);
        const char *why = "not running";
        json_t *st = alive ? get_status(v->http_port, &why) : NULL;
        json_t *n = json_object();
        char url[64], coap[64], pid[24];

        snprintf(url, sizeof url, "http://%s:%u", HOST, (unsigned)v->http_port);
        snprintf(coap, sizeof coap, "coaps://%s:%u", HOST,
                 (unsigned)v->coap_port);
        if (st == NULL)
            silent++;
        if (alive)
            running++;
        json_object_set_new(n, "name", json_string(v->name));
        json_object_set_new(
            n, "pid", d.pids[i] > 0 ? json_integer(d.pids[i]) : json_null());
        json_object_set_new(n, "running", json_boolean(alive));
        json_object_set_new(n, "http", json_string(url));
        json_object_set_new(n, "coap", json_string(coap));
        json_object_set_new(n, "role", str_or_null(st, "role"));
        json_object_set_new(n, "leader", str_or_null(st, "leader"));
        json_object_set_new(n, "term", int_or_null(st, "term"));
        json_object_set_new(n, "height", int_or_null(st, "height"));
        json_object_set_new(n, "certified_height",
                            int_or_null(st, "certified_height"));
        json_object_set_new(n, "error",
                            st == NULL ? json_string(why) : json_null());
        if (!json) {
            const json_t *h = json_object_get(n, "height");
            const json_t *ch = json_object_get(n, "certified_height");
            char hs[24] = "-", chs[24] = "-";
            if (json_is_integer(h))
                snprintf(hs, sizeof hs, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(h));
            if (json_is_integer(ch))
                snprintf(chs, sizeof chs, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(ch));
            if (d.pids[i] > 0)
                snprintf(pid, sizeof pid, "%ld", (long)d.pids[i]);
            else
                snprintf(pid, sizeof pid, "-");
            printf("%-10s %-8s %-8s %-10s %-10s %-8s %-10s %s%s%s\n", v->name,
                   pid, alive ? "yes" : "no",
                   st != NULL && json_str(st, "role") ? json_str(st, "role")
                                                      : "-",
                   st != NULL && json_str(st, "leader") ? json_str(st, "leader")
                                                        : "-",
                   hs, chs, url, st == NULL ? "  " : "", st == NULL ? why : "");
        }
        json_array_append_new(nodes, n);
        json_decref(st);
    }
    json_object_set_new(root, "nodes", nodes);
    nodes = NULL;
    if (json)
        cli_print_json(root);
    if (silent == d.n && running == 0) {
        cli_error(CMD_STATUS,
                  "devnet '%s' is not running (start it with 'dsuit devnet "
                  "up')",
                  dir_arg);
        rc = DSUIT_EXIT_FAIL;
    } else if (silent > 0) {
        cli_error(CMD_STATUS, "%zu of %zu nodes of '%s' do not answer", silent,
                  d.n, dir_arg);
        rc = DSUIT_EXIT_FAIL;
    }
out:
    json_decref(nodes);
    json_decref(root);
    devnet_release(&d);
    return rc;
}

/* ---- down --------------------------------------------------------------- */

static int devnet_down(int argc, char **argv)
{
    const char *dir_arg = DEFAULT_DIR;
    size_t running = 0;
    int c, rc, killed;
    devnet_t d;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", down_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DIR:
            dir_arg = optarg;
            break;
        case 'h':
            fputs(down_usage, stdout);
            return DSUIT_EXIT_OK;
        default:
            return cli_getopt_error(CMD_DOWN, c, argv, down_longopts);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD_DOWN, "unexpected argument '%s'",
                               argv[optind]);
    if (dir_arg[0] == '\0')
        return cli_usage_error(CMD_DOWN, "empty folder name for '--dir'");

    devnet_init(&d, dir_arg);
    rc = devnet_resolve(&d, CMD_DOWN);
    if (rc == DSUIT_EXIT_OK)
        rc = devnet_lock(&d, CMD_DOWN);
    if (rc == DSUIT_EXIT_OK)
        rc = devnet_load(&d, CMD_DOWN);
    if (rc != DSUIT_EXIT_OK)
        goto out;
    for (size_t i = 0; i < d.n; i++) {
        if (node_alive(&d, i, NULL))
            running++;
        else
            d.pids[i] = 0; /* not ours (any more): never signalled */
    }
    killed = stop_nodes(&d, CMD_DOWN);
    remove_pids(&d);
    if (running == 0)
        printf("devnet '%s' was not running\n", dir_arg);
    else
        printf("devnet '%s' stopped: %zu nodes%s; data kept (rm -rf %s to "
               "start over)\n",
               dir_arg, running, killed > 0 ? ", some killed" : "", dir_arg);
out:
    devnet_release(&d);
    return rc;
}

static const cli_verb_t verbs[] = {
    {"up", devnet_up},
    {"status", devnet_status},
    {"down", devnet_down},
};

int cmd_devnet(int argc, char **argv)
{
    /* "dsuit devnet --frob" is an unknown verb, not an unknown option. */
    return cli_run_verb(CMD, usage, "missing verb: up, status or down", 0,
                        verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
