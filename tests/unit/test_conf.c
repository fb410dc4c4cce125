// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

struct fx {
	char dir[64];
	char path[128]; /* <dir>/pixeld.ini, the file most tests load */
	struct pxd_conf *conf;
	char err[1024];
	char text[32768];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->conf = calloc(1, sizeof(*f->conf));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_conf.XXXXXX");
	if (!f->conf || !mkdtemp(f->dir)) {
		free(f->conf);
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/pixeld.ini", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f->conf);
	free(f);
	return 0;
}

/* Writes <text> to <dir>/<name> with <mode> and puts its path in <path>. */
static void put(struct fx *f, const char *name, const char *text, mode_t mode, char *path,
		size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/%s", f->dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int load(struct fx *f, const char *text, const struct pxd_conf_overrides *ov)
{
	char path[128];

	put(f, "pixeld.ini", text, 0644, path, sizeof(path));
	f->err[0] = '\0';
	return pxd_conf_load(f->path, ov, f->conf, f->err, sizeof(f->err));
}

/* Loads "[<section>]\n<key> = <value>\n". */
static int load_one(struct fx *f, const char *section, const char *key, const char *value)
{
	snprintf(f->text, sizeof(f->text), "[%s]\n%s = %s\n", section, key, value);
	return load(f, f->text, NULL);
}

/* <text> must fail to load with exactly "<path>:<line>: <msg>". */
static void expect_error(struct fx *f, const char *text, int line, const char *msg)
{
	char want[1024];

	assert_int_equal(load(f, text, NULL), -EINVAL);
	snprintf(want, sizeof(want), "%s:%d: %s", f->path, line, msg);
	assert_string_equal(f->err, want);
}

static uint16_t port_of(const struct pxd_conf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

static void assert_v4(const struct pxd_conf_addr *a, const char *ip, uint16_t port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	char text[INET_ADDRSTRLEN];

	assert_int_equal(a->ss.ss_family, AF_INET);
	assert_int_equal(a->len, sizeof(*sin));
	assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)));
	assert_string_equal(text, ip);
	assert_int_equal(port_of(a), port);
}

static void assert_v6(const struct pxd_conf_addr *a, const char *ip, uint16_t port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	char text[INET6_ADDRSTRLEN];

	assert_int_equal(a->ss.ss_family, AF_INET6);
	assert_int_equal(a->len, sizeof(*sin6));
	assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)));
	assert_string_equal(text, ip);
	assert_int_equal(port_of(a), port);
}

