// SPDX-License-Identifier: MIT
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"
#include "strview.h"

#define CONF_FILE_MAX (1u << 20)
/* Room for a key and a list of 64 items of 255 bytes with their separators. */
#define CONF_LINE_MAX 20480
#define CONF_SEEN_MAX 128
#define CONF_QUOTE_MAX 64
#define CONF_THREADS_MAX 256
#define CONF_EMBEDDED "(embedded)"

static const char default_text[] = "[server]\n"
				   "listen = 127.0.0.1:8080\n"
				   "admin_listen = 127.0.0.1:9180\n"
				   "data_dir = ./var/pixeld\n"
				   "cors_origins = *\n"
				   "\n"
				   "[destination \"events\"]\n"
				   "type = jsonl\n"
				   "path = events.jsonl\n";

enum section {
	SECTION_NONE = 0,
	SECTION_SERVER,
	SECTION_JOURNAL,
	SECTION_XDP,
	SECTION_EMAIL,
	SECTION_DEST,
	SECTION_COUNT, /* number of section kinds */
};

static const char *const section_names[] = {
	[SECTION_SERVER] = "server",
	[SECTION_JOURNAL] = "journal",
	[SECTION_XDP] = "xdp",
	[SECTION_EMAIL] = "email",
};

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

struct key_spec;
typedef int key_set_fn(void *base, const struct key_spec *k, const char *value, struct bad *bad);
typedef int key_item_fn(void *base, const struct key_spec *k, size_t i, char *item,
			struct bad *bad);

/*
 * One key of [server], [journal] or [destination]: where its value goes
 * (<off>, <size> and, for lists, <count_off> in struct pxd_conf or struct
 * pxd_conf_dest), its range and the hint that error messages end with. <def>
 * is the built-in default, parsed like a value from the file.
 */
