// SPDX-License-Identifier: MIT
/*
 * pixelload.c - the bench load generator: HTTP/1.1 over io_uring, one ring and
 * many connections per thread, closed loop (throughput) or open loop at a
 * fixed or bursting rate with latency taken from the intended send time (no
 * coordinated omission), requests drawn from realistic pixel, beacon and
 * email-open profiles. Prints a summary on stdout and, with --json, the whole
 * result. Run `pixelload --help`; bench/run drives it.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bufring.h"
#include "compiler.h"
#include "uring.h"

#define NS 1000000000ull
#define ID_LEN 16	       /* hex digits patched into each request's event id */
#define POOL_SIZE 4096	       /* prebuilt requests, cycled: no formatting per request */
#define PIPELINE_MAX 128       /* 4 iovecs per request stays under IOV_MAX */
#define IOV_PER_REQ 4	       /* head before id, id, head after id, body */
#define CONNECTS_IN_FLIGHT 512 /* per thread: keeps SYN bursts under the listen backlog */
#define RING_ENTRIES 4096
#define RECV_BUFS 4096 /* provided receive buffers per thread (power of two) */
#define RECV_BUF_SIZE 2048
#define TICK_NS (250 * 1000000ull)	   /* timeout scan and longest wait */
#define CONNECT_HOLD_NS (100 * 1000000ull) /* pause after a refused connect */
/*
 * Open loop: when the next request is due sooner than this, poll instead of
 * sleeping. Each sleep ends in a wake-up (an IPI and a context switch, dear on
 * a VM) before an answer can be timed: on the 2-core dev VM that put about
 * 45 us of pixelload's own into every p50 at 30k requests/s.
 */
#define SPIN_NS (50 * 1000ull)
#define DRAIN_GRACE_NS (2 * NS) /* after the deadline, how long answers may still come */

/* ---- request kinds, error kinds ------------------------------------------------------------ */

enum rkind {
	RK_PIXEL = 0,	/* GET /p.gif?... -> 200 GIF */
	RK_PIXEL204,	/* GET /p?... -> 204 */
	RK_BEACON,	/* POST /e, JSON event or batch -> 204 */
	RK_OPEN,	/* GET /o/<signed token>.gif */
	RK_OPEN_FORGED, /* the same with a broken tag: a GIF, no event */
	RK_COUNT,	/* number of kinds; keep last */
};
static const char *const rkind_name[RK_COUNT] = { "pixel", "pixel204", "beacon", "open",
						  "open_forged" };
#define MIX_KINDS RK_OPEN_FORGED /* kinds a --mix weight can name */

/* Why requests failed; a connection lost with no request on it counts once. */
enum ekind {
	EK_CONNECT_REFUSED = 0,
	EK_CONNECT, /* connect failed otherwise (unreachable, no ports, ...) */
	EK_RESET,   /* ECONNRESET / EPIPE with requests on the connection */
	EK_CLOSED,  /* clean EOF while requests were still unanswered */
	EK_TIMEOUT, /* no answer (or no connect) within --timeout */
	EK_PARSE,   /* the answer is not HTTP/1.x we can frame */
	EK_OTHER,
	EK_COUNT, /* number of kinds; keep last */
};
static const char *const ekind_name[EK_COUNT] = { "connect_refused", "connect", "reset", "closed",
						  "timeout",	     "parse",	"other" };

/* ---- log-linear latency histogram ---------------------------------------------------------- */

/*
 * HdrHistogram's layout in microseconds: values below 2^8 get a bucket each;
 * above, every power of two [2^k, 2^(k+1)) is cut in 128 equal buckets, so a
 * reported percentile is within 0.8% of the true value. Values over 2^36 us
 * (19 h) land in the last bucket. Max and min are kept exactly.
 */
#define HIST_SUB_BITS 8
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_HALF (HIST_SUB / 2)
#define HIST_TOP_BITS 36
#define HIST_BUCKETS (HIST_SUB + (HIST_TOP_BITS - HIST_SUB_BITS) * HIST_HALF)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	if (msb >= HIST_TOP_BITS)
		return HIST_BUCKETS - 1;
	shift = msb - HIST_SUB_BITS + 1;
	return HIST_SUB + (shift - 1) * HIST_HALF + (unsigned)((v >> shift) - HIST_HALF);
}

/* The highest value bucket <i> holds, as HdrHistogram reports. */
static uint64_t hist_upper(unsigned i)
{
	unsigned shift, sub;

	if (i < HIST_SUB)
		return i;
	shift = (i - HIST_SUB) / HIST_HALF + 1;
	sub = (i - HIST_SUB) % HIST_HALF + HIST_HALF;
	return ((uint64_t)(sub + 1) << shift) - 1;
}

static void hist_add(struct hist *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->b[hist_index(v)]++;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	if (!h->count)
		return;
	if (!into->count || h->min < into->min)
		into->min = h->min;
	into->max = PXD_MAX(into->max, h->max);
	into->count += h->count;
	into->sum += h->sum;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += h->b[i];
}

/* Returns the <pct> percentile (0 < pct <= 100), never above the exact max. */
static uint64_t hist_pct(const struct hist *h, double pct)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	rank = PXD_MAX(rank, 1);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			return PXD_MIN(hist_upper(i), h->max);
	}
	return h->max;
}

/* ---- streaming HTTP/1.x response framing --------------------------------------------------- */

/*
 * Frames answers byte by byte across any split: status line, the three
 * headers that decide framing (Content-Length, Transfer-Encoding, Connection),
 * then the body by length, by chunks, or up to EOF. Other headers are skipped
 * without being stored, so a connection carries 128 bytes of parser state.
 */
enum rp_state {
	RP_STATUS = 0,
	RP_HEADER,
	RP_BODY,
	RP_BODY_EOF,
	RP_CHUNK_SIZE,
	RP_CHUNK_DATA,
	RP_CHUNK_END,
	RP_TRAILER,
	RP_COUNT, /* number of states; keep last */
};

struct rparse {
	uint8_t state;
	uint8_t len; /* bytes of the current line kept in line[] */
	bool trunc;  /* the current line was longer than line[] */
	bool close;  /* the answer says Connection: close, or ends at EOF */
	bool chunked, has_len;
	uint16_t status;
	uint64_t left; /* body or chunk bytes still to skip */
	char line[96];
};

static bool ieq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && !strncasecmp(a, b, alen);
}

