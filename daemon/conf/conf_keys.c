// SPDX-License-Identifier: MIT
#include "daemon/conf/conf_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_value.h"
#include "log.h"
#include "strview.h"

#define CONF_THREADS_MAX 256

/*
 * Why a value was refused. <text> is the part of the value at fault (a whole
 * value, or one item of a list) and is quoted in the message; NULL keeps a
 * secret out of it, and then <problem> alone says what to write; otherwise
 * <hint> does.
 */
struct bad {
	const char *text;
	size_t len;
	const char *problem;
	const char *hint;
	char msg[256];
};

typedef int key_set_fn(void *base, const struct pxd_conf_key *k, const char *value,
		       struct bad *bad);
typedef int key_item_fn(void *base, const struct pxd_conf_key *k, size_t i, char *item,
			struct bad *bad);

/*
 * One key: where its value goes (<off>, <size> and, for lists, <count_off>
 * in struct pxd_conf or struct pxd_conf_dest), its range and the hint that
 * error messages end with. <def> is the built-in default, parsed like a value
 * from the file.
 */
struct pxd_conf_key {
	enum pxd_conf_section section;
	const char *name;
	key_set_fn *set;
	key_item_fn *item;
	size_t off;
	size_t size;
	size_t count_off;
	uint64_t min;
	uint64_t max;
	const char *def;
	const char *hint;
};

static key_set_fn set_uint, set_pow2, set_duration, set_size, set_addr, set_path, set_name,
    set_string, set_log_level, set_log_format, set_role, set_ack, set_secret, set_list, set_linger;
static key_item_fn item_origin, item_host, item_cidr, item_event, item_secret;

#define CONF_FIELD(f) .off = offsetof(struct pxd_conf, f), .size = sizeof(((struct pxd_conf *)0)->f)
#define CONF_COUNT(f) .count_off = offsetof(struct pxd_conf, f)
#define DEST_FIELD(f) \
	.off = offsetof(struct pxd_conf_dest, f), .size = sizeof(((struct pxd_conf_dest *)0)->f)
#define DEST_COUNT(f) .count_off = offsetof(struct pxd_conf_dest, f)

#define HINT_ADDR "use IPv4:port, [IPv6]:port or *:port (numeric, no names)"
#define HINT_DURATION " (" PXD_CONF_DURATION_HINT ")"

