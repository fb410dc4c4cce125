// SPDX-License-Identifier: MIT
/*
 * The [xdp] configuration section: defaults, one parser per key (interface,
 * mode, ports, rates, TTLs, list files, map sizes) with messages that quote
 * the value, and the whole-section check. Main thread, at load.
 */
#include "conf_xdp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "conf_value.h"
#include "xdp_filter.h"

#define NS_PER_S 1000000000ull
#define MAX_RATE_PER_S 100000000ull /* 10 ns per token: beyond any NIC's per-source rate */
#define MAX_BURST 1000000u
#define MAX_TTL_S (7u * 24 * 3600)
#define MAX_CIDRS (16u << 20)
#define MAX_SOURCES (64u << 20)

static const char *const mode_names[PXD_XDP_MODE_COUNT] = {
	[PXD_XDP_MODE_AUTO] = "auto",
	[PXD_XDP_MODE_NATIVE] = "native",
	[PXD_XDP_MODE_GENERIC] = "generic",
};

static const char *const bot_block_names[PXD_BOT_BLOCK_COUNT] = {
	[PXD_BOT_BLOCK_OFF] = "off",
	[PXD_BOT_BLOCK_UA] = "ua",
	[PXD_BOT_BLOCK_UA_IP] = "ua+ip",
};

void pxd_conf_xdp_defaults(struct pxd_conf_xdp *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = PXD_XDP_MODE_AUTO;
	c->ports[0] = 80;
	c->ports[1] = 443;
	c->nports = 2;
	c->rate_interval_ns = 0;
	c->burst = 200;
	c->syn_rate_interval_ns = NS_PER_S / 50;
	c->syn_burst = 200;
	c->bot_block = PXD_BOT_BLOCK_UA;
	c->bot_block_ttl_s = 600;
	snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", PXD_XDP_PIN_DIR);
	c->max_cidrs = PXD_XDP_DEFAULT_CIDRS;
	c->max_sources = PXD_XDP_DEFAULT_SOURCES;
}

