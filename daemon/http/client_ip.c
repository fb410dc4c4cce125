// SPDX-License-Identifier: MIT
#include "client_ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

bool pxd_cidr_match(const struct pxd_conf_cidr *cidrs, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		const struct pxd_conf_cidr *c = &cidrs[i];
		unsigned full = c->prefix / 8;
		unsigned rest = c->prefix % 8;

		if (c->family != family || memcmp(c->addr, addr, full))
			continue;
		if (rest && ((c->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

/* Parses one textual address; maps IPv4-mapped IPv6 to IPv4. */
static bool parse_addr(struct pxd_sv s, int *family, uint8_t addr[16])
{
	char tmp[INET6_ADDRSTRLEN + 1];

	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.n--;
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	if (!s.n || s.n >= sizeof(tmp))
		return false;
	memcpy(tmp, s.p, s.n);
	tmp[s.n] = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
			memmove(addr, addr + 12, 4);
			*family = AF_INET;
		}
		return true;
	}
	return false;
}

/* Dotted IPv4 without inet_ntop()'s sprintf(): every pixel's address. */
static size_t format_v4(const uint8_t *a, char *out)
{
	char *p = out;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return (size_t)(p - out - 1);
}

static size_t format(int family, const uint8_t *addr, char *out)
{
	if (family == AF_INET)
		return format_v4(addr, out);
	if (!inet_ntop(family, addr, out, PXD_CLIENT_IP_MAX)) {
		out[0] = '\0';
		return 0;
	}
	return strlen(out);
}

static bool is_xff(const struct pxd_http_header *h)
{
	return pxd_sv_ieq(h->name, "x-forwarded-for");
}

int pxd_client_addr(const struct pxd_conf *conf, const struct sockaddr_storage *peer,
		    const struct pxd_http_header *hdrs, size_t n, uint8_t addr[16])
{
	struct pxd_sv xff = PXD_SV_NULL;
	int family;

	if (peer->ss_family == AF_INET) {
		family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6) {
		family = AF_INET6;
		memcpy(addr, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
			memmove(addr, addr + 12, 4);
			family = AF_INET;
		}
	} else {
		return AF_UNSPEC;
	}
	/* Walk X-Forwarded-For from the right while each hop is trusted: the
	 * first untrusted one is the client. Anything left of it is what the
	 * client claimed and cannot be believed. The last field line holds the
	 * right-most hops; when it is used up the walk goes on in the line
	 * before, as if they were one comma list. */
	while (pxd_cidr_match(conf->trusted_proxies, conf->ntrusted_proxies, family, addr)) {
		const char *comma;
		struct pxd_sv hop;
		uint8_t next[16];
		int next_family;

		while (!xff.n && n) {
			if (is_xff(&hdrs[--n]))
				xff = hdrs[n].value;
		}
		if (!xff.n)
			break;
		comma = memrchr(xff.p, ',', xff.n);
		hop = comma ? pxd_sv_make(comma + 1, xff.n - (size_t)(comma + 1 - xff.p)) : xff;
		if (!parse_addr(hop, &next_family, next))
			break;
		family = next_family;
		memcpy(addr, next, 16);
		xff.n = comma ? (size_t)(comma - xff.p) : 0;
	}
	return family;
}

size_t pxd_client_ip(const struct pxd_conf *conf, const struct sockaddr_storage *peer,
		     const struct pxd_http_header *hdrs, size_t n, char *out)
{
	uint8_t addr[16];
	int family = pxd_client_addr(conf, peer, hdrs, n, addr);

	if (family == AF_UNSPEC) {
		out[0] = '\0';
		return 0;
	}
	return format(family, addr, out);
}