struct key_spec {
	enum section section;
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

/* Where a value came from: a line of the file, a command-line flag, or neither (default). */
struct origin {
	int line;
	const char *flag;
};

struct seen {
	char key[PXD_CONF_NAME_MAX];
	int line;
};

static key_set_fn set_uint, set_pow2, set_duration, set_size, set_addr, set_path, set_name,
    set_string, set_log_level, set_ack, set_secret, set_list;
static key_item_fn item_origin, item_host, item_cidr, item_event;

#define CONF_FIELD(f) .off = offsetof(struct pxd_conf, f), .size = sizeof(((struct pxd_conf *)0)->f)
#define CONF_COUNT(f) .count_off = offsetof(struct pxd_conf, f)
#define DEST_FIELD(f) \
	.off = offsetof(struct pxd_conf_dest, f), .size = sizeof(((struct pxd_conf_dest *)0)->f)
#define DEST_COUNT(f) .count_off = offsetof(struct pxd_conf_dest, f)

#define HINT_ADDR "use IPv4:port, [IPv6]:port or *:port (numeric, no names)"
#define HINT_DURATION " (a number of ms, or with ms, s, m or h)"

static const struct key_spec conf_keys[] = {
	{ SECTION_SERVER, "listen", set_addr, NULL, CONF_FIELD(listen), .def = "127.0.0.1:8080",
	  .hint = HINT_ADDR ", e.g. 127.0.0.1:8080" },
	{ SECTION_SERVER, "admin_listen", set_addr, NULL, CONF_FIELD(admin_listen),
	  .def = "127.0.0.1:9180", .hint = HINT_ADDR ", e.g. 127.0.0.1:9180" },
	{ SECTION_SERVER, "data_dir", set_path, NULL, CONF_FIELD(data_dir), .def = "./var/pixeld",
	  .hint = "use a directory path, e.g. /var/lib/pixeld" },
	{ SECTION_SERVER, "threads", set_uint, NULL, CONF_FIELD(threads), .max = CONF_THREADS_MAX,
	  .def = "0", .hint = "use 0 (one per CPU) to 256" },
	{ SECTION_SERVER, "dispatchers", set_uint, NULL, CONF_FIELD(dispatchers), .min = 1,
	  .max = 64, .def = "1", .hint = "use 1 to 64" },
	{ SECTION_SERVER, "max_connections", set_uint, NULL, CONF_FIELD(max_connections), .min = 16,
	  .max = 1000000, .def = "65536", .hint = "use 16 to 1000000" },
	{ SECTION_SERVER, "idle_timeout", set_duration, NULL, CONF_FIELD(idle_timeout_ms),
	  .min = 1000, .max = 3600000, .def = "60s", .hint = "use 1s to 1h" HINT_DURATION },
	{ SECTION_SERVER, "request_timeout", set_duration, NULL, CONF_FIELD(request_timeout_ms),
	  .min = 100, .max = 600000, .def = "10s", .hint = "use 100ms to 10m" HINT_DURATION },
	{ SECTION_SERVER, "shutdown_timeout", set_duration, NULL, CONF_FIELD(shutdown_timeout_ms),
	  .max = 600000, .def = "10s", .hint = "use 0 to 10m" HINT_DURATION },
	{ SECTION_SERVER, "cors_origins", set_list, item_origin, CONF_FIELD(cors_origins),
	  CONF_COUNT(ncors_origins), .def = "*",
	  .hint = "use * alone, or a comma list of origins like https://shop.example" },
	{ SECTION_SERVER, "hosts", set_list, item_host, CONF_FIELD(hosts), CONF_COUNT(nhosts),
	  .def = "",
	  .hint = "use a comma list of host names like shop.example or shop.example:8080" },
	{ SECTION_SERVER, "trusted_proxies", set_list, item_cidr, CONF_FIELD(trusted_proxies),
	  CONF_COUNT(ntrusted_proxies), .def = "",
	  .hint = "use a comma list of CIDRs like 10.0.0.0/8, fd00::/8 or single addresses" },
	{ SECTION_SERVER, "admin_key", set_secret, NULL, CONF_FIELD(admin_key), .def = "",
	  .hint = "use a literal key, file:PATH (mode 600) or env:NAME" },
	{ SECTION_SERVER, "tenant", set_name, NULL, CONF_FIELD(tenant), .def = "default",
	  .hint = "use 1 to 63 of a-z 0-9 _ -" },
	{ SECTION_SERVER, "user", set_string, NULL, CONF_FIELD(user), .def = "",
	  .hint = "use the name of a system user, e.g. pixeld (empty: keep the starting user)" },
	{ SECTION_SERVER, "log_level", set_log_level, NULL, CONF_FIELD(log_level), .def = "info",
	  .hint = "use err, warn, info or debug" },
	{ SECTION_SERVER, "ring_size", set_pow2, NULL, CONF_FIELD(ring_size), .min = 1024,
	  .max = 4194304, .def = "65536", .hint = "use a power of two from 1024 to 4194304" },
	{ SECTION_JOURNAL, "dir", set_path, NULL, CONF_FIELD(journal_dir),
	  .hint = "use a directory path; leave it out for <data_dir>/journal" },
	{ SECTION_JOURNAL, "ack", set_ack, NULL, CONF_FIELD(ack), .def = "fast",
	  .hint = "use fast or durable" },
	{ SECTION_JOURNAL, "commit_interval", set_duration, NULL, CONF_FIELD(commit_interval_ms),
	  .max = 1000, .def = "2ms", .hint = "use 0 to 1s" HINT_DURATION },
	{ SECTION_JOURNAL, "segment_bytes", set_size, NULL, CONF_FIELD(segment_bytes),
	  .min = 1ull << 20, .max = 1ull << 30, .def = "64M",
	  .hint = "use 1M to 1G (bytes, or with K, M or G)" },
	{ SECTION_JOURNAL, "max_bytes", set_size, NULL, CONF_FIELD(max_bytes), .max = UINT64_MAX,
	  .def = "0", .hint = "use 0 (80% of the free space) or a size with K, M or G, e.g. 20G" },
};

static const struct key_spec dest_keys[] = {
	{ SECTION_DEST, "type", set_name, NULL, DEST_FIELD(type),
	  .hint = "use an adapter's type, e.g. jsonl" },
	{ SECTION_DEST, "events", set_list, item_event, DEST_FIELD(events), DEST_COUNT(nevents),
	  .hint = "use a comma list of canonical event names like PageView, Purchase" },
	{ SECTION_DEST, "batch_max_events", set_uint, NULL, DEST_FIELD(batch_max_events),
	  .max = 1000000, .hint = "use 0 (the adapter's limit) to 1000000" },
	{ SECTION_DEST, "linger_ms", set_duration, NULL, DEST_FIELD(linger_ms), .max = 60000,
	  .hint = "use 0 to 60s" HINT_DURATION },
};

struct parse {
	struct pxd_conf *conf;
	const char *text;
	size_t len;
	size_t pos;
	int lineno;
	enum section section;
	int section_line[SECTION_COUNT];
	struct pxd_conf_dest *dest;
	struct seen seen[CONF_SEEN_MAX];
	size_t nseen;
	struct origin where[ARRAY_SIZE(conf_keys)];
	char *err;
	size_t errlen;
	int rc;
};

static void say(char *err, size_t errlen, const char *fmt, ...) pxd_printf(3, 4);
static int fail(struct parse *p, struct origin at, const char *fmt, ...) pxd_printf(3, 4);

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Records the first error of a load as "<file>:<line>: ...", "<flag>: ..." or,
 * for a default, "<file>: ..." and returns -EINVAL. Later errors are dropped:
 * the first one is the one to fix.
 */
static int fail(struct parse *p, struct origin at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (p->rc)
		return p->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at.flag)
		say(p->err, p->errlen, "%s: %s", at.flag, msg);
	else if (at.line > 0)
		say(p->err, p->errlen, "%s:%d: %s", p->conf->path, at.line, msg);
	else
		say(p->err, p->errlen, "%s: %s", p->conf->path, msg);
	p->rc = -EINVAL;
	return p->rc;
}

static struct origin at_line(int line)
{
	return (struct origin){ .line = line };
}