static void test_embedded_default_has_documented_values(void **state)
{
	struct fx *f = *state;
	struct pxd_conf *c = f->conf;
	int line = -1;

	assert_int_equal(pxd_conf_load(NULL, NULL, c, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(c->path, "(embedded)");
	assert_string_equal(c->listen.text, "127.0.0.1:8080");
	assert_v4(&c->listen, "127.0.0.1", 8080);
	assert_v4(&c->admin_listen, "127.0.0.1", 9180);
	assert_int_equal(c->threads, 0);
	assert_int_equal(c->dispatchers, 1);
	assert_int_equal(c->max_connections, 65536);
	assert_int_equal(c->idle_timeout_ms, 60000);
	assert_int_equal(c->request_timeout_ms, 10000);
	assert_int_equal(c->shutdown_timeout_ms, 10000);
	assert_int_equal(c->ncors_origins, 1);
	assert_string_equal(c->cors_origins[0], "*");
	assert_int_equal(c->nhosts, 0);
	assert_int_equal(c->ntrusted_proxies, 0);
	assert_string_equal(c->admin_key, "");
	assert_string_equal(c->tenant, "default");
	assert_string_equal(c->log_level, "info");
	assert_int_equal(c->ring_size, 65536);
	assert_string_equal(c->data_dir, "./var/pixeld");
	assert_string_equal(c->journal_dir, "./var/pixeld/journal");
	assert_int_equal(c->ack, PXD_ACK_FAST);
	assert_int_equal(c->commit_interval_ms, 2);
	assert_int_equal(c->segment_bytes, 64ull << 20);
	assert_int_equal(c->max_bytes, 0);
	assert_int_equal(c->ndests, 1);
	assert_string_equal(c->dests[0].name, "events");
	assert_string_equal(c->dests[0].type, "jsonl");
	assert_int_equal(c->dests[0].line, 7);
	assert_int_equal(c->dests[0].nevents, 0);
	assert_int_equal(c->dests[0].batch_max_events, 0);
	assert_int_equal(c->dests[0].nkv, 1);
	assert_string_equal(pxd_conf_dest_get(&c->dests[0], "path", &line), "events.jsonl");
	assert_int_equal(line, 9);
	assert_non_null(strstr(pxd_conf_default_text(), "[destination \"events\"]\n"));
}

/* Every key of [server] and [journal], destinations with common and adapter keys. */
static const char full_text[] = "; every key\n"
				"[server]\n"
				"listen = [::1]:18080\n"
				"admin_listen = 127.0.0.2:19180\n"
				"data_dir = /srv/pixeld/\n"
				"threads = 4\n"
				"dispatchers = 2\n"
				"max_connections = 1000\n"
				"idle_timeout = 5m\n"
				"request_timeout = 500ms\n"
				"shutdown_timeout = 0\n"
				"cors_origins = https://Shop.Example, http://localhost:3000\n"
				"hosts = shop.example, API.shop.example:8443, [::1]:8080\n"
				"trusted_proxies = 10.0.0.0/8, 192.168.1.1, fd00::/8, ::1\n"
				"admin_key = k3y\n"
				"tenant = acme-eu\n"
				"log_level = debug\n"
				"ring_size = 1024\n"
				"\n"
				"[journal]\n"
				"dir = /fast/journal\n"
				"ack = durable\n"
				"commit_interval = 0\n"
				"segment_bytes = 128M\n"
				"max_bytes = 10G\n"
				"\n"
				"[xdp]\n"
				"[email]\n"
				"\n"
				"[destination \"events\"]\n"
				"type = jsonl\n"
				"path = events.jsonl\n"
				"\n"
				"[destination \"meta_main\"]\n"
				"type = meta\n"
				"events = PageView, Purchase\n"
				"batch_max_events = 1000\n"
				"linger_ms = 250\n"
				"pixel_id = 123\n"
				"access_token = env:META_TOKEN\n";

/* The documented example sets every key to its default: it loads to the embedded config. */
static void test_example_file_equals_the_defaults(void **state)
{
	struct fx *f = *state;
	struct pxd_conf *embedded = calloc(1, sizeof(*embedded));
	const char *src = __FILE__;
	char path[512];

	assert_non_null(embedded);
	snprintf(path, sizeof(path), "%.*sscripts/pixeld.ini.example",
		 (int)(strlen(src) - strlen("tests/unit/test_conf.c")), src);
	if (pxd_conf_load(path, NULL, f->conf, f->err, sizeof(f->err)) != 0)
		fail_msg("%s", f->err);
	assert_int_equal(pxd_conf_load(NULL, NULL, embedded, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->conf->ndests, 1);
	memcpy(embedded->path, f->conf->path, sizeof(embedded->path));
	embedded->dests[0].line = f->conf->dests[0].line;
	embedded->dests[0].kv[0].line = f->conf->dests[0].kv[0].line;
	assert_memory_equal(f->conf, embedded, sizeof(*embedded));
	free(embedded);
}

static void test_full_file_sets_every_key(void **state)
{
	struct fx *f = *state;
	struct pxd_conf *c = f->conf;
	const struct pxd_conf_dest *d;
	int line = 0;

	assert_int_equal(load(f, full_text, NULL), 0);
	assert_string_equal(c->path, f->path);
	assert_string_equal(c->listen.text, "[::1]:18080");
	assert_v6(&c->listen, "::1", 18080);
	assert_v4(&c->admin_listen, "127.0.0.2", 19180);
	assert_string_equal(c->data_dir, "/srv/pixeld/");
	assert_int_equal(c->threads, 4);
	assert_int_equal(pxd_conf_threads(c), 4);
	assert_int_equal(c->dispatchers, 2);
	assert_int_equal(c->max_connections, 1000);
	assert_int_equal(c->idle_timeout_ms, 300000);
	assert_int_equal(c->request_timeout_ms, 500);
	assert_int_equal(c->shutdown_timeout_ms, 0);
	assert_int_equal(c->ncors_origins, 2);
	assert_string_equal(c->cors_origins[0], "https://shop.example");
	assert_string_equal(c->cors_origins[1], "http://localhost:3000");
	assert_int_equal(c->nhosts, 3);
	assert_string_equal(c->hosts[0], "shop.example");
	assert_string_equal(c->hosts[1], "api.shop.example:8443");
	assert_string_equal(c->hosts[2], "[::1]:8080");
	assert_int_equal(c->ntrusted_proxies, 4);
	assert_int_equal(c->trusted_proxies[0].family, AF_INET);
	assert_int_equal(c->trusted_proxies[0].prefix, 8);
	assert_int_equal(c->trusted_proxies[0].addr[0], 10);
	assert_int_equal(c->trusted_proxies[1].prefix, 32);
	assert_memory_equal(c->trusted_proxies[1].addr, "\xc0\xa8\x01\x01", 4);
	assert_int_equal(c->trusted_proxies[2].family, AF_INET6);
	assert_int_equal(c->trusted_proxies[2].prefix, 8);
	assert_int_equal(c->trusted_proxies[2].addr[0], 0xfd);
	assert_int_equal(c->trusted_proxies[3].prefix, 128);
	assert_int_equal(c->trusted_proxies[3].addr[15], 1);
	assert_string_equal(c->admin_key, "k3y");
	assert_string_equal(c->tenant, "acme-eu");
	assert_string_equal(c->log_level, "debug");
	assert_int_equal(c->ring_size, 1024);
	assert_string_equal(c->journal_dir, "/fast/journal");
	assert_int_equal(c->ack, PXD_ACK_DURABLE);
	assert_int_equal(c->commit_interval_ms, 0);
	assert_int_equal(c->segment_bytes, 128ull << 20);
	assert_int_equal(c->max_bytes, 10ull << 30);
	assert_int_equal(c->ndests, 2);
	d = &c->dests[1];
	assert_string_equal(d->name, "meta_main");
	assert_string_equal(d->type, "meta");
	assert_int_equal(d->line, 34);
	assert_int_equal(d->nevents, 2);
	assert_string_equal(d->events[0], "PageView");
	assert_string_equal(d->events[1], "Purchase");
	assert_int_equal(d->batch_max_events, 1000);
	assert_int_equal(d->linger_ms, 250);
	assert_true(d->linger_set);
	assert_false(c->dests[0].linger_set);
	assert_int_equal(d->nkv, 2);
	assert_string_equal(pxd_conf_dest_get(d, "pixel_id", &line), "123");
	assert_int_equal(line, 39);
	/* Adapter keys are stored as written: the adapter resolves its secrets. */
	assert_string_equal(pxd_conf_dest_get(d, "access_token", &line), "env:META_TOKEN");
	assert_int_equal(line, 40);
	assert_null(pxd_conf_dest_get(d, "type", NULL));
	assert_null(pxd_conf_dest_get(d, "missing", &line));
	assert_int_equal(line, 34);
}

/* Every truncation of a valid file loads, or fails with a message naming the file and a line. */
static void test_every_prefix_of_a_file_loads_or_names_a_line(void **state)
{
	struct fx *f = *state;
	char prefix[sizeof(f->path) + 2];
	size_t n = strlen(full_text);
	int rc;

	snprintf(prefix, sizeof(prefix), "%s:", f->path);
	for (size_t i = 0; i <= n; i++) {
		memcpy(f->text, full_text, i);
		f->text[i] = '\0';
		rc = load(f, f->text, NULL);
		if (rc != 0 && (rc != -EINVAL || strncmp(f->err, prefix, strlen(prefix)) != 0))
			fail_msg("prefix of %zu bytes: rc %d: %s", i, rc, f->err);
	}
}

static void test_comments_indentation_bom_and_crlf_are_read(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f,
			      "\xEF\xBB\xBF; comment\r\n"
			      "# another\r\n"
			      "[server] ; the server\r\n"
			      "  threads = 3 ; inline comment\r\n"
			      "\tdispatchers: 2\r\n"
			      "[destination \"a\"]\r\n"
			      "type=jsonl\r\n"
			      "url = https://h.example/p?a=1;b=2\r\n",
			      NULL),
			 0);
	assert_int_equal(f->conf->threads, 3);
	assert_int_equal(f->conf->dispatchers, 2);
	assert_string_equal(f->conf->dests[0].type, "jsonl");
	/* Only " ;" starts an inline comment. */
	assert_string_equal(pxd_conf_dest_get(&f->conf->dests[0], "url", NULL),
			    "https://h.example/p?a=1;b=2");
}

/* README: linger_ms = 0 sends at once; only a left-out key takes the type's default. */
static void test_linger_zero_is_kept_apart_from_unset(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, "[destination \"a\"]\ntype = meta\nlinger_ms = 0\n", NULL), 0);
	assert_int_equal(f->conf->dests[0].linger_ms, 0);
	assert_true(f->conf->dests[0].linger_set);
	/* A key named for its unit takes a plain number of it (conf_value.h). */
	assert_int_equal(load(f, "[destination \"a\"]\ntype = meta\nlinger_ms = 1s\n", NULL),
			 -EINVAL);
	assert_int_equal(load(f, "[destination \"a\"]\ntype = meta\nlinger_ms = 0\n", NULL), 0);
	assert_int_equal(f->conf->dests[0].linger_ms, 0);
	assert_true(f->conf->dests[0].linger_set);
	assert_int_equal(load(f, "[destination \"a\"]\ntype = meta\n", NULL), 0);
	assert_false(f->conf->dests[0].linger_set);
	assert_int_equal(load(f, "[destination \"a\"]\ntype = meta\nlinger_ms = 20\n", NULL), 0);
	assert_int_equal(f->conf->dests[0].linger_ms, 20);
	assert_int_not_equal(load(f, "[destination \"a\"]\ntype = meta\nlinger_ms = 60001\n", NULL),
			     0);
}