static const struct pxd_conf_key conf_keys[] = {
	{ PXD_CONF_SECTION_SERVER, "listen", set_addr, NULL, CONF_FIELD(listen),
	  .def = "127.0.0.1:8080", .hint = HINT_ADDR ", e.g. 127.0.0.1:8080" },
	{ PXD_CONF_SECTION_SERVER, "admin_listen", set_addr, NULL, CONF_FIELD(admin_listen),
	  .def = "127.0.0.1:9180", .hint = HINT_ADDR ", e.g. 127.0.0.1:9180" },
	{ PXD_CONF_SECTION_SERVER, "tls_listen", set_addr, NULL, CONF_FIELD(tls_listen),
	  .hint = HINT_ADDR ", e.g. *:443; leave it out for no HTTPS" },
	{ PXD_CONF_SECTION_SERVER, "handshake_timeout", set_duration, NULL,
	  CONF_FIELD(handshake_timeout_ms), .min = 100, .max = 600000, .def = "10s",
	  .hint = "use 100ms to 10m" HINT_DURATION },
	{ PXD_CONF_SECTION_SERVER, "data_dir", set_path, NULL, CONF_FIELD(data_dir),
	  .def = "./var/pixeld", .hint = "use a directory path, e.g. /var/lib/pixeld" },
	{ PXD_CONF_SECTION_SERVER, "threads", set_uint, NULL, CONF_FIELD(threads),
	  .max = CONF_THREADS_MAX, .def = "0", .hint = "use 0 (one per CPU) to 256" },
	{ PXD_CONF_SECTION_SERVER, "dispatchers", set_uint, NULL, CONF_FIELD(dispatchers), .min = 1,
	  .max = 64, .def = "1", .hint = "use 1 to 64" },
	{ PXD_CONF_SECTION_SERVER, "max_connections", set_uint, NULL, CONF_FIELD(max_connections),
	  .min = 16, .max = 1000000, .def = "65536", .hint = "use 16 to 1000000" },
	{ PXD_CONF_SECTION_SERVER, "idle_timeout", set_duration, NULL, CONF_FIELD(idle_timeout_ms),
	  .min = 1000, .max = 3600000, .def = "60s", .hint = "use 1s to 1h" HINT_DURATION },
	{ PXD_CONF_SECTION_SERVER, "request_timeout", set_duration, NULL,
	  CONF_FIELD(request_timeout_ms), .min = 100, .max = 600000, .def = "10s",
	  .hint = "use 100ms to 10m" HINT_DURATION },
	{ PXD_CONF_SECTION_SERVER, "shutdown_timeout", set_duration, NULL,
	  CONF_FIELD(shutdown_timeout_ms), .max = 600000, .def = "10s",
	  .hint = "use 0 to 10m" HINT_DURATION },
	{ PXD_CONF_SECTION_SERVER, "cors_origins", set_list, item_origin, CONF_FIELD(cors_origins),
	  CONF_COUNT(ncors_origins), .def = "*",
	  .hint = "use * alone, or a comma list of origins like https://shop.example" },
	{ PXD_CONF_SECTION_SERVER, "hosts", set_list, item_host, CONF_FIELD(hosts),
	  CONF_COUNT(nhosts), .def = "",
	  .hint = "use a comma list of host names like shop.example or shop.example:8080" },
	{ PXD_CONF_SECTION_SERVER, "trusted_proxies", set_list, item_cidr,
	  CONF_FIELD(trusted_proxies), CONF_COUNT(ntrusted_proxies), .def = "",
	  .hint = "use a comma list of CIDRs like 10.0.0.0/8, fd00::/8 or single addresses" },
	{ PXD_CONF_SECTION_SERVER, "admin_key", set_secret, NULL, CONF_FIELD(admin_key), .def = "",
	  .hint = "use a literal key, file:PATH (mode 600) or env:NAME" },
	{ PXD_CONF_SECTION_SERVER, "write_keys", set_list, item_secret, CONF_FIELD(write_keys),
	  CONF_COUNT(nwrite_keys), .def = "",
	  .hint = "use a comma list of keys, each literal, file:PATH (mode 600) or env:NAME" },
	{ PXD_CONF_SECTION_SERVER, "secret_keys", set_list, item_secret, CONF_FIELD(secret_keys),
	  CONF_COUNT(nsecret_keys), .def = "",
	  .hint = "use a comma list of keys, each literal, file:PATH (mode 600) or env:NAME" },
	{ PXD_CONF_SECTION_SERVER, "tenant", set_name, NULL, CONF_FIELD(tenant), .def = "default",
	  .hint = "use 1 to 63 of a-z 0-9 _ -" },
	{ PXD_CONF_SECTION_SERVER, "user", set_string, NULL, CONF_FIELD(user), .def = "",
	  .hint = "use the name of a system user, e.g. pixeld (empty: keep the starting user)" },
	{ PXD_CONF_SECTION_SERVER, "log_level", set_log_level, NULL, CONF_FIELD(log_level),
	  .def = "info", .hint = "use err, warn, info or debug" },
	{ PXD_CONF_SECTION_SERVER, "log_format", set_log_format, NULL, CONF_FIELD(log_format),
	  .def = "text", .hint = "use text or json" },
	{ PXD_CONF_SECTION_SERVER, "ring_size", set_pow2, NULL, CONF_FIELD(ring_size), .min = 1024,
	  .max = 4194304, .def = "65536", .hint = "use a power of two from 1024 to 4194304" },
	{ PXD_CONF_SECTION_SERVER, "role", set_role, NULL, CONF_FIELD(role), .def = "all",
	  .hint = "use all, ingest or dispatch" },
	{ PXD_CONF_SECTION_SERVER, "usage_interval", set_duration, NULL,
	  CONF_FIELD(usage_interval_ms), .min = 1000, .max = 3600000, .def = "10s",
	  .hint = "use 1s to 1h" HINT_DURATION },
	{ PXD_CONF_SECTION_JOURNAL, "dir", set_path, NULL, CONF_FIELD(journal_dir),
	  .hint = "use a directory path; leave it out for <data_dir>/journal" },
	{ PXD_CONF_SECTION_JOURNAL, "ack", set_ack, NULL, CONF_FIELD(ack), .def = "fast",
	  .hint = "use fast, durable or replicated (role ingest)" },
	{ PXD_CONF_SECTION_JOURNAL, "commit_interval", set_duration, NULL,
	  CONF_FIELD(commit_interval_ms), .max = 1000, .def = "2ms",
	  .hint = "use 0 to 1s" HINT_DURATION },
	{ PXD_CONF_SECTION_JOURNAL, "segment_bytes", set_size, NULL, CONF_FIELD(segment_bytes),
	  .min = 1ull << 20, .max = 1ull << 30, .def = "64M",
	  .hint = "use 1M to 1G (" PXD_CONF_SIZE_HINT ")" },
	{ PXD_CONF_SECTION_JOURNAL, "max_bytes", set_size, NULL, CONF_FIELD(max_bytes),
	  .max = UINT64_MAX, .def = "0",
	  .hint = "use 0 (80% of the free space) or a size with K, M or G, e.g. 20G" },
};

