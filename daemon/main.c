// SPDX-License-Identifier: MIT
/*
 * pixeld: loads the configuration, opens the listeners, starts the
 * dispatcher shards and the ingest threads, then turns signals into state:
 * SIGHUP reloads the configuration (reload.h) and reopens sink files,
 * SIGTERM/SIGINT drain and stop. Over 600 lines
 * because it is where every subsystem is started and stopped in order (XDP,
 * TLS, JetStream, console, systemd notification); each step is a call into
 * its subsystem, and the order is easiest to check read top to bottom.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "bot_ua.h"
#include "conf.h"
#include "daemon/console/console.h"
#include "daemon/tenant/usage.h"
#include "daemon.h"
#include "dispatch_pool.h"
#include "dispatcher.h"
#include "ingest.h"
#include "listener.h"
#include "mail_proxy.h"
#include "router.h"
#include "nats_consume.h"
#include "log.h"
#include "privdrop.h"
#include "reload.h"
#include "service.h"
#include "tls.h"
#include "version.h"
#include "xdp_ctl.h"
#include "watermark_sync.h"

/*
 * Read by jemalloc, the shipped binaries' malloc, before main (the sanitizer
 * build keeps its own allocator and ignores it). By default freed pages go
 * back to the kernel only as later malloc calls pass by, so the memory of a
 * burst of connections stays resident while the collector is quiet: here a
 * background thread gives pages freed for a second back (MADV_DONTNEED at
 * once, no lazy "muzzy" stage), and blocks over 4 KiB skip the per-thread
 * caches, where a quiet thread's freed 16 KiB chunks would stay out of the
 * background thread's reach (the hot paths take those from their own pools).
 * MALLOC_CONF in the environment overrides these (README, Memory).
 */
const char *malloc_conf =
    "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,tcache_max:4096";

static const char usage[] =
    "usage: pixeld [-c FILE] [--listen ADDR:PORT] [--admin ADDR:PORT] [--data-dir DIR]\n"
    "              [--check-config] [--version] [--help]\n"
    "\n"
    "  -c, --config FILE   configuration file (INI); without it the embedded default:\n"
    "                      public 127.0.0.1:8080, admin 127.0.0.1:9180,\n"
    "                      data dir ./var/pixeld, events to <data dir>/events.jsonl\n"
    "      --listen A:P    public listener (overrides server.listen)\n"
    "      --admin A:P     admin listener (overrides server.admin_listen)\n"
    "      --data-dir DIR  data directory (overrides server.data_dir)\n"
    "      --check-config  validate the configuration, print the result, exit 0 or 1\n"
    "      --version       print the version\n"
    "  -h, --help          this text\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads the configuration (tenants,\n"
    "destinations, keys, hosts, certificates, ...; refused with file:line when bad) and\n"
    "reopens sink files.\n";

struct args {
	const char *config;
	struct pxd_conf_overrides ov;
	int check;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	enum { OPT_LISTEN = 256, OPT_ADMIN, OPT_DATA_DIR, OPT_CHECK, OPT_VERSION };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "admin", required_argument, NULL, OPT_ADMIN },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case OPT_LISTEN:
			a->ov.listen = optarg;
			break;
		case OPT_ADMIN:
			a->ov.admin_listen = optarg;
			break;
		case OPT_DATA_DIR:
			a->ov.data_dir = optarg;
			break;
		case OPT_CHECK:
			a->check = 1;
			break;
		case OPT_VERSION:
			printf("pixeld %s\n", PXD_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pixeld: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return -EINVAL;
	}
	return 0;
}

/* Each connection is a descriptor: lift the soft limit to the hard one. */
static void raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)want + 64)
		pxd_log_warn("main",
			     "open files limit %lu is below server.max_connections %u; raise "
			     "it (ulimit -n, LimitNOFILE=) or lower max_connections",
			     (unsigned long)rl.rlim_cur, want);
}

