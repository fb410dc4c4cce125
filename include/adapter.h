/* SPDX-License-Identifier: MIT */
/*
 * adapter.h - the destination interface: one struct pxd_adapter per
 * destination type (adapters/<type>.c), and the registry that finds one by
 * its config name. An adapter turns a batch of canonical events into one
 * outbound request (or a local write) and classifies the outcome per event.
 * Adapters keep no global state; a struct pxd_dest belongs to exactly one
 * dispatcher thread, which alone calls its hooks.
 */
#ifndef PXD_ADAPTER_H
#define PXD_ADAPTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "strview.h"

enum pxd_delivery {
	PXD_DELIVERY_OK = 0,	/* delivered (or a platform dedup hit) */
	PXD_DELIVERY_RETRY,	/* try again after <retry_after_ms> or backoff */
	PXD_DELIVERY_PERMANENT, /* dead-letter with <reason> */
};

/* Outcome of one event of a batch. */
struct pxd_outcome {
	enum pxd_delivery delivery;
	uint32_t retry_after_ms; /* 0: use the backoff schedule */
	bool throttled;		 /* RETRY because the platform's quota is spent (its own code) */
	char reason[192];	 /* platform's reason for RETRY/PERMANENT; never secrets */
};

/*
 * One event of a batch: the canonical JSON line as journaled (no newline),
 * and, for adapters that build platform payloads, the parsed form: a tree
 * (<ev>), or for PXD_ADAPTER_READS_LINE adapters the line as the dispatcher
 * read it to route the event (<el>, views into <line>, kept with the
 * event's record), so the line is read once. The dispatcher owns them;
 * adapters only read them.
 */
struct pxd_batch_item {
	const char *line; /* line[len] is '\n' */
	size_t len;
	json_t *ev; /* parsed canonical event; NULL for local sinks and line readers */
	const struct pxd_event_line *el; /* the line read; NULL: adapters read <line> */
};

struct pxd_batch {
	struct pxd_batch_item *items;
	size_t n;
};

#define PXD_REQ_MAX_HEADERS 8

/* An outbound HTTP request an adapter builds. */
struct pxd_request {
	char url[2048];
	char headers[PXD_REQ_MAX_HEADERS][512]; /* "Name: value" */
	size_t nheaders;
	struct pxd_buf body; /* owned by the caller; the adapter appends */
};

/* What came back from the platform. */
struct pxd_response {
	long status;	  /* 0: transport error (see <transport_error>) */
	const char *body; /* may be NULL */
	size_t len;
	uint32_t retry_after_ms;     /* from Retry-After, 0 when absent */
	const char *transport_error; /* curl's message when status is 0 */
};

struct pxd_dest;
struct pxd_event_line;

enum pxd_adapter_flags {
	PXD_ADAPTER_AD = 1u << 0,	 /* an ad platform: consent-gated */
	PXD_ADAPTER_LOCAL = 1u << 1,	 /* writes locally (write_local), no HTTP */
	PXD_ADAPTER_ANALYTICS = 1u << 2, /* an analytics tool: analytics_storage-gated */
	/* reads the canonical line itself (event_line.h): the dispatcher never
	 * parses events for it, calls validate_line, and build() gets items
	 * with <ev> NULL */
	PXD_ADAPTER_READS_LINE = 1u << 3,
};

struct pxd_adapter {
	const char *type; /* the value of `type =` in [destination "NAME"] */
	uint32_t max_events;
	uint32_t max_bytes;
	unsigned flags;

	/* Validates the destination's extra keys (pxd_conf_dest_get) and sets
	 * <dest>->priv. Returns 0 or -EINVAL with <err> as "file:line: key: why". */
	int (*init)(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen);
	/* Frees <dest>->priv. Accepts a dest whose init failed. */
	void (*fini)(struct pxd_dest *dest);

	/* HTTP adapters: checks one event against the platform's rules before it
	 * is batched. Returns PXD_DELIVERY_OK or PERMANENT with <reason>. May be NULL. */
	enum pxd_delivery (*validate)(struct pxd_dest *dest, const json_t *ev, char *reason,
				      size_t reason_len);
	/* PXD_ADAPTER_READS_LINE adapters: validate() on the read line, which is
	 * what the dispatcher calls (validate() then serves callers holding a
	 * tree: pxd_payload_validate_tree()). May be NULL. */
	enum pxd_delivery (*validate_line)(struct pxd_dest *dest, const struct pxd_event_line *ev,
					   char *reason, size_t reason_len);
	/* HTTP adapters: builds the request for <b>. Returns 0 or -errno. */
	int (*build)(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req);
	/* HTTP adapters: fills <out>[i] for each item of <b> from <resp>. */
	void (*classify)(struct pxd_dest *dest, const struct pxd_batch *b,
			 const struct pxd_response *resp, struct pxd_outcome *out);

	/* Local sinks: writes <b>, fills <out>. Returns 0 or -errno (all RETRY). */
	int (*write_local)(struct pxd_dest *dest, const struct pxd_batch *b,
			   struct pxd_outcome *out);
	/* Local sinks: makes what was written durable (fsync). May be NULL. */
	int (*sync)(struct pxd_dest *dest);
	/* Local sinks: reopens files after log rotation (SIGHUP). May be NULL. */
	int (*reopen)(struct pxd_dest *dest);
};

/* A configured destination, owned by one dispatcher thread. */
struct pxd_dest {
	const struct pxd_conf_dest *conf;
	const struct pxd_adapter *adapter;
	const char *data_dir;
	unsigned index; /* position in the config, for metrics and watermarks */
	void *priv;
};

/* Returns the adapter registered for <type>, or NULL. Any thread. */
const struct pxd_adapter *pxd_adapter_find(const char *type);

/* Writes the registered type names, comma-separated, to <out> (for errors). */
void pxd_adapter_types(char *out, size_t outlen);

/* Returns true when <dest> takes events named <event> of <tenant>: its
 * `events =` filter (without one, every event but Identify, Group and Alias
 * for ad platforms), and with [tenant] sections only the tenants that list it. */
bool pxd_dest_wants(const struct pxd_dest *dest, const char *event, size_t len,
		    struct pxd_sv tenant);

/* Returns true unless the parsed event <ev> has a "to" list (Segment's
 * integrations, event.h) without <dest>'s type or a "not_to" list with it;
 * local sinks take every event. */
bool pxd_dest_takes(const struct pxd_dest *dest, const json_t *ev);

/* pxd_dest_takes() for a line read by pxd_event_line_read(). */
bool pxd_dest_takes_line(const struct pxd_dest *dest, const struct pxd_event_line *ev);

/* The adapters compiled in (adapters/<type>.c); adapters/adapter.c lists them. */
extern const struct pxd_adapter pxd_adapter_jsonl;
extern const struct pxd_adapter pxd_adapter_meta;
extern const struct pxd_adapter pxd_adapter_ga4;
extern const struct pxd_adapter pxd_adapter_google_ads;
extern const struct pxd_adapter pxd_adapter_tiktok;
extern const struct pxd_adapter pxd_adapter_webhook;
extern const struct pxd_adapter pxd_adapter_nats;
extern const struct pxd_adapter pxd_adapter_linkedin;
extern const struct pxd_adapter pxd_adapter_snapchat;
extern const struct pxd_adapter pxd_adapter_pinterest;
extern const struct pxd_adapter pxd_adapter_reddit;
extern const struct pxd_adapter pxd_adapter_segment;
extern const struct pxd_adapter pxd_adapter_amplitude;
extern const struct pxd_adapter pxd_adapter_mixpanel;
extern const struct pxd_adapter pxd_adapter_posthog;

#endif
