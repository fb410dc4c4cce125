/* SPDX-License-Identifier: MIT */
/*
 * conf.h - pixeld configuration: the INI file (libinih), the embedded
 * default, command-line overrides and validation with file:line errors, and
 * secret values. Owns struct pxd_conf and nothing else; a loaded conf is
 * read-only and may be shared by every thread. Loading happens on the main
 * thread. The modules are in daemon/conf/; values follow conf_value.h.
 */
#ifndef PXD_CONF_H
#define PXD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf_email.h"
#include "conf_nats.h"
#include "conf_s2s.h"
#include "conf_tenant.h"
#include "conf_tls.h"
#include "conf_value.h"
#include "conf_xdp.h"

#define PXD_CONF_MAX_DESTS 32
#define PXD_CONF_MAX_DEST_KEYS 48
#define PXD_CONF_MAX_LIST 64
#define PXD_CONF_NAME_MAX 64
#define PXD_CONF_VALUE_MAX 1024
#define PXD_CONF_API_KEY_MAX 128 /* one write or secret key, NUL included */

/* An address to listen on, as given ("127.0.0.1:8080", "[::1]:8080") and resolved. */
struct pxd_conf_addr {
	char text[80];
	struct sockaddr_storage ss;
	socklen_t len;
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
	bool linger_set; /* linger_ms was written (0 included); else the type's default */
	struct pxd_conf_kv kv[PXD_CONF_MAX_DEST_KEYS];
	size_t nkv;
	/* With [tenant] sections: the tenants whose destinations name it (the
	 * only events it receives); filled by the whole-config check. */
	char tenants[PXD_CONF_TENANT_MAX][PXD_CONF_TENANT_NAME_MAX];
	size_t ntenants;
	/* Removed by a reload: it takes no more events and its journal cursor
	 * stays (the backlog is kept) until pixelctl journal drop; back in a
	 * later reload, it goes on from there (conf_reload.c). */
	bool retired;
};

/* What this process does (server.role); README "Scaling out". */
enum pxd_role {
	PXD_ROLE_ALL = 0,  /* accept and deliver: one host, the default */
	PXD_ROLE_INGEST,   /* accept, journal, publish to JetStream */
	PXD_ROLE_DISPATCH, /* consume from JetStream, deliver */
};

enum pxd_ack_mode {
	PXD_ACK_FAST = 0,
	PXD_ACK_DURABLE,
	PXD_ACK_REPLICATED, /* role ingest: answer after the JetStream PubAck */
};

struct pxd_conf {
	char path[4096]; /* the file it came from, or "(embedded)" */

	/* [server] */
	struct pxd_conf_addr listen;
	struct pxd_conf_addr admin_listen;
	struct pxd_conf_addr tls_listen; /* text "" when there is no HTTPS listener */
	uint32_t handshake_timeout_ms;	 /* a TLS handshake must be done by then */
	unsigned threads;		 /* ingest threads; 0 = one per online CPU */
	unsigned dispatchers;		 /* dispatcher shards; default 1 */
	unsigned max_connections;	 /* all ingest threads together */
	uint32_t idle_timeout_ms;
	uint32_t request_timeout_ms; /* a started request must be whole by then: 408 */
	uint32_t shutdown_timeout_ms;
	uint32_t usage_interval_ms; /* per-tenant usage saved this often (daemon/tenant/usage.h) */
	char cors_origins[PXD_CONF_MAX_LIST][256]; /* "*" allows any */
	size_t ncors_origins;
	char hosts[PXD_CONF_MAX_LIST][256]; /* empty: any Host is served */
	size_t nhosts;
	struct pxd_conf_cidr trusted_proxies[PXD_CONF_MAX_LIST];
	size_t ntrusted_proxies;
	char admin_key[256]; /* empty: admin API without a key (loopback only) */
	/* Keys of the keyed ways in, resolved (literal, file: or env:); without
	 * [tenant] sections they all belong to <tenant>. Empty: that API is off. */
	char write_keys[PXD_CONF_MAX_LIST][PXD_CONF_API_KEY_MAX]; /* Segment /v1/ */
	size_t nwrite_keys;
	char secret_keys[PXD_CONF_MAX_LIST][PXD_CONF_API_KEY_MAX]; /* POST /s2s/events */
	size_t nsecret_keys;
	char tenant[PXD_CONF_NAME_MAX];
	char user[PXD_CONF_NAME_MAX]; /* run as this user after start-up; empty: stay */
	char log_level[16];
	char log_format[8]; /* text or json */
	uint32_t ring_size; /* slots per (ingest, dispatcher) ring; power of two */
	enum pxd_role role;

