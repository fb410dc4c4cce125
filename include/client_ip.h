/* SPDX-License-Identifier: MIT */
/*
 * client_ip.h - the client address an event records: the socket peer, or,
 * when the peer is one of server.trusted_proxies, the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy. Pure functions: any
 * thread.
 */
#ifndef PXD_CLIENT_IP_H
#define PXD_CLIENT_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "strview.h"

#define PXD_CLIENT_IP_MAX 46 /* INET6_ADDRSTRLEN */

/*
 * Writes the client address of a request from <peer> with header <xff> into
 * <out> (at least PXD_CLIENT_IP_MAX bytes, NUL-terminated; IPv4-mapped IPv6
 * written as IPv4). Returns its length; 0 when the peer is unknown.
 */
size_t pxd_client_ip(const struct pxd_conf *conf, const struct sockaddr_storage *peer,
		     struct pxd_sv xff, char *out);

/* The same address as bytes: returns AF_INET (4 bytes in <addr>), AF_INET6
 * (16 bytes) or AF_UNSPEC when the peer is unknown. */
int pxd_client_addr(const struct pxd_conf *conf, const struct sockaddr_storage *peer,
		    struct pxd_sv xff, uint8_t addr[16]);

/* Returns true when the address <family>/<addr> lies in one of <n> CIDRs. */
bool pxd_cidr_match(const struct pxd_conf_cidr *cidrs, size_t n, int family, const uint8_t *addr);

#endif