/*
 * Writes <n> bytes of <s> double-quoted into <out>, cut at CONF_QUOTE_MAX
 * bytes and with control bytes as '?', so that a message stays one short line.
 */
static const char *quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	size_t i;

	out[o++] = '"';
	for (i = 0; i < n && i < CONF_QUOTE_MAX && o + 6 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* Writes "<quoted text> <problem>; <hint>" (or just the problem for secrets). */
static void describe(const struct bad *bad, char *out, size_t outlen)
{
	char q[CONF_QUOTE_MAX * 2 + 8];

	if (!bad->text)
		snprintf(out, outlen, "%s", bad->problem);
	else
		snprintf(out, outlen, "%s %s; %s", quote(bad->text, bad->len, q, sizeof(q)),
			 bad->problem, bad->hint);
}

static int refuse(struct bad *bad, const char *problem)
{
	bad->problem = problem;
	return -EINVAL;
}

/* Digits only: no sign, blank, or base prefix. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
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

struct unit {
	const char *suffix;
	uint64_t scale;
};

static const struct unit duration_units[] = {
	{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
};

static const struct unit size_units[] = {
	{ "", 1 },	     { "K", 1ull << 10 }, { "k", 1ull << 10 }, { "M", 1ull << 20 },
	{ "m", 1ull << 20 }, { "G", 1ull << 30 }, { "g", 1ull << 30 },
};

/* Parses "<digits><suffix>" with a suffix from <units>; -EINVAL, or -ERANGE past 64 bits. */
static int parse_scaled(const char *s, const struct unit *units, size_t nunits, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v;
	int rc;

	for (size_t i = 0; i < nunits; i++) {
		if (strcmp(s + n, units[i].suffix) != 0)
			continue;
		rc = parse_u64(s, n, &v);
		if (rc)
			return rc;
		if (v > UINT64_MAX / units[i].scale)
			return -ERANGE;
		*out = v * units[i].scale;
		return 0;
	}
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

static int store_ranged(void *base, const struct key_spec *k, int rc, uint64_t v, struct bad *bad,
			const char *what)
{
	_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned fields are stored as u32");

	if (rc == -EINVAL)
		return refuse(bad, what);
	if (rc || v < k->min || v > k->max)
		return refuse(bad, "is out of range");
	store_uint((char *)base + k->off, k->size, v);
	return 0;
}

static int set_uint(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = parse_u64(value, strlen(value), &v);

	return store_ranged(base, k, rc, v, bad, "is not a number");
}

static int set_pow2(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = parse_u64(value, strlen(value), &v);

	if (!rc && (v & (v - 1)) != 0)
		return refuse(bad, "is not a power of two");
	return store_ranged(base, k, rc, v, bad, "is not a number");
}

static int set_duration(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = parse_scaled(value, duration_units, ARRAY_SIZE(duration_units), &v);

	return store_ranged(base, k, rc, v, bad, "is not a duration");
}

static int set_size(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	uint64_t v = 0;
	int rc = parse_scaled(value, size_units, ARRAY_SIZE(size_units), &v);

	return store_ranged(base, k, rc, v, bad, "is not a size");
}

static int set_string(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	size_t n = strlen(value);

	if (n >= k->size)
		return refuse(bad, "is too long");
	memcpy((char *)base + k->off, value, n + 1);
	return 0;
}

static int set_path(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	if (!value[0])
		return refuse(bad, "is empty");
	return set_string(base, k, value, bad);
}

static bool is_name(const char *s, size_t n)
{
	if (n == 0 || n >= PXD_CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int set_name(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	if (!is_name(value, strlen(value)))
		return refuse(bad, "is not a name");
	return set_string(base, k, value, bad);
}

static int set_log_level(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	enum pxd_log_level level;

	if (pxd_log_level_parse(value, &level) != 0)
		return refuse(bad, "is not a log level");
	return set_string(base, k, value, bad);
}

static int set_ack(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	enum pxd_ack_mode *ack = (enum pxd_ack_mode *)((char *)base + k->off);

	if (strcmp(value, "fast") == 0)
		*ack = PXD_ACK_FAST;
	else if (strcmp(value, "durable") == 0)
		*ack = PXD_ACK_DURABLE;
	else
		return refuse(bad, "is not an ack mode");
	return 0;
}

/* The value is resolved now so that a missing file or variable is a load error. */
static int set_secret(void *base, const struct key_spec *k, const char *value, struct bad *bad)
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

static int parse_port(const char *s, bool allow_zero, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, strlen(s), &v) || v > 65535 || (!allow_zero && v == 0))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int set_addr(void *base, const struct key_spec *k, const char *value, struct bad *bad)
{
	struct pxd_conf_addr *a = (struct pxd_conf_addr *)((char *)base + k->off);
	char host[INET6_ADDRSTRLEN];
	const char *port_text;
	const char *colon;
	size_t hostlen;
	uint16_t port;
	int family = AF_INET;

	if (strlen(value) >= sizeof(a->text))
		return refuse(bad, "is too long");
	if (value[0] == '[') {
		colon = strchr(value, ']');
		if (!colon || colon[1] != ':')
			return refuse(bad, "needs a port after the ]");
		family = AF_INET6;
		hostlen = (size_t)(colon - value - 1);
		memcpy(host, value + 1, PXD_MIN(hostlen, sizeof(host) - 1));
		port_text = colon + 2;
	} else {
		colon = strrchr(value, ':');
		if (!colon)
			return refuse(bad, "has no port");
		if (memchr(value, ':', (size_t)(colon - value)))
			return refuse(bad, "is an IPv6 address without [ ]");
		hostlen = (size_t)(colon - value);
		memcpy(host, value, PXD_MIN(hostlen, sizeof(host) - 1));
		port_text = colon + 1;
	}
	if (hostlen >= sizeof(host))
		return refuse(bad, "is not a numeric address");
	host[hostlen] = '\0';
	if (parse_port(port_text, true, &port))
		return refuse(bad, "has a bad port (0 to 65535)");

	memset(&a->ss, 0, sizeof(a->ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return refuse(bad, "is not a numeric IPv6 address");
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		a->len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return refuse(bad, "is not a numeric address (names are not resolved)");
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		a->len = sizeof(*sin);
	}
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
static int set_list(void *base, const struct key_spec *k, const char *value, struct bad *bad)
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

static char *list_row(void *base, const struct key_spec *k, size_t i)
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

/* Checks "host", "host:port", "[v6]" or "[v6]:port" (lowercase); returns a problem or NULL. */
static const char *check_hostport(const char *s)
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
	if (*end != ':' || parse_port(end + 1, false, &port))
		return "has a bad port (1 to 65535)";
	return NULL;
}

static int store_row(void *base, const struct key_spec *k, size_t i, const char *item,
		     struct bad *bad)
{
	char *row = list_row(base, k, i);

	if (strlen(item) >= k->size / PXD_CONF_MAX_LIST)
		return refuse(bad, "is too long");
	strcpy(row, item);
	return 0;
}

/* Lowercased, because browsers send the Origin header lowercase. */
static int item_origin(void *base, const struct key_spec *k, size_t i, char *item, struct bad *bad)
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
	if (!host || check_hostport(host))
		return refuse(bad, "is not an origin (http:// or https:// and a host, no path)");
	return store_row(base, k, i, item, bad);
}

static int item_host(void *base, const struct key_spec *k, size_t i, char *item, struct bad *bad)
{
	const char *problem;

	lower(item);
	problem = check_hostport(item);
	if (problem)
		return refuse(bad, problem);
	return store_row(base, k, i, item, bad);
}

static int item_event(void *base, const struct key_spec *k, size_t i, char *item, struct bad *bad)
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

/* "ADDR" or "ADDR/PREFIX"; refuses bits set past the prefix, which would match nothing it says. */
static int item_cidr(void *base, const struct key_spec *k, size_t i, char *item, struct bad *bad)
{
	struct pxd_conf_cidr *c = (struct pxd_conf_cidr *)((char *)base + k->off) + i;
	char *slash = strchr(item, '/');
	uint8_t net[16];
	uint64_t prefix;
	unsigned bits;
	char text[INET6_ADDRSTRLEN];

	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, item, c->addr) == 1) {
		c->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, item, c->addr) == 1) {
		c->family = AF_INET6;
		bits = 128;
	} else {
		return refuse(bad, "is not an IPv4 or IPv6 address or CIDR");
	}
	prefix = bits;
	if (slash && (parse_u64(slash + 1, strlen(slash + 1), &prefix) || prefix > bits))
		return refuse(bad, bits == 32 ? "has a bad prefix length (0 to 32)"
					      : "has a bad prefix length (0 to 128)");
	c->prefix = (uint8_t)prefix;
	memcpy(net, c->addr, sizeof(net));
	for (unsigned b = (unsigned)prefix; b < bits; b++)
		net[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	if (memcmp(net, c->addr, bits / 8) != 0) {
		inet_ntop(c->family, net, text, sizeof(text));
		snprintf(bad->msg, sizeof(bad->msg), "write %s/%u", text, (unsigned)prefix);
		bad->hint = bad->msg;
		return refuse(bad, "has bits set past its prefix length");
	}
	return 0;
}

static const struct key_spec *find_key(const struct key_spec *keys, size_t n, enum section s,
				       const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].section == s && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* Sets one key from the file or a flag; errors name <at> and "<label>.<key>" (file only). */
static int set_key(struct parse *p, void *base, const struct key_spec *k, const char *label,
		   const char *value, struct origin at)
{
	struct bad bad = { .text = value, .len = strlen(value), .hint = k->hint };
	char why[640];

	if (k->set(base, k, value, &bad) == 0)
		return 0;
	describe(&bad, why, sizeof(why));
	if (at.flag)
		return fail(p, at, "%s", why);
	return fail(p, at, "%s.%s: %s", label, k->name, why);
}

static void key_list(enum section s, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(conf_keys) && o < outlen; i++) {
		if (conf_keys[i].section != s)
			continue;
		o +=
		    (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", conf_keys[i].name);
	}
}

static const char *section_label(const struct parse *p, char *buf, size_t len)
{
	if (p->section == SECTION_DEST) {
		snprintf(buf, len, "destination.%s", p->dest->name);
		return buf;
	}
	return section_names[p->section];
}

/* Delegates a key of [xdp] or [email]; -ENOENT from the owner means an unknown key. */
static int set_delegated(struct parse *p, const char *label, const char *name, const char *value)
{
	char why[512] = "";
	int rc;

	if (p->section == SECTION_XDP)
		rc = pxd_conf_xdp_set(&p->conf->xdp, name, value, why, sizeof(why));
	else
		rc = pxd_conf_email_set(&p->conf->email, name, value, why, sizeof(why));
	if (rc == -ENOENT)
		return fail(
		    p, at_line(p->lineno),
		    "%s.%s: unknown key; see scripts/pixeld.ini.example for the keys of [%s]",
		    label, name, label);
	if (rc)
		return fail(p, at_line(p->lineno), "%s.%s: %s", label, name, why);
	return 0;
}

/* A key no table knows: an error in [server] and [journal], an adapter's key in a destination. */
static int set_other(struct parse *p, const char *label, const char *name, const char *value)
{
	struct pxd_conf_dest *d = p->dest;
	struct pxd_conf_kv *kv;
	char keys[512];

	if (p->section != SECTION_DEST) {
		key_list(p->section, keys, sizeof(keys));
		return fail(p, at_line(p->lineno), "%s.%s: unknown key; [%s] takes %s", label, name,
			    label, keys);
	}
	if (d->nkv == PXD_CONF_MAX_DEST_KEYS)
		return fail(p, at_line(p->lineno),
			    "%s.%s: more than %d keys in one destination; remove unused keys",
			    label, name, PXD_CONF_MAX_DEST_KEYS);
	/* Adapter keys often hold tokens: the value is never quoted. */
	if (strlen(value) >= sizeof(kv->value))
		return fail(p, at_line(p->lineno),
			    "%s.%s: the value is longer than %zu bytes; shorten it", label, name,
			    sizeof(kv->value) - 1);
	kv = &d->kv[d->nkv++];
	snprintf(kv->key, sizeof(kv->key), "%s", name);
	snprintf(kv->value, sizeof(kv->value), "%s", value);
	kv->line = p->lineno;
	return 0;
}

static int remember_key(struct parse *p, const char *label, const char *name)
{
	size_t n = strlen(name);

	if (n == 0)
		return fail(p, at_line(p->lineno), "%s: a key has no name; write key = value",
			    label);
	if (n >= PXD_CONF_NAME_MAX)
		return fail(p, at_line(p->lineno),
			    "%s: the key \"%.*s...\" is longer than %d bytes; check its spelling",
			    label, CONF_QUOTE_MAX, name, PXD_CONF_NAME_MAX - 1);
	for (size_t i = 0; i < p->nseen; i++) {
		if (strcmp(p->seen[i].key, name) == 0)
			return fail(p, at_line(p->lineno),
				    "%s.%s: set again (first at line %d); keep one of the two",
				    label, name, p->seen[i].line);
	}
	if (p->nseen == CONF_SEEN_MAX)
		return fail(p, at_line(p->lineno), "%s.%s: more than %d keys in one section", label,
			    name, CONF_SEEN_MAX);
	memcpy(p->seen[p->nseen].key, name, n + 1);
	p->seen[p->nseen++].line = p->lineno;
	return 0;
}

/*
 * inih's handler: returns nonzero to go on, 0 to stop at this line. inih cuts
 * <section> at 49 bytes, so the reader tracks the header itself.
 */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct key_spec *k;
	char label[PXD_CONF_NAME_MAX + 16];
	const char *l;

	(void)section;
	if (p->section == SECTION_NONE)
		return !fail(p, at_line(p->lineno),
			     "%s: the key comes before any section; put it under [server] or "
			     "another section",
			     name);
	l = section_label(p, label, sizeof(label));
	if (remember_key(p, l, name))
		return 0;
	if (p->section == SECTION_XDP || p->section == SECTION_EMAIL)
		return !set_delegated(p, l, name, value);
	if (p->section == SECTION_DEST) {
		k = find_key(dest_keys, ARRAY_SIZE(dest_keys), SECTION_DEST, name);
		if (k)
			return !set_key(p, p->dest, k, l, value, at_line(p->lineno));
		return !set_other(p, l, name, value);
	}
	k = find_key(conf_keys, ARRAY_SIZE(conf_keys), p->section, name);
	if (!k)
		return !set_other(p, l, name, value);
	p->where[k - conf_keys] = at_line(p->lineno);
	return !set_key(p, p->conf, k, l, value, at_line(p->lineno));
}

