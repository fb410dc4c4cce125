/* SPDX-License-Identifier: MIT */
/*
 * conf.h - pixeld configuration: the INI file (libinih), the embedded
 * default, command-line overrides and validation with file:line errors.
 * Owns struct pxd_conf and nothing else; a loaded conf is read-only and may
 * be shared by every thread. Loading happens on the main thread.
 */
#ifndef PXD_CONF_H
#define PXD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf_email.h"
#include "conf_xdp.h"

#define PXD_CONF_MAX_DESTS 32
#define PXD_CONF_MAX_DEST_KEYS 48
#define PXD_CONF_MAX_LIST 64
#define PXD_CONF_NAME_MAX 64
#define PXD_CONF_VALUE_MAX 1024

/* An address to listen on, as given ("127.0.0.1:8080", "[::1]:8080") and resolved. */
struct pxd_conf_addr {
	char text[80];
	struct sockaddr_storage ss;
	socklen_t len;
};

/* A CIDR from config (trusted proxies and the like). */
struct pxd_conf_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/*
 * One [destination "NAME"] section. The keys common to every destination are
 * parsed here; the rest stay as (key, value, line) so the adapter named by
 * <type> validates them with the same file:line errors.
 */
struct pxd_conf_kv {
	char key[PXD_CONF_NAME_MAX];
	char value[PXD_CONF_VALUE_MAX];
	int line;
};

struct pxd_conf_dest {
	char name[PXD_CONF_NAME_MAX];
	char type[PXD_CONF_NAME_MAX];			   /* "jsonl", later "meta", "ga4", ... */
	int line;					   /* line of the section header */
	char events[PXD_CONF_MAX_LIST][PXD_CONF_NAME_MAX]; /* canonical-name filter; empty: all */
	size_t nevents;
	uint32_t batch_max_events; /* 0: the adapter's limit */
	uint32_t linger_ms;
	struct pxd_conf_kv kv[PXD_CONF_MAX_DEST_KEYS];
	size_t nkv;
};

enum pxd_ack_mode {
	PXD_ACK_FAST = 0,
	PXD_ACK_DURABLE,
};

struct pxd_conf {
	char path[4096]; /* the file it came from, or "(embedded)" */

	/* [server] */
	struct pxd_conf_addr listen;
	struct pxd_conf_addr admin_listen;
	unsigned threads;	  /* ingest threads; 0 = one per online CPU */
	unsigned dispatchers;	  /* dispatcher shards; default 1 */
	unsigned max_connections; /* all ingest threads together */
	uint32_t idle_timeout_ms;
	uint32_t request_timeout_ms; /* a started request must be whole by then: 408 */
	uint32_t shutdown_timeout_ms;
	char cors_origins[PXD_CONF_MAX_LIST][256]; /* "*" allows any */
	size_t ncors_origins;
	char hosts[PXD_CONF_MAX_LIST][256]; /* empty: any Host is served */
	size_t nhosts;
	struct pxd_conf_cidr trusted_proxies[PXD_CONF_MAX_LIST];
	size_t ntrusted_proxies;
	char admin_key[256]; /* empty: admin API without a key (loopback only) */
	char tenant[PXD_CONF_NAME_MAX];
	char user[PXD_CONF_NAME_MAX]; /* run as this user after start-up; empty: stay */
	char log_level[16];
	uint32_t ring_size; /* slots per (ingest, dispatcher) ring; power of two */

	/* [journal] */
	char data_dir[4096];
	char journal_dir[4096]; /* default <data_dir>/journal */
	enum pxd_ack_mode ack;
	uint32_t commit_interval_ms;
	uint64_t segment_bytes;
	uint64_t max_bytes; /* 0: 80% of the data dir's free space at start */

	struct pxd_conf_xdp xdp;     /* [xdp] */
	struct pxd_conf_email email; /* [email] */

	struct pxd_conf_dest dests[PXD_CONF_MAX_DESTS];
	size_t ndests;
};

/* Command-line values that override the file; NULL fields are not set. */
struct pxd_conf_overrides {
	const char *listen;
	const char *admin_listen;
	const char *data_dir;
};

/*
 * Loads <path> (or the embedded default when <path> is NULL) into <conf>,
 * applies <ov> (may be NULL) and validates the whole.
 *
 * Returns 0, or -EINVAL (bad content), -ENOENT/-EACCES (file). On error
 * <err> holds one line naming file:line, the key and the bad value, and what
 * to write instead, e.g.
 *   "/etc/pixeld.ini:12: server.threads: \"lots\" is not a number (0..256)".
 */
int pxd_conf_load(const char *path, const struct pxd_conf_overrides *ov, struct pxd_conf *conf,
		  char *err, size_t errlen);

/* Returns the embedded default configuration's INI text. */
const char *pxd_conf_default_text(void);

/* Returns the value of <key> in <d>'s extra keys, or NULL (and its line in <line>). */
const char *pxd_conf_dest_get(const struct pxd_conf_dest *d, const char *key, int *line);

/*
 * Resolves a secret value: a literal, "file:PATH" (refused when the file is
 * group- or world-readable) or "env:NAME". Writes it to <out> (NUL-ended).
 * Returns 0, -ENOENT, -EPERM (file mode), -ENAMETOOLONG; <err> says which.
 */
int pxd_conf_secret(const char *value, char *out, size_t outlen, char *err, size_t errlen);

/* Returns the number of ingest threads <conf> asks for (resolving 0 to the CPU count). */
unsigned pxd_conf_threads(const struct pxd_conf *conf);

#endif