/* mkdir -p for the data directory. */
static int make_dirs(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Email pixels: key ring, mail-proxy ranges, first-open table and its state. */
static int email_init(struct pxd_daemon *d, char *err, size_t errlen)
{
	const struct pxd_conf *conf = d->conf;
	const struct pxd_conf_email *ce = &conf->email;
	int rc;

	if (ce->enabled) {
		rc = pxd_email_keys_load(&d->email_keys, ce, err, errlen);
		if (rc)
			return rc;
	}
	rc = pxd_mail_proxy_load(&d->mail_proxy, pxd_data_mail_proxies, ce->scanner_window_s, err,
				 errlen);
	if (rc)
		return rc;
	rc = pxd_first_open_init(&d->first_open, ce->dedup_slots, ce->first_open_window_s);
	if (rc) {
		snprintf(err, errlen, "email.dedup_slots %u: %s; lower it", ce->dedup_slots,
			 strerror(-rc));
		return rc;
	}
	if ((size_t)snprintf(d->first_open_path, sizeof(d->first_open_path), "%s%s",
			     ce->state_file[0] ? ce->state_file : conf->data_dir,
			     ce->state_file[0] ? "" : "/email_first_open.state") >=
	    sizeof(d->first_open_path)) {
		snprintf(err, errlen, "email.state_file: path too long; use a shorter one");
		return -ENAMETOOLONG;
	}
	rc = pxd_first_open_load(d->first_open, d->first_open_path, pxd_now_ms() / 1000);
	if (rc == -EINVAL)
		pxd_log_warn("email",
			     "first-open state %s is damaged or of another version; "
			     "starting with an empty table",
			     d->first_open_path);
	else if (rc && rc != -ENOENT)
		pxd_log_warn("email", "cannot read first-open state %s: %s; starting empty",
			     d->first_open_path, strerror(-rc));
	return 0;
}

static void email_fini(struct pxd_daemon *d, bool save)
{
	if (d->first_open && save) {
		int rc =
		    pxd_first_open_save(d->first_open, d->first_open_path, pxd_now_ms() / 1000);

		if (rc)
			pxd_log_warn("email",
				     "cannot save first-open state to %s: %s; the next "
				     "start counts first opens again",
				     d->first_open_path, strerror(-rc));
	}
	pxd_first_open_free(d->first_open);
	pxd_mail_proxy_free(d->mail_proxy);
	pxd_email_keys_wipe(&d->email_keys);
	d->first_open = NULL;
	d->mail_proxy = NULL;
}

struct runtime {
	struct pxd_conf conf;
	struct pxd_daemon d;
	const char **dest_names;
	int *public_fds;
	int *tls_fds; /* -1 without server.tls_listen */
	int admin_fd;
	bool served;	    /* the threads ran: state worth saving */
	const char *config; /* -c FILE, NULL: embedded; re-read on SIGHUP */
	const struct pxd_conf_overrides *ov;
};

static void runtime_fini(struct runtime *rt)
{
	pxd_console_stop(rt->d.console);
	for (unsigned i = 0; rt->d.ingest && i < rt->d.ningest; i++)
		pxd_ingest_fini(&rt->d.ingest[i]);
	pxd_dispatch_pool_fini(&rt->d);
	for (unsigned i = 0; rt->d.disp && i < rt->d.ndisp; i++)
		pxd_dispatcher_fini(&rt->d.disp[i]);
	for (unsigned i = 0; rt->public_fds && i < rt->d.ningest; i++)
		if (rt->public_fds[i] >= 0)
			close(rt->public_fds[i]);
	for (unsigned i = 0; rt->tls_fds && i < rt->d.ningest; i++)
		if (rt->tls_fds[i] >= 0)
			close(rt->tls_fds[i]);
	pxd_tls_live_stop(rt->d.tls);
	if (rt->admin_fd >= 0)
		close(rt->admin_fd);
	if (rt->served && rt->d.usage) /* the threads are gone: these are the last counts */
		pxd_usage_save(rt->d.usage, &rt->d.metrics, &rt->conf.tenants, pxd_now_ms());
	pxd_usage_close(rt->d.usage);
	email_fini(&rt->d, rt->served);
	pxd_api_fini(&rt->d.api, rt->served);
	pxd_watermark_sync_stop(&rt->d);
	pxd_xdp_ctl_stop(rt->d.xdp);
	pxd_bot_ua_close(rt->d.bot_ua);
	pxd_handoff_destroy(rt->d.handoff);
	pxd_metrics_fini(&rt->d.metrics);
	pxd_conf_live_fini(&rt->d.live);
	free(rt->d.ingest);
	free(rt->d.disp);
	free(rt->d.disp_heartbeat_ms);
	free(rt->public_fds);
	free(rt->tls_fds);
	free(rt->dest_names);
}

/* Everything that can fail before a thread starts; <err> says what to fix. */
static int runtime_init(struct runtime *rt, char *err, size_t errlen)
{
	struct pxd_conf *conf = &rt->conf;
	struct pxd_daemon *d = &rt->d;
	int rc;

	d->conf = conf;
	d->ningest = pxd_conf_threads(conf);
	d->ndisp = conf->dispatchers;
	d->started_ms = pxd_now_ms();
	snprintf(d->version, sizeof(d->version), "%s", PXD_VERSION);
	/* Every slot: a reload may add destinations (dispatch_pool.h). */
	rt->dest_names = calloc(PXD_CONF_MAX_DESTS + 1, sizeof(*rt->dest_names));
	d->ingest = calloc(d->ningest, sizeof(*d->ingest));
	d->disp = calloc(d->ndisp, sizeof(*d->disp));
	d->disp_heartbeat_ms = calloc(d->ndisp, sizeof(*d->disp_heartbeat_ms));
	rt->public_fds = calloc(d->ningest, sizeof(*rt->public_fds));
	rt->tls_fds = malloc(d->ningest * sizeof(*rt->tls_fds));
	if (!rt->dest_names || !d->ingest || !d->disp || !d->disp_heartbeat_ms || !rt->public_fds ||
	    !rt->tls_fds)
		return -ENOMEM;
	for (unsigned i = 0; i < d->ningest; i++)
		rt->tls_fds[i] = -1;
	for (size_t i = 0; i < conf->ndests; i++)
		rt->dest_names[i] = conf->dests[i].name;

	rc = make_dirs(conf->data_dir);
	if (rc) {
		snprintf(err, errlen,
			 "cannot create data directory %s: %s; create it or set "
			 "--data-dir",
			 conf->data_dir, strerror(-rc));
		return rc;
	}
	rc = make_dirs(conf->journal_dir);
	if (rc) {
		snprintf(err, errlen,
			 "cannot create journal directory %s: %s; create it or set "
			 "journal.dir",
			 conf->journal_dir, strerror(-rc));
		return rc;
	}
	if (!conf->max_bytes) {
		struct statvfs vfs;

		/* Default: 80% of the space free at start, so the journal stops
		 * taking events (503) before the disk is full for everyone. */
		if (statvfs(conf->journal_dir, &vfs) == 0)
			conf->max_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize / 10 * 8;
		conf->max_bytes_auto = true;
		pxd_log_info("main", "journal.max_bytes = %lu (80%% of the free space of %s)",
			     (unsigned long)conf->max_bytes, conf->journal_dir);
	}
	/* Certificates first: a bad one stops pixeld before anything is opened. */
	rc = pxd_tls_live_start(conf, &d->tls, err, errlen);
	if (rc)
		return rc;
	/* Never fatal: without XDP pixeld runs, and /health/ready says why. */
	d->xdp = pxd_xdp_ctl_start(&conf->xdp);
	if (conf->xdp.bot_block != PXD_BOT_BLOCK_OFF) {
		rc = pxd_bot_ua_open(&d->bot_ua, err, errlen);
		if (rc)
			return rc;
		pxd_log_info("main", "bot user agents: %zu patterns, %zu known-good",
			     pxd_bot_ua_patterns(d->bot_ua, PXD_BOT_UA_CLASS_BOT),
			     pxd_bot_ua_patterns(d->bot_ua, PXD_BOT_UA_CLASS_GOOD_BOT));
	}
	rc = pxd_metrics_init(&d->metrics, d->ningest, d->ndisp, (unsigned)conf->ndests,
			      rt->dest_names);
	if (rc)
		return rc;
	/* Readers: the ingest threads, the shards, the console. */
	rc = pxd_conf_live_init(&d->live, conf, d->ningest + d->ndisp + 1);
	if (rc)
		return rc;
	d->metrics.started_ms = d->started_ms;
	rc = email_init(d, err, errlen);
	if (rc)
		return rc;
	rc = conf->tenants.n ? pxd_usage_open(&d->usage, conf->data_dir, err, errlen) : 0;
	if (rc)
		return rc;
	rc = pxd_api_init(&d->api, conf, err, errlen);
	if (rc)
		return rc;
	rc = pxd_handoff_create(d->ningest, d->ndisp, conf->ring_size, &d->handoff);
	if (rc) {
		snprintf(err, errlen, "cannot allocate hand-off rings: %s", strerror(-rc));
		return rc;
	}
	rc = pxd_watermark_sync_start(d, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < d->ndisp; i++) {
		rc = pxd_dispatcher_init(&d->disp[i], d, i, err, errlen);
		if (rc)
			return rc;
		d->disp_heartbeat_ms[i] = pxd_mono_ms();
	}
	rc = pxd_listener_open(&conf->listen, d->ningest, rt->public_fds, err, errlen);
	if (rc)
		return rc;
	rc = pxd_listener_open(&conf->admin_listen, 1, &rt->admin_fd, err, errlen);
	if (rc)
		return rc;
	if (d->tls) {
		rc = pxd_listener_open(&conf->tls_listen, d->ningest, rt->tls_fds, err, errlen);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < d->ningest; i++) {
		rc = pxd_ingest_init(&d->ingest[i], d, i, rt->public_fds[i],
				     i == 0 ? rt->admin_fd : -1, rt->tls_fds[i]);
		if (rc) {
			snprintf(err, errlen, "ingest thread %u: %s", i, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Waits until each of the first <n> ingest threads has its ring, or one failed. */
static int wait_started(struct pxd_daemon *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int st;

		while (!(st = __atomic_load_n(&d->ingest[i].started, __ATOMIC_ACQUIRE))) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
		if (st < 0)
			return st;
	}
	return 0;
}

/*
 * Ingest first (no new events), then the dispatchers drain what is queued.
 * <ningest> and <ndisp> threads were started (fewer than configured when a
 * pthread_create failed).
 */
static void stop_all(struct pxd_daemon *d, pthread_t *ingest_threads, unsigned ningest,
		     unsigned ndisp)
{
	int64_t deadline = pxd_mono_ms() + d->conf->shutdown_timeout_ms;

	__atomic_store_n(&d->stop_ingest, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < ningest; i++)
		pthread_join(ingest_threads[i], NULL);
	free(ingest_threads);
	pxd_nats_consume_quiesce(d->nats);
	/* No producer is left: the dispatchers can empty the rings for good. */
	__atomic_store_n(&d->stop_dispatch, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < ndisp; i++) {
		if (pxd_dispatch_pool_join(d->disp[i].thread, deadline + 1000)) {
			__atomic_store_n(&d->stop_dispatch, 2, __ATOMIC_RELEASE);
			pthread_join(d->disp[i].thread, NULL);
		}
	}
	/* What the shards settled is acked, the rest goes back to JetStream. */
	pxd_nats_consume_stop(d->nats);
	d->nats = NULL;
	/* The shards published their last watermarks after their last sync. */
	pxd_watermark_sync_tick(d);
}

static int serve(struct runtime *rt, const sigset_t *sigs)
{
	struct pxd_daemon *d = &rt->d;
	pthread_t *ingest_threads = calloc(d->ningest, sizeof(*ingest_threads));
	/* Room for the data directory and the three listen addresses around it. */
	char status[sizeof(rt->conf.data_dir) + 3 * sizeof(rt->conf.listen.text) + 256];
	unsigned ndisp = 0;
	unsigned ningest = 0;
	int rc = 0;
	int sig;

	if (!ingest_threads)
		return -ENOMEM;
	/* After the privilege drop, like every thread; not fatal: without it
	 * only the console and pixelctl tail/top are dark. */
	rc = pxd_console_start(d, &d->console);
	if (rc)
		pxd_log_warn("main",
			     "console: cannot follow the journal: %s; /admin/stream answers 500",
			     strerror(-rc));
	rc = 0;
	while (!rc && ndisp < d->ndisp) {
		rc = pthread_create(&d->disp[ndisp].thread, NULL, pxd_dispatcher_run,
				    &d->disp[ndisp]);
		ndisp += !rc;
	}
	while (!rc && ningest < d->ningest) {
		rc = pthread_create(&ingest_threads[ningest], NULL, pxd_ingest_run,
				    &d->ingest[ningest]);
		ningest += !rc;
	}
	if (rc)
		pxd_log_err("main",
			    "cannot start a thread (%u of %u dispatchers, %u of %u ingest threads "
			    "running): %s; raise the process limit (ulimit -u) or lower "
			    "server.threads and server.dispatchers",
			    ndisp, d->ndisp, ningest, d->ningest, strerror(rc));
	if (!rc && d->conf->role == PXD_ROLE_DISPATCH) {
		char err[1024];

		rc = pxd_nats_consume_start(d, &d->nats, err, sizeof(err));
		if (rc)
			pxd_log_err("main", "%s", err);
	}
	if (rc || wait_started(d, ningest)) {
		stop_all(d, ingest_threads, ningest, ndisp);
		return -EIO;
	}
	if (!d->conf->ndests)
		pxd_log_warn("main", "%s",
			     "no [destination] is configured: events are journaled and delivered "
			     "nowhere; add a [destination \"NAME\"] section");
	snprintf(status, sizeof(status),
		 "pixeld %s listening on %s (public), %s%s%s (admin); %u ingest threads, "
		 "%u dispatchers, data in %s",
		 PXD_VERSION, rt->conf.listen.text, d->tls ? rt->conf.tls_listen.text : "",
		 d->tls ? " (https), " : "", rt->conf.admin_listen.text, d->ningest, d->ndisp,
		 rt->conf.data_dir);
	pxd_log_info("main", "%s", status);
	pxd_service_ready(status);

	for (unsigned ticks = 1;; ticks++) {
		struct timespec tick = { 1, 0 };

		/* Wake every second to save watermarks and ping the watchdog,
		 * every 10 s to sweep expired XDP blocks. */
		sig = sigtimedwait(sigs, NULL, &tick);
		if (sig < 0) {
			pxd_ep_admin_dlq_run(d);
			pxd_conf_live_reclaim(&d->live);
			pxd_watermark_sync_tick(d);
			pxd_service_tick(d);
			if (ticks % 10 == 0)
				pxd_xdp_ctl_sweep(d->xdp);
			if (d->usage && ticks % (d->conf->usage_interval_ms / 1000) == 0)
				pxd_usage_save(d->usage, &d->metrics, &d->conf->tenants,
					       pxd_now_ms());
			continue;
		}
		if (sig == SIGHUP) {
			char err[1024];

			pxd_reload_run(d, &rt->conf, rt->dest_names, rt->config, rt->ov, err,
				       sizeof(err));
			__atomic_add_fetch(&d->reopen_gen, 1, __ATOMIC_RELEASE);
			pxd_log_info("main", "SIGHUP: reopening sink files");
			continue;
		}
		break;
	}
	pxd_log_info("main", "%s: draining (deadline %u ms)", strsignal(sig),
		     rt->conf.shutdown_timeout_ms);
	pxd_service_stopping();
	stop_all(d, ingest_threads, ningest, ndisp);
	pxd_log_info("main", "stopped");
	return 0;
}

/*
 * --check-config: everything start-up reads from the configuration's files
 * (adapters' keys and secrets, email key files), so a file that passes
 * starts. Returns the exit status.
 */
static int check_config(const struct pxd_conf *conf)
{
	struct pxd_email_keys keys;
	char err[8192] = "";
	int rc;

	for (size_t i = 0; i < conf->ndests; i++) {
		struct pxd_dest dest = { .conf = &conf->dests[i], .data_dir = conf->data_dir };

		dest.adapter = pxd_adapter_find(dest.conf->type);
		if (!dest.adapter) {
			char types[256];

			pxd_adapter_types(types, sizeof(types));
			fprintf(stderr,
				"pixeld: %s:%d: destination \"%s\": unknown type \"%s\"; use one "
				"of: %s\n",
				conf->path, dest.conf->line, dest.conf->name, dest.conf->type,
				types);
			return 1;
		}
		rc = dest.adapter->init(&dest, conf->path, err, sizeof(err));
		dest.adapter->fini(&dest);
		if (rc) {
			fprintf(stderr, "pixeld: %s\n", err);
			return 1;
		}
	}
	if (conf->email.enabled) {
		rc = pxd_email_keys_load(&keys, &conf->email, err, sizeof(err));
		pxd_email_keys_wipe(&keys);
		if (rc) {
			fprintf(stderr, "pixeld: %s: %s\n", conf->path, err);
			return 1;
		}
	}
	if (conf->tls_listen.text[0]) {
		struct pxd_tls_live *tls;

		rc = pxd_tls_live_start(conf, &tls, err, sizeof(err));
		pxd_tls_live_stop(tls);
		if (rc) {
			fprintf(stderr, "pixeld: %s\n", err);
			return 1;
		}
	}
	if (!conf->ndests)
		fprintf(stderr,
			"pixeld: warning: %s has no [destination]: events would be journaled and "
			"delivered nowhere\n",
			conf->path);
	printf("pixeld: configuration %s is valid\n", conf->path);
	return 0;
}

int main(int argc, char **argv)
{
	static struct runtime rt;
	char err[8192] = "";
	struct args a;
	sigset_t sigs;
	enum pxd_log_level level;
	enum pxd_log_format format;
	int rc;

	if (parse_args(argc, argv, &a))
		return 2;
	pxd_arena_install_jansson();
	rc = pxd_conf_load(a.config, &a.ov, &rt.conf, err, sizeof(err));
	rt.config = a.config;
	rt.ov = &a.ov;
	if (rc) {
		fprintf(stderr, "pixeld: %s\n", err);
		return 1;
	}
	if (a.check)
		return check_config(&rt.conf);
	if (!pxd_log_level_parse(rt.conf.log_level, &level))
		pxd_log_set_level(level);
	if (!pxd_log_format_parse(rt.conf.log_format, &format))
		pxd_log_set_format(format);

	/* Signals go to the main thread only: every thread inherits this mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	raise_nofile(rt.conf.max_connections);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rt.admin_fd = -1;
	rc = runtime_init(&rt, err, sizeof(err));
	if (rc) {
		pxd_log_err("main", "%s", err[0] ? err : strerror(-rc));
		runtime_fini(&rt);
		return 1;
	}
	{
		const char *dirs[] = { rt.conf.data_dir, rt.conf.journal_dir };

		rc = pxd_privdrop(rt.conf.user, dirs, 2, pxd_xdp_ctl_attached(rt.d.xdp), err,
				  sizeof(err));
		if (rc) {
			pxd_log_err("main", "%s", err);
			runtime_fini(&rt);
			return 1;
		}
		if (rt.conf.user[0]) {
			pxd_log_info("main", "running as %s", rt.conf.user);
			pxd_reload_check_readable(&rt.d, rt.config, rt.ov);
		}
	}
	rt.served = true;
	rc = serve(&rt, &sigs);
	runtime_fini(&rt);
	curl_global_cleanup();
	return rc ? 1 : 0;
}
