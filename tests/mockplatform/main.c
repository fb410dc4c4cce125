// SPDX-License-Identifier: MIT
/*
 * main.c - mockplatform: one single-threaded epoll HTTP/1.1 server
 * that answers like Meta CAPI, GA4, Google Ads (and its OAuth token
 * endpoint), TikTok, a pixeld webhook receiver, LinkedIn, Snapchat,
 * Pinterest, Reddit, Segment, Amplitude, Mixpanel and PostHog
 * (mock_routes.h), records
 * every event it accepts as one JSONL line, and injects faults on demand
 * (flags, or POST /_control): a status or platform code for the next N
 * requests or for a time window, 429 with or without Retry-After, latency,
 * connection resets. GET /_stats counts. Sockets are non-blocking and every
 * buffer is bounded. `mockplatform --help` lists it all (mock_args.c).
 * About 750 lines, kept whole: the connection state machine, fault injection
 * and /_control all work on the one struct server of this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "http_parse.h"
#include "log.h"
#include "mock_args.h"
#include "mock_count.h"
#include "mock_routes.h"
#include "refusal.h"

#define MAX_FAULTS 32
#define MAX_EVENTS 64
#define READ_CHUNK 65536

/*
 * One injected fault. It applies to requests of <platform> (-1: any) while
 * <remaining> > 0 (count-based) or until <until_ms> (a window); each request
 * it hits gets the reset, the latency and the failure it describes, in that
 * order. status == 0 and code == 0 means "answer normally" (latency only).
 */
struct fault {
	int platform;
	int status;
	long code;
	long subcode;
	int retry_after_s; /* -1: no Retry-After header */
	uint32_t latency_ms;
	bool reset;
	uint32_t remaining; /* 0 with until_ms set: unlimited inside the window */
	int64_t until_ms;
};

enum conn_state {
	CONN_FREE = 0,
	CONN_READ,	  /* waiting for (more of) a request */
	CONN_HOLD,	  /* response ready, held back by injected latency */
	CONN_WRITE,	  /* sending the response */
	CONN_STATE_COUNT, /* number of states; keep last */
};

struct conn {
	int fd;
	enum conn_state state;
	struct pxd_buf in;
	struct pxd_buf out;
	size_t out_off;
	int64_t send_at_ms;
	bool close_after;
};

struct stats {
	uint64_t requests[PXD_MOCK_PLATFORM_COUNT];
	uint64_t accepted[PXD_MOCK_PLATFORM_COUNT]; /* events */
	uint64_t refused[PXD_MOCK_PLATFORM_COUNT];  /* requests with a refusal */
	uint64_t faults_fired;
	uint64_t resets;
	uint64_t connections;
};