static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i + tl <= len; i++)
		if (!strncasecmp(v + i, tok, tl) &&
		    (i + tl == len || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t'))
			return true;
	return false;
}

static int rp_header(struct rparse *p)
{
	const char *l = p->line, *colon = memchr(l, ':', p->len);
	const char *v, *end = l + p->len;
	uint64_t n = 0;

	if (!colon || colon == l)
		return -EPROTO;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (ieq(l, (size_t)(colon - l), "content-length")) {
		if (v == end || end - v > 18)
			return -EPROTO;
		for (const char *d = v; d < end; d++) {
			if (*d < '0' || *d > '9')
				return -EPROTO;
			n = n * 10 + (uint64_t)(*d - '0');
		}
		if (p->has_len && n != p->left)
			return -EPROTO;
		p->has_len = true;
		p->left = n;
	} else if (ieq(l, (size_t)(colon - l), "transfer-encoding")) {
		if (end - v < 7 || strncasecmp(end - 7, "chunked", 7))
			return -EPROTO;
		p->chunked = true;
	} else if (ieq(l, (size_t)(colon - l), "connection")) {
		if (has_token(v, (size_t)(end - v), "close"))
			p->close = true;
	}
	return 0;
}

/* Handles one complete line; sets <*done> when it ends an answer. */
static int rp_line(struct rparse *p, bool *done)
{
	const char *l = p->line;
	uint64_t n = 0;
	unsigned i;

	switch (p->state) {
	case RP_STATUS:
		if (p->len < 12 || memcmp(l, "HTTP/1.", 7) || l[7] < '0' || l[7] > '9' ||
		    l[8] != ' ' || (p->len > 12 && l[12] != ' '))
			return -EPROTO;
		for (i = 9; i < 12; i++) {
			if (l[i] < '0' || l[i] > '9')
				return -EPROTO;
			n = n * 10 + (uint64_t)(l[i] - '0');
		}
		if (n < 100 || n == 101 || n > 599)
			return -EPROTO;
		p->status = (uint16_t)n;
		p->close = p->chunked = p->has_len = false;
		p->left = 0;
		p->state = RP_HEADER;
		return 0;
	case RP_HEADER:
		if (p->len) /* a truncated line is no framing header we care about */
			return p->trunc ? 0 : rp_header(p);
		if (p->status < 200)
			p->state = RP_STATUS; /* interim answer: the real one follows */
		else if (p->status == 204 || p->status == 304 ||
			 (p->has_len && !p->left && !p->chunked))
			*done = true;
		else if (p->chunked)
			p->state = RP_CHUNK_SIZE;
		else if (p->has_len)
			p->state = RP_BODY;
		else
			p->state = RP_BODY_EOF;
		if (p->state == RP_BODY_EOF)
			p->close = true;
		return 0;
	case RP_CHUNK_SIZE:
		for (i = 0; i < p->len && l[i] != ';' && l[i] != ' ' && l[i] != '\t'; i++) {
			int d = l[i] >= '0' && l[i] <= '9' ? l[i] - '0'
				: (l[i] | 0x20) >= 'a' && (l[i] | 0x20) <= 'f'
				    ? (l[i] | 0x20) - 'a' + 10
				    : -1;
			if (d < 0 || i >= 15)
				return -EPROTO;
			n = n * 16 + (uint64_t)d;
		}
		if (!i)
			return -EPROTO;
		p->left = n;
		p->state = n ? RP_CHUNK_DATA : RP_TRAILER;
		return 0;
	case RP_CHUNK_END:
		if (p->len)
			return -EPROTO;
		p->state = RP_CHUNK_SIZE;
		return 0;
	case RP_TRAILER:
		if (!p->len)
			*done = true;
		return 0;
	default:
		return -EPROTO;
	}
}

/*
 * Feeds <len> bytes of <buf>. Returns the bytes consumed, stopping right after
 * an answer ends (<*done> set; status and close stay readable until the next
 * call), or -EPROTO. Bytes of an answer that ends at EOF are all consumed.
 */
static ssize_t rp_feed(struct rparse *p, const char *buf, size_t len, bool *done)
{
	size_t i = 0;
	int err;

	*done = false;
	while (i < len) {
		if (p->state == RP_BODY || p->state == RP_CHUNK_DATA) {
			size_t n = (size_t)PXD_MIN(p->left, (uint64_t)(len - i));

			i += n;
			p->left -= n;
			if (p->left)
				continue;
			if (p->state == RP_CHUNK_DATA) {
				p->state = RP_CHUNK_END;
				continue;
			}
			p->state = RP_STATUS;
			*done = true;
			return (ssize_t)i;
		}
		if (p->state == RP_BODY_EOF)
			return (ssize_t)len;
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - i;
		size_t room = sizeof(p->line) - p->len;

		if (n > room)
			p->trunc = true;
		memcpy(p->line + p->len, buf + i, PXD_MIN(n, room));
		p->len = (uint8_t)(p->len + PXD_MIN(n, room));
		i = nl ? end + 1 : len;
		if (!nl)
			continue;
		if (p->len && p->line[p->len - 1] == '\r')
			p->len--;
		err = rp_line(p, done);
		p->len = 0;
		p->trunc = false;
		if (err)
			return err;
		if (*done) {
			p->state = RP_STATUS;
			return (ssize_t)i;
		}
	}
	return (ssize_t)i;
}

/* ---- options ------------------------------------------------------------------------------- */

struct opts {
	const char *target;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[256];
	unsigned threads, conns, pipeline, sources, batch;
	double duration_s, rate, burst_factor, bot_share, forged_share, timeout_s;
	uint64_t requests;
	bool burst, new_conn, idle, quiet, sources_set;
	double weight[MIX_KINDS];
	const char *profile, *open_urls, *json_path;
	uint64_t seed;
	int argc;
	char **argv;
};

static void usage(FILE *f)
{
	fputs(
	    "usage: pixelload [OPTIONS] ADDR:PORT\n"
	    "\n"
	    "Load: closed loop (as fast as the target answers) unless -R gives a rate.\n"
	    "  -c, --connections N   concurrent connections, all threads together (default 64)\n"
	    "  -t, --threads N       threads, each with its own io_uring (default 1)\n"
	    "  -d, --duration T      run time: 10, 10s, 500ms, 2m (default 10s unless -n)\n"
	    "  -n, --requests N      stop after N requests (with -d: whichever comes first)\n"
	    "  -R, --rate N          open loop at N requests/s in all; latency counts from each\n"
	    "                        request's intended send time, so a stalled target shows\n"
	    "  -P, --pipeline N      requests in flight per connection, 1..128 (default 1)\n"
	    "      --new-conn        one connection per request, timed from the connect;\n"
	    "                        pixelload closes it after the answer, as browsers do\n"
	    "      --sources N       bind connections to N addresses spread over 127.0.0.0/8\n"
	    "                        (loopback target: 16, or 1024 with --new-conn so ports\n"
	    "                        in TIME_WAIT never run out; none for other targets)\n"
	    "      --timeout T       a connect or request unanswered this long fails (10s)\n"
	    "      --idle            open -c keep-alive connections, one request each, then hold\n"
	    "                        them idle for -d; prints \"ready ...\" on stdout once all\n"
	    "                        are answered\n"
	    "\n"
	    "Requests:\n"
	    "      --profile P       pixel, pixel204, beacon, open, mixed (pixel=70,beacon=30)\n"
	    "                        or burst: open loop ramping -R x1 -> x10 -> x1 over -d\n"
	    "                        with the mixed requests (default pixel)\n"
	    "      --mix K=W,...     weights of pixel, pixel204, beacon, open (overrides P)\n"
	    "      --burst-factor F  peak of the burst profile as a multiple of -R (10)\n"
	    "      --batch N         events per beacon POST, 1..500 (default 1)\n"
	    "      --bots F          share of requests with bot user agents, 0..1 (0)\n"
	    "      --open-urls FILE  signed open-pixel URLs, one per line, as printed by\n"
	    "                        pixelctl -c CONF pixel sign --csv FILE\n"
	    "      --forged F        share of email opens whose token is forged, 0..1 (0)\n"
	    "      --host NAME       Host header (default ADDR:PORT)\n"
	    "      --seed N          seed of the request generator (default 1)\n"
	    "\n"
	    "Output:\n"
	    "      --json FILE       the full result: config, totals, status counts, errors,\n"
	    "                        latency percentiles, per-second series\n"
	    "  -q, --quiet           no progress line (it only shows on a terminal anyway)\n"
	    "  -h, --help\n"
	    "\n"
	    "Exit: 0 every request answered 2xx; 3 some failed or were not 2xx (see the\n"
	    "summary); 1 the target is down or pixelload could not run; 2 usage.\n",
	    f);
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_mix(const char *s, double *w)
{
	char buf[256], *save = NULL, *tok;
	double sum = 0;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	memset(w, 0, sizeof(double) * MIX_KINDS);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int k;

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		for (k = 0; k < MIX_KINDS && strcmp(tok, rkind_name[k]); k++)
			;
		if (k == MIX_KINDS || parse_num(eq + 1, 0, 1e9, &w[k]))
			return -EINVAL;
		sum += w[k];
	}
	return sum > 0 ? 0 : -EINVAL;
}

static int resolve(struct opts *o)
{
	char host[256];
	const char *colon = strrchr(o->target, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	size_t hl;
	int err;

	if (!colon || colon == o->target || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - o->target);
	if (o->target[0] == '[' && hl >= 2 && o->target[hl - 1] == ']') {
		memcpy(host, o->target + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, o->target, hl);
		host[hl] = '\0';
	}
	err = getaddrinfo(host, colon + 1, &hints, &res);
	if (err) {
		fprintf(stderr, "pixelload: cannot resolve \"%s\": %s\n", o->target,
			gai_strerror(err));
		return -ENOENT;
	}
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static bool target_loopback4(const struct opts *o)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&o->addr;

	return a->sin_family == AF_INET && (ntohl(a->sin_addr.s_addr) >> 24) == 127;
}

static int bad_opt(const char *name, const char *value, const char *want)
{
	fprintf(stderr, "pixelload: %s \"%s\": %s\n", name, value, want);
	return 2;
}

/* Returns 0, or the exit status for a usage error (the message is printed). */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	enum {
		O_NEWCONN = 256,
		O_SOURCES,
		O_TIMEOUT,
		O_IDLE,
		O_PROFILE,
		O_MIX,
		O_BURSTF,
		O_BATCH,
		O_BOTS,
		O_URLS,
		O_FORGED,
		O_HOST,
		O_SEED,
		O_JSON,
	};
	static const struct option lopts[] = {
		{ "connections", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'R' },
		{ "pipeline", required_argument, NULL, 'P' },
		{ "new-conn", no_argument, NULL, O_NEWCONN },
		{ "sources", required_argument, NULL, O_SOURCES },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "idle", no_argument, NULL, O_IDLE },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "mix", required_argument, NULL, O_MIX },
		{ "burst-factor", required_argument, NULL, O_BURSTF },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "bots", required_argument, NULL, O_BOTS },
		{ "open-urls", required_argument, NULL, O_URLS },
		{ "forged", required_argument, NULL, O_FORGED },
		{ "host", required_argument, NULL, O_HOST },
		{ "seed", required_argument, NULL, O_SEED },
		{ "json", required_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Numeric options: where each value goes, as which type, and its range. */
	static const struct {
		int key;
		const char *name;
		char type; /* u: unsigned, q: uint64_t, f: double, t: duration in s */
		size_t off;
		double lo, hi;
	} nums[] = {
		{ 'c', "--connections", 'u', offsetof(struct opts, conns), 1, 1e6 },
		{ 't', "--threads", 'u', offsetof(struct opts, threads), 1, 256 },
		{ 'd', "--duration", 't', offsetof(struct opts, duration_s), 0.001, 86400 },
		{ 'n', "--requests", 'q', offsetof(struct opts, requests), 1, 1e15 },
		{ 'R', "--rate", 'f', offsetof(struct opts, rate), 0.001, 1e9 },
		{ 'P', "--pipeline", 'u', offsetof(struct opts, pipeline), 1, PIPELINE_MAX },
		{ O_SOURCES, "--sources", 'u', offsetof(struct opts, sources), 0, 1 << 24 },
		{ O_TIMEOUT, "--timeout", 't', offsetof(struct opts, timeout_s), 0.01, 3600 },
		{ O_BURSTF, "--burst-factor", 'f', offsetof(struct opts, burst_factor), 1, 1000 },
		{ O_BATCH, "--batch", 'u', offsetof(struct opts, batch), 1, 500 },
		{ O_BOTS, "--bots", 'f', offsetof(struct opts, bot_share), 0, 1 },
		{ O_FORGED, "--forged", 'f', offsetof(struct opts, forged_share), 0, 1 },
		{ O_SEED, "--seed", 'q', offsetof(struct opts, seed), 0, 1e18 },
	};
	const char *mix = NULL;
	char want[96];
	double v;
	int c;

	*o = (struct opts){ .threads = 1,
			    .conns = 64,
			    .pipeline = 1,
			    .batch = 1,
			    .timeout_s = 10,
			    .burst_factor = 10,
			    .profile = "pixel",
			    .seed = 1,
			    .argc = argc,
			    .argv = argv };
	while ((c = getopt_long(argc, argv, "c:t:d:n:R:P:qh", lopts, NULL)) != -1) {
		unsigned k;

		for (k = 0; k < ARRAY_SIZE(nums) && nums[k].key != c; k++)
			;
		if (k < ARRAY_SIZE(nums)) {
			char *dst = (char *)o + nums[k].off;
			int err = nums[k].type == 't'
				      ? parse_duration(optarg, &v)
				      : parse_num(optarg, nums[k].lo, nums[k].hi, &v);

			if (err || v < nums[k].lo || v > nums[k].hi) {
				snprintf(want, sizeof(want), "use %s from %.15g to %.15g%s",
					 nums[k].type == 't' ? "a duration (10, 10s, 500ms, 2m)"
							     : "a number",
					 nums[k].lo, nums[k].hi, nums[k].type == 't' ? " s" : "");
				return bad_opt(nums[k].name, optarg, want);
			}
			if (nums[k].type == 'u')
				*(unsigned *)dst = (unsigned)v;
			else if (nums[k].type == 'q')
				*(uint64_t *)dst = (uint64_t)v;
			else
				*(double *)dst = v;
			o->sources_set |= c == O_SOURCES;
			continue;
		}
		switch (c) {
		case O_NEWCONN:
			o->new_conn = true;
			break;
		case O_IDLE:
			o->idle = true;
			break;
		case O_PROFILE:
			o->profile = optarg;
			break;
		case O_MIX:
			mix = optarg;
			break;
		case O_URLS:
			o->open_urls = optarg;
			break;
		case O_HOST:
			if (!*optarg || strlen(optarg) >= sizeof(o->host) ||
			    strpbrk(optarg, "\r\n "))
				return bad_opt("--host", optarg, "use a host name without spaces");
			strcpy(o->host, optarg);
			break;
		case O_JSON:
			o->json_path = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "pixelload: give exactly one target ADDR:PORT (see --help)\n");
		return 2;
	}
	o->target = argv[optind];

	if (!strcmp(o->profile, "burst")) {
		o->burst = true;
		if (!o->rate || !o->duration_s)
			return bad_opt("--profile", "burst",
				       "needs a base rate -R and a duration -d to ramp over");
	}
	if (mix) {
		if (parse_mix(mix, o->weight))
			return bad_opt("--mix", mix,
				       "use KIND=WEIGHT,... with pixel, pixel204, beacon, open");
	} else if (!strcmp(o->profile, "mixed") || o->burst) {
		o->weight[RK_PIXEL] = 70;
		o->weight[RK_BEACON] = 30;
	} else {
		int k;

		for (k = 0; k < MIX_KINDS && strcmp(o->profile, rkind_name[k]); k++)
			;
		if (k == MIX_KINDS)
			return bad_opt("--profile", o->profile,
				       "use pixel, pixel204, beacon, open, mixed or burst");
		o->weight[k] = 1;
	}
	if (o->weight[RK_OPEN] > 0 && !o->open_urls) {
		fprintf(stderr, "pixelload: email opens need --open-urls FILE: make one with "
				"pixelctl -c CONF pixel sign --csv ROWS.csv > FILE\n");
		return 2;
	}
	if (!o->duration_s && !o->requests)
		o->duration_s = o->idle ? 30 : 10;
	if (o->idle && (o->rate || o->new_conn || o->requests)) {
		fprintf(stderr,
			"pixelload: --idle holds keep-alive connections; it takes -c and -d, "
			"not -R, -n or --new-conn\n");
		return 2;
	}
	if (o->threads > o->conns) {
		fprintf(stderr, "pixelload: %u threads need at least as many connections (-c %u)\n",
			o->threads, o->conns);
		return 2;
	}
	if (resolve(o))
		return bad_opt("target", o->target, "use ADDR:PORT, e.g. 127.0.0.1:8080");
	if (!o->sources_set)
		o->sources = !target_loopback4(o) ? 0 : o->new_conn ? 1024 : 16;
	if (o->sources && !target_loopback4(o)) {
		fprintf(stderr,
			"pixelload: --sources spreads over 127.0.0.0/8 and needs a 127.x.y.z "
			"target; use --sources 0 for %s\n",
			o->target);
		return 2;
	}
	if (!o->host[0])
		snprintf(o->host, sizeof(o->host), "%s", o->target);
	return 0;
}