/* Runs when a section ends (at the next header or at the end of the text). */
static int close_section(struct parse *p)
{
	if (p->section == SECTION_DEST && !p->dest->type[0])
		return fail(p, at_line(p->dest->line),
			    "destination.%s: no type; add type = jsonl (or another adapter's type)",
			    p->dest->name);
	return 0;
}

static int open_destination(struct parse *p, struct pxd_sv hdr)
{
	struct pxd_conf *c = p->conf;
	struct pxd_sv rest =
	    pxd_sv_make(hdr.p + strlen("destination"), hdr.n - strlen("destination"));
	size_t blanks = strspn(rest.p, " \t");
	struct pxd_sv name;
	struct pxd_conf_dest *d;

	if (blanks == 0 || blanks + 2 > rest.n || rest.p[blanks] != '"' ||
	    rest.p[rest.n - 1] != '"')
		return fail(p, at_line(p->lineno),
			    "[%.*s]: not a destination header; write [destination \"NAME\"]",
			    (int)hdr.n, hdr.p);
	name = pxd_sv_make(rest.p + blanks + 1, rest.n - blanks - 2);
	if (!is_name(name.p, name.n))
		return fail(
		    p, at_line(p->lineno),
		    "[%.*s]: \"%.*s\" is not a destination name; use 1 to 63 of a-z 0-9 _ -",
		    (int)hdr.n, hdr.p, (int)PXD_MIN(name.n, CONF_QUOTE_MAX), name.p);
	for (size_t i = 0; i < c->ndests; i++) {
		if (pxd_sv_eq_lit(name, c->dests[i].name))
			return fail(p, at_line(p->lineno),
				    "destination.%s: the name is taken (line %d); give each "
				    "destination its own name",
				    c->dests[i].name, c->dests[i].line);
	}
	if (c->ndests == PXD_CONF_MAX_DESTS)
		return fail(p, at_line(p->lineno),
			    "destination.%.*s: more than %d destinations; merge some of them",
			    (int)name.n, name.p, PXD_CONF_MAX_DESTS);
	d = &c->dests[c->ndests++];
	memset(d, 0, sizeof(*d));
	memcpy(d->name, name.p, name.n);
	d->line = p->lineno;
	p->dest = d;
	p->section = SECTION_DEST;
	return 0;
}