struct server {
	int lfd;
	int epfd;
	int record_fd;
	struct conn *conns;
	size_t maxconns;
	size_t max_body;
	uint32_t latency_ms;
	bool verbose;
	const char *count_key; /* counting mode: see mock_count.h */
	struct pxd_mock mock;
	struct fault faults[MAX_FAULTS];
	size_t nfaults;
	struct stats st;
	char *scratch;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- faults --- */

/*
 * Adds the fault described by <o> ({"platform","status","code","subcode",
 * "count","for_ms","retry_after","latency_ms","reset"}). Returns 0, -EINVAL
 * (unknown platform) or -ENOSPC (too many faults).
 */
static int fault_add(struct server *s, const json_t *o)
{
	const char *p = json_string_value(json_object_get(o, "platform"));
	json_t *ra = json_object_get(o, "retry_after");
	int64_t for_ms = json_integer_value(json_object_get(o, "for_ms"));
	struct fault f = {
		.platform = p && strcmp(p, "*") ? pxd_mock_platform_parse(p) : -1,
		.status = (int)json_integer_value(json_object_get(o, "status")),
		.code = (long)json_integer_value(json_object_get(o, "code")),
		.subcode = (long)json_integer_value(json_object_get(o, "subcode")),
		.retry_after_s = json_is_integer(ra) ? (int)json_integer_value(ra) : -1,
		.latency_ms = (uint32_t)json_integer_value(json_object_get(o, "latency_ms")),
		.reset = json_is_true(json_object_get(o, "reset")) ||
			 json_integer_value(json_object_get(o, "reset")) > 0,
		.remaining = (uint32_t)json_integer_value(json_object_get(o, "count")),
	};

	if (p && strcmp(p, "*") && f.platform < 0)
		return -EINVAL;
	if (for_ms > 0)
		f.until_ms = now_ms() + for_ms;
	else if (!f.remaining)
		f.remaining = 1;
	if (s->nfaults == MAX_FAULTS)
		return -ENOSPC;
	s->faults[s->nfaults++] = f;
	return 0;
}

/* Takes the first fault that applies to a request of <p> now, or NULL. */
static const struct fault *fault_take(struct server *s, enum pxd_mock_platform p, int64_t now,
				      struct fault *copy)
{
	for (size_t i = 0; i < s->nfaults; i++) {
		struct fault *f = &s->faults[i];

		if (f->until_ms && now >= f->until_ms) {
			s->faults[i--] = s->faults[--s->nfaults];
			continue;
		}
		if (f->platform >= 0 && f->platform != (int)p)
			continue;
		*copy = *f;
		if (f->remaining && --f->remaining == 0 && !f->until_ms)
			s->faults[i] = s->faults[--s->nfaults];
		s->st.faults_fired++;
		return copy;
	}
	return NULL;
}

/* --- control and stats --- */

static json_t *stats_json(const struct server *s)
{
	json_t *req = json_object(), *acc = json_object(), *ref = json_object();

	for (int i = 0; i < PXD_MOCK_PLATFORM_COUNT; i++) {
		const char *n = pxd_mock_platform_name(i);

		json_object_set_new(req, n, json_integer((json_int_t)s->st.requests[i]));
		json_object_set_new(acc, n, json_integer((json_int_t)s->st.accepted[i]));
		json_object_set_new(ref, n, json_integer((json_int_t)s->st.refused[i]));
	}
	struct rusage ru;

	/* The mock's own CPU, so a benchmark can show it is not the bottleneck. */
	getrusage(RUSAGE_SELF, &ru);
	return json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:f}", "requests", req,
			 "accepted", acc, "refused", ref, "faults_fired",
			 (json_int_t)s->st.faults_fired, "faults_pending", (json_int_t)s->nfaults,
			 "resets", (json_int_t)s->st.resets, "connections",
			 (json_int_t)s->st.connections, "tokens_issued",
			 (json_int_t)s->mock.ntokens_issued, "cpu_s",
			 (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* Applies a control object; writes what went wrong to <why> and returns -EINVAL. */
static int control_apply(struct server *s, const json_t *o, char *why, size_t whylen)
{
	const json_t *v;
	int rc;

	if (!json_is_object(o)) {
		snprintf(why, whylen, "the body must be a JSON object");
		return -EINVAL;
	}
	if (json_is_true(json_object_get(o, "clear")))
		s->nfaults = 0;
	if (json_is_true(json_object_get(o, "reset_stats")))
		memset(&s->st, 0, sizeof(s->st));
	if (json_is_true(json_object_get(o, "revoke_tokens")))
		pxd_mock_revoke_tokens(&s->mock);
	if (json_is_string(v = json_object_get(o, "meta_reject_marker")))
		snprintf(s->mock.conf.meta_reject_marker, sizeof(s->mock.conf.meta_reject_marker),
			 "%s", json_string_value(v));
	if (json_is_string(v = json_object_get(o, "gads_row_error")))
		snprintf(s->mock.conf.gads_row_error, sizeof(s->mock.conf.gads_row_error), "%s",
			 json_string_value(v));
	if (json_is_string(v = json_object_get(o, "reject_marker")))
		snprintf(s->mock.conf.reject_marker, sizeof(s->mock.conf.reject_marker), "%s",
			 json_string_value(v));
	if (!json_object_get(o, "status") && !json_object_get(o, "code") &&
	    !json_object_get(o, "latency_ms") && !json_object_get(o, "reset"))
		return 0;
	rc = fault_add(s, o);
	if (rc)
		snprintf(why, whylen,
			 rc == -ENOSPC ? "too many faults pending (%d); clear first"
				       : "unknown platform; use meta, ga4, google_ads, "
					 "oauth, tiktok, webhook, linkedin, snapchat, "
					 "pinterest, reddit, segment, amplitude, "
					 "mixpanel, posthog or *",
			 MAX_FAULTS);
	return rc;
}

/* --- HTTP --- */

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

static int respond(struct conn *c, const struct pxd_mock_resp *r)
{
	int rc = pxd_buf_printf(&c->out,
				"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				"Connection: %s\r\n",
				r->status, status_text(r->status), r->content_type, r->body.len,
				c->close_after ? "close" : "keep-alive");

	if (!rc && r->retry_after_s >= 0)
		rc = pxd_buf_printf(&c->out, "Retry-After: %d\r\n", r->retry_after_s);
	if (!rc && r->extra_header[0])
		rc = pxd_buf_printf(&c->out, "%s\r\n", r->extra_header);
	if (!rc)
		rc = pxd_buf_append(&c->out, "\r\n", 2);
	if (!rc && r->body.len)
		rc = pxd_buf_append(&c->out, r->body.p, r->body.len);
	return rc;
}

/* Appends the accepted events to the record file, one JSONL line each. */
static void record(struct server *s, enum pxd_mock_platform p, json_t *records, int64_t now)
{
	struct pxd_buf b = { 0 };
	json_t *rec;
	size_t i;

	json_array_foreach(records, i, rec)
	{
		char *line;

		json_object_set_new(rec, "received_at", json_integer(now));
		line = json_dumps(rec, JSON_COMPACT);
		if (line && s->record_fd >= 0)
			pxd_buf_printf(&b, "%s\n", line);
		free(line);
	}
	s->st.accepted[p] += json_array_size(records);
	/* One write per request: O_APPEND keeps lines whole. */
	if (b.len && write(s->record_fd, b.p, b.len) != (ssize_t)b.len)
		pxd_log_warn("mock", "record file: short write; the recording lacks events");
	pxd_buf_free(&b);
}

static void answer_platform(struct server *s, struct conn *c, enum pxd_mock_platform p,
			    const struct pxd_http_req *req, struct pxd_mock_resp *r)
{
	int64_t now = now_ms();
	struct fault copy;
	const struct fault *f = fault_take(s, p, now, &copy);
	uint32_t latency = s->latency_ms;

	s->st.requests[p]++;
	if (f && f->reset) {
		struct linger lg = { 1, 0 };

		/* SO_LINGER 0: close() sends RST, as a crashed peer would. */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		s->st.resets++;
		c->close_after = true;
		c->state = CONN_FREE;
		return;
	}
	if (f)
		latency += f->latency_ms;
	if (f && (f->status || f->code)) {
		pxd_mock_fault_reply(&s->mock, p, f->status, f->code, f->subcode, r);
		r->retry_after_s = f->retry_after_s;
		r->refused = true;
	} else if (s->count_key) {
		s->st.accepted[p] += pxd_mock_count(req->body.p, req->body.n, s->count_key);
		r->status = 200;
		pxd_buf_puts(&r->body, "{}");
	} else {
		pxd_mock_handle(&s->mock, p, req, now, r);
		record(s, p, r->records, now);
	}
	s->st.refused[p] += r->refused;
	if (s->verbose)
		pxd_log_info("mock", "%s %.*s -> %d (%zu events)", pxd_mock_platform_name(p),
			     (int)req->path.n, req->path.p, r->status, json_array_size(r->records));
	c->send_at_ms = latency ? now + latency : 0;
}

static void answer(struct server *s, struct conn *c, const struct pxd_http_req *req)
{
	struct pxd_mock_resp r;
	char why[160];
	json_t *o;
	int p;

	pxd_mock_resp_init(&r);
	c->close_after = !req->keep_alive;
	if (pxd_sv_eq_lit(req->path, "/_stats")) {
		r.status = 200;
		o = stats_json(s);
		if (o) {
			char *t = json_dumps(o, JSON_COMPACT);

			pxd_buf_printf(&r.body, "%s\n", t ? t : "{}");
			free(t);
		}
		json_decref(o);
	} else if (pxd_sv_eq_lit(req->path, "/_control") && req->method == PXD_HTTP_POST) {
		o = json_loadb(req->body.p, req->body.n, 0, NULL);
		why[0] = '\0';
		r.status = control_apply(s, o, why, sizeof(why)) ? 400 : 200;
		pxd_buf_printf(&r.body, "{\"ok\":%s,\"faults\":%zu%s%s%s}\n",
			       r.status == 200 ? "true" : "false", s->nfaults,
			       why[0] ? ",\"error\":\"" : "", why, why[0] ? "\"" : "");
		json_decref(o);
	} else if ((p = pxd_mock_route(req->path)) >= 0) {
		answer_platform(s, c, (enum pxd_mock_platform)p, req, &r);
	} else {
		r.status = 404;
		pxd_buf_printf(&r.body, "{\"error\":\"no mock endpoint at %.*s\"}\n",
			       (int)PXD_MIN(req->path.n, 200), req->path.p);
	}
	if (c->state != CONN_FREE && respond(c, &r))
		c->close_after = true;
	pxd_mock_resp_fini(&r);
}

static void refuse(struct conn *c, int status)
{
	struct pxd_mock_resp r;

	pxd_mock_resp_init(&r);
	r.status = status;
	c->close_after = true;
	respond(c, &r);
	pxd_mock_resp_fini(&r);
}

/*
 * Parses the request at the head of <c>'s input. Returns its length, 0 when
 * more bytes are needed, or -1 after queueing a refusal.
 *
 * pxd_http_parse_request() holds bodies to the ingest limit
 * (PXD_HTTP_MAX_BODY, 64 KiB) while a 1,000-event Meta batch is ~700 kB: a
 * Content-Length body over that limit is framed here, after the parser has
 * checked the request line and headers, up to --max-body.
 */
static ssize_t parse(struct server *s, struct conn *c, struct pxd_http_req *req)
{
	enum pxd_refusal why;
	ssize_t n =
	    pxd_http_parse_request(c->in.p, c->in.len, req, s->scratch, PXD_HTTP_MAX_BODY, &why);
	const char *end;
	size_t head;

	if (n > 0)
		return n;
	if (n == -EAGAIN)
		return 0;
	end = memmem(c->in.p, c->in.len, "\r\n\r\n", 4);
	if (n == -EPROTO && why == PXD_REFUSAL_BODY_TOO_LARGE && req->has_content_length &&
	    !req->chunked && end) {
		head = (size_t)(end + 4 - c->in.p);
		if (req->content_length > s->max_body) {
			refuse(c, 413);
			return -1;
		}
		if (c->in.len - head < req->content_length)
			return 0;
		req->body = pxd_sv_make(c->in.p + head, req->content_length);
		return (ssize_t)(head + req->content_length);
	}
	refuse(c, n == -EPROTO ? pxd_refusal_info(why)->status : 400);
	return -1;
}

/* --- connections and the loop --- */

static void conn_close(struct server *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	pxd_buf_free(&c->in);
	pxd_buf_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	s->st.connections--;
}

static void conn_watch(struct server *s, struct conn *c)
{
	struct epoll_event ev = {
		.events = c->state == CONN_READ	   ? EPOLLIN
			  : c->state == CONN_WRITE ? EPOLLOUT
						   : 0,
		.data.u32 = (uint32_t)(c - s->conns),
	};

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Handles every complete request in <c>'s input, one response at a time. */
static void conn_process(struct server *s, struct conn *c)
{
	struct pxd_http_req req;

	while (c->state == CONN_READ && c->in.len) {
		ssize_t n = parse(s, c, &req);

		if (n == 0)
			break;
		if (n > 0) {
			answer(s, c, &req);
			memmove(c->in.p, c->in.p + n, c->in.len - (size_t)n);
			c->in.len -= (size_t)n;
		}
		if (c->state == CONN_FREE) {
			conn_close(s, c);
			return;
		}
		c->state = c->send_at_ms ? CONN_HOLD : CONN_WRITE;
	}
	conn_watch(s, c);
}

static void conn_flush(struct server *s, struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			conn_watch(s, c);
			return;
		}
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out.len = 0;
	c->out_off = 0;
	if (c->close_after) {
		conn_close(s, c);
		return;
	}
	c->state = CONN_READ;
	conn_process(s, c);
}

static void conn_read(struct server *s, struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->in.len >= s->max_body + PXD_HTTP_MAX_HEAD) {
			refuse(c, 413);
			c->state = CONN_WRITE;
			conn_flush(s, c);
			return;
		}
		if (pxd_buf_reserve(&c->in, READ_CHUNK)) {
			conn_close(s, c);
			return;
		}
		n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		c->in.len += (size_t)n;
	}
	conn_process(s, c);
	if (c->fd >= 0 && c->state == CONN_WRITE)
		conn_flush(s, c);
}