/* ---- request pool -------------------------------------------------------------------------- */

/*
 * One prebuilt request. Sending it takes up to four iovecs: the head (request
 * line and headers) cut around the ID_LEN-byte event-id placeholder, and the
 * body, which may hold the placeholder instead. A batch body holds one
 * placeholder per event: it is copied into the connection's scratch and
 * patched there.
 */
struct tmpl {
	char *head;
	char *body;
	uint32_t head_len, body_len;
	int32_t id_off; /* offset of the placeholder, -1 when the request has none */
	bool id_in_body;
	uint16_t nbatch_ids; /* placeholders in a batch body, at batch_ids[] */
	uint32_t *batch_ids;
	bool bot;
	uint8_t kind;
	uint16_t events; /* events a 2xx answer stands for */
};

struct pool {
	struct tmpl t[POOL_SIZE];
	char run_id[9];
	size_t scratch_len; /* the longest batch body */
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static unsigned rnd_below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static bool rnd_chance(uint64_t *s, double p)
{
	return (double)(rnd(s) >> 11) * 0x1.0p-53 < p;
}

#define PICK(s, a) ((a)[rnd_below((s), ARRAY_SIZE(a))])

static const char *const human_ua[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
	"like "
	"Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.6099.144 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
};

/* Each matches a pattern of daemon/data/bot_ua.txt. */
static const char *const bot_ua[] = {
	"python-requests/2.31.0",
	"curl/8.4.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"HeadlessChrome/120.0.6099.109 Safari/537.36",
	"Scrapy/2.11.0 (+https://scrapy.org)",
	"Go-http-client/1.1",
	"okhttp/4.12.0",
	"Java/17.0.9",
	"Wget/1.21.3",
	"axios/1.6.2",
	"PostmanRuntime/7.36.0",
};

static const char *const mail_ua[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.1",
	"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
	"Gecko) Mobile/15E148",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.6099.43 Mobile Safari/537.36",
};

static const struct {
	const char *name;
	unsigned weight;
	bool money;
} event_names[] = {
	{ "PageView", 55, false }, { "ViewContent", 15, false },
	{ "AddToCart", 10, true }, { "InitiateCheckout", 6, true },
	{ "Purchase", 6, true },   { "Lead", 3, false },
	{ "Search", 3, false },	   { "CompleteRegistration", 2, false },
};

static const char *const first_names[] = { "Jane",  "John", "Maria",  "Wei",  "Fatima",
					   "Lukas", "Aiko", "Carlos", "Olga", "Kwame" };
static const char *const last_names[] = { "Doe",    "Smith", "Garcia", "Chen",	  "Khan",
					  "Muller", "Sato",  "Silva",  "Ivanova", "Mensah" };
static const char *const mail_domains[] = { "example.com", "Gmail.com", "yahoo.co.uk",
					    "outlook.com", "shop-mail.example" };
static const char *const cities[] = { "Seattle", "London", "Berlin", "Sao Paulo", "Osaka" };
static const char *const countries[] = { "US", "GB", "DE", "BR", "JP" };
static const char *const currencies[] = { "USD", "EUR", "GBP", "JPY", "BRL" };
static const char *const page_paths[] = { "/",
					  "/product/running-shoe-42",
					  "/category/women/dresses",
					  "/cart",
					  "/checkout/payment",
					  "/blog/summer-lookbook",
					  "/search?q=rain+jacket&page=2" };
static const char *const referrers[] = { "https://www.google.com/",
					 "https://www.facebook.com/",
					 "https://t.co/",
					 "https://www.bing.com/search?q=shoes",
					 "https://l.instagram.com/",
					 "" };
static const char *const utms[] = { "", "?utm_source=newsletter&utm_medium=email&utm_campaign=bf24",
				    "?utm_source=google&utm_medium=cpc&gclid=Cj0KCQiA",
				    "?fbclid=IwAR2xYz9k" };

static const char *pick_event(uint64_t *s, bool *money)
{
	unsigned total = 0, r;

	for (unsigned i = 0; i < ARRAY_SIZE(event_names); i++)
		total += event_names[i].weight;
	r = rnd_below(s, total);
	for (unsigned i = 0; i < ARRAY_SIZE(event_names); i++) {
		if (r < event_names[i].weight) {
			*money = event_names[i].money;
			return event_names[i].name;
		}
		r -= event_names[i].weight;
	}
	*money = false;
	return "PageView";
}

static void rnd_alnum(uint64_t *s, char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < n; i++)
		out[i] = set[rnd_below(s, sizeof(set) - 1)];
	out[n] = '\0';
}

/* Writes <s> percent-encoded for a query value. */
static void put_enc(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			fputc(ch, f);
		else
			fprintf(f, "%%%02X", ch);
	}
}

struct persona {
	char email[96], phone[32], fbp[48], fbc[72], gclid[56], ttclid[48], msclkid[48];
	char url[160], order[24];
	const char *first, *last, *ref, *event, *cur;
	bool money, has_email, has_phone;
	double value;
	unsigned items;
};

static void make_persona(uint64_t *s, struct persona *p)
{
	char r[41];
	uint64_t ms = 1732000000000ull + rnd_below(s, 900000000u);

	memset(p, 0, sizeof(*p));
	p->first = PICK(s, first_names);
	p->last = PICK(s, last_names);
	snprintf(p->email, sizeof(p->email), "%s%s.%s%u@%s", rnd_chance(s, 0.1) ? " " : "",
		 p->first, p->last, rnd_below(s, 1000), PICK(s, mail_domains));
	snprintf(p->phone, sizeof(p->phone),
		 rnd_chance(s, 0.5) ? "+1 (415) 555-%04u" : "0044 20 7946 %04u",
		 rnd_below(s, 10000));
	p->has_email = rnd_chance(s, 0.35);
	p->has_phone = rnd_chance(s, 0.12);
	if (rnd_chance(s, 0.6))
		snprintf(p->fbp, sizeof(p->fbp), "fb.1.%llu.%u", (unsigned long long)ms,
			 1000000000u + rnd_below(s, 999999999u));
	if (rnd_chance(s, 0.2)) {
		rnd_alnum(s, r, 32);
		snprintf(p->fbc, sizeof(p->fbc), "fb.1.%llu.IwAR%s", (unsigned long long)ms, r);
	}
	if (rnd_chance(s, 0.2)) {
		rnd_alnum(s, r, 40);
		snprintf(p->gclid, sizeof(p->gclid), "Cj0KCQiA%s", r);
	}
	if (rnd_chance(s, 0.05)) {
		rnd_alnum(s, r, 32);
		snprintf(p->ttclid, sizeof(p->ttclid), "E.C.P.%s", r);
	}
	if (rnd_chance(s, 0.03)) {
		rnd_alnum(s, r, 32);
		snprintf(p->msclkid, sizeof(p->msclkid), "%s", r);
	}
	snprintf(p->url, sizeof(p->url), "https://shop.example%s%s", PICK(s, page_paths),
		 PICK(s, utms));
	p->ref = PICK(s, referrers);
	p->event = pick_event(s, &p->money);
	p->cur = PICK(s, currencies);
	p->value = (double)(100 + rnd_below(s, 50000)) / 100.0;
	p->items = 1 + rnd_below(s, 4);
	snprintf(p->order, sizeof(p->order), "ord-%u", 100000 + rnd_below(s, 900000));
}

static const char id_placeholder[ID_LEN + 1] = "################";

static int finish_tmpl(struct tmpl *t, char *head, size_t head_len, char *body, size_t body_len)
{
	char *at = memmem(head, head_len, id_placeholder, ID_LEN);
	size_t n = 0;

	t->head = head;
	t->head_len = (uint32_t)head_len;
	t->body = body;
	t->body_len = (uint32_t)body_len;
	t->id_in_body = false;
	t->id_off = at ? (int32_t)(at - head) : -1;
	if (!at && body && (at = memmem(body, body_len, id_placeholder, ID_LEN))) {
		t->id_in_body = true;
		t->id_off = (int32_t)(at - body);
	}
	for (char *p = at; t->id_in_body && p;
	     p = memmem(p + ID_LEN, body_len - (size_t)(p + ID_LEN - body), id_placeholder, ID_LEN))
		n++;
	if (n < 2)
		return 0;
	t->batch_ids = calloc(n, sizeof(uint32_t));
	if (!t->batch_ids)
		return -ENOMEM;
	for (char *p = at; p;
	     p = memmem(p + ID_LEN, body_len - (size_t)(p + ID_LEN - body), id_placeholder, ID_LEN))
		t->batch_ids[t->nbatch_ids++] = (uint32_t)(p - body);
	return 0;
}

static int build_pixel(uint64_t *s, const struct opts *o, const char *run_id, struct tmpl *t)
{
	struct persona p;
	char *head = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&head, &len);

	if (!f)
		return -ENOMEM;
	make_persona(s, &p);
	fprintf(f, "GET %s?e=%s&id=%s-%s&url=", t->kind == RK_PIXEL ? "/p.gif" : "/p", p.event,
		run_id, id_placeholder);
	put_enc(f, p.url);
	if (*p.ref) {
		fputs("&ref=", f);
		put_enc(f, p.ref);
	}
	if (p.fbp[0])
		fprintf(f, "&fbp=%s", p.fbp);
	if (p.fbc[0])
		fprintf(f, "&fbc=%s", p.fbc);
	if (p.gclid[0])
		fprintf(f, "&gclid=%s", p.gclid);
	if (p.ttclid[0])
		fprintf(f, "&ttclid=%s", p.ttclid);
	if (p.msclkid[0])
		fprintf(f, "&msclkid=%s", p.msclkid);
	if (p.has_email) {
		fputs("&em=", f);
		put_enc(f, p.email);
	}
	if (p.has_phone) {
		fputs("&ph=", f);
		put_enc(f, p.phone);
	}
	if (p.money)
		fprintf(f, "&v=%.2f&cur=%s&oid=%s", p.value, p.cur, p.order);
	fprintf(f, "&cb=%u HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", rnd_below(s, 1u << 30),
		o->host, t->bot ? PICK(s, bot_ua) : PICK(s, human_ua));
	fprintf(f,
		"Accept: image/avif,image/webp,image/apng,image/*,*/*;q=0.8\r\n"
		"Accept-Language: en-US,en;q=0.9\r\nReferer: %s\r\n\r\n",
		p.url);
	if (fclose(f))
		return -ENOMEM;
	return finish_tmpl(t, head, len, NULL, 0);
}

