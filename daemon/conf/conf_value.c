// SPDX-License-Identifier: MIT
#include "conf_value.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "compiler.h"

struct unit {
	const char *suffix;
	uint64_t scale;
};

/* "m" is minutes and "min" says the same, so rates written either way agree. */
static const struct unit duration_units[] = {
	{ "ms", 1 },	  { "s", 1000 },    { "m", 60000 },
	{ "min", 60000 }, { "h", 3600000 }, { "d", 86400000 },
};

static const struct unit size_units[] = {
	{ "", 1 },	     { "K", 1ull << 10 }, { "k", 1ull << 10 }, { "M", 1ull << 20 },
	{ "m", 1ull << 20 }, { "G", 1ull << 30 }, { "g", 1ull << 30 },
};

static int digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int pxd_conf_value_uint(const char *s, uint64_t *out)
{
	return digits(s, strlen(s), out);
}

/* "<digits><suffix>" with a suffix from <units>; -EINVAL for any other suffix. */
static int scaled(const char *s, const struct unit *units, size_t nunits, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v;
	int rc;

	for (size_t i = 0; i < nunits; i++) {
		if (strcmp(s + n, units[i].suffix) != 0)
			continue;
		rc = digits(s, n, &v);
		if (rc)
			return rc;
		if (v > UINT64_MAX / units[i].scale)
			return -ERANGE;
		*out = v * units[i].scale;
		return 0;
	}
	return -EINVAL;
}

int pxd_conf_value_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t v;
	int rc = digits(s, strlen(s), &v);

	if (rc == 0 && v == 0) {
		*ms = 0;
		return 0;
	}
	if (rc == 0 || rc == -ERANGE)
		return -EDOM;
	return scaled(s, duration_units, ARRAY_SIZE(duration_units), ms);
}

int pxd_conf_value_duration_s(const char *s, uint64_t *sec)
{
	uint64_t ms;
	int rc = pxd_conf_value_duration_ms(s, &ms);

	if (rc)
		return rc;
	if (ms % 1000)
		return -EINVAL;
	*sec = ms / 1000;
	return 0;
}

int pxd_conf_value_size(const char *s, uint64_t *bytes)
{
	return scaled(s, size_units, ARRAY_SIZE(size_units), bytes);
}

int pxd_conf_value_rate(const char *s, uint64_t *count, uint64_t *period_ms)
{
	const char *slash = strchr(s, '/');
	int rc;

	if (!slash)
		return -EINVAL;
	rc = digits(s, (size_t)(slash - s), count);
	if (rc)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++) {
		if (strcmp(slash + 1, duration_units[i].suffix) == 0) {
			*period_ms = duration_units[i].scale;
			return 0;
		}
	}
	return -EINVAL;
}

int pxd_conf_value_port(const char *s, bool allow_zero, uint16_t *port)
{
	uint64_t v;

	if (digits(s, strlen(s), &v) || v > 65535 || (!allow_zero && v == 0))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int pxd_conf_value_cidr(const char *s, struct pxd_conf_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint8_t net[16];
	uint64_t prefix;
	unsigned bits;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		bits = 128;
	} else {
		return -EINVAL;
	}
	prefix = bits;
	if (slash && (digits(slash + 1, strlen(slash + 1), &prefix) || prefix > bits))
		return -EINVAL;
	out->prefix = (uint8_t)prefix;
	memcpy(net, out->addr, sizeof(net));
	for (unsigned b = (unsigned)prefix; b < bits; b++)
		net[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	if (memcmp(net, out->addr, bits / 8) == 0)
		return 0;
	memcpy(out->addr, net, sizeof(net));
	return -EDOM;
}

const char *pxd_conf_value_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *port_text;
	const char *colon;
	size_t hostlen;
	uint16_t port;
	int family = AF_INET;

	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':')
			return "needs a port after the ]";
		family = AF_INET6;
		hostlen = (size_t)(colon - s - 1);
		port_text = colon + 2;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return "has no port";
		if (memchr(s, ':', (size_t)(colon - s)))
			return "is an IPv6 address without [ ]";
		hostlen = (size_t)(colon - s);
		port_text = colon + 1;
	}
	if (hostlen >= sizeof(host))
		return "is not a numeric address";
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	if (pxd_conf_value_port(port_text, true, &port))
		return "has a bad port (0 to 65535)";

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return "is not a numeric IPv6 address";
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return "is not a numeric address (names are not resolved)";
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
	return NULL;
}

static bool is_hostname(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

const char *pxd_conf_value_hostport(const char *s)
{
	char v6[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *end;
	uint16_t port;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof(v6))
			return "is not a host";
		memcpy(v6, s + 1, (size_t)(end - s - 1));
		v6[end - s - 1] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return "is not a host";
		end++;
	} else {
		end = strchr(s, ':');
		if (!end)
			end = s + strlen(s);
		if (!is_hostname(s, (size_t)(end - s)))
			return "is not a host";
	}
	if (*end == '\0')
		return NULL;
	if (*end != ':' || pxd_conf_value_port(end + 1, false, &port))
		return "has a bad port (1 to 65535)";
	return NULL;
}

bool pxd_conf_value_is_name(const char *s, size_t n)
{
	if (n == 0 || n >= 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}