static void test_unknown_section_names_its_line(void **state)
{
	expect_error(*state, "[server]\nthreads = 2\n[bogus]\n", 3,
		     "[bogus]: unknown section; use [server], [journal], [xdp], [email], [nats], "
		     "[s2s], [tls], "
		     "[certificate \"NAME\"], [tenant \"NAME\"] or [destination \"NAME\"]");
}

static void test_unknown_key_names_its_line(void **state)
{
	struct fx *f = *state;

	expect_error(
	    f, "[server]\n\nthread = 2\n", 3,
	    "server.thread: unknown key; [server] takes listen, admin_listen, tls_listen, "
	    "handshake_timeout, data_dir, "
	    "threads, dispatchers, max_connections, idle_timeout, request_timeout, "
	    "shutdown_timeout, cors_origins, hosts, trusted_proxies, admin_key, write_keys, "
	    "secret_keys, tenant, user, log_level, log_format, ring_size, role, usage_interval");
	expect_error(f, "[journal]\nsize = 1G\n", 2,
		     "journal.size: unknown key; [journal] takes dir, ack, commit_interval, "
		     "segment_bytes, max_bytes");
	expect_error(f, "[xdp]\nno_such_key = 1\n", 2,
		     "xdp.no_such_key: unknown key; see scripts/pixeld.ini.example for the keys of "
		     "[xdp]");
	expect_error(f, "[server]\n[email]\n\nno_such_key = 1\n", 4,
		     "email.no_such_key: unknown key; see scripts/pixeld.ini.example for the keys "
		     "of [email]");
}