	/* [journal] */
	char data_dir[4096];
	char journal_dir[4096]; /* default <data_dir>/journal */
	enum pxd_ack_mode ack;
	uint32_t commit_interval_ms;
	uint64_t segment_bytes;
	uint64_t max_bytes;  /* 0: 80% of the data dir's free space at start */
	bool max_bytes_auto; /* max_bytes was 0 and pixeld filled it in at start */

	struct pxd_conf_xdp xdp;	 /* [xdp] */
	struct pxd_conf_email email;	 /* [email] */
	struct pxd_conf_nats nats;	 /* [nats] */
	struct pxd_conf_s2s s2s;	 /* [s2s] */
	struct pxd_conf_tls tls;	 /* [tls] and [certificate "NAME"] */
	struct pxd_conf_tenants tenants; /* [tenant "NAME"]; none: server.tenant everywhere */

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

/*
 * Loads <path> like pxd_conf_load() as the next generation of <running> (the
 * start-up configuration, with the destinations the dispatchers run) after
 * <current> (the generation in force): also refuses, with the key's
 * file:line, a change to a key that needs a restart (listeners, threads,
 * dispatchers, journal, user, [email], [nats], ...), and a new or changed
 * destination in role dispatch (one JetStream consumer each); keeps
 * the destinations in <running>'s order (a removed one stays there, retired;
 * new ones come after) and each tenant at its position in <current> (a
 * dropped one stays retired there). Same returns as pxd_conf_load(). Main
 * thread.
 */
int pxd_conf_load_reload(const char *path, const struct pxd_conf_overrides *ov,
			 const struct pxd_conf *running, const struct pxd_conf *current,
			 struct pxd_conf *conf, char *err, size_t errlen);

/* Returns the embedded default configuration's INI text. */
const char *pxd_conf_default_text(void);

/* Whether <a> and <b> run alike: same type, batching and adapter keys (their
 * tenants, event filters and retirement may differ). daemon/conf/conf_reload.c. */
bool pxd_conf_dest_same(const struct pxd_conf_dest *a, const struct pxd_conf_dest *b);

/* Returns the value of <key> in <d>'s extra keys, or NULL (and its line in <line>). */
const char *pxd_conf_dest_get(const struct pxd_conf_dest *d, const char *key, int *line);

/*
 * Resolves a secret value: a literal, "file:PATH" (refused when the file is
 * group- or world-readable) or "env:NAME". Writes it to <out> (NUL-ended).
 * Returns 0, -ENOENT, -EPERM (file mode), -ENAMETOOLONG; <err> says which.
 */
int pxd_conf_secret(const char *value, char *out, size_t outlen, char *err, size_t errlen);

/*
 * Reads the secret file <path> into <buf> (<cap> bytes, the file's bytes
 * less one trailing newline; not NUL-ended) and its length into <len>.
 * Refuses a file that is not regular or that group or others may access:
 * the one mode check for every secret file. Returns 0, -errno from open/
 * read, -EINVAL (not a file), -EPERM (mode), -ENAMETOOLONG (over <cap>);
 * <err> names <path> and says what to do. <buf> is wiped on error.
 */
int pxd_conf_secret_file(const char *path, void *buf, size_t cap, size_t *len, char *err,
			 size_t errlen);

/*
 * Checks the [tenant] sections against the rest once the file is read:
 * their destinations exist, no host belongs to two tenants, every
 * destination belongs to a tenant; fills each destination's tenant list.
 * Returns 0, or -EINVAL with <err> and the line to blame in <line>.
 */
int pxd_conf_tenants_check(struct pxd_conf *c, int *line, char *err, size_t errlen);

/* Returns the number of ingest threads <conf> asks for (resolving 0 to the CPU count). */
unsigned pxd_conf_threads(const struct pxd_conf *conf);

#endif