_Static_assert(ARRAY_SIZE(conf_keys) <= PXD_CONF_KEYS_MAX, "raise PXD_CONF_KEYS_MAX");

static const struct pxd_conf_key dest_keys[] = {
	{ PXD_CONF_SECTION_DEST, "type", set_name, NULL, DEST_FIELD(type),
	  .hint = "use an adapter's type, e.g. jsonl" },
	{ PXD_CONF_SECTION_DEST, "events", set_list, item_event, DEST_FIELD(events),
	  DEST_COUNT(nevents),
	  .hint = "use a comma list of canonical event names like PageView, Purchase" },
	{ PXD_CONF_SECTION_DEST, "batch_max_events", set_uint, NULL, DEST_FIELD(batch_max_events),
	  .max = 1000000, .hint = "use 0 (the adapter's limit) to 1000000" },
	{ PXD_CONF_SECTION_DEST, "linger_ms", set_linger, NULL, DEST_FIELD(linger_ms), .max = 60000,
	  .hint = "use a number of milliseconds from 0 (send at once) to 60000; leave it out "
		  "for the destination type's default" },
};

static int refuse(struct bad *bad, const char *problem)
{
	bad->problem = problem;
	return -EINVAL;
}

/* Stores <v> in a 4- or 8-byte unsigned field. */
static void store_uint(void *field, size_t size, uint64_t v)
{
	uint32_t v32 = (uint32_t)v;

	if (size == sizeof(v32))
		memcpy(field, &v32, sizeof(v32));
	else
		memcpy(field, &v, sizeof(v));
}

static int store_ranged(void *base, const struct pxd_conf_key *k, int rc, uint64_t v,
			struct bad *bad, const char *what)
{
	_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned fields are stored as u32");

	if (rc == -EINVAL)
		return refuse(bad, what);
	if (rc == -EDOM)
		return refuse(bad, "has no unit");
	if (rc || v < k->min || v > k->max)
		return refuse(bad, "is out of range");
	store_uint((char *)base + k->off, k->size, v);
	return 0;
}

static int set_uint(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = pxd_conf_value_uint(value, &v);

	return store_ranged(base, k, rc, v, bad, "is not a number");
}