static void test_bad_value_quotes_it_and_says_what_to_write(void **state)
{
	struct fx *f = *state;

	expect_error(f, "[server]\nthreads = lots\n", 2,
		     "server.threads: \"lots\" is not a number; use 0 (one per CPU) to 256");
	expect_error(f, "[server]\nthreads = 257\n", 2,
		     "server.threads: \"257\" is out of range; use 0 (one per CPU) to 256");
	expect_error(f, "[server]\nlog_level = loud\n", 2,
		     "server.log_level: \"loud\" is not a log level; use err, warn, info or debug");
	expect_error(f, "[journal]\nack = sometimes\n", 2,
		     "journal.ack: \"sometimes\" is not an ack mode; use fast, durable or "
		     "replicated (role ingest)");
	expect_error(f, "[server]\nrole = both\n", 2,
		     "server.role: \"both\" is not a role; use all, ingest or dispatch");
	expect_error(f, "[journal]\nack = replicated\n", 2,
		     "journal.ack: replicated needs server.role = ingest (the answer waits for the "
		     "JetStream PubAck); use fast or durable");
	expect_error(f, "[server]\nring_size = 3000\n", 2,
		     "server.ring_size: \"3000\" is not a power of two; use a power of two from "
		     "1024 to 4194304");
	expect_error(f, "[server]\nring_size = 512\n", 2,
		     "server.ring_size: \"512\" is out of range; use a power of two from 1024 to "
		     "4194304");
	expect_error(f, "[server]\ntenant = Acme\n", 2,
		     "server.tenant: \"Acme\" is not a name; use 1 to 63 of a-z 0-9 _ -");
	expect_error(f, "[server]\ndata_dir =\n", 2,
		     "server.data_dir: \"\" is empty; use a directory path, e.g. /var/lib/pixeld");
	expect_error(f, "[server]\ndispatchers = 0\n", 2,
		     "server.dispatchers: \"0\" is out of range; use 1 to 64");
	expect_error(f, "[server]\nmax_connections = -5\n", 2,
		     "server.max_connections: \"-5\" is not a number; use 16 to 1000000");
	expect_error(f, "[server]\nthreads = \x01\"x\n", 2,
		     "server.threads: \"?\\\"x\" is not a number; use 0 (one per CPU) to 256");
	expect_error(f, "[destination \"a\"]\ntype = jsonl\nlinger_ms = soon\n", 3,
		     "destination.a.linger_ms: \"soon\" is not a number; use a number of "
		     "milliseconds from 0 (send at once) to 60000; leave it out for the "
		     "destination type's default");
	expect_error(
	    f, "[destination \"a\"]\ntype = jsonl\nevents = Page View\n", 3,
	    "destination.a.events: \"Page View\" is not an event name; use a comma list of "
	    "canonical event names like PageView, Purchase");
}

static void test_duplicate_destination_name_is_refused(void **state)
{
	expect_error(*state,
		     "[destination \"events\"]\ntype = jsonl\n\n[destination \"events\"]\n"
		     "type = jsonl\n",
		     4,
		     "destination.events: the name is taken (line 1); give each destination its "
		     "own name");
}

static void test_destination_without_type_is_refused(void **state)
{
	struct fx *f = *state;
	const char *msg = "destination.a: no type; add type = jsonl (or another adapter's type)";

	expect_error(f, "[destination \"a\"]\npath = x\n[server]\n", 1, msg);
	expect_error(f, "[server]\n[destination \"a\"]\n", 2, msg);
	expect_error(f, "[destination \"b\"]\ntype = jsonl\n[destination \"a\"]\n\n[journal]\n", 3,
		     msg);
	expect_error(f, "[destination \"a\"]\ntype =\n", 2,
		     "destination.a.type: \"\" is not a name; use an adapter's type, e.g. jsonl");
}

static void test_bad_destination_header_is_refused(void **state)
{
	struct fx *f = *state;

	expect_error(f, "[destination events]\n", 1,
		     "[destination events]: not a destination header; write [destination "
		     "\"NAME\"]");
	expect_error(f, "[destination \"Events\"]\n", 1,
		     "[destination \"Events\"]: \"Events\" is not a destination name; use 1 to 63 "
		     "of a-z 0-9 _ -");
	expect_error(f, "[destination \"\"]\n", 1,
		     "[destination \"\"]: \"\" is not a destination name; use 1 to 63 of a-z 0-9 _ "
		     "-");
}

static void test_duplicate_key_is_refused(void **state)
{
	struct fx *f = *state;

	expect_error(f, "[server]\nthreads = 2\ntenant = x\nthreads = 2\n", 4,
		     "server.threads: set again (first at line 2); keep one of the two");
	expect_error(f, "[destination \"a\"]\ntype = jsonl\npath = a\npath = b\n", 4,
		     "destination.a.path: set again (first at line 3); keep one of the two");
}

static void test_syntax_errors_name_their_line(void **state)
{
	struct fx *f = *state;

	expect_error(f, "threads = 2\n", 1,
		     "threads: the key comes before any section; put it under [server] or another "
		     "section");
	expect_error(f, "[server]\nthreads 2\n", 2,
		     "expected key = value, [section] or a comment; write key = value (comments "
		     "start with ; or #)");
	expect_error(f, "[server]\n[journal\n", 2,
		     "the section header has no ]; write it like [server]");
	expect_error(f, "[server] extra\n", 1,
		     "text after the section header's ]; put comments after ; or #");
	expect_error(f, "[server]\n[journal]\n[server]\n", 3,
		     "[server]: the section is repeated (first at line 1); merge them");
	expect_error(f, "[server]\n= 2\n", 2, "server: a key has no name; write key = value");
}

static void test_over_long_line_is_refused_and_long_lists_fit(void **state)
{
	struct fx *f = *state;
	int max_line = ini_max_line;
	size_t n;

	/* 64 origins make a line far past inih's default 200 bytes. */
	n = (size_t)snprintf(f->text, sizeof(f->text), "[server]\ncors_origins = ");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(f->text + n, sizeof(f->text) - n,
				      "%shttps://shop%02d.example.com:8443", i ? ", " : "", i);
	snprintf(f->text + n, sizeof(f->text) - n, "\n");
	assert_true(n > 2000);
	assert_int_equal(load(f, f->text, NULL), 0);
	assert_int_equal(f->conf->ncors_origins, 64);
	assert_string_equal(f->conf->cors_origins[63], "https://shop63.example.com:8443");
	assert_int_equal(ini_max_line, max_line);

	snprintf(f->text + n, sizeof(f->text) - n, ", https://one.more\n");
	assert_int_equal(load(f, f->text, NULL), -EINVAL);
	assert_non_null(
	    strstr(f->err, ":2: server.cors_origins: \"https://shop00.example.com:8443"));
	assert_non_null(strstr(f->err, "...\" has more than 64 items; use * alone"));

	memset(f->text, 'x', 25000);
	memcpy(f->text, "[server]\n\ntenant = ", 19);
	f->text[25000] = '\0';
	expect_error(f, f->text, 3, "the line is longer than 20479 bytes; shorten it");
	assert_int_equal(ini_max_line, max_line);
}

