/*
 * Free loopback ports for the local networks dsuit starts itself (`dsuit
 * devnet`, the system tests, the benchmarks). Node side.
 *
 * Ports are drawn at random below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default), never
 * from it: a port the kernel handed out with bind(0) is one it will also
 * hand to an outgoing connection, so a node restarted on it later can find
 * it taken by some client's socket (or by a peer connection in TIME-WAIT).
 * Each port is bound once to check it is free (TCP or UDP, as asked), and
 * all test sockets stay open until every port is chosen, so the ports are
 * distinct.
 */
#ifndef DSUIT_NET_PORTS_H
#define DSUIT_NET_PORTS_H

#include <stddef.h>
#include <stdint.h>

/**
 * Choose count distinct free ports on 127.0.0.1. udp[i] != 0 asks for a
 * UDP port at i, else TCP; udp may be NULL (all TCP).
 * Errors: DSUIT_E_IO (not enough free ports after many draws),
 * DSUIT_E_LIMIT (count above 1024).
 */
int dsuit_free_ports(size_t count, const int *udp, uint16_t *out);

#endif /* DSUIT_NET_PORTS_H */
