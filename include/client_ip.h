/* SPDX-License-Identifier: MIT */
/*
 * client_ip.h - the client address an event records: the socket peer, or,
 * when the peer is one of server.trusted_proxies, the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy. Every X-Forwarded-For
 * field line counts, joined in order (RFC 9110 5.3), so a line the client
 * wrote before the proxies' can never choose the address. Pure functions:
 * any thread.
 */
#ifndef PXD_CLIENT_IP_H
#define PXD_CLIENT_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "http_parse.h"
#include "strview.h"

#define PXD_CLIENT_IP_MAX 46 /* INET6_ADDRSTRLEN */

/*
 * Writes the client address of a request from <peer> with the <n> header
 * fields <hdrs> (the request's; X-Forwarded-For lines are picked from them;
 * NULL, 0: none) into <out> (at least PXD_CLIENT_IP_MAX bytes, NUL-ended;
 * IPv4-mapped IPv6 written as IPv4). Returns its length; 0 when the peer is
 * unknown.
 */
size_t pxd_client_ip(const struct pxd_conf *conf, const struct sockaddr_storage *peer,
		     const struct pxd_http_header *hdrs, size_t n, char *out);

/* The same address as bytes: returns AF_INET (4 bytes in <addr>), AF_INET6
 * (16 bytes) or AF_UNSPEC when the peer is unknown. */
int pxd_client_addr(const struct pxd_conf *conf, const struct sockaddr_storage *peer,
		    const struct pxd_http_header *hdrs, size_t n, uint8_t addr[16]);

/* Returns true when the address <family>/<addr> lies in one of <n> CIDRs. */
bool pxd_cidr_match(const struct pxd_conf_cidr *cidrs, size_t n, int family, const uint8_t *addr);

#endif