/* <line> starts with '['. inih reads the same line after us and only switches its section. */
static int open_section(struct parse *p, const char *line)
{
	const char *end = strchr(line, ']');
	const char *rest;
	struct pxd_sv hdr;

	if (close_section(p))
		return p->rc;
	if (!end)
		return fail(p, at_line(p->lineno),
			    "the section header has no ]; write it like [server]");
	rest = end + 1 + strspn(end + 1, " \t\r");
	if (*rest && *rest != ';' && *rest != '#')
		return fail(p, at_line(p->lineno),
			    "text after the section header's ]; put comments after ; or #");
	hdr = pxd_sv_make(line + 1, (size_t)(end - line - 1));
	p->nseen = 0;
	for (enum section s = SECTION_SERVER; s < SECTION_DEST; s++) {
		if (!pxd_sv_eq_lit(hdr, section_names[s]))
			continue;
		if (p->section_line[s])
			return fail(p, at_line(p->lineno),
				    "[%s]: the section is repeated (first at line %d); merge them",
				    section_names[s], p->section_line[s]);
		p->section_line[s] = p->lineno;
		p->section = s;
		return 0;
	}
	if (pxd_sv_starts_with(hdr, "destination"))
		return open_destination(p, hdr);
	return fail(p, at_line(p->lineno),
		    "[%.*s]: unknown section; use [server], [journal], [xdp], [email] or "
		    "[destination \"NAME\"]",
		    (int)PXD_MIN(hdr.n, (size_t)CONF_QUOTE_MAX), hdr.p);
}

