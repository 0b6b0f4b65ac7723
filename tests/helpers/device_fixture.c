/*
 * Background programs, bounded runs and device state files for system
 * tests (see device_fixture.h).
 */
/* prctl (Linux), setenv and execvp beyond the project's POSIX 2008. */
#define _DEFAULT_SOURCE

#include "device_fixture.h"
#include "dsuit/error.h"
#include "net/ports.h"

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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

uint16_t df_free_udp_port(void)
{
    const int udp = 1;
    uint16_t port;
    if (dsuit_free_ports(1, &udp, &port) != DSUIT_OK)
        fail_msg("cannot find a free UDP port on 127.0.0.1");
    return port;
}

int df_have_tool(const char *name)
{
    const char *path = getenv("PATH");
    char dir[4096], full[4400];
    if (path == NULL)
        return 0;
    /* Bounded: each round consumes one PATH entry. */
    while (*path != '\0') {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        if (n > 0 && n < sizeof dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
            snprintf(full, sizeof full, "%s/%s", dir, name);
            if (access(full, X_OK) == 0)
                return 1;
        }
        path += n + (colon != NULL);
    }
    return 0;
}

/* In the child: die with the test, add env, exec. Never returns. */
static void child_exec(pid_t parent, const char *const *argv,
                       const char *const *env)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        char name[128];
        const char *eq = strchr(env[i], '=');
        size_t n = eq ? (size_t)(eq - env[i]) : 0;
        if (n == 0 || n >= sizeof name)
            _exit(127);
        memcpy(name, env[i], n);
        name[n] = '\0';
        setenv(name, eq + 1, 1);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

static void redirect(int to, const char *path)
{
    int fd = open(path != NULL ? path : "/dev/null",
                  O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        _exit(127);
    dup2(fd, to);
    close(fd);
}

pid_t df_spawn(const char *const *argv, const char *const *env,
               const char *out_path, const char *err_path)
{
    pid_t parent = getpid(), pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
            close(null);
        }
        redirect(1, out_path);
        redirect(2, err_path);
        child_exec(parent, argv, env);
    }
    return pid;
}

static int status_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int df_wait(pid_t pid, unsigned timeout_ms, int *out_status)
{
    uint64_t t0 = now_ms();
    int st;
    if (pid <= 0)
        return 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (out_status != NULL)
                *out_status = status_code(st);
            return 1;
        }
        if (r < 0 && errno != EINTR)
            return 0;
        if (now_ms() - t0 >= timeout_ms)
            return 0;
        nap_ms(10);
    }
}

int df_stop(pid_t pid, int sig, unsigned wait_ms)
{
    int st = -1;
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    if (df_wait(pid, wait_ms, &st))
        return st;
    kill(pid, SIGKILL);
    if (waitpid(pid, &st, 0) == pid)
        return status_code(st);
    return 128 + SIGKILL;
}

/* Append what fd has to buf (dropping what does not fit). 0 at EOF. */
static int drain_fd(int fd, char *buf, size_t cap, size_t *n)
{
    char tmp[4096];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (r <= 0)
        return 0;
    for (ssize_t k = 0; k < r; k++)
        if (buf != NULL && *n + 1 < cap)
            buf[(*n)++] = tmp[k];
    return 1;
}

int df_run(const char *const *argv, const char *const *env, unsigned timeout_ms,
           char *out, size_t out_cap, char *err, size_t err_cap)
{
    int po[2], pe[2], st, open_o = 1, open_e = 1, timed_out = 0;
    size_t no = 0, ne = 0;
    uint64_t t0 = now_ms();
    pid_t parent = getpid(), pid;

    if (out != NULL && out_cap > 0)
        out[0] = '\0';
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (pipe(po) != 0)
        return -1;
    if (pipe(pe) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
            close(null);
        }
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        child_exec(parent, argv, env);
    }
    close(po[1]);
    close(pe[1]);
    /* Bounded by the deadline: after it the child is killed, which closes
     * the pipes. */
    while (open_o || open_e) {
        struct pollfd p[2];
        int np = 0, left;
        uint64_t el = now_ms() - t0;
        if (!timed_out && el >= timeout_ms) {
            kill(pid, SIGKILL);
            timed_out = 1;
        }
        left = timed_out ? 1000 : (int)(timeout_ms - el);
        if (open_o)
            p[np++] = (struct pollfd){po[0], POLLIN, 0};
        if (open_e)
            p[np++] = (struct pollfd){pe[0], POLLIN, 0};
        if (poll(p, (nfds_t)np, left > 200 ? 200 : left) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < np; k++) {
            if (p[k].revents == 0)
                continue;
            if (p[k].fd == po[0])
                open_o = drain_fd(po[0], out, out_cap, &no);
            else
                open_e = drain_fd(pe[0], err, err_cap, &ne);
        }
        if (timed_out && now_ms() - t0 > (uint64_t)timeout_ms + 5000)
            break; /* a grandchild holds the pipe: give up on it */
    }
    close(po[0]);
    close(pe[0]);
    if (out != NULL && out_cap > 0)
        out[no] = '\0';
    if (err != NULL && err_cap > 0)
        err[ne] = '\0';
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return timed_out ? DF_TIMEOUT : status_code(st);
}

uint8_t *df_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *s = NULL;
    size_t n = 0, cap = 0;
    if (f == NULL)
        return NULL;
    /* Bounded by the file's size: each round reads or ends. */
    for (;;) {
        size_t r;
        if (n + 4096 + 1 > cap) {
            uint8_t *t;
            cap = cap ? 2 * cap : 65536;
            t = realloc(s, cap);
            if (t == NULL) {
                free(s);
                fclose(f);
                return NULL;
            }
            s = t;
        }
        r = fread(s + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    s[n] = '\0';
    if (len != NULL)
        *len = n;
    return s;
}

int df_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL)
        return -1;
    ok = fwrite(p, 1, n, f) == n;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int df_files_equal(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    uint8_t *pa = df_slurp(a, &la), *pb = df_slurp(b, &lb);
    int eq = pa != NULL && pb != NULL && la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return eq;
}

int df_state_field(const char *state_dir, const char *key, char *out,
                   size_t cap)
{
    char path[4200];
    char *text, *line;
    size_t k = strlen(key);
    int rc = -1;
    snprintf(path, sizeof path, "%s/state", state_dir);
    text = (char *)df_slurp(path, NULL);
    if (text == NULL)
        return -1;
    for (line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, key, k) == 0 && line[k] == ' ') {
            snprintf(out, cap, "%s", line + k + 1);
            rc = 0;
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return rc;
}

uint64_t df_state_u64(const char *state_dir, const char *key, uint64_t dflt)
{
    char v[80], *end;
    unsigned long long x;
    if (df_state_field(state_dir, key, v, sizeof v) != 0 || v[0] == '\0')
        return dflt;
    errno = 0;
    x = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return dflt;
    return (uint64_t)x;
}
