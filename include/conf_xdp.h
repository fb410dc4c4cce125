/* SPDX-License-Identifier: MIT */
/*
 * conf_xdp.h - the [xdp] section of the configuration: its keys, defaults and
 * validation (interface, mode, ports, rates, list files, bot blocking, pin
 * directory, map sizes). conf.c hands every key of [xdp] here. XDP is off
 * while interface is empty, the default. Main thread only.
 */
#ifndef PXD_CONF_XDP_H
#define PXD_CONF_XDP_H

#include <stddef.h>
#include <stdint.h>

#define PXD_CONF_XDP_MAX_PORTS 16
#define PXD_CONF_XDP_IFNAME_MAX 16 /* IFNAMSIZ, NUL included */
#define PXD_CONF_XDP_PATH_MAX 1024

enum pxd_xdp_mode {
	PXD_XDP_MODE_AUTO = 0, /* native, then generic */
	PXD_XDP_MODE_NATIVE,
	PXD_XDP_MODE_GENERIC,
	PXD_XDP_MODE_COUNT, /* number of modes; keep last */
};

/* What pixeld does when a request's user agent is a bot (daemon/event/bot_ua.c). */
enum pxd_bot_block {
	PXD_BOT_BLOCK_OFF = 0, /* nothing: bots' events are forwarded like any other */
	PXD_BOT_BLOCK_UA,      /* bots' events are not forwarded */
	PXD_BOT_BLOCK_UA_IP,   /* and the source goes to the XDP deny map for bot_block_ttl */
	PXD_BOT_BLOCK_COUNT,   /* number of settings; keep last */
};

struct pxd_conf_xdp {
	char interface[PXD_CONF_XDP_IFNAME_MAX]; /* empty: XDP off */
	enum pxd_xdp_mode mode;
	uint16_t ports[PXD_CONF_XDP_MAX_PORTS]; /* TCP service ports the filter guards */
	size_t nports;
	uint64_t rate_interval_ns; /* all packets per source: ns per token; 0 = no limit */
	uint32_t burst;
	uint64_t syn_rate_interval_ns; /* new connections per source; 0 = no limit */
	uint32_t syn_burst;
	char deny_file[PXD_CONF_XDP_PATH_MAX];	/* empty: none */
	char allow_file[PXD_CONF_XDP_PATH_MAX]; /* empty: none */
	enum pxd_bot_block bot_block;
	uint32_t bot_block_ttl_s;
	char pin_dir[PXD_CONF_XDP_PATH_MAX]; /* on a bpffs; default PXD_XDP_PIN_DIR */
	uint32_t max_cidrs;		     /* capacity of each allow/deny map */
	uint32_t max_sources;		     /* capacity of each bucket map */
};

/* Fills <c> with the defaults (XDP off; see /work/notes/xdp-readme.md for each value). */
void pxd_conf_xdp_defaults(struct pxd_conf_xdp *c);

/*
 * Sets <key> to <value>. Returns 0, -ENOENT for an unknown key, or -EINVAL
 * with <err> saying what is wrong with the value and what to write instead
 * (the caller prefixes "file:line: xdp.<key>: ").
 */
int pxd_conf_xdp_set(struct pxd_conf_xdp *c, const char *key, const char *value, char *err,
		     size_t errlen);

/* Checks the section as a whole after the file is read. Returns 0 or -EINVAL with <err>. */
int pxd_conf_xdp_check(const struct pxd_conf_xdp *c, char *err, size_t errlen);

/*
 * Parses a duration as bot_block_ttl takes it ("600", "600s", "10m", "2h",
 * "1d"; 1 s to 7 days) into <ttl_s>. Returns 0 or -EINVAL with <err>. Any thread.
 */
int pxd_conf_xdp_parse_ttl(const char *value, uint32_t *ttl_s, char *err, size_t errlen);

/* Returns "auto", "native" or "generic". */
const char *pxd_conf_xdp_mode_name(enum pxd_xdp_mode mode);

/* Returns "off", "ua" or "ua+ip". */
const char *pxd_conf_xdp_bot_block_name(enum pxd_bot_block b);

#endif