static void test_thirty_three_destinations_are_refused(void **state)
{
	struct fx *f = *state;
	size_t n = 0;

	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(f->text + n, sizeof(f->text) - n,
				      "[destination \"d%d\"]\ntype = jsonl\n", i);
	assert_int_equal(load(f, f->text, NULL), 0);
	assert_int_equal(f->conf->ndests, 32);
	assert_string_equal(f->conf->dests[31].name, "d31");
	assert_int_equal(f->conf->dests[31].line, 63);

	snprintf(f->text + n, sizeof(f->text) - n, "[destination \"d32\"]\ntype = jsonl\n");
	expect_error(f, f->text, 65,
		     "destination.d32: more than 32 destinations; merge some of them");
}

static void test_too_many_destination_keys_and_long_values_are_refused(void **state)
{
	struct fx *f = *state;
	size_t n;
	char big[1100];

	n = (size_t)snprintf(f->text, sizeof(f->text), "[destination \"a\"]\ntype = jsonl\n");
	for (int i = 0; i < 48; i++)
		n += (size_t)snprintf(f->text + n, sizeof(f->text) - n, "k%d = v\n", i);
	assert_int_equal(load(f, f->text, NULL), 0);
	assert_int_equal(f->conf->dests[0].nkv, 48);
	snprintf(f->text + n, sizeof(f->text) - n, "k48 = v\n");
	expect_error(f, f->text, 51,
		     "destination.a.k48: more than 48 keys in one destination; remove unused keys");

	/* The value may be a token: the message leaves it out. */
	memset(big, 's', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(f->text, sizeof(f->text), "[destination \"a\"]\ntype = jsonl\ntoken = %s\n", big);
	expect_error(f, f->text, 3,
		     "destination.a.token: the value is longer than 1023 bytes; shorten it");
}

struct scaled_case {
	const char *section;
	const char *key;
	const char *value;
	int rc;
	uint64_t want;
};

static uint64_t field_of(const struct pxd_conf *c, const char *key)
{
	if (strcmp(key, "idle_timeout") == 0)
		return c->idle_timeout_ms;
	if (strcmp(key, "request_timeout") == 0)
		return c->request_timeout_ms;
	if (strcmp(key, "shutdown_timeout") == 0)
		return c->shutdown_timeout_ms;
	if (strcmp(key, "commit_interval") == 0)
		return c->commit_interval_ms;
	if (strcmp(key, "segment_bytes") == 0)
		return c->segment_bytes;
	return c->max_bytes;
}

static void test_durations_and_sizes_parse_at_their_edges(void **state)
{
	static const struct scaled_case cases[] = {
		{ "server", "idle_timeout", "1h", 0, 3600000 },
		{ "server", "idle_timeout", "61m", -EINVAL, 0 },
		{ "server", "idle_timeout", "999ms", -EINVAL, 0 },
		{ "server", "idle_timeout", "1000", -EINVAL, 0 }, /* no unit: conf_value.h */
		{ "server", "idle_timeout", "1000ms", 0, 1000 },
		{ "server", "shutdown_timeout", "0", 0, 0 },
		{ "server", "request_timeout", "100ms", 0, 100 },
		{ "server", "request_timeout", "10m", 0, 600000 },
		{ "server", "request_timeout", "1.5s", -EINVAL, 0 },
		{ "server", "request_timeout", "60 s", -EINVAL, 0 },
		{ "server", "request_timeout", "s", -EINVAL, 0 },
		{ "server", "request_timeout", "10S", -EINVAL, 0 },
		{ "server", "request_timeout", "", -EINVAL, 0 },
		{ "server", "request_timeout", "99999999999999999999h", -EINVAL, 0 },
		{ "server", "request_timeout", "5124095576030431h", -EINVAL, 0 },
		{ "server", "shutdown_timeout", "0ms", 0, 0 },
		{ "journal", "commit_interval", "1s", 0, 1000 },
		{ "journal", "commit_interval", "1001ms", -EINVAL, 0 },
		{ "journal", "segment_bytes", "1M", 0, 1ull << 20 },
		{ "journal", "segment_bytes", "1048575", -EINVAL, 0 },
		{ "journal", "segment_bytes", "1024k", 0, 1ull << 20 },
		{ "journal", "segment_bytes", "1G", 0, 1ull << 30 },
		{ "journal", "segment_bytes", "1025M", -EINVAL, 0 },
		{ "journal", "segment_bytes", "64m", 0, 64ull << 20 },
		{ "journal", "segment_bytes", "1T", -EINVAL, 0 },
		{ "journal", "segment_bytes", "64MB", -EINVAL, 0 },
		{ "journal", "max_bytes", "0", 0, 0 },
		{ "journal", "max_bytes", "17179869184G", -EINVAL, 0 },
		{ "journal", "max_bytes", "18446744073709551615", 0, UINT64_MAX },
		{ "journal", "max_bytes", "18446744073709551616", -EINVAL, 0 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scaled_case *t = &cases[i];
		int rc = load_one(f, t->section, t->key, t->value);

		if (rc != t->rc)
			fail_msg("%s.%s = %s: rc %d, want %d (%s)", t->section, t->key, t->value,
				 rc, t->rc, f->err);
		if (rc == 0)
			assert_int_equal(field_of(f->conf, t->key), t->want);
		else
			assert_non_null(strstr(f->err, ":2: "));
	}
	expect_error(
	    f, "[server]\nidle_timeout = 2h\n", 2,
	    "server.idle_timeout: \"2h\" is out of range; use 1s to 1h (a number with ms, s, "
	    "m, h or d, e.g. 500ms, 10s, 5m)");
	expect_error(f, "[server]\nidle_timeout = 60\n", 2,
		     "server.idle_timeout: \"60\" has no unit; use 1s to 1h (a number with ms, s, "
		     "m, h or d, e.g. 500ms, 10s, 5m)");
	expect_error(f, "[journal]\nsegment_bytes = 64 M\n", 2,
		     "journal.segment_bytes: \"64 M\" is not a size; use 1M to 1G (bytes, or with "
		     "K, M or G, e.g. 64M)");
}

static void test_addresses_parse_numerically(void **state)
{
	static const char *const bad[] = {
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:65536",
		"1.2.3.4:+80",
		"::1:80",
		"[::1]",
		"[::1]80",
		"localhost:80",
		"1.2.3:80",
		"[fe80::1%eth0]:80",
		"[1.2.3.4]:80",
		" 1.2.3.4:80x",
		"*:",
		"[::1]:-1",
		":80",
	};
	struct fx *f = *state;
	struct pxd_conf *c = f->conf;

	assert_int_equal(load_one(f, "server", "listen", "*:0"), 0);
	assert_v4(&c->listen, "0.0.0.0", 0);
	assert_int_equal(load_one(f, "server", "listen", "[::]:80"), 0);
	assert_v6(&c->listen, "::", 80);
	assert_int_equal(load_one(f, "server", "listen", "0.0.0.0:65535"), 0);
	assert_v4(&c->listen, "0.0.0.0", 65535);
	assert_int_equal(load_one(f, "server", "listen", "[2001:db8::1]:443"), 0);
	assert_v6(&c->listen, "2001:db8::1", 443);
	assert_string_equal(c->listen.text, "[2001:db8::1]:443");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_one(f, "server", "listen", bad[i]) != -EINVAL)
			fail_msg("listen = %s was accepted", bad[i]);
		assert_non_null(strstr(f->err, ":2: server.listen: \""));
	}
	expect_error(f, "[server]\nlisten = localhost:8080\n", 2,
		     "server.listen: \"localhost:8080\" is not a numeric address (names are not "
		     "resolved); use IPv4:port, [IPv6]:port or *:port (numeric, no names), e.g. "
		     "127.0.0.1:8080");
	expect_error(f, "[server]\nlisten = ::1:8080\n", 2,
		     "server.listen: \"::1:8080\" is an IPv6 address without [ ]; use IPv4:port, "
		     "[IPv6]:port or *:port (numeric, no names), e.g. 127.0.0.1:8080");
}