/* A set linger_ms, 0 included, is kept; an absent one takes the type's default.
 * The key is named for its unit, so its value is a plain number of it. */
static int set_linger(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	int rc = set_uint(base, k, value, bad);

	if (!rc)
		((struct pxd_conf_dest *)base)->linger_set = true;
	return rc;
}

static int set_pow2(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = pxd_conf_value_uint(value, &v);

	if (!rc && (v & (v - 1)) != 0)
		return refuse(bad, "is not a power of two");
	return store_ranged(base, k, rc, v, bad, "is not a number");
}

static int set_duration(void *base, const struct pxd_conf_key *k, const char *value,
			struct bad *bad)
{
	uint64_t v = 0;
	int rc = pxd_conf_value_duration_ms(value, &v);

	return store_ranged(base, k, rc, v, bad, "is not a duration");
}

static int set_size(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = pxd_conf_value_size(value, &v);

	return store_ranged(base, k, rc, v, bad, "is not a size");
}

static int set_string(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	size_t n = strlen(value);

	if (n >= k->size)
		return refuse(bad, "is too long");
	memcpy((char *)base + k->off, value, n + 1);
	return 0;
}

static int set_path(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	if (!value[0])
		return refuse(bad, "is empty");
	return set_string(base, k, value, bad);
}

static int set_name(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	if (!pxd_conf_value_is_name(value, strlen(value)))
		return refuse(bad, "is not a name");
	return set_string(base, k, value, bad);
}

static int set_log_level(void *base, const struct pxd_conf_key *k, const char *value,
			 struct bad *bad)
{
	enum pxd_log_level level;

	if (pxd_log_level_parse(value, &level) != 0)
		return refuse(bad, "is not a log level");
	return set_string(base, k, value, bad);
}

static int set_role(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	enum pxd_role *role = (enum pxd_role *)((char *)base + k->off);

	if (strcmp(value, "all") == 0)
		*role = PXD_ROLE_ALL;
	else if (strcmp(value, "ingest") == 0)
		*role = PXD_ROLE_INGEST;
	else if (strcmp(value, "dispatch") == 0)
		*role = PXD_ROLE_DISPATCH;
	else
		return refuse(bad, "is not a role");
	return 0;
}

static int set_log_format(void *base, const struct pxd_conf_key *k, const char *value,
			  struct bad *bad)
{
	enum pxd_log_format format;

	if (pxd_log_format_parse(value, &format) != 0)
		return refuse(bad, "is not a log format");
	return set_string(base, k, value, bad);
}

static int set_ack(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	enum pxd_ack_mode *ack = (enum pxd_ack_mode *)((char *)base + k->off);

	if (strcmp(value, "fast") == 0)
		*ack = PXD_ACK_FAST;
	else if (strcmp(value, "durable") == 0)
		*ack = PXD_ACK_DURABLE;
	else if (strcmp(value, "replicated") == 0)
		*ack = PXD_ACK_REPLICATED;
	else
		return refuse(bad, "is not an ack mode");
	return 0;
}

/* The value is resolved now so that a missing file or variable is a load error. */
static int set_secret(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	char *out = (char *)base + k->off;

	if (!value[0]) {
		out[0] = '\0';
		return 0;
	}
	if (pxd_conf_secret(value, out, k->size, bad->msg, sizeof(bad->msg)) != 0) {
		bad->text = NULL;
		return refuse(bad, bad->msg);
	}
	return 0;
}

static int set_addr(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	struct pxd_conf_addr *a = (struct pxd_conf_addr *)((char *)base + k->off);
	const char *problem;

	if (strlen(value) >= sizeof(a->text))
		return refuse(bad, "is too long");
	problem = pxd_conf_value_addr(value, &a->ss, &a->len);
	if (problem)
		return refuse(bad, problem);
	memcpy(a->text, value, strlen(value) + 1);
	return 0;
}