static void put_event_json(FILE *f, uint64_t *s, const char *run_id, unsigned idx, bool batch)
{
	struct persona p;

	make_persona(s, &p);
	fprintf(f, "{\"event\":\"%s\",\"event_id\":\"%s-%s", p.event, run_id, id_placeholder);
	if (batch)
		fprintf(f, "-%03u", idx);
	fprintf(f, "\",\"url\":\"%s\"", p.url);
	if (*p.ref)
		fprintf(f, ",\"referrer\":\"%s\"", p.ref);
	fprintf(f, ",\"user\":{\"anon_id\":\"a-%08x\"", (unsigned)rnd(s));
	if (p.has_email || rnd_chance(s, 0.3))
		fprintf(f, ",\"email\":\"%s\",\"first_name\":\"%s\",\"last_name\":\"%s\"", p.email,
			p.first, p.last);
	if (p.has_phone)
		fprintf(f, ",\"phone\":\"%s\"", p.phone);
	if (rnd_chance(s, 0.3)) {
		unsigned c = rnd_below(s, ARRAY_SIZE(cities));

		fprintf(f, ",\"city\":\"%s\",\"zip\":\"%05u\",\"country\":\"%s\"", cities[c],
			rnd_below(s, 100000), countries[c]);
	}
	fputc('}', f);
	if (p.fbp[0] || p.fbc[0] || p.gclid[0] || p.ttclid[0] || p.msclkid[0]) {
		const char *sep = "";

		fputs(",\"click\":{", f);
		if (p.fbp[0]) {
			fprintf(f, "%s\"fbp\":\"%s\"", sep, p.fbp);
			sep = ",";
		}
		if (p.fbc[0]) {
			fprintf(f, "%s\"fbc\":\"%s\"", sep, p.fbc);
			sep = ",";
		}
		if (p.gclid[0]) {
			fprintf(f, "%s\"gclid\":\"%s\"", sep, p.gclid);
			sep = ",";
		}
		if (p.ttclid[0]) {
			fprintf(f, "%s\"ttclid\":\"%s\"", sep, p.ttclid);
			sep = ",";
		}
		if (p.msclkid[0])
			fprintf(f, "%s\"msclkid\":\"%s\"", sep, p.msclkid);
		fputc('}', f);
	}
	if (p.money) {
		fprintf(f,
			",\"props\":{\"value\":%.2f,\"currency\":\"%s\",\"order_id\":\"%s\","
			"\"num_items\":%u,\"content_ids\":[",
			p.value, p.cur, p.order, p.items);
		for (unsigned i = 0; i < p.items; i++)
			fprintf(f, "%s\"sku-%u\"", i ? "," : "", 1000 + rnd_below(s, 9000));
		fputs("],\"contents\":[", f);
		for (unsigned i = 0; i < p.items; i++)
			fprintf(f, "%s{\"id\":\"sku-%u\",\"quantity\":%u,\"price\":%.2f}",
				i ? "," : "", 1000 + rnd_below(s, 9000), 1 + rnd_below(s, 3),
				(double)(100 + rnd_below(s, 20000)) / 100.0);
		fputs("]}", f);
	} else if (rnd_chance(s, 0.3)) {
		fprintf(f, ",\"props\":{\"plan\":\"%s\"}", rnd_chance(s, 0.5) ? "pro" : "free");
	}
	fprintf(f, ",\"consent\":{\"ad_storage\":\"%s\",\"analytics_storage\":\"granted\"}}",
		rnd_chance(s, 0.8) ? "granted" : "denied");
}

static int build_beacon(uint64_t *s, const struct opts *o, const char *run_id, struct tmpl *t)
{
	char *head = NULL, *body = NULL;
	size_t hlen = 0, blen = 0;
	FILE *f = open_memstream(&body, &blen);

	if (!f)
		return -ENOMEM;
	if (o->batch > 1)
		fputs("{\"batch\":[", f);
	for (unsigned i = 0; i < o->batch; i++) {
		if (i)
			fputc(',', f);
		put_event_json(f, s, run_id, i, o->batch > 1);
	}
	if (o->batch > 1)
		fputs("]}", f);
	if (fclose(f))
		return -ENOMEM;
	f = open_memstream(&head, &hlen);
	if (!f) {
		free(body);
		return -ENOMEM;
	}
	/* sendBeacon() sends text/plain; fetch() with keepalive sends JSON. */
	fprintf(f,
		"POST /e HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Type: %s\r\n"
		"Content-Length: %zu\r\nOrigin: https://shop.example\r\nAccept: */*\r\n\r\n",
		o->host, t->bot ? PICK(s, bot_ua) : PICK(s, human_ua),
		rnd_chance(s, 0.3) ? "text/plain;charset=UTF-8" : "application/json", blen);
	if (fclose(f)) {
		free(body);
		return -ENOMEM;
	}
	return finish_tmpl(t, head, hlen, body, blen);
}

/*
 * Makes a forged copy of the token in <path> ("/o/<token>.gif"): one base64url
 * character inside the 16-byte tag changes, so the record still decodes and
 * only the signature check refuses it.
 */
static void forge(char *path)
{
	char *dot = strrchr(path, '.');

	if (dot && dot - path > 3 + 4) {
		char *c = dot - 4;

		*c = *c == 'A' ? 'B' : 'A';
	}
}

static int build_open(uint64_t *s, const struct opts *o, const char *url, struct tmpl *t)
{
	char *head = NULL, path[1200];
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s", url);
	if (t->kind == RK_OPEN_FORGED)
		forge(path);
	f = open_memstream(&head, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: image/*\r\n\r\n", path,
		o->host, t->bot ? PICK(s, bot_ua) : PICK(s, mail_ua));
	if (fclose(f))
		return -ENOMEM;
	return finish_tmpl(t, head, len, NULL, 0);
}

/* Reads the pixel paths ("/o/<token>.gif") out of the URLs in <path>. */
static int read_open_urls(const char *path, char ***out, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **v = NULL;
	size_t cap = 0, cnt = 0, lineno = 0;
	ssize_t len;
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "pixelload: --open-urls %s: %s\n", path, strerror(-err));
		return err;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *p, *end;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		p = strstr(line, "/o/");
		end = p ? strstr(p, ".gif") : NULL;
		if (!end || end - p > 1100) {
			fprintf(stderr,
				"pixelload: %s:%zu: not an open-pixel URL (.../o/<token>.gif)\n",
				path, lineno);
			err = -EINVAL;
			break;
		}
		end[4] = '\0';
		if (!(cnt % 64)) {
			char **nv = realloc(v, (cnt + 64) * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[cnt] = strdup(p))) {
			err = -ENOMEM;
			break;
		}
		cnt++;
	}
	free(line);
	fclose(f);
	if (!err && !cnt) {
		fprintf(stderr, "pixelload: %s holds no URL\n", path);
		err = -EINVAL;
	}
	if (err) {
		while (cnt)
			free(v[--cnt]);
		free(v);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static void shuffle(uint64_t *s, uint8_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd_below(s, (unsigned)i);
		uint8_t x = v[i - 1];

		v[i - 1] = v[j];
		v[j] = x;
	}
}

/* Fills <pool> with the mix of <o>: the shares are exact over the pool, then shuffled. */
static int build_pool(struct pool *pool, const struct opts *o)
{
	uint8_t kinds[POOL_SIZE], bots[POOL_SIZE], forged[POOL_SIZE];
	char **urls = NULL;
	size_t nurls = 0, n = 0, nopen = 0, open_i = 0, url_i = 0;
	double wsum = 0;
	uint64_t s = o->seed * 0x9E3779B97F4A7C15ull + 1;
	int err = 0;

	snprintf(pool->run_id, sizeof(pool->run_id), "%08x",
		 (unsigned)(time(NULL) ^ ((uint64_t)getpid() << 16)));
	if (o->weight[RK_OPEN] > 0 && (err = read_open_urls(o->open_urls, &urls, &nurls)))
		return err;
	for (int k = 0; k < MIX_KINDS; k++)
		wsum += o->weight[k];
	for (int k = 0; k < MIX_KINDS; k++) {
		size_t c = (size_t)llround(o->weight[k] / wsum * POOL_SIZE);

		for (size_t i = 0; i < c && n < POOL_SIZE; i++)
			kinds[n++] = (uint8_t)k;
	}
	while (n < POOL_SIZE) /* rounding: give the rest to the heaviest kind */
		for (int k = 0; k < MIX_KINDS && n < POOL_SIZE; k++)
			if (o->weight[k] > 0)
				kinds[n++] = (uint8_t)k;
	shuffle(&s, kinds, POOL_SIZE);
	for (size_t i = 0; i < POOL_SIZE; i++) {
		bots[i] = i < (size_t)llround(o->bot_share * POOL_SIZE);
		nopen += kinds[i] == RK_OPEN;
	}
	shuffle(&s, bots, POOL_SIZE);
	for (size_t i = 0; i < nopen; i++)
		forged[i] = i < (size_t)llround(o->forged_share * (double)nopen);
	shuffle(&s, forged, nopen);
	for (size_t i = 0; i < POOL_SIZE && !err; i++) {
		struct tmpl *t = &pool->t[i];

		t->kind = kinds[i];
		t->bot = bots[i];
		if (t->kind == RK_OPEN && forged[open_i++])
			t->kind = RK_OPEN_FORGED;
		switch (t->kind) {
		case RK_PIXEL:
		case RK_PIXEL204:
			t->events = 1;
			err = build_pixel(&s, o, pool->run_id, t);
			break;
		case RK_BEACON:
			t->events = (uint16_t)o->batch;
			err = build_beacon(&s, o, pool->run_id, t);
			break;
		default:
			t->events = t->kind == RK_OPEN;
			err = build_open(&s, o, urls[url_i++ % nurls], t);
			break;
		}
		if (t->nbatch_ids)
			pool->scratch_len = PXD_MAX(pool->scratch_len, t->body_len);
	}
	while (nurls)
		free(urls[--nurls]);
	free(urls);
	return err;
}

static void free_pool(struct pool *pool)
{
	for (size_t i = 0; i < POOL_SIZE; i++) {
		free(pool->t[i].head);
		free(pool->t[i].body);
		free(pool->t[i].batch_ids);
	}
}

/* ---- per-thread engine --------------------------------------------------------------------- */

enum op {
	OP_CONNECT = 1,
	OP_SEND,
	OP_RECV,
	OP_SHUTDOWN,
	OP_CLOSE,
};

/* user_data = {op:8, generation:24, slot:32}: a late CQE of a reused slot is recognised. */
static uint64_t ud_make(enum op op, uint32_t gen, uint32_t slot)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & 0xffffff) << 32 | slot;
}

enum conn_state {
	CONN_FREE = 0,
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_CLOSING,
};

/* A request handed to a connection: when it counts from, and what it was. */
struct flight {
	uint64_t t0;
	uint32_t tmpl;
};

/*
 * One client connection. Requests queue in the flight FIFO from the moment
 * they are issued; the last <nunsent> of them wait for the socket (connect or
 * a send in flight). Answers arrive in order, so the head is always the one
 * the next answer belongs to. <ops> counts this slot's SQEs in flight: the
 * slot is reused only when the last one has completed.
 */
struct conn {
	int fd;
	uint32_t gen;
	uint8_t state;
	uint8_t ops;
	bool recv_armed, send_busy, in_ready, in_dirty, server_close, answered_once;
	uint16_t head, nflight, nunsent, nsending;
	uint32_t src;
	uint64_t active_ns; /* connect start, last send or last answer: the timeout clock */
	size_t send_left;
	struct msghdr msg;
	struct iovec *iov;
	char *ids;
	char *scratch; /* batch bodies with their ids patched, one per flight slot */
	struct flight *fl;
	struct rparse rp;
};

struct sec {
	uint64_t answered, errors, non2xx;
	struct hist *h;
};

struct kstats {
	uint64_t sent, answered, ok, events, bot_ok, bot_events;
};

struct stats {
	uint64_t sent, answered, failed, non2xx, conns_opened, bytes_sent, bytes_recv;
	uint64_t unsent_at_end, in_flight_at_end, idle_closed;
	uint64_t status[600];
	uint64_t err[EK_COUNT];
	struct kstats kind[RK_COUNT];
	struct hist lat;
	struct hist lag; /* open loop: intended send time to issue, in us */
};