/*
 * inih's reader: hands out one line of the text per call, so that p->lineno is
 * the line inih is on when it calls on_pair. Leading blanks are dropped, which
 * turns inih's continuation lines off: an indented key is just a key.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *s = p->text + p->pos;
	const char *nl;
	size_t n;

	if (p->rc || p->pos >= p->len)
		return NULL;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->lineno++;
	if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (memchr(s, '\0', n)) {
		fail(p, at_line(p->lineno), "the line holds a NUL byte; is this a text file?");
		return NULL;
	}
	if (n >= (size_t)num) {
		fail(p, at_line(p->lineno), "the line is longer than %d bytes; shorten it",
		     num - 1);
		return NULL;
	}
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	if (str[0] == '[' && open_section(p, str))
		return NULL;
	return str;
}

/*
 * Debian's inih exports its build options as globals. The default 200-byte
 * line (the size of inih's on-stack line buffer) is too short for origin
 * lists, and the rest of a file after its first error only adds noise.
 */
static int parse_text(struct parse *p)
{
	int max_line = ini_max_line;
	bool stop = ini_stop_on_first_error;
	int rc;

	ini_max_line = CONF_LINE_MAX;
	ini_stop_on_first_error = true;
	rc = ini_parse_stream(read_line, p, on_pair, p);
	ini_max_line = max_line;
	ini_stop_on_first_error = stop;
	if (p->rc)
		return p->rc;
	if (rc == -2) {
		say(p->err, p->errlen, "%s: out of memory while parsing", p->conf->path);
		return -ENOMEM;
	}
	if (rc > 0)
		return fail(p, at_line(rc),
			    "expected key = value, [section] or a comment; write key = value "
			    "(comments start with ; or #)");
	return close_section(p);
}

