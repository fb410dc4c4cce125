/* SPDX-License-Identifier: MIT */
/*
 * conf_nats.h - the [nats] section of the configuration (servers,
 * credentials, stream, subject prefix, publish and consumer limits) and the
 * same keys on a `type = nats` destination, which inherits the ones it does
 * not set from [nats]. Main thread at load; adapters/nats.c parses a
 * destination's keys with pxd_conf_nats_set() in its init. Read-only once
 * loaded.
 */
#ifndef PXD_CONF_NATS_H
#define PXD_CONF_NATS_H

#include <stddef.h>
#include <stdint.h>

#define PXD_CONF_NATS_MAX_SERVERS 16
#define PXD_CONF_NATS_URL_MAX 256
#define PXD_CONF_NATS_PATH_MAX 1024
#define PXD_CONF_NATS_TOKEN_MAX 64 /* a stream name or a subject prefix */
#define PXD_CONF_NATS_MAX_RAW 16

/* A key as written in [nats], handed on to the nats destinations that lack it. */
struct pxd_conf_nats_raw {
	char key[32];
	char value[PXD_CONF_NATS_PATH_MAX];
};

struct pxd_conf_nats {
	char servers[PXD_CONF_NATS_MAX_SERVERS][PXD_CONF_NATS_URL_MAX]; /* nats://host:port */
	size_t nservers;
	char creds[PXD_CONF_NATS_PATH_MAX];	/* user JWT + seed file; empty: none */
	char nkey_seed[PXD_CONF_NATS_PATH_MAX]; /* NKey seed file; empty: none */
	char user[PXD_CONF_NATS_TOKEN_MAX];
	char password[256];		       /* resolved secret */
	char tls_ca[PXD_CONF_NATS_PATH_MAX];   /* CA bundle: TLS to the servers; empty: plain */
	char stream[PXD_CONF_NATS_TOKEN_MAX];  /* default PIXELD */
	char subject[PXD_CONF_NATS_TOKEN_MAX]; /* prefix: <subject>.<tenant>.<event> */
	uint32_t replicas;		       /* of the stream pixeld creates: 1..5 */
	uint32_t duplicate_window_s;	       /* the stream's Msg-Id dedup window */
	uint32_t max_pending;		       /* outstanding async publishes */
	uint32_t ack_wait_ms;		       /* consumers' AckWait */
	int32_t max_deliver;		       /* consumers' MaxDeliver; -1: no limit */
	uint32_t connect_timeout_ms;
	struct pxd_conf_nats_raw raw[PXD_CONF_NATS_MAX_RAW]; /* [nats] only: keys as written */
	size_t nraw;
};

/* Fills <c> with the defaults (one server on 127.0.0.1:4222, stream PIXELD, subject pixeld). */
void pxd_conf_nats_defaults(struct pxd_conf_nats *c);

/*
 * Sets <key> to <value>. Returns 0, -ENOENT for an unknown key, or -EINVAL
 * with <err> quoting the value and saying what to write instead (the caller
 * prefixes "file:line: nats.<key>: "). Records the key as written in <c>->raw.
 */
int pxd_conf_nats_set(struct pxd_conf_nats *c, const char *key, const char *value, char *err,
		      size_t errlen);

/* Checks the keys as a whole (user needs password). Returns 0 or -EINVAL with <err>. */
int pxd_conf_nats_check(const struct pxd_conf_nats *c, char *err, size_t errlen);

#endif