/* A decimal number in [min, max] with nothing after it (conf_value.h). */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (pxd_conf_value_uint(s, &v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A rate as conf_value.h reads it; "off" or "0" turn the bucket off. */
static int parse_rate(const char *value, uint64_t *interval_ns, char *err, size_t errlen)
{
	uint64_t count;
	uint64_t period_ms;

	if (strcmp(value, "off") == 0 || strcmp(value, "0") == 0) {
		*interval_ns = 0;
		return 0;
	}
	if (pxd_conf_value_rate(value, &count, &period_ms) || count < 1 ||
	    count > MAX_RATE_PER_S * period_ms / 1000 ||
	    period_ms > UINT64_MAX / (NS_PER_S / 1000)) {
		snprintf(err, errlen,
			 "\"%s\" is not a rate; write %s, with N from 1 to %llu per second, or "
			 "off",
			 value, PXD_CONF_RATE_HINT, (unsigned long long)MAX_RATE_PER_S);
		return -EINVAL;
	}
	*interval_ns = period_ms * (NS_PER_S / 1000) / count;
	return 0;
}

int pxd_conf_xdp_parse_ttl(const char *value, uint32_t *out, char *err, size_t errlen)
{
	uint64_t v;
	int rc = pxd_conf_value_duration_s(value, &v);

	if (rc || v < 1 || v > MAX_TTL_S) {
		snprintf(err, errlen, "\"%s\" %s; write %s, from 1s to 7d", value,
			 rc == -EDOM ? "has no unit" : "is not a duration", PXD_CONF_DURATION_HINT);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_ports(const char *value, struct pxd_conf_xdp *c, char *err, size_t errlen)
{
	uint16_t ports[PXD_CONF_XDP_MAX_PORTS];
	size_t nports = 0;
	const char *p = value;

	for (;;) {
		char num[8];
		size_t n;
		uint64_t port;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ", \t");
		if (n == 0 || n >= sizeof(num))
			goto bad;
		memcpy(num, p, n);
		num[n] = '\0';
		if (!parse_u64(num, 1, 65535, &port))
			goto bad;
		for (size_t i = 0; i < nports; i++) {
			if (ports[i] == port) {
				snprintf(err, errlen, "port %s is listed twice", num);
				return -EINVAL;
			}
		}
		if (nports == PXD_CONF_XDP_MAX_PORTS) {
			snprintf(err, errlen, "more than %d ports", PXD_CONF_XDP_MAX_PORTS);
			return -EINVAL;
		}
		ports[nports++] = (uint16_t)port;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	memcpy(c->ports, ports, sizeof(ports));
	c->nports = nports;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not a port list (write e.g. 80,443,8080)", value);
	return -EINVAL;
}

static int parse_name(const char *value, const char *const *names, size_t n, int *out,
		      const char *what, const char *choices, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	snprintf(err, errlen, "\"%s\" is not a %s (write %s)", value, what, choices);
	return -EINVAL;
}

static int parse_u32_key(const char *value, uint32_t min, uint32_t max, uint32_t *out, char *err,
			 size_t errlen)
{
	uint64_t v;

	if (!parse_u64(value, min, max, &v)) {
		snprintf(err, errlen, "\"%s\" is not a number from %u to %u", value, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int copy_path(char *dst, size_t dstlen, const char *value, char *err, size_t errlen)
{
	if (strlen(value) >= dstlen) {
		snprintf(err, errlen, "path is longer than %zu bytes", dstlen - 1);
		return -EINVAL;
	}
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

int pxd_conf_xdp_set(struct pxd_conf_xdp *c, const char *key, const char *value, char *err,
		     size_t errlen)
{
	int v;
	int ret;

	if (strcmp(key, "interface") == 0) {
		if (strlen(value) >= sizeof(c->interface) || strpbrk(value, "/ \t:")) {
			snprintf(err, errlen,
				 "\"%s\" is not an interface name (at most %d characters, no '/', "
				 "':' or spaces; leave empty to run without XDP)",
				 value, PXD_CONF_XDP_IFNAME_MAX - 1);
			return -EINVAL;
		}
		memcpy(c->interface, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, "mode") == 0) {
		ret = parse_name(value, mode_names, ARRAY_SIZE(mode_names), &v, "mode",
				 "auto, native or generic", err, errlen);
		if (!ret)
			c->mode = (enum pxd_xdp_mode)v;
		return ret;
	}
	if (strcmp(key, "ports") == 0)
		return parse_ports(value, c, err, errlen);
	if (strcmp(key, "rate") == 0)
		return parse_rate(value, &c->rate_interval_ns, err, errlen);
	if (strcmp(key, "burst") == 0)
		return parse_u32_key(value, 1, MAX_BURST, &c->burst, err, errlen);
	if (strcmp(key, "syn_rate") == 0)
		return parse_rate(value, &c->syn_rate_interval_ns, err, errlen);
	if (strcmp(key, "syn_burst") == 0)
		return parse_u32_key(value, 1, MAX_BURST, &c->syn_burst, err, errlen);
	if (strcmp(key, "deny_file") == 0)
		return copy_path(c->deny_file, sizeof(c->deny_file), value, err, errlen);
	if (strcmp(key, "allow_file") == 0)
		return copy_path(c->allow_file, sizeof(c->allow_file), value, err, errlen);
	if (strcmp(key, "bot_block") == 0) {
		ret = parse_name(value, bot_block_names, ARRAY_SIZE(bot_block_names), &v,
				 "bot_block setting", "off, ua or ua+ip", err, errlen);
		if (!ret)
			c->bot_block = (enum pxd_bot_block)v;
		return ret;
	}
	if (strcmp(key, "bot_block_ttl") == 0)
		return pxd_conf_xdp_parse_ttl(value, &c->bot_block_ttl_s, err, errlen);
	if (strcmp(key, "pin_dir") == 0) {
		if (value[0] != '/') {
			snprintf(err, errlen,
				 "\"%s\" is not an absolute path (write a directory on a bpffs, "
				 "e.g. %s)",
				 value, PXD_XDP_PIN_DIR);
			return -EINVAL;
		}
		return copy_path(c->pin_dir, sizeof(c->pin_dir), value, err, errlen);
	}
	if (strcmp(key, "max_cidrs") == 0)
		return parse_u32_key(value, 1, MAX_CIDRS, &c->max_cidrs, err, errlen);
	if (strcmp(key, "max_sources") == 0)
		return parse_u32_key(value, 1, MAX_SOURCES, &c->max_sources, err, errlen);
	return -ENOENT;
}

int pxd_conf_xdp_check(const struct pxd_conf_xdp *c, char *err, size_t errlen)
{
	if (c->bot_block == PXD_BOT_BLOCK_UA_IP && !c->interface[0]) {
		snprintf(err, errlen,
			 "bot_block = ua+ip blocks sources in XDP, which is off (set interface, "
			 "or write bot_block = ua)");
		return -EINVAL;
	}
	return 0;
}

const char *pxd_conf_xdp_mode_name(enum pxd_xdp_mode mode)
{
	return (unsigned)mode < PXD_XDP_MODE_COUNT ? mode_names[mode] : "?";
}

const char *pxd_conf_xdp_bot_block_name(enum pxd_bot_block b)
{
	return (unsigned)b < PXD_BOT_BLOCK_COUNT ? bot_block_names[b] : "?";
}
