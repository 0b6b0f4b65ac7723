/*
 * Free loopback ports below the ephemeral range (ports.h).
 */
#include "net/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dsuit/crypto.h"
#include "dsuit/error.h"

#define PORTS_MAX   1024
#define DRAWS_MAX   200 /* per port */
#define SPAN        12000
#define PORT_LOWEST 1024

/* The first port of the kernel's ephemeral range. */
static unsigned ephemeral_low(void)
{
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2 || lo <= PORT_LOWEST ||
            lo > 65535)
            lo = 32768;
        fclose(f);
    }
    return lo;
}

static int try_bind(uint16_t port, int udp)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
                    0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int dsuit_free_ports(size_t count, const int *udp, uint16_t *out)
{
    int fds[PORTS_MAX];
    uint16_t got[PORTS_MAX];
    unsigned top = ephemeral_low() - 1, bottom;
    size_t n = 0;
    int rc = DSUIT_OK;

    if (count > PORTS_MAX)
        return DSUIT_E_LIMIT;
    bottom = top > PORT_LOWEST + SPAN ? top - SPAN : PORT_LOWEST;
    for (; n < count && rc == DSUIT_OK; n++) {
        int fd = -1;
        for (int draw = 0; draw < DRAWS_MAX && fd < 0; draw++) {
            uint8_t r[2];
            uint16_t port;
            int dup = 0;
            if (dsuit_random(r, sizeof r) != DSUIT_OK)
                break;
            port = (uint16_t)(bottom + ((unsigned)r[0] << 8 | r[1]) %
                                           (top - bottom + 1));
            for (size_t k = 0; k < n && !dup; k++)
                dup = got[k] == port;
            if (!dup)
                fd = try_bind(port, udp != NULL && udp[n]);
            if (fd >= 0)
                got[n] = port;
        }
        if (fd < 0) {
            rc = DSUIT_E_IO;
            break;
        }
        fds[n] = fd;
    }
    for (size_t k = 0; k < n; k++)
        close(fds[k]);
    if (rc == DSUIT_OK)
        memcpy(out, got, count * sizeof *out);
    return rc;
}