static void accept_all(struct server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		for (size_t i = 0; i < s->maxconns && !c; i++)
			if (s->conns[i].state == CONN_FREE)
				c = &s->conns[i];
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONN_READ;
		ev.data.u32 = (uint32_t)(c - s->conns);
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			memset(c, 0, sizeof(*c));
			c->fd = -1;
			continue;
		}
		s->st.connections++;
	}
}

/* Sends the held responses that are due; returns ms until the next one, or -1. */
static int release_held(struct server *s)
{
	int64_t now = now_ms(), next = -1;

	for (size_t i = 0; i < s->maxconns; i++) {
		struct conn *c = &s->conns[i];

		if (c->state != CONN_HOLD)
			continue;
		if (c->send_at_ms <= now) {
			c->state = CONN_WRITE;
			c->send_at_ms = 0;
			conn_flush(s, c);
		} else if (next < 0 || c->send_at_ms - now < next) {
			next = c->send_at_ms - now;
		}
	}
	return (int)next;
}

static void run(struct server *s)
{
	struct epoll_event evs[MAX_EVENTS];

	while (!stop) {
		int timeout = release_held(s);
		int n = epoll_wait(s->epfd, evs, MAX_EVENTS, timeout);

		for (int i = 0; i < n; i++) {
			struct conn *c;

			if (evs[i].data.u32 == UINT32_MAX) {
				accept_all(s);
				continue;
			}
			c = &s->conns[evs[i].data.u32];
			if (c->state == CONN_READ)
				conn_read(s, c);
			else if (c->state == CONN_WRITE)
				conn_flush(s, c);
		}
	}
}