/* Takes the next comma-separated item of *<cur>, blanks around it trimmed. */
static bool next_item(const char **cur, struct pxd_sv *item)
{
	const char *s = *cur;
	const char *end;

	if (!s)
		return false;
	end = strchr(s, ',');
	*cur = end ? end + 1 : NULL;
	if (!end)
		end = s + strlen(s);
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*item = pxd_sv_make(s, (size_t)(end - s));
	return true;
}

/* An empty value is an empty list: no origins, any Host, no proxies, all events. */
static int set_list(void *base, const struct pxd_conf_key *k, const char *value, struct bad *bad)
{
	size_t *count = (size_t *)((char *)base + k->count_off);
	const char *cur = value;
	struct pxd_sv item;
	char buf[256];
	int rc;

	*count = 0;
	if (!value[0])
		return 0;
	while (next_item(&cur, &item)) {
		if (item.n == 0 || *count == PXD_CONF_MAX_LIST) {
			bad->text = value;
			bad->len = strlen(value);
			return refuse(bad, item.n ? "has more than 64 items"
						  : "has an empty item between commas");
		}
		bad->text = item.p;
		bad->len = item.n;
		if (item.n >= sizeof(buf))
			return refuse(bad, "is too long");
		memcpy(buf, item.p, item.n);
		buf[item.n] = '\0';
		rc = k->item(base, k, *count, buf, bad);
		if (rc)
			return rc;
		(*count)++;
	}
	return 0;
}

static char *list_row(void *base, const struct pxd_conf_key *k, size_t i)
{
	return (char *)base + k->off + i * (k->size / PXD_CONF_MAX_LIST);
}