/* Reads up to <len> bytes into <buf>, fewer at end of file; returns 0 or -errno. */
static int read_full(int fd, char *buf, size_t len, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < len) {
		r = read(fd, buf + *got, len - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int rc = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		say(err, errlen, "%s: cannot open: %s; check the path given with --config", path,
		    strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		say(err, errlen, "%s: cannot stat: %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_FILE_MAX) {
		rc = -EINVAL;
		say(err, errlen, "%s: not a regular file of at most 1 MiB; give the INI file",
		    path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		say(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = read_full(fd, buf, (size_t)st.st_size, &n);
	if (rc) {
		say(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

static int set_defaults(struct parse *p)
{
	struct pxd_conf *c = p->conf;

	for (size_t i = 0; i < ARRAY_SIZE(conf_keys); i++) {
		const struct key_spec *k = &conf_keys[i];

		if (k->def && set_key(p, c, k, section_names[k->section], k->def, at_line(0)))
			return p->rc;
	}
	pxd_conf_xdp_defaults(&c->xdp);
	pxd_conf_email_defaults(&c->email);
	return 0;
}

static int apply_override(struct parse *p, const char *key, const char *flag, const char *value)
{
	const struct key_spec *k = find_key(conf_keys, ARRAY_SIZE(conf_keys), SECTION_SERVER, key);
	struct origin at = { .flag = flag };

	if (!value)
		return 0;
	p->where[k - conf_keys] = at;
	return set_key(p, p->conf, k, "server", value, at);
}

static struct origin where_of(const struct parse *p, const char *section_name, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_keys); i++) {
		if (strcmp(conf_keys[i].name, key) == 0 &&
		    strcmp(section_names[conf_keys[i].section], section_name) == 0)
			return p->where[i];
	}
	return at_line(0);
}

static bool is_set(struct origin o)
{
	return o.line > 0 || o.flag;
}

static bool is_loopback(const struct pxd_conf_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
}

/* Same port, and the same address or one of them the wildcard of the same family. */
static bool addrs_clash(const struct pxd_conf_addr *a, const struct pxd_conf_addr *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->ss;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return a4->sin_port && a4->sin_port == b4->sin_port &&
		       (a4->sin_addr.s_addr == b4->sin_addr.s_addr ||
			a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
			b4->sin_addr.s_addr == htonl(INADDR_ANY));
	return a6->sin6_port && a6->sin6_port == b6->sin6_port &&
	       (IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) ||
		IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr));
}

/* Checks that span keys, after the file and the overrides. */
static int check_whole(struct parse *p)
{
	struct pxd_conf *c = p->conf;
	struct origin admin = where_of(p, "server", "admin_listen");
	char why[512] = "";
	int n;

	if (!is_set(where_of(p, "journal", "dir"))) {
		n = snprintf(c->journal_dir, sizeof(c->journal_dir), "%s%sjournal", c->data_dir,
			     c->data_dir[strlen(c->data_dir) - 1] == '/' ? "" : "/");
		if (n < 0 || (size_t)n >= sizeof(c->journal_dir))
			return fail(
			    p, where_of(p, "server", "data_dir"),
			    "server.data_dir: too long to hold journal/; use a shorter path");
	}
	if (c->max_bytes && c->max_bytes < c->segment_bytes)
		return fail(p, where_of(p, "journal", "max_bytes"),
			    "journal.max_bytes: %llu bytes is less than one segment (%llu); use 0 "
			    "or at least journal.segment_bytes",
			    (unsigned long long)c->max_bytes, (unsigned long long)c->segment_bytes);
	if (!is_set(admin))
		admin = where_of(p, "server", "listen");
	if (addrs_clash(&c->listen, &c->admin_listen))
		return fail(p, admin,
			    "server.admin_listen: \"%s\" clashes with server.listen \"%s\"; give "
			    "the admin API its own port",
			    c->admin_listen.text, c->listen.text);
	/* An admin API without a key is for loopback only (conf.h). */
	if (!c->admin_key[0] && !is_loopback(&c->admin_listen))
		return fail(p, admin,
			    "server.admin_listen: \"%s\" is not loopback and server.admin_key is "
			    "empty; set admin_key or listen on 127.0.0.1",
			    c->admin_listen.text);
	if (pxd_conf_xdp_check(&c->xdp, why, sizeof(why)))
		return fail(p, at_line(p->section_line[SECTION_XDP]), "[xdp]: %s", why);
	if (pxd_conf_email_check(&c->email, why, sizeof(why)))
		return fail(p, at_line(p->section_line[SECTION_EMAIL]), "[email]: %s", why);
	return 0;
}

int pxd_conf_load(const char *path, const struct pxd_conf_overrides *ov, struct pxd_conf *conf,
		  char *err, size_t errlen)
{
	struct parse p = { .conf = conf, .err = err, .errlen = err ? errlen : 0 };
	char *text = NULL;
	int rc;

	if (p.errlen)
		err[0] = '\0';
	memset(conf, 0, sizeof(*conf));
	if (path && strlen(path) >= sizeof(conf->path)) {
		say(p.err, p.errlen, "%.64s...: the config path is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(conf->path, sizeof(conf->path), "%s", path ? path : CONF_EMBEDDED);
	rc = set_defaults(&p);
	if (rc)
		return rc;
	if (path) {
		rc = read_file(path, &text, &p.len, p.err, p.errlen);
		if (rc)
			return rc;
		p.text = text;
	} else {
		p.text = default_text;
		p.len = sizeof(default_text) - 1;
	}
	rc = parse_text(&p);
	if (text) {
		/* The text may hold the admin key or adapters' tokens. */
		explicit_bzero(text, p.len);
		free(text);
	}
	if (rc)
		return rc;
	if (ov) {
		rc = apply_override(&p, "listen", "--listen", ov->listen);
		if (!rc)
			rc = apply_override(&p, "admin_listen", "--admin", ov->admin_listen);
		if (!rc)
			rc = apply_override(&p, "data_dir", "--data-dir", ov->data_dir);
		if (rc)
			return rc;
	}
	return check_whole(&p);
}

const char *pxd_conf_default_text(void)
{
	return default_text;
}

const char *pxd_conf_dest_get(const struct pxd_conf_dest *d, const char *key, int *line)
{
	for (size_t i = 0; i < d->nkv; i++) {
		if (strcmp(d->kv[i].key, key) == 0) {
			if (line)
				*line = d->kv[i].line;
			return d->kv[i].value;
		}
	}
	if (line)
		*line = d->line;
	return NULL;
}

static int secret_file(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	int rc = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		say(err, errlen, "file:%s: cannot open: %s; check the path", path, strerror(-rc));
		return rc;
	}
	/* fstat on the open file: the mode checked is the mode of what is read. */
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		say(err, errlen, "file:%s: cannot stat: %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		say(err, errlen, "file:%s: not a regular file; point it at the secret's file",
		    path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = -EPERM;
		say(err, errlen,
		    "file:%s: group or others may access it (mode %03o); run chmod 600 %s", path,
		    (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	/* The secret may take outlen - 1 bytes, plus the newline that is stripped. */
	rc = read_full(fd, out, PXD_MIN((size_t)st.st_size, outlen), &n);
	if (rc) {
		say(err, errlen, "file:%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	if (n && out[n - 1] == '\n')
		n--;
	if ((uint64_t)st.st_size > outlen || n >= outlen) {
		rc = -ENAMETOOLONG;
		say(err, errlen, "file:%s: the secret is longer than %zu bytes", path, outlen - 1);
		goto out;
	}
	if (n == 0 || memchr(out, '\0', n)) {
		rc = -EINVAL;
		say(err, errlen, "file:%s: empty or holds a NUL byte; write the secret in it",
		    path);
		goto out;
	}
	out[n] = '\0';
out:
	close(fd);
	if (rc)
		explicit_bzero(out, outlen);
	return rc;
}

static int secret_env(const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *v;
	size_t n;

	if (!name[0]) {
		say(err, errlen, "env: names no variable; write env:NAME");
		return -EINVAL;
	}
	v = getenv(name);
	if (!v) {
		say(err, errlen, "env:%s is not set; export %s before starting pixeld", name, name);
		return -ENOENT;
	}
	n = strlen(v);
	if (n == 0) {
		say(err, errlen, "env:%s is empty; give it the secret", name);
		return -EINVAL;
	}
	if (n >= outlen) {
		say(err, errlen, "env:%s: the secret is longer than %zu bytes", name, outlen - 1);
		return -ENAMETOOLONG;
	}
	memcpy(out, v, n + 1);
	return 0;
}

int pxd_conf_secret(const char *value, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n;

	if (outlen == 0) {
		say(err, errlen, "no room for the secret");
		return -ENAMETOOLONG;
	}
	out[0] = '\0';
	if (strncmp(value, "file:", 5) == 0)
		return secret_file(value + 5, out, outlen, err, errlen);
	if (strncmp(value, "env:", 4) == 0)
		return secret_env(value + 4, out, outlen, err, errlen);
	n = strlen(value);
	if (n >= outlen) {
		say(err, errlen,
		    "the secret is longer than %zu bytes; check it, it is used as written",
		    outlen - 1);
		return -ENAMETOOLONG;
	}
	memcpy(out, value, n + 1);
	return 0;
}

unsigned pxd_conf_threads(const struct pxd_conf *conf)
{
	long n;

	if (conf->threads)
		return conf->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > CONF_THREADS_MAX ? CONF_THREADS_MAX : (unsigned)n;
}
