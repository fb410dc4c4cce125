/* SPDX-License-Identifier: MIT */
/*
 * http_stub.h - a small HTTP/1.1 server on a thread of the test process, for
 * the tests that need a real peer (test_http_out.c, test_pixelctl_dlq.c): it
 * listens on a free loopback port, keeps connections alive, answers each
 * request with what the test's handler chooses (status, extra headers, body,
 * a delay) and counts connections, so reuse, timeouts and in-flight caps can
 * be observed from the server side. Include after <cmocka.h>.
 */
#ifndef PXD_TEST_HTTP_STUB_H
#define PXD_TEST_HTTP_STUB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STUB_CONNS 32
#define STUB_IN_MAX 65536

struct stub_req {
	char method[16];
	char path[256];
	char headers[4096]; /* the header lines as received, CRLF-separated */
	char body[STUB_IN_MAX];
	size_t body_len;
};

struct stub_reply {
	int status;
	char headers[512]; /* extra "Name: value\r\n" lines */
	char body[8192];
	int delay_ms;
};

/* Runs on the stub's thread; fills <rep> (zeroed, status 200) for <req>. */
typedef void stub_handler_fn(void *ctx, const struct stub_req *req, struct stub_reply *rep);

struct stub_conn {
	int fd;
	char in[STUB_IN_MAX + 8192];
	size_t in_len;
	char out[16384];
	size_t out_len;
	int64_t due_ms; /* 0: no answer pending */
};

struct stub {
	int lfd;
	uint16_t port;
	int stop[2];
	pthread_t thread;
	stub_handler_fn *handler;
	void *ctx;
	struct stub_conn conns[STUB_CONNS];
	/* Read by the test thread while the stub runs: atomics and a lock. */
	unsigned accepted;
	unsigned open;
	unsigned max_open;
	unsigned requests;
	pthread_mutex_t lock;
	struct stub_req last; /* under <lock> */
	struct stub_req scratch;
};

/* inline definitions */

static inline int64_t stub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline unsigned stub_get(const unsigned *counter)
{
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

static inline void stub_close(struct stub *s, struct stub_conn *c)
{
	close(c->fd);
	c->fd = -1;
	__atomic_fetch_sub(&s->open, 1, __ATOMIC_RELEASE);
}

/* Parses one whole request at the start of <c>->in into s->scratch. Returns
 * the bytes it took, 0 when more are needed. */
static inline size_t stub_parse(struct stub *s, struct stub_conn *c)
{
	struct stub_req *r = &s->scratch;
	char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	char *line_end, *p;
	size_t head, clen = 0;

	if (!end)
		return 0;
	head = (size_t)(end - c->in) + 4;
	for (p = c->in; p < end; p = line_end + 2) {
		line_end = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		if (strncasecmp(p, "content-length:", 15) == 0)
			clen = strtoul(p + 15, NULL, 10);
	}
	if (clen > STUB_IN_MAX)
		fail_msg("stub: body of %zu bytes is over its %d", clen, STUB_IN_MAX);
	if (c->in_len < head + clen)
		return 0;
	memset(r, 0, sizeof(*r));
	sscanf(c->in, "%15s %255s", r->method, r->path);
	line_end = memmem(c->in, head, "\r\n", 2);
	snprintf(r->headers, sizeof(r->headers), "%.*s", (int)(end - line_end - 2), line_end + 2);
	memcpy(r->body, c->in + head, clen);
	r->body_len = clen;
	return head + clen;
}

static inline void stub_answer(struct stub *s, struct stub_conn *c)
{
	struct stub_reply rep = { .status = 200 };
	size_t taken = stub_parse(s, c);
	int n;

	if (!taken)
		return;
	pthread_mutex_lock(&s->lock);
	s->last = s->scratch;
	pthread_mutex_unlock(&s->lock);
	s->handler(s->ctx, &s->scratch, &rep);
	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d Stub\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n%s\r\n%s",
		     rep.status, strlen(rep.body), rep.headers, rep.body);
	c->out_len = (size_t)n;
	c->due_ms = stub_now_ms() + rep.delay_ms;
	memmove(c->in, c->in + taken, c->in_len - taken);
	c->in_len -= taken;
	__atomic_fetch_add(&s->requests, 1, __ATOMIC_RELEASE);
}

static inline void stub_accept(struct stub *s)
{
	int fd = accept(s->lfd, NULL, NULL);
	unsigned open;

	if (fd < 0)
		return;
	for (int i = 0; i < STUB_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			continue;
		s->conns[i].fd = fd;
		s->conns[i].in_len = 0;
		s->conns[i].due_ms = 0;
		__atomic_fetch_add(&s->accepted, 1, __ATOMIC_RELEASE);
		open = __atomic_add_fetch(&s->open, 1, __ATOMIC_RELEASE);
		if (open > stub_get(&s->max_open))
			__atomic_store_n(&s->max_open, open, __ATOMIC_RELEASE);
		return;
	}
	close(fd);
}

static inline void *stub_run(void *arg)
{
	struct stub *s = arg;

	for (;;) {
		struct pollfd pfd[STUB_CONNS + 2];
		int idx[STUB_CONNS + 2];
		int64_t now = stub_now_ms();
		int timeout = 50;
		int n = 0;

		pfd[n++] = (struct pollfd){ .fd = s->stop[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		for (int i = 0; i < STUB_CONNS; i++) {
			struct stub_conn *c = &s->conns[i];

			if (c->fd < 0)
				continue;
			if (c->due_ms && c->due_ms <= now) {
				send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
				c->due_ms = 0;
				stub_answer(s, c); /* a request pipelined behind it */
			}
			if (c->due_ms && c->due_ms - now < timeout)
				timeout = (int)(c->due_ms - now);
			idx[n] = i;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = c->due_ms ? 0 : POLLIN };
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0)
			continue;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			stub_accept(s);
		for (int k = 2; k < n; k++) {
			struct stub_conn *c = &s->conns[idx[k]];
			ssize_t got;

			if (!pfd[k].revents)
				continue;
			got = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
			if (got <= 0) {
				stub_close(s, c);
				continue;
			}
			c->in_len += (size_t)got;
			stub_answer(s, c);
		}
	}
	for (int i = 0; i < STUB_CONNS; i++)
		if (s->conns[i].fd >= 0)
			stub_close(s, &s->conns[i]);
	return NULL;
}

/* Starts <s> on 127.0.0.1 and a free port (s->port) with <handler> and its <ctx>. */
static inline void stub_start(struct stub *s, stub_handler_fn *handler, void *ctx)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < STUB_CONNS; i++)
		s->conns[i].fd = -1;
	s->handler = handler;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe(s->stop), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, stub_run, s), 0);
}

static inline void stub_stop(struct stub *s)
{
	assert_int_equal(write(s->stop[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->stop[0]);
	close(s->stop[1]);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
}

/* Copies the last request the stub took into <out>. */
static inline void stub_last(struct stub *s, struct stub_req *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->last;
	pthread_mutex_unlock(&s->lock);
}

#endif