static void test_cidrs_parse_and_refuse_host_bits(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "fd00::/129",   "10.0.0.0/",    "10.0.0.0/-1",
		"10.0.0/8",    "10.0.0.0/8/8", "host.example", "10.0.0.0/ 8",
	};
	struct fx *f = *state;
	struct pxd_conf *c = f->conf;

	assert_int_equal(load_one(f, "server", "trusted_proxies", "0.0.0.0/0, ::/0"), 0);
	assert_int_equal(c->ntrusted_proxies, 2);
	assert_int_equal(c->trusted_proxies[0].prefix, 0);
	assert_int_equal(c->trusted_proxies[1].family, AF_INET6);
	assert_int_equal(c->trusted_proxies[1].prefix, 0);
	assert_int_equal(load_one(f, "server", "trusted_proxies", "2001:db8::/32,172.16.0.0/12"),
			 0);
	assert_memory_equal(c->trusted_proxies[0].addr, "\x20\x01\x0d\xb8", 4);
	assert_int_equal(c->trusted_proxies[0].prefix, 32);
	assert_int_equal(c->trusted_proxies[1].prefix, 12);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_one(f, "server", "trusted_proxies", bad[i]) != -EINVAL)
			fail_msg("trusted_proxies = %s was accepted", bad[i]);
	}
	expect_error(f, "[server]\ntrusted_proxies = 192.168.0.0/16, 10.0.0.1/8\n", 2,
		     "server.trusted_proxies: \"10.0.0.1/8\" has bits set past its prefix length; "
		     "write 10.0.0.0/8");
	expect_error(f, "[server]\ntrusted_proxies = fd00::1/8\n", 2,
		     "server.trusted_proxies: \"fd00::1/8\" has bits set past its prefix length; "
		     "write fd00::/8");
	expect_error(
	    f, "[server]\ntrusted_proxies = 10.0.0.0/8,,::1\n", 2,
	    "server.trusted_proxies: \"10.0.0.0/8,,::1\" has an empty item between commas; "
	    "use a comma list of CIDRs like 10.0.0.0/8, fd00::/8 or single addresses");
}