struct worker {
	unsigned idx;
	pthread_t th;
	const struct opts *o;
	const struct pool *pool;
	struct io_uring ring;
	struct pxd_bufring br;
	bool ring_ok, br_ok;
	struct conn *conns;
	unsigned nconns, active, connecting;
	uint32_t *free_slots, nfree;
	uint32_t *ready, ready_head, ready_n; /* FIFO of connections with room */
	uint32_t *dirty, ndirty;	      /* connections with unsent requests */
	uint32_t *rearm, nrearm;	      /* recv to re-arm once buffers are back */
	struct iovec *iov_mem;
	char *id_mem, *scratch_mem;
	struct flight *fl_mem;
	struct sockaddr_in *src_addrs;
	uint32_t src_next, tmpl_next;
	uint64_t now, start, end, stop_at, next_due, hold_until, next_tick, seq;
	uint64_t quota, inflight;
	double rate;
	bool stopping, fatal_logged;
	int fatal;
	struct sec *secs;
	size_t nsecs, cur_sec, used_secs;
	struct stats st;
	_Atomic uint64_t pub_answered, pub_failed, pub_non2xx, pub_p99, pub_open;
	_Atomic uint64_t pub_idle_done, pub_idle_lost; /* --idle: answered, lost before that */
	_Atomic bool finished;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&w->ring);

	if (!sqe && !w->fatal)
		w->fatal = -EBUSY; /* the SQ stays full: the kernel is not consuming it */
	return sqe;
}

static struct sec *sec_at(struct worker *w, uint64_t t)
{
	size_t i = t > w->start ? (size_t)((t - w->start) / NS) : 0;

	if (i >= w->nsecs) {
		size_t n = PXD_MAX(i + 1, w->nsecs * 2);
		struct sec *v = realloc(w->secs, n * sizeof(*v));

		if (!v)
			return NULL;
		memset(v + w->nsecs, 0, (n - w->nsecs) * sizeof(*v));
		w->secs = v;
		w->nsecs = n;
	}
	if (!w->secs[i].h && !(w->secs[i].h = calloc(1, sizeof(struct hist))))
		return NULL;
	w->used_secs = PXD_MAX(w->used_secs, i + 1);
	if (i != w->cur_sec) { /* a second ended: publish its p99 for the progress line */
		if (w->cur_sec < w->nsecs && w->secs[w->cur_sec].h)
			atomic_store_explicit(&w->pub_p99, hist_pct(w->secs[w->cur_sec].h, 99),
					      memory_order_relaxed);
		w->cur_sec = i;
	}
	return &w->secs[i];
}

static void count_error(struct worker *w, enum ekind e, uint64_t n)
{
	struct sec *s = w->start ? sec_at(w, w->now) : NULL;

	w->st.err[e] += n ? n : 1;
	w->st.failed += n;
	if (s)
		s->errors += n ? n : 1;
	atomic_store_explicit(&w->pub_failed, w->st.failed, memory_order_relaxed);
}

/* Whether <c> takes another request now; new connections take theirs at connect. */
static bool has_room(const struct worker *w, const struct conn *c)
{
	if (c->state != CONN_OPEN || c->server_close || w->o->new_conn)
		return false;
	if (w->o->idle)
		return !c->answered_once && !c->nflight;
	return c->nflight < w->o->pipeline;
}

static void mark_ready(struct worker *w, struct conn *c)
{
	if (c->in_ready || !has_room(w, c))
		return;
	c->in_ready = true;
	w->ready[(w->ready_head + w->ready_n++) % w->nconns] = (uint32_t)(c - w->conns);
}

static struct conn *pop_ready(struct worker *w)
{
	while (w->ready_n) {
		struct conn *c = &w->conns[w->ready[w->ready_head]];

		w->ready_head = (w->ready_head + 1) % w->nconns;
		w->ready_n--;
		c->in_ready = false;
		if (has_room(w, c))
			return c;
	}
	return NULL;
}

static void mark_dirty(struct worker *w, struct conn *c)
{
	if (!c->in_dirty) {
		c->in_dirty = true;
		w->dirty[w->ndirty++] = (uint32_t)(c - w->conns);
	}
}

static void put_hex(char *out, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = ID_LEN - 1; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
}

/* Queues the next pool request on <c>, counting from <t0>. */
static void issue(struct worker *w, struct conn *c, uint64_t t0)
{
	unsigned pos = (c->head + c->nflight) % w->o->pipeline;
	struct flight *f = &c->fl[pos];
	const struct tmpl *t;

	f->t0 = t0;
	f->tmpl = w->tmpl_next;
	w->tmpl_next = (w->tmpl_next + 1) % POOL_SIZE;
	t = &w->pool->t[f->tmpl];
	if (t->id_off >= 0)
		put_hex(c->ids + (size_t)pos * ID_LEN, (uint64_t)w->idx << 48 | w->seq++);
	if (t->nbatch_ids) {
		char *b = c->scratch + pos * w->pool->scratch_len;

		memcpy(b, t->body, t->body_len);
		for (unsigned i = 0; i < t->nbatch_ids; i++)
			memcpy(b + t->batch_ids[i], c->ids + (size_t)pos * ID_LEN, ID_LEN);
	}
	if (w->o->rate)
		hist_add(&w->st.lag, (w->now - t0) / 1000);
	c->nflight++;
	c->nunsent++;
	w->inflight++;
	w->st.sent++;
	w->st.kind[t->kind].sent++;
	if (w->quota)
		w->quota--;
	mark_dirty(w, c);
}

static void add_iov(struct iovec *iov, unsigned *n, const char *p, size_t len)
{
	if (len) {
		iov[*n].iov_base = (void *)p;
		iov[*n].iov_len = len;
		(*n)++;
	}
}

/* Sends every queued request of <c> in one sendmsg. */
static void flush(struct worker *w, struct conn *c)
{
	size_t total = 0;
	struct io_uring_sqe *sqe;
	unsigned n = 0;

	if (c->state != CONN_OPEN || c->send_busy || !c->nunsent)
		return;
	for (unsigned k = c->nflight - c->nunsent; k < c->nflight; k++) {
		unsigned pos = (c->head + k) % w->o->pipeline;
		const struct tmpl *t = &w->pool->t[c->fl[pos].tmpl];
		const char *id = c->ids + (size_t)pos * ID_LEN;
		size_t off = (size_t)t->id_off;

		if (t->id_off >= 0 && !t->id_in_body) {
			add_iov(c->iov, &n, t->head, off);
			add_iov(c->iov, &n, id, ID_LEN);
			add_iov(c->iov, &n, t->head + off + ID_LEN, t->head_len - off - ID_LEN);
		} else {
			add_iov(c->iov, &n, t->head, t->head_len);
		}
		if (t->nbatch_ids) {
			add_iov(c->iov, &n, c->scratch + pos * w->pool->scratch_len, t->body_len);
		} else if (t->id_off >= 0 && t->id_in_body) {
			add_iov(c->iov, &n, t->body, off);
			add_iov(c->iov, &n, id, ID_LEN);
			add_iov(c->iov, &n, t->body + off + ID_LEN, t->body_len - off - ID_LEN);
		} else {
			add_iov(c->iov, &n, t->body, t->body_len);
		}
		total += t->head_len + t->body_len;
	}
	sqe = get_sqe(w);
	if (!sqe)
		return;
	memset(&c->msg, 0, sizeof(c->msg));
	c->msg.msg_iov = c->iov;
	c->msg.msg_iovlen = n;
	/* MSG_WAITALL: io_uring retries a short send itself (kernel >= 5.19). */
	io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, c->gen, (uint32_t)(c - w->conns)));
	c->ops++;
	c->send_busy = true;
	c->send_left = total;
	c->nsending = c->nunsent;
	c->nunsent = 0;
	c->active_ns = w->now;
	w->st.bytes_sent += total;
}

static void arm_recv(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = PXD_BUFRING_GROUP;
	io_uring_sqe_set_data64(sqe, ud_make(OP_RECV, c->gen, (uint32_t)(c - w->conns)));
	c->ops++;
	c->recv_armed = true;
}

static void release_slot(struct worker *w, struct conn *c)
{
	c->state = CONN_FREE;
	c->fd = -1;
	c->gen = (c->gen + 1) & 0xffffff;
	w->active--;
	w->free_slots[w->nfree++] = (uint32_t)(c - w->conns);
	if (w->o->idle && !c->answered_once)
		atomic_fetch_add_explicit(&w->pub_idle_lost, 1, memory_order_relaxed);
	atomic_store_explicit(&w->pub_open, w->active, memory_order_relaxed);
}

/* Closes once nothing of <c> is in flight; until then shutdown wakes what is. */
static void try_close(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state != CONN_CLOSING || c->ops)
		return;
	sqe = get_sqe(w);
	if (!sqe) {
		close(c->fd);
		release_slot(w, c);
		return;
	}
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, ud_make(OP_CLOSE, c->gen, (uint32_t)(c - w->conns)));
	c->ops++;
}

static void conn_close(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state == CONN_CLOSING || c->state == CONN_FREE)
		return;
	if (c->state == CONN_CONNECTING)
		w->connecting--;
	c->state = CONN_CLOSING;
	if (c->ops && (sqe = get_sqe(w))) {
		/* A pending connect, recv or send holds the socket: shutdown ends them. */
		io_uring_prep_shutdown(sqe, c->fd, SHUT_RDWR);
		io_uring_sqe_set_data64(sqe,
					ud_make(OP_SHUTDOWN, c->gen, (uint32_t)(c - w->conns)));
		c->ops++;
	}
	try_close(w, c);
}

/* Fails every request still on <c> for <e> (once when there is none) and closes it. */
static void conn_fail(struct worker *w, struct conn *c, enum ekind e)
{
	count_error(w, e, c->nflight);
	w->inflight -= c->nflight;
	c->nflight = c->nunsent = c->nsending = 0;
	conn_close(w, c);
}

/* Opens a connection; <nreq> requests counting from <t0> go out once it is up. */
static void conn_start(struct worker *w, unsigned nreq, uint64_t t0)
{
	const struct opts *o = w->o;
	struct io_uring_sqe *sqe;
	struct conn *c;
	uint32_t slot;
	int one = 1, fd;

	if (!w->nfree)
		return;
	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		w->hold_until = w->now + CONNECT_HOLD_NS;
		count_error(w, EK_CONNECT, 0);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->sources) {
		/* Pick the port at connect time, per (source, destination): 28k per pair. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&w->src_addrs[w->src_next],
			 sizeof(struct sockaddr_in))) {
			close(fd);
			w->hold_until = w->now + CONNECT_HOLD_NS;
			count_error(w, EK_CONNECT, 0);
			return;
		}
		w->src_next = (w->src_next + 1) % o->sources;
	}
	sqe = get_sqe(w);
	if (!sqe) {
		close(fd);
		return;
	}
	slot = w->free_slots[--w->nfree];
	c = &w->conns[slot];
	c->fd = fd;
	c->state = CONN_CONNECTING;
	c->ops = 1;
	c->recv_armed = c->send_busy = c->server_close = c->answered_once = false;
	c->head = c->nflight = c->nunsent = c->nsending = 0;
	c->active_ns = w->now;
	memset(&c->rp, 0, sizeof(c->rp));
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&o->addr, o->addrlen);
	io_uring_sqe_set_data64(sqe, ud_make(OP_CONNECT, c->gen, slot));
	w->active++;
	w->connecting++;
	for (unsigned i = 0; i < nreq; i++)
		issue(w, c, t0);
	atomic_store_explicit(&w->pub_open, w->active, memory_order_relaxed);
}

static void on_connect(struct worker *w, struct conn *c, int res)
{
	c->ops--;
	if (c->state != CONN_CONNECTING) {
		try_close(w, c);
		return;
	}
	if (res < 0) {
		w->hold_until = w->now + CONNECT_HOLD_NS;
		conn_fail(w, c,
			  res == -ECONNREFUSED ? EK_CONNECT_REFUSED
			  : res == -ETIMEDOUT  ? EK_TIMEOUT
					       : EK_CONNECT);
		return;
	}
	w->connecting--;
	c->state = CONN_OPEN;
	c->active_ns = w->now;
	w->st.conns_opened++;
	arm_recv(w, c);
	if (c->nunsent)
		mark_dirty(w, c);
	mark_ready(w, c);
}

static void on_send(struct worker *w, struct conn *c, int res)
{
	struct io_uring_sqe *sqe;

	c->ops--;
	c->send_busy = false;
	if (c->state != CONN_OPEN) {
		try_close(w, c);
		return;
	}
	if (res < 0) {
		conn_fail(w, c, res == -ECONNRESET || res == -EPIPE ? EK_RESET : EK_OTHER);
		return;
	}
	if ((size_t)res < c->send_left) { /* short send: move the iovecs past what went */
		size_t done = (size_t)res;

		while (done >= c->msg.msg_iov->iov_len) {
			done -= c->msg.msg_iov->iov_len;
			c->msg.msg_iov++;
			c->msg.msg_iovlen--;
		}
		c->msg.msg_iov->iov_base = (char *)c->msg.msg_iov->iov_base + done;
		c->msg.msg_iov->iov_len -= done;
		c->send_left -= (size_t)res;
		if (!(sqe = get_sqe(w)))
			return;
		io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL | MSG_WAITALL);
		io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, c->gen, (uint32_t)(c - w->conns)));
		c->ops++;
		c->send_busy = true;
		return;
	}
	c->nsending = 0;
	if (c->nunsent)
		mark_dirty(w, c);
	mark_ready(w, c);
}