static void lower(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

static int store_row(void *base, const struct pxd_conf_key *k, size_t i, const char *item,
		     struct bad *bad)
{
	char *row = list_row(base, k, i);

	if (strlen(item) >= k->size / PXD_CONF_MAX_LIST)
		return refuse(bad, "is too long");
	strcpy(row, item);
	return 0;
}

/* Lowercased, because browsers send the Origin header lowercase. */
static int item_origin(void *base, const struct pxd_conf_key *k, size_t i, char *item,
		       struct bad *bad)
{
	const char *host = NULL;

	if (i > 0 && (strcmp(item, "*") == 0 || strcmp(list_row(base, k, 0), "*") == 0)) {
		bad->text = "*";
		bad->len = 1;
		return refuse(bad, "allows every origin and takes no others");
	}
	if (strcmp(item, "*") == 0)
		return store_row(base, k, i, item, bad);
	lower(item);
	if (strncmp(item, "https://", 8) == 0)
		host = item + 8;
	else if (strncmp(item, "http://", 7) == 0)
		host = item + 7;
	if (!host || pxd_conf_value_hostport(host))
		return refuse(bad, "is not an origin (http:// or https:// and a host, no path)");
	return store_row(base, k, i, item, bad);
}

static int item_host(void *base, const struct pxd_conf_key *k, size_t i, char *item,
		     struct bad *bad)
{
	const char *problem;

	lower(item);
	problem = pxd_conf_value_hostport(item);
	if (problem)
		return refuse(bad, problem);
	return store_row(base, k, i, item, bad);
}

static int item_event(void *base, const struct pxd_conf_key *k, size_t i, char *item,
		      struct bad *bad)
{
	size_t n = strlen(item);
	bool ok = (item[0] >= 'A' && item[0] <= 'Z') || (item[0] >= 'a' && item[0] <= 'z');

	for (size_t j = 1; ok && j < n; j++) {
		char c = item[j];

		ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		     c == '_';
	}
	if (!ok)
		return refuse(bad, "is not an event name");
	return store_row(base, k, i, item, bad);
}

/* Each key is resolved now (the one secret reader) and never quoted back. */
static int item_secret(void *base, const struct pxd_conf_key *k, size_t i, char *item,
		       struct bad *bad)
{
	size_t cap = k->size / PXD_CONF_MAX_LIST;

	bad->text = NULL;
	if (pxd_conf_secret(item, list_row(base, k, i), cap, bad->msg, sizeof(bad->msg)) != 0)
		return refuse(bad, bad->msg);
	return 0;
}

/* Refuses bits set past the prefix, which would match nothing the text says. */
static int item_cidr(void *base, const struct pxd_conf_key *k, size_t i, char *item,
		     struct bad *bad)
{
	struct pxd_conf_cidr *c = (struct pxd_conf_cidr *)((char *)base + k->off) + i;
	char text[INET6_ADDRSTRLEN];
	int rc = pxd_conf_value_cidr(item, c);

	if (rc == -EINVAL)
		return refuse(bad, strchr(item, '/') ? "has a bad address or prefix length (0 to "
						       "32, or 0 to 128 for IPv6)"
						     : "is not an IPv4 or IPv6 address or CIDR");
	if (rc == -EDOM) {
		inet_ntop(c->family, c->addr, text, sizeof(text));
		snprintf(bad->msg, sizeof(bad->msg), "write %s/%u", text, (unsigned)c->prefix);
		bad->hint = bad->msg;
		return refuse(bad, "has bits set past its prefix length");
	}
	return 0;
}

const struct pxd_conf_key *pxd_conf_key_find(enum pxd_conf_section section, const char *name)
{
	const struct pxd_conf_key *keys = conf_keys;
	size_t n = ARRAY_SIZE(conf_keys);

	if (section == PXD_CONF_SECTION_DEST) {
		keys = dest_keys;
		n = ARRAY_SIZE(dest_keys);
	}
	for (size_t i = 0; i < n; i++) {
		if (keys[i].section == section && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

const struct pxd_conf_key *pxd_conf_key_at(size_t i)
{
	return i < ARRAY_SIZE(conf_keys) ? &conf_keys[i] : NULL;
}

size_t pxd_conf_key_row(const struct pxd_conf_key *k)
{
	return (size_t)(k - conf_keys);
}

const char *pxd_conf_key_name(const struct pxd_conf_key *k)
{
	return k->name;
}

enum pxd_conf_section pxd_conf_key_section(const struct pxd_conf_key *k)
{
	return k->section;
}

void pxd_conf_key_field(const struct pxd_conf_key *k, size_t *off, size_t *size)
{
	*off = k->off;
	*size = k->size;
}

const char *pxd_conf_key_default(const struct pxd_conf_key *k)
{
	return k->def;
}

/* Writes "<quoted text> <problem>; <hint>" (or just the problem for secrets). */
static void describe(const struct bad *bad, char *out, size_t outlen)
{
	char q[PXD_CONF_QUOTE_MAX * 2 + 8];

	if (!bad->text)
		snprintf(out, outlen, "%s", bad->problem);
	else
		snprintf(out, outlen, "%s %s; %s",
			 pxd_conf_quote(bad->text, bad->len, q, sizeof(q)), bad->problem,
			 bad->hint);
}

int pxd_conf_key_set(struct pxd_conf_parse *p, void *base, const struct pxd_conf_key *k,
		     const char *label, const char *value, struct pxd_conf_origin at)
{
	struct bad bad = { .text = value, .len = strlen(value), .hint = k->hint };
	char why[640];

	if (k->set(base, k, value, &bad) == 0)
		return 0;
	describe(&bad, why, sizeof(why));
	if (at.flag)
		return pxd_conf_fail(p, at, "%s", why);
	return pxd_conf_fail(p, at, "%s.%s: %s", label, k->name, why);
}

void pxd_conf_key_list(enum pxd_conf_section section, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(conf_keys) && o < outlen; i++) {
		if (conf_keys[i].section != section)
			continue;
		o +=
		    (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", conf_keys[i].name);
	}
}