static void test_origins_and_hosts_are_checked(void **state)
{
	static const char *const bad_origins[] = {
		"https://shop.example/",  "ftp://shop.example",
		"shop.example",		  "https://",
		"https://shop.example:0", "https://sh op.example",
		"*, https://a.example",	  "https://a.example, *",
		"https://*.shop.example",
	};
	static const char *const bad_hosts[] = {
		"bad host", "shop.example:0", "shop..example", "[::1", "shop.example:80:80", ".",
	};
	struct fx *f = *state;
	struct pxd_conf *c = f->conf;

	assert_int_equal(load_one(f, "server", "cors_origins", ""), 0);
	assert_int_equal(c->ncors_origins, 0);
	assert_int_equal(load_one(f, "server", "cors_origins", "https://[::1]:8443"), 0);
	assert_string_equal(c->cors_origins[0], "https://[::1]:8443");
	for (size_t i = 0; i < sizeof(bad_origins) / sizeof(bad_origins[0]); i++) {
		if (load_one(f, "server", "cors_origins", bad_origins[i]) != -EINVAL)
			fail_msg("cors_origins = %s was accepted", bad_origins[i]);
	}
	expect_error(f, "[server]\ncors_origins = *, https://a.example\n", 2,
		     "server.cors_origins: \"*\" allows every origin and takes no others; use * "
		     "alone, or a comma list of origins like https://shop.example");
	expect_error(f, "[server]\ncors_origins = https://a.example/app\n", 2,
		     "server.cors_origins: \"https://a.example/app\" is not an origin (http:// or "
		     "https:// and a host, no path); use * alone, or a comma list of origins like "
		     "https://shop.example");

	assert_int_equal(load_one(f, "server", "hosts", "127.0.0.1:8080 , Shop.Example"), 0);
	assert_int_equal(c->nhosts, 2);
	assert_string_equal(c->hosts[0], "127.0.0.1:8080");
	assert_string_equal(c->hosts[1], "shop.example");
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		if (load_one(f, "server", "hosts", bad_hosts[i]) != -EINVAL)
			fail_msg("hosts = %s was accepted", bad_hosts[i]);
	}
	expect_error(
	    f, "[server]\nhosts = shop.example:99999\n", 2,
	    "server.hosts: \"shop.example:99999\" has a bad port (1 to 65535); use a comma "
	    "list of host names like shop.example or shop.example:8080");
}

static void test_overrides_apply_after_the_file(void **state)
{
	struct fx *f = *state;
	struct pxd_conf *c = f->conf;
	struct pxd_conf_overrides ov = {
		.listen = "[::1]:0",
		.admin_listen = "127.0.0.1:0",
		.data_dir = "/tmp/pxd-data",
	};

	assert_int_equal(pxd_conf_load(NULL, &ov, c, f->err, sizeof(f->err)), 0);
	assert_v6(&c->listen, "::1", 0);
	assert_v4(&c->admin_listen, "127.0.0.1", 0);
	assert_string_equal(c->data_dir, "/tmp/pxd-data");
	assert_string_equal(c->journal_dir, "/tmp/pxd-data/journal");

	/* An explicit journal.dir stays where the file put it. */
	assert_int_equal(load(f, "[server]\nlisten = 1.2.3.4:80\n[journal]\ndir = /j\n", &ov), 0);
	assert_v6(&c->listen, "::1", 0);
	assert_string_equal(c->journal_dir, "/j");

	ov = (struct pxd_conf_overrides){ .listen = "nope" };
	assert_int_equal(pxd_conf_load(NULL, &ov, c, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "--listen: \"nope\" has no port; use IPv4:port, [IPv6]:port or "
				    "*:port (numeric, no names), e.g. 127.0.0.1:8080");
	ov = (struct pxd_conf_overrides){ .data_dir = "" };
	assert_int_equal(pxd_conf_load(NULL, &ov, c, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "--data-dir: \"\" is empty; use a directory path, e.g. "
				    "/var/lib/pixeld");
	ov = (struct pxd_conf_overrides){ .admin_listen = "0.0.0.0:9180" };
	assert_int_equal(pxd_conf_load(NULL, &ov, c, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "--admin: server.admin_listen: \"0.0.0.0:9180\" is not "
				    "loopback and server.admin_key is empty; set admin_key or "
				    "listen on 127.0.0.1");
}

static void test_cross_key_checks_name_the_key(void **state)
{
	struct fx *f = *state;

	expect_error(f, "[journal]\nsegment_bytes = 64M\nmax_bytes = 1M\n", 3,
		     "journal.max_bytes: 1048576 bytes is less than one segment (67108864); use 0 "
		     "or at least journal.segment_bytes");
	expect_error(f, "[server]\n\nlisten = 127.0.0.1:9180\n", 3,
		     "server.admin_listen: \"127.0.0.1:9180\" clashes with server.listen "
		     "\"127.0.0.1:9180\"; give the admin API its own port");
	expect_error(f, "[server]\nlisten = *:8080\nadmin_listen = 127.0.0.1:8080\n", 3,
		     "server.admin_listen: \"127.0.0.1:8080\" clashes with server.listen "
		     "\"*:8080\"; give the admin API its own port");
	expect_error(f, "[server]\nadmin_listen = *:9180\n", 2,
		     "server.admin_listen: \"*:9180\" is not loopback and server.admin_key is "
		     "empty; set admin_key or listen on 127.0.0.1");
	assert_int_equal(load(f, "[server]\nadmin_listen = *:9180\nadmin_key = k\n", NULL), 0);
	assert_int_equal(load(f, "[server]\nadmin_listen = [::1]:9180\n", NULL), 0);
	assert_int_equal(load(f, "[journal]\nsegment_bytes = 1M\nmax_bytes = 1M\n", NULL), 0);
}

static void test_file_errors_name_the_file(void **state)
{
	struct fx *f = *state;
	char want[512];
	char path[128];

	snprintf(path, sizeof(path), "%s/absent.ini", f->dir);
	assert_int_equal(pxd_conf_load(path, NULL, f->conf, f->err, sizeof(f->err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "%s: cannot open: No such file or directory; check the path given with --config",
		 path);
	assert_string_equal(f->err, want);
	assert_int_equal(pxd_conf_load(f->dir, NULL, f->conf, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "not a regular file"));
	/* An empty file is all defaults, without the embedded destination. */
	assert_int_equal(load(f, "", NULL), 0);
	assert_int_equal(f->conf->ndests, 0);
	assert_int_equal(f->conf->ring_size, 65536);
}

static void test_secret_file_mode_and_newline(void **state)
{
	struct fx *f = *state;
	char path[128];
	char value[160];
	char out[16];
	char want[512];

	put(f, "open.key", "hunter2\n", 0644, path, sizeof(path));
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)), -EPERM);
	snprintf(want, sizeof(want),
		 "file:%s: group or others may access it (mode 644); run chmod 600 %s", path, path);
	assert_string_equal(f->err, want);
	assert_null(strstr(f->err, "hunter2"));
	assert_string_equal(out, "");

	put(f, "closed.key", "hunter2\n", 0600, path, sizeof(path));
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)), 0);
	assert_string_equal(out, "hunter2");

	/* Only one newline goes; a 15-byte secret plus newline fills out[16] exactly. */
	put(f, "two.key", "abc\n\n", 0600, path, sizeof(path));
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)), 0);
	assert_string_equal(out, "abc\n");
	put(f, "full.key", "0123456789abcde\n", 0600, path, sizeof(path));
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)), 0);
	assert_string_equal(out, "0123456789abcde");
	put(f, "long.key", "0123456789abcdef", 0600, path, sizeof(path));
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)),
			 -ENAMETOOLONG);
	assert_null(strstr(f->err, "0123"));
	put(f, "empty.key", "\n", 0600, path, sizeof(path));
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)), -EINVAL);

	snprintf(value, sizeof(value), "file:%s/absent.key", f->dir);
	assert_int_equal(pxd_conf_secret(value, out, sizeof(out), f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "absent.key: cannot open"));
}