static void record_answer(struct worker *w, struct conn *c, unsigned status)
{
	struct flight *f = &c->fl[c->head];
	const struct tmpl *t = &w->pool->t[f->tmpl];
	struct kstats *k = &w->st.kind[t->kind];
	uint64_t us = (w->now - f->t0) / 1000;
	struct sec *s = sec_at(w, w->now);
	bool ok = status >= 200 && status < 300;

	c->head = (uint16_t)((c->head + 1) % w->o->pipeline);
	c->nflight--;
	w->inflight--;
	w->st.answered++;
	w->st.status[status]++;
	hist_add(&w->st.lat, us);
	k->answered++;
	if (ok) {
		k->ok++;
		if (t->bot) {
			k->bot_ok++;
			k->bot_events += t->events;
		} else {
			k->events += t->events;
		}
	} else {
		w->st.non2xx++;
	}
	if (s) {
		s->answered++;
		s->non2xx += !ok;
		hist_add(s->h, us);
	}
	atomic_store_explicit(&w->pub_answered, w->st.answered, memory_order_relaxed);
	atomic_store_explicit(&w->pub_non2xx, w->st.non2xx, memory_order_relaxed);
	if (w->o->idle && !c->answered_once)
		atomic_fetch_add_explicit(&w->pub_idle_done, 1, memory_order_relaxed);
	c->answered_once = true;
}

/* Parses <len> received bytes; returns false when the connection was failed. */
static bool on_bytes(struct worker *w, struct conn *c, const char *buf, size_t len)
{
	bool done;

	w->st.bytes_recv += len;
	while (len) {
		ssize_t n = rp_feed(&c->rp, buf, len, &done);

		if (n < 0) {
			conn_fail(w, c, EK_PARSE);
			return false;
		}
		buf += n;
		len -= (size_t)n;
		if (!done)
			continue;
		if (c->nflight <= c->nunsent) { /* an answer nobody asked for */
			conn_fail(w, c, EK_PARSE);
			return false;
		}
		c->active_ns = w->now;
		if (c->rp.close)
			c->server_close = true;
		record_answer(w, c, c->rp.status);
	}
	return true;
}

static void on_recv(struct worker *w, struct conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;
	int res = cqe->res;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		const char *buf = pxd_bufring_get(&w->br, bid);

		if (res > 0 && c->state == CONN_OPEN)
			on_bytes(w, c, buf, (size_t)res);
		pxd_bufring_put(&w->br, bid);
	}
	if (!more) {
		c->ops--;
		c->recv_armed = false;
	}
	if (c->state != CONN_OPEN) {
		try_close(w, c);
		return;
	}
	if (res == 0) { /* EOF */
		if (c->rp.state == RP_BODY_EOF && c->nflight) {
			record_answer(w, c, c->rp.status);
			c->rp.state = RP_STATUS;
		}
		if (c->nflight || c->rp.state != RP_STATUS)
			conn_fail(w, c, EK_CLOSED);
		else {
			w->st.idle_closed += w->o->idle;
			conn_close(w, c);
		}
		return;
	}
	if (res < 0 && res != -ENOBUFS) {
		conn_fail(w, c, res == -ECONNRESET ? EK_RESET : EK_OTHER);
		return;
	}
	if (!more) /* -ENOBUFS, or the kernel ended the multishot: re-arm when buffers are back */
		w->rearm[w->nrearm++] = (uint32_t)(c - w->conns);
	if (w->o->new_conn && !c->nflight && !c->server_close) {
		conn_close(w, c); /* the client closes first: TIME_WAIT stays on this side */
		return;
	}
	mark_ready(w, c);
}

static void on_cqe(struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	enum op op = (enum op)(ud >> 56);
	uint32_t gen = (uint32_t)(ud >> 32) & 0xffffff, slot = (uint32_t)ud;
	struct conn *c = &w->conns[slot];

	if (gen != c->gen) { /* cannot happen while ops are counted; keep buffers safe */
		if (cqe->flags & IORING_CQE_F_BUFFER)
			pxd_bufring_put(&w->br, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		return;
	}
	switch (op) {
	case OP_CONNECT:
		on_connect(w, c, cqe->res);
		break;
	case OP_SEND:
		on_send(w, c, cqe->res);
		break;
	case OP_RECV:
		on_recv(w, c, cqe);
		break;
	case OP_SHUTDOWN:
		c->ops--;
		try_close(w, c);
		break;
	case OP_CLOSE:
		release_slot(w, c);
		break;
	}
}

/* Fails connects and requests that waited longer than --timeout. */
static void scan_timeouts(struct worker *w)
{
	uint64_t limit = (uint64_t)(w->o->timeout_s * NS);

	for (unsigned i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if ((c->state == CONN_CONNECTING || (c->state == CONN_OPEN && c->nflight)) &&
		    w->now - c->active_ns > limit)
			conn_fail(w, c, EK_TIMEOUT);
	}
}

/* Waits at most <wait_ns> for completions (polls below SPIN_NS) and handles them. */
static void poll_ring(struct worker *w, uint64_t wait_ns)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(wait_ns / NS),
					.tv_nsec = (long long)(wait_ns % NS) };
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int err;

	for (uint32_t i = 0; i < w->ndirty; i++) {
		struct conn *c = &w->conns[w->dirty[i]];

		c->in_dirty = false;
		flush(w, c);
	}
	w->ndirty = 0;
	if (wait_ns < SPIN_NS) /* DEFER_TASKRUN: completions run only when we enter */
		err = io_uring_submit_and_get_events(&w->ring);
	else
		err = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	if (err < 0 && err != -ETIME && err != -EINTR && err != -EBUSY && !w->fatal)
		w->fatal = err;
	w->now = mono_ns();
	io_uring_for_each_cqe (&w->ring, head, cqe) {
		on_cqe(w, cqe);
		n++;
	}
	io_uring_cq_advance(&w->ring, n);
	pxd_bufring_flush(&w->br);
	while (w->nrearm) {
		struct conn *c = &w->conns[w->rearm[--w->nrearm]];

		if (c->state == CONN_OPEN && !c->recv_armed)
			arm_recv(w, c);
	}
}

/* Burst: 1x, ramp to <f>x, hold, ramp down, 1x, each a fifth of the run. */
static double rate_factor(const struct opts *o, double frac)
{
	double f = o->burst_factor;

	if (!o->burst || frac < 0.2 || frac >= 0.8)
		return 1;
	if (frac < 0.4)
		return 1 + (f - 1) * (frac - 0.2) / 0.2;
	if (frac < 0.6)
		return f;
	return f - (f - 1) * (frac - 0.6) / 0.2;
}

static uint64_t next_interval(const struct worker *w, uint64_t due)
{
	double frac =
	    w->o->duration_s > 0 ? (double)(due - w->start) / (w->o->duration_s * (double)NS) : 0;

	return (uint64_t)((double)NS / (w->rate * rate_factor(w->o, frac)));
}

/* Issues what the schedule (open loop) or free capacity (closed loop) allows now. */
static void drive(struct worker *w)
{
	const struct opts *o = w->o;
	bool quota_left = !o->requests || w->quota;
	struct conn *c;

	if (w->stopping)
		return;
	if (!o->rate) {
		if (w->now >= w->end)
			return;
		if (!o->new_conn || o->idle) {
			while (quota_left && (c = pop_ready(w))) {
				unsigned room = o->idle ? 1 : o->pipeline - c->nflight;

				while (room-- && (!o->requests || w->quota))
					issue(w, c, w->now);
				quota_left = !o->requests || w->quota;
			}
		} else {
			while (w->active < w->nconns && w->connecting < CONNECTS_IN_FLIGHT &&
			       w->now >= w->hold_until && (!o->requests || w->quota))
				conn_start(w,
					   o->requests ? (unsigned)PXD_MIN(w->quota, o->pipeline)
						       : o->pipeline,
					   w->now);
		}
		return;
	}
	while (w->next_due <= w->now && w->next_due < w->end && (!o->requests || w->quota)) {
		if (o->new_conn) {
			if (w->active >= w->nconns || w->connecting >= CONNECTS_IN_FLIGHT ||
			    w->now < w->hold_until)
				break;
			conn_start(w, 1, w->next_due);
		} else {
			if (!(c = pop_ready(w)))
				break; /* all busy: the request waits, its latency grows */
			issue(w, c, w->next_due);
			mark_ready(w, c);
		}
		w->next_due += next_interval(w, w->next_due);
	}
}

/* Counts the schedule's requests from the next due one to the deadline. */
static uint64_t unsent_dues(const struct worker *w)
{
	uint64_t n = 0;

	if (w->next_due >= w->end)
		return 0;
	if (!w->o->burst)
		n = (uint64_t)((double)(w->end - w->next_due) * w->rate / (double)NS) + 1;
	else
		for (uint64_t due = w->next_due; due < w->end; due += next_interval(w, due))
			n++;
	return w->o->requests ? PXD_MIN(n, w->quota) : n;
}

/* Keeps keep-alive connections up to the target count (after errors, server closes). */
static void maintain(struct worker *w)
{
	const struct opts *o = w->o;

	if (o->new_conn || w->stopping || (o->idle && w->start))
		return;
	while (w->active < w->nconns && w->connecting < CONNECTS_IN_FLIGHT &&
	       w->now >= w->hold_until && w->nfree)
		conn_start(w, 0, w->now);
}

