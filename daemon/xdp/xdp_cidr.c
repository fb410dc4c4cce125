// SPDX-License-Identifier: MIT
/*
 * CIDR text and socket addresses for the XDP allow and deny lists: parsing
 * (host bits past the prefix refused), formatting, and the prefix a client address blocks
 * (/32 for IPv4, /64 for IPv6). Pure functions; any thread.
 */
#include "xdp_maps.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_value.h"

/* The one CIDR grammar (conf_value.h): host bits set past the prefix are refused. */
int pxd_xdp_cidr_parse(const char *s, struct pxd_conf_cidr *out)
{
	return pxd_conf_value_cidr(s, out) ? -EINVAL : 0;
}

void pxd_xdp_cidr_format(const struct pxd_conf_cidr *c, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, len, "%s/%u", addr, c->prefix);
}

int pxd_xdp_cidr_from_sockaddr(const struct sockaddr *sa, struct pxd_conf_cidr *out)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		out->prefix = 32;
		memcpy(out->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (memcmp(sin6->sin6_addr.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
		out->family = AF_INET;
		out->prefix = 32;
		memcpy(out->addr, sin6->sin6_addr.s6_addr + 12, 4);
		return 0;
	}
	out->family = AF_INET6;
	out->prefix = 64;
	memcpy(out->addr, sin6->sin6_addr.s6_addr, 8);
	return 0;
}