static void test_secret_env_and_literal(void **state)
{
	struct fx *f = *state;
	char out[16];

	assert_int_equal(setenv("PXD_TEST_CONF_SECRET", "s3cret", 1), 0);
	assert_int_equal(
	    pxd_conf_secret("env:PXD_TEST_CONF_SECRET", out, sizeof(out), f->err, sizeof(f->err)),
	    0);
	assert_string_equal(out, "s3cret");
	assert_int_equal(unsetenv("PXD_TEST_CONF_SECRET"), 0);
	assert_int_equal(
	    pxd_conf_secret("env:PXD_TEST_CONF_SECRET", out, sizeof(out), f->err, sizeof(f->err)),
	    -ENOENT);
	assert_string_equal(f->err, "env:PXD_TEST_CONF_SECRET is not set; export "
				    "PXD_TEST_CONF_SECRET before starting pixeld");

	assert_int_equal(pxd_conf_secret("plain", out, sizeof(out), f->err, sizeof(f->err)), 0);
	assert_string_equal(out, "plain");
	assert_int_equal(
	    pxd_conf_secret("0123456789abcdef", out, sizeof(out), f->err, sizeof(f->err)),
	    -ENAMETOOLONG);
	assert_null(strstr(f->err, "0123"));
}

static void test_admin_key_is_resolved_at_load(void **state)
{
	struct fx *f = *state;
	char path[128];
	char want[512];

	put(f, "admin.key", "adm1n\n", 0600, path, sizeof(path));
	snprintf(f->text, sizeof(f->text), "[server]\nadmin_key = file:%s\n", path);
	assert_int_equal(load(f, f->text, NULL), 0);
	assert_string_equal(f->conf->admin_key, "adm1n");

	put(f, "admin.key", "adm1n\n", 0640, path, sizeof(path));
	assert_int_equal(load(f, f->text, NULL), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2: server.admin_key: file:%s: group or others may access it (mode 640); run "
		 "chmod 600 %s",
		 f->path, path, path);
	assert_string_equal(f->err, want);

	memset(f->text, 'k', 400);
	memcpy(f->text, "[server]\nadmin_key = ", 21);
	snprintf(f->text + 300, sizeof(f->text) - 300, "\n");
	expect_error(f, f->text, 2,
		     "server.admin_key: the secret is longer than 255 bytes; check it, it is used "
		     "as written");
}

static void test_threads_zero_means_one_per_cpu(void **state)
{
	struct fx *f = *state;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	assert_int_equal(pxd_conf_load(NULL, NULL, f->conf, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->conf->threads, 0);
	assert_int_equal(pxd_conf_threads(f->conf), cpus > 256 ? 256 : cpus);
	f->conf->threads = 3;
	assert_int_equal(pxd_conf_threads(f->conf), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_embedded_default_has_documented_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_example_file_equals_the_defaults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_file_sets_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_prefix_of_a_file_loads_or_names_a_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_indentation_bom_and_crlf_are_read,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section_names_its_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_names_its_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_value_quotes_it_and_says_what_to_write,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_destination_name_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destination_without_type_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_destination_header_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors_name_their_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_over_long_line_is_refused_and_long_lists_fit,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_thirty_three_destinations_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_too_many_destination_keys_and_long_values_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linger_zero_is_kept_apart_from_unset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_durations_and_sizes_parse_at_their_edges,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses_parse_numerically, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cidrs_parse_and_refuse_host_bits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_origins_and_hosts_are_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_overrides_apply_after_the_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cross_key_checks_name_the_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_errors_name_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_file_mode_and_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_env_and_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_key_is_resolved_at_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads_zero_means_one_per_cpu, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