static int worker_setup(struct worker *w)
{
	const struct opts *o = w->o;
	unsigned n = w->nconns, depth = o->pipeline;
	int err;

	err = pxd_uring_setup(&w->ring, RING_ENTRIES);
	if (err)
		return err;
	w->ring_ok = true;
	err = pxd_bufring_init(&w->br, &w->ring, RECV_BUFS, RECV_BUF_SIZE);
	if (err)
		return err;
	w->br_ok = true;
	w->conns = calloc(n, sizeof(*w->conns));
	w->free_slots = calloc(n, sizeof(uint32_t));
	w->ready = calloc(n, sizeof(uint32_t));
	w->dirty = calloc(n, sizeof(uint32_t));
	w->rearm = calloc(n, sizeof(uint32_t));
	w->iov_mem = calloc((size_t)n * depth * IOV_PER_REQ, sizeof(struct iovec));
	w->id_mem = calloc((size_t)n * depth, ID_LEN);
	w->fl_mem = calloc((size_t)n * depth, sizeof(struct flight));
	if (w->pool->scratch_len &&
	    !(w->scratch_mem = malloc((size_t)n * depth * w->pool->scratch_len)))
		return -ENOMEM;
	w->src_addrs = calloc(PXD_MAX(o->sources, 1), sizeof(struct sockaddr_in));
	if (!w->conns || !w->free_slots || !w->ready || !w->dirty || !w->rearm || !w->iov_mem ||
	    !w->id_mem || !w->fl_mem || !w->src_addrs)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct conn *c = &w->conns[i];

		c->fd = -1;
		c->iov = w->iov_mem + (size_t)i * depth * IOV_PER_REQ;
		c->ids = w->id_mem + (size_t)i * depth * ID_LEN;
		c->fl = w->fl_mem + (size_t)i * depth;
		if (w->scratch_mem)
			c->scratch = w->scratch_mem + (size_t)i * depth * w->pool->scratch_len;
		w->free_slots[n - 1 - i] = i;
	}
	w->nfree = n;
	/* Source i is 127.(1 + i % 254).(i / 254 % 256).(1 + i / 65024 % 254): spread over /16s. */
	for (unsigned i = 0; i < o->sources; i++) {
		struct sockaddr_in *a = &w->src_addrs[i];
		unsigned j = (i + w->idx * 7919u) % o->sources;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(127u << 24 | (1 + j % 254) << 16 | (j / 254 % 256) << 8 |
					   (1 + j / 65024 % 254));
	}
	w->tmpl_next = (w->idx * 997u) % POOL_SIZE;
	w->cur_sec = SIZE_MAX;
	return 0;
}

static void worker_teardown(struct worker *w)
{
	for (unsigned i = 0; w->conns && i < w->nconns; i++)
		if (w->conns[i].fd >= 0)
			close(w->conns[i].fd);
	if (w->br_ok)
		pxd_bufring_fini(&w->br, &w->ring);
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	free(w->conns);
	free(w->free_slots);
	free(w->ready);
	free(w->dirty);
	free(w->rearm);
	free(w->iov_mem);
	free(w->id_mem);
	free(w->scratch_mem);
	free(w->fl_mem);
	free(w->src_addrs);
}

static pthread_barrier_t g_barrier;
static _Atomic uint64_t g_start;

/* Keep-alive runs connect everything before the clock starts: setup is not load. */
static void preconnect(struct worker *w)
{
	uint64_t limit = (uint64_t)(w->o->timeout_s * NS);
	unsigned started = 0;

	w->now = mono_ns();
	while (!w->fatal) {
		while (started < w->nconns && w->connecting < CONNECTS_IN_FLIGHT) {
			conn_start(w, 0, w->now);
			started++;
		}
		if (started == w->nconns && !w->connecting)
			break;
		poll_ring(w, TICK_NS);
		for (unsigned i = 0; i < w->nconns; i++)
			if (w->conns[i].state == CONN_CONNECTING &&
			    w->now - w->conns[i].active_ns > limit)
				conn_fail(w, &w->conns[i], EK_TIMEOUT);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;

	w->fatal = worker_setup(w);
	if (!w->fatal && !o->new_conn)
		preconnect(w);
	pthread_barrier_wait(&g_barrier); /* all connected */
	pthread_barrier_wait(&g_barrier); /* the clock is set */
	w->start = w->now = atomic_load(&g_start);
	w->end = o->duration_s ? w->start + (uint64_t)(o->duration_s * (double)NS) : UINT64_MAX;
	w->next_due = w->start;
	w->next_tick = w->start + TICK_NS;
	while (!w->fatal) {
		uint64_t wait = TICK_NS;

		maintain(w);
		drive(w); /* before the deadline check: requests due before it still go */
		if (!w->stopping && (w->now >= w->end || (o->requests && !w->quota))) {
			w->stopping = true;
			w->stop_at = w->now;
		}
		if (w->stopping && (o->idle || (!w->inflight && !w->connecting) ||
				    w->now >= w->stop_at + DRAIN_GRACE_NS))
			break;
		if (o->rate && !w->stopping && w->next_due > w->now)
			wait = PXD_MIN(wait, w->next_due - w->now);
		if (!w->stopping && w->end > w->now)
			wait = PXD_MIN(wait, w->end - w->now);
		poll_ring(w, wait);
		if (w->now >= w->next_tick) {
			scan_timeouts(w);
			w->next_tick = w->now + TICK_NS;
			sec_at(w, w->now);
		}
	}
	w->st.in_flight_at_end = w->inflight;
	if (o->rate && w->now >= w->end) /* due but never sent: reported, not hidden */
		w->st.unsent_at_end = unsent_dues(w);
	atomic_store(&w->finished, true);
	return NULL;
}

/* ---- main: setup, progress, report --------------------------------------------------------- */

static int raise_nofile(unsigned conns)
{
	rlim_t need = (rlim_t)conns + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need; /* needs CAP_SYS_RESOURCE: root */
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		int err = -errno;

		getrlimit(RLIMIT_NOFILE, &rl);
		fprintf(stderr,
			"pixelload: %u connections need %llu open files, the limit is %llu (hard "
			"%llu): raise it (ulimit -n, as root) or use fewer -c\n",
			conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
			(unsigned long long)rl.rlim_max);
		return err;
	}
	return 0;
}

/* One blocking connect with a 2 s limit, so a down target gets one clear line. */
static int check_target(const struct opts *o)
{
	int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&o->addr, o->addrlen) && errno != EINPROGRESS)
		err = -errno;
	else if (poll(&pfd, 1, 2000) != 1)
		err = -ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		err = -(err ? err : errno);
	close(fd);
	if (err == -ECONNREFUSED)
		fprintf(stderr,
			"pixelload: %s refused the connection: is the server running and "
			"listening on that address?\n",
			o->target);
	else if (err == -ETIMEDOUT)
		fprintf(stderr,
			"pixelload: %s did not accept a connection within 2 s: check the "
			"address, the route and any firewall\n",
			o->target);
	else if (err)
		fprintf(stderr, "pixelload: cannot connect to %s: %s\n", o->target, strerror(-err));
	return err;
}

static void progress(struct worker *ws, unsigned n, double t, uint64_t *last, bool tty)
{
	uint64_t ans = 0, failed = 0, non2xx = 0, p99 = 0;

	for (unsigned i = 0; i < n; i++) {
		ans += atomic_load_explicit(&ws[i].pub_answered, memory_order_relaxed);
		failed += atomic_load_explicit(&ws[i].pub_failed, memory_order_relaxed);
		non2xx += atomic_load_explicit(&ws[i].pub_non2xx, memory_order_relaxed);
		p99 = PXD_MAX(p99, atomic_load_explicit(&ws[i].pub_p99, memory_order_relaxed));
	}
	if (tty)
		fprintf(stderr,
			"\r%6.1fs %10llu req/s  answered %llu  non-2xx %llu  failed %llu  "
			"p99 %llu us\033[K",
			t, (unsigned long long)(ans - *last), (unsigned long long)ans,
			(unsigned long long)non2xx, (unsigned long long)failed,
			(unsigned long long)p99);
	*last = ans;
}

static void merge_stats(struct stats *into, const struct stats *s)
{
	into->sent += s->sent;
	into->answered += s->answered;
	into->failed += s->failed;
	into->non2xx += s->non2xx;
	into->conns_opened += s->conns_opened;
	into->bytes_sent += s->bytes_sent;
	into->bytes_recv += s->bytes_recv;
	into->unsent_at_end += s->unsent_at_end;
	into->in_flight_at_end += s->in_flight_at_end;
	into->idle_closed += s->idle_closed;
	for (unsigned i = 0; i < 600; i++)
		into->status[i] += s->status[i];
	for (unsigned i = 0; i < EK_COUNT; i++)
		into->err[i] += s->err[i];
	for (unsigned k = 0; k < RK_COUNT; k++) {
		into->kind[k].sent += s->kind[k].sent;
		into->kind[k].answered += s->kind[k].answered;
		into->kind[k].ok += s->kind[k].ok;
		into->kind[k].events += s->kind[k].events;
		into->kind[k].bot_ok += s->kind[k].bot_ok;
		into->kind[k].bot_events += s->kind[k].bot_events;
	}
	hist_merge(&into->lat, &s->lat);
	hist_merge(&into->lag, &s->lag);
}

static json_t *lat_json(const struct hist *h)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "count", (json_int_t)h->count, "min",
			 (json_int_t)h->min, "p50", (json_int_t)hist_pct(h, 50), "p90",
			 (json_int_t)hist_pct(h, 90), "p99", (json_int_t)hist_pct(h, 99), "p99_9",
			 (json_int_t)hist_pct(h, 99.9), "max", (json_int_t)h->max, "mean",
			 h->count ? (double)h->sum / (double)h->count : 0.0);
}

static json_t *config_json(const struct opts *o)
{
	json_t *mix = json_object(), *argv = json_array();

	for (int k = 0; k < MIX_KINDS; k++)
		if (o->weight[k] > 0)
			json_object_set_new(mix, rkind_name[k], json_real(o->weight[k]));
	for (int i = 0; i < o->argc; i++)
		json_array_append_new(argv, json_string(o->argv[i]));
	return json_pack(
	    "{s:o,s:s,s:s,s:s,s:I,s:I,s:I,s:b,s:I,s:f,s:I,s:s,s:f,s:f,s:o,s:I,s:f,s:f,s:b,s:f}",
	    "argv", argv, "target", o->target, "host", o->host, "loop", o->rate ? "open" : "closed",
	    "threads", (json_int_t)o->threads, "connections", (json_int_t)o->conns, "pipeline",
	    (json_int_t)o->pipeline, "new_conn", o->new_conn, "sources", (json_int_t)o->sources,
	    "duration_s", o->duration_s, "requests", (json_int_t)o->requests, "profile", o->profile,
	    "rate", o->rate, "burst_factor", o->burst ? o->burst_factor : 1.0, "mix", mix, "batch",
	    (json_int_t)o->batch, "bot_share", o->bot_share, "forged_share", o->forged_share,
	    "idle", o->idle, "timeout_s", o->timeout_s);
}

static int write_json(const struct opts *o, const struct pool *pool, const struct stats *st,
		      struct worker *ws, double elapsed, double cpu_s, uint64_t idle_ready)
{
	json_t *root = json_object(), *status = json_object(), *errs = json_object();
	json_t *kinds = json_object(), *series = json_array();
	size_t nsec = 0;
	char key[8];
	int err = 0;

