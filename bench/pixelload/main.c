// SPDX-License-Identifier: MIT
/*
 * main.c - pixelload, the bench load generator: HTTP/1.1 over io_uring, one
 * ring and many connections per thread, closed loop (throughput) or open loop
 * at a fixed or bursting rate with latency taken from the intended send time
 * (no coordinated omission), requests drawn from realistic pixel, beacon and
 * email-open profiles. Prints a summary on stdout and, with --json, the whole
 * result. Run `pixelload --help`; bench/run drives it. This file owns the run:
 * checks before load (open files, the target answers), the worker threads,
 * the --idle ready line, and the exit status.
 */
#include <errno.h>
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
#include <unistd.h>

#include "engine.h"
#include "options.h"
#include "report.h"
#include "tls.h"
#include "request.h"

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
static int check_target(const struct pl_opts *o)
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

int main(int argc, char **argv)
{
	struct pl_opts o;
	struct pl_pool *pool = NULL;
	struct pl_worker *ws = NULL;
	struct pl_stats *total = NULL;
	struct pl_gate gate;
	struct rusage ru;
	uint64_t t_start, t_end, last = 0, idle_ready = 0;
	unsigned started = 0;
	bool tty, ready_said = false;
	int rc, err;

	rc = pl_opts_parse(&o, argc, argv);
	if (rc)
		return rc;
	if (raise_nofile(o.conns) || check_target(&o))
		return 1;
	if (o.tls && pl_tls_global_init()) {
		fprintf(stderr, "pixelload: cannot set up OpenSSL's client context\n");
		return 1;
	}
	pool = calloc(1, sizeof(*pool));
	ws = calloc(o.threads, sizeof(*ws));
	total = calloc(1, sizeof(*total));
	if (!pool || !ws || !total) {
		fprintf(stderr, "pixelload: out of memory\n");
		rc = 1;
		goto out;
	}
	err = pl_pool_build(pool, &o);
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
	err = pl_gate_init(&gate, o.threads);
	if (err) {
		fprintf(stderr, "pixelload: cannot set up %u threads: %s: lower -t\n", o.threads,
			strerror(-err));
		rc = 1;
		goto out;
	}
	for (unsigned i = 0; i < o.threads; i++) {
		struct pl_worker *w = &ws[i];

		w->idx = i;
		w->o = &o;
		w->pool = pool;
		w->gate = &gate;
		w->nconns = o.conns / o.threads + (i < o.conns % o.threads);
		w->quota = o.requests ? o.requests / o.threads + (i < o.requests % o.threads) : 0;
		w->rate = o.rate / o.threads;
		if (pthread_create(&w->th, NULL, pl_engine_thread, w)) {
			/* The started threads wait on the barrier; leaving main ends them. */
			fprintf(stderr, "pixelload: cannot start thread %u of %u: lower -t\n", i,
				o.threads);
			return 1;
		}
		started++;
	}
	t_start = pl_gate_open(&gate);

	tty = isatty(STDERR_FILENO) && !o.quiet;
	for (uint64_t next = t_start + PL_NS;;) {
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
		if (pl_mono_ns() >= next) {
			pl_report_progress(ws, started, (double)(pl_mono_ns() - t_start) / PL_NS,
					   &last, tty);
			next += PL_NS;
		}
	}
	t_end = pl_mono_ns();
	if (tty)
		fputc('\n', stderr);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(ws[i].th, NULL);
		pl_report_merge(total, &ws[i].st);
		if (ws[i].fatal) {
			fprintf(stderr, "pixelload: thread %u stopped: %s\n", i,
				strerror(-ws[i].fatal));
			rc = 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	double elapsed = (double)(t_end - t_start) / PL_NS;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

	pl_report_summary(&o, total, elapsed);
	if (o.json_path && pl_report_json(&o, pool, total, ws, elapsed, cpu, idle_ready))
		rc = 1;
	if (!rc && !total->answered &&
	    (total->failed || total->err[PL_FAIL_CONNECT_REFUSED] || total->err[PL_FAIL_CONNECT] ||
	     total->err[PL_FAIL_TIMEOUT])) {
		fprintf(stderr, "pixelload: no request was answered by %s (see errors above)\n",
			o.target);
		rc = 1;
	}
	if (!rc) {
		uint64_t errs = 0;

		for (unsigned e = 0; e < PL_FAIL_COUNT; e++)
			errs += total->err[e];
		if (errs || total->non2xx || total->unsent_at_end)
			rc = 3;
	}
	for (unsigned i = 0; i < started; i++)
		pl_engine_fini(&ws[i]);
	pl_gate_fini(&gate);
out:
	pl_tls_global_fini();
	if (pool)
		pl_pool_free(pool);
	free(pool);
	free(ws);
	free(total);
	return rc;
}