/* --- start-up --- */

static int listen_on(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	int fd = -1, one = 1;
	size_t hl;

	if (!colon || colon == addr)
		return -EINVAL;
	hl = (size_t)(colon - addr);
	if (addr[0] == '[' && hl > 2 && addr[hl - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)hl - 2, addr + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hl, addr);
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1024)) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err;
	}
	freeaddrinfo(ai);
	return fd;
}

static void print_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[64], port[16];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV))
		return;
	printf("mockplatform listening on %s%s%s:%s\n", ss.ss_family == AF_INET6 ? "[" : "", host,
	       ss.ss_family == AF_INET6 ? "]" : "", port);
	fflush(stdout);
}

static int setup(struct server *s, const char *listen_addr, const char *record_path,
		 const struct pxd_mock_conf *conf, json_t *faults)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	char why[160];
	json_t *f;
	size_t i;

	if (pxd_mock_init(&s->mock, conf))
		return -ENOMEM;
	json_array_foreach(faults, i, f)
	{
		if (control_apply(s, f, why, sizeof(why))) {
			fprintf(stderr, "mockplatform: --fault #%zu: %s\n", i + 1, why);
			return -EINVAL;
		}
	}
	if (record_path) {
		s->record_fd = open(record_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s->record_fd < 0) {
			fprintf(stderr, "mockplatform: --record %s: %s\n", record_path,
				strerror(errno));
			return -errno;
		}
	}
	s->lfd = listen_on(listen_addr);
	if (s->lfd < 0) {
		fprintf(stderr,
			"mockplatform: --listen %s: %s; use HOST:PORT, e.g. 127.0.0.1:9099\n",
			listen_addr, strerror(-s->lfd));
		return s->lfd;
	}
	s->conns = calloc(s->maxconns, sizeof(*s->conns));
	s->scratch = malloc(PXD_HTTP_MAX_BODY);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!s->conns || !s->scratch || s->epfd < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev))
		return -ENOMEM;
	for (i = 0; i < s->maxconns; i++)
		s->conns[i].fd = -1;
	print_port(s->lfd);
	return 0;
}

static void teardown(struct server *s)
{
	for (size_t i = 0; s->conns && i < s->maxconns; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_close(s, &s->conns[i]);
	free(s->conns);
	free(s->scratch);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->record_fd >= 0)
		close(s->record_fd);
	pxd_mock_fini(&s->mock);
}

int main(int argc, char **argv)
{
	static struct server s = { .lfd = -1, .epfd = -1, .record_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct pxd_mock_args a;
	int rc;

	rc = pxd_mock_args_init(&a);
	if (!rc)
		rc = pxd_mock_args_parse(argc, argv, &a);
	if (!rc) {
		s.latency_ms = a.latency_ms;
		s.max_body = a.max_body;
		s.maxconns = a.max_conns;
		s.verbose = a.verbose;
		s.count_key = a.count_key;
		rc = setup(&s, a.listen_addr, a.record_path, &a.conf, a.faults) ? -1 : 0;
	}
	pxd_mock_args_fini(&a);
	if (!rc) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		run(&s);
	}
	teardown(&s);
	return rc < 0 ? 1 : 0;
}