	for (unsigned i = 0; i < 600; i++)
		if (st->status[i]) {
			snprintf(key, sizeof(key), "%u", i);
			json_object_set_new(status, key, json_integer((json_int_t)st->status[i]));
		}
	for (unsigned e = 0; e < EK_COUNT; e++)
		json_object_set_new(errs, ekind_name[e], json_integer((json_int_t)st->err[e]));
	for (unsigned k = 0; k < RK_COUNT; k++) {
		const struct kstats *s = &st->kind[k];

		if (s->sent)
			json_object_set_new(
			    kinds, rkind_name[k],
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "sent", (json_int_t)s->sent,
				      "answered", (json_int_t)s->answered, "ok_2xx",
				      (json_int_t)s->ok, "events_in_2xx", (json_int_t)s->events,
				      "bot_ok_2xx", (json_int_t)s->bot_ok, "bot_events_in_2xx",
				      (json_int_t)s->bot_events));
	}
	for (unsigned i = 0; i < o->threads; i++)
		nsec = PXD_MAX(nsec, ws[i].used_secs);
	for (size_t t = 0; t < nsec; t++) {
		struct hist *h = calloc(1, sizeof(*h));
		uint64_t ans = 0, errors = 0, non2xx = 0;

		if (!h) {
			err = -ENOMEM;
			break;
		}
		for (unsigned i = 0; i < o->threads; i++) {
			if (t >= ws[i].used_secs)
				continue;
			ans += ws[i].secs[t].answered;
			errors += ws[i].secs[t].errors;
			non2xx += ws[i].secs[t].non2xx;
			if (ws[i].secs[t].h)
				hist_merge(h, ws[i].secs[t].h);
		}
		json_array_append_new(
		    series, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "t", (json_int_t)t, "answered",
				      (json_int_t)ans, "non_2xx", (json_int_t)non2xx, "errors",
				      (json_int_t)errors, "p50_us", (json_int_t)hist_pct(h, 50),
				      "p99_us", (json_int_t)hist_pct(h, 99)));
		free(h);
	}
	uint64_t events = 0, bot_events = 0;

	for (unsigned k = 0; k < RK_COUNT; k++) {
		events += st->kind[k].events;
		bot_events += st->kind[k].bot_events;
	}
	json_object_set_new(root, "tool", json_string("pixelload"));
	json_object_set_new(root, "run_id", json_string(pool->run_id));
	json_object_set_new(root, "config", config_json(o));
	json_object_set_new(
	    root, "totals",
	    json_pack("{s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:f}",
		      "elapsed_s", elapsed, "sent", (json_int_t)st->sent, "answered",
		      (json_int_t)st->answered, "ok_2xx", (json_int_t)(st->answered - st->non2xx),
		      "non_2xx", (json_int_t)st->non2xx, "failed", (json_int_t)st->failed,
		      "in_flight_at_end", (json_int_t)st->in_flight_at_end, "unsent_at_end",
		      (json_int_t)st->unsent_at_end, "answered_per_s",
		      elapsed > 0 ? (double)st->answered / elapsed : 0.0, "ok_per_s",
		      elapsed > 0 ? (double)(st->answered - st->non2xx) / elapsed : 0.0,
		      "events_in_2xx", (json_int_t)events, "bot_events_in_2xx",
		      (json_int_t)bot_events, "connections_opened", (json_int_t)st->conns_opened,
		      "bytes_sent", (json_int_t)st->bytes_sent, "bytes_received",
		      (json_int_t)st->bytes_recv, "client_cpu_s", cpu_s));
	json_object_set_new(root, "status", status);
	json_object_set_new(root, "errors", errs);
	json_object_set_new(root, "kinds", kinds);
	json_object_set_new(root, "latency_us", lat_json(&st->lat));
	json_object_set_new(root, "latency_from",
			    json_string(o->rate	      ? "intended send time (open loop)"
					: o->new_conn ? "connect start"
						      : "send time (closed loop)"));
	if (o->rate)
		json_object_set_new(root, "send_lag_us", lat_json(&st->lag));
	if (o->idle)
		json_object_set_new(root, "idle",
				    json_pack("{s:I,s:I,s:I}", "connections", (json_int_t)o->conns,
					      "answered_at_ready", (json_int_t)idle_ready,
					      "closed_by_server", (json_int_t)st->idle_closed));
	json_object_set_new(root, "series", series);
	if (!err && json_dump_file(root, o->json_path, JSON_INDENT(1)) < 0) {
		fprintf(stderr,
			"pixelload: cannot write %s: check the directory exists and is "
			"writable\n",
			o->json_path);
		err = -EIO;
	}
	json_decref(root);
	return err;
}

static void print_summary(const struct opts *o, const struct stats *st, double elapsed)
{
	const struct hist *h = &st->lat;
	uint64_t events = 0, bot_events = 0;
	bool any = false;

	printf("pixelload: %s, %s loop%s, %u %s connection%s, pipeline %u, %u thread%s, %.1f s\n",
	       o->target, o->rate ? "open" : "closed", o->burst ? " (burst)" : "", o->conns,
	       o->new_conn ? "new" : "keep-alive", o->conns == 1 ? "" : "s", o->pipeline,
	       o->threads, o->threads == 1 ? "" : "s", elapsed);
	printf("requests: %llu sent, %llu answered, %llu of them 2xx (%.0f 2xx/s), %llu failed, "
	       "%llu in flight at end\n",
	       (unsigned long long)st->sent, (unsigned long long)st->answered,
	       (unsigned long long)(st->answered - st->non2xx),
	       elapsed > 0 ? (double)(st->answered - st->non2xx) / elapsed : 0.0,
	       (unsigned long long)st->failed, (unsigned long long)st->in_flight_at_end);
	printf("status:  ");
	for (unsigned i = 0; i < 600; i++)
		if (st->status[i])
			printf(" %u x%llu", i, (unsigned long long)st->status[i]);
	printf("%s\nerrors:  ", st->answered ? "" : " (none)");
	for (unsigned e = 0; e < EK_COUNT; e++)
		if (st->err[e]) {
			printf(" %s %llu", ekind_name[e], (unsigned long long)st->err[e]);
			any = true;
		}
	printf("%s\n", any ? "" : " none");
	printf("latency from %s: p50 %llu us, p90 %llu, p99 %llu, p99.9 %llu, max %llu\n",
	       o->rate	     ? "intended send"
	       : o->new_conn ? "connect"
			     : "send",
	       (unsigned long long)hist_pct(h, 50), (unsigned long long)hist_pct(h, 90),
	       (unsigned long long)hist_pct(h, 99), (unsigned long long)hist_pct(h, 99.9),
	       (unsigned long long)h->max);
	for (unsigned k = 0; k < RK_COUNT; k++) {
		events += st->kind[k].events;
		bot_events += st->kind[k].bot_events;
	}
	printf("events:   %llu in 2xx answers, %llu more from bot user agents\n",
	       (unsigned long long)events, (unsigned long long)bot_events);
	if (o->rate) /* part of the latency: no free connection, or pixelload itself behind */
		printf("send lag (intended to actual send): p50 %llu us, p99 %llu, max %llu\n",
		       (unsigned long long)hist_pct(&st->lag, 50),
		       (unsigned long long)hist_pct(&st->lag, 99), (unsigned long long)st->lag.max);
	if (st->non2xx)
		printf("WARNING: %llu answers were not 2xx (listed under status); they are not "
		       "successes\n",
		       (unsigned long long)st->non2xx);
	if (st->unsent_at_end)
		printf(
		    "WARNING: %llu requests were due but never sent: the target could not keep up "
		    "with the rate; the percentiles leave them out\n",
		    (unsigned long long)st->unsent_at_end);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct pool *pool = NULL;
	struct worker *ws = NULL;
	struct stats *total = NULL;
	struct rusage ru;
	uint64_t t_start, t_end, last = 0, idle_ready = 0;
	unsigned started = 0;
	bool tty, ready_said = false;
	int rc, err;

	rc = parse_opts(&o, argc, argv);
	if (rc)
		return rc;
	if (raise_nofile(o.conns) || check_target(&o))
		return 1;
	pool = calloc(1, sizeof(*pool));
	ws = calloc(o.threads, sizeof(*ws));
	total = calloc(1, sizeof(*total));
	if (!pool || !ws || !total) {
		fprintf(stderr, "pixelload: out of memory\n");
		rc = 1;
		goto out;
	}
	err = build_pool(pool, &o);
	if (err) {
		if (err == -ENOMEM)
			fprintf(stderr, "pixelload: out of memory building requests\n");
		rc = err == -ENOMEM ? 1 : 2;
		goto out;
	}
	if ((double)pool->scratch_len * o.conns * o.pipeline > (double)(1u << 30)) {
		fprintf(stderr,
			"pixelload: batches of %u events (%zu bytes) on %u connections x "
			"pipeline %u need over 1 GiB of send buffers: lower -c, -P or --batch\n",
			o.batch, pool->scratch_len, o.conns, o.pipeline);
		rc = 2;
		goto out;
	}
	pthread_barrier_init(&g_barrier, NULL, o.threads + 1);
	for (unsigned i = 0; i < o.threads; i++) {
		struct worker *w = &ws[i];

		w->idx = i;
		w->o = &o;
		w->pool = pool;
		w->nconns = o.conns / o.threads + (i < o.conns % o.threads);
		w->quota = o.requests ? o.requests / o.threads + (i < o.requests % o.threads) : 0;
		w->rate = o.rate / o.threads;
		if (pthread_create(&w->th, NULL, worker_main, w)) {
			/* The started threads wait on the barrier; leaving main ends them. */
			fprintf(stderr, "pixelload: cannot start thread %u of %u: lower -t\n", i,
				o.threads);
			return 1;
		}
		started++;
	}
	pthread_barrier_wait(&g_barrier);
	t_start = mono_ns();
	atomic_store(&g_start, t_start);
	pthread_barrier_wait(&g_barrier);

	tty = isatty(STDERR_FILENO) && !o.quiet;
	for (uint64_t next = t_start + NS;;) {
		unsigned fin = 0;

		for (unsigned i = 0; i < started; i++)
			fin += atomic_load(&ws[i].finished);
		if (o.idle && !ready_said) {
			uint64_t lost = 0, open = 0;

			idle_ready = 0;
			for (unsigned i = 0; i < started; i++) {
				idle_ready += atomic_load(&ws[i].pub_idle_done);
				lost += atomic_load(&ws[i].pub_idle_lost);
				open += atomic_load(&ws[i].pub_open);
			}
			if (idle_ready + lost >= o.conns) {
				printf("ready %llu idle connections open (%llu answered, %llu lost "
				       "before an answer)\n",
				       (unsigned long long)open, (unsigned long long)idle_ready,
				       (unsigned long long)lost);
				fflush(stdout);
				ready_said = true;
			}
		}
		if (fin == started)
			break;
		usleep(50000);
		if (mono_ns() >= next) {
			progress(ws, started, (double)(mono_ns() - t_start) / NS, &last, tty);
			next += NS;
		}
	}
	t_end = mono_ns();
	if (tty)
		fputc('\n', stderr);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(ws[i].th, NULL);
		merge_stats(total, &ws[i].st);
		if (ws[i].fatal) {
			fprintf(stderr, "pixelload: thread %u stopped: %s\n", i,
				strerror(-ws[i].fatal));
			rc = 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	double elapsed = (double)(t_end - t_start) / NS;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

	print_summary(&o, total, elapsed);
	if (o.json_path && write_json(&o, pool, total, ws, elapsed, cpu, idle_ready))
		rc = 1;
	if (!rc && !total->answered &&
	    (total->failed || total->err[EK_CONNECT_REFUSED] || total->err[EK_CONNECT] ||
	     total->err[EK_TIMEOUT])) {
		fprintf(stderr, "pixelload: no request was answered by %s (see errors above)\n",
			o.target);
		rc = 1;
	}
	if (!rc) {
		uint64_t errs = 0;

		for (unsigned e = 0; e < EK_COUNT; e++)
			errs += total->err[e];
		if (errs || total->non2xx || total->unsent_at_end)
			rc = 3;
	}
	for (unsigned i = 0; i < started; i++) {
		worker_teardown(&ws[i]);
		for (size_t s = 0; s < ws[i].nsecs; s++)
			free(ws[i].secs[s].h);
		free(ws[i].secs);
	}
	pthread_barrier_destroy(&g_barrier);
out:
	if (pool)
		free_pool(pool);
	free(pool);
	free(ws);
	free(total);
	return rc;
}
