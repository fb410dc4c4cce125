// SPDX-License-Identifier: MIT
/*
 * test_xdp_ctl.c - pixeld's XDP lifecycle (daemon/xdp/xdp_ctl.c) for real: the
 * test moves itself into a network namespace of its own, where only "lo"
 * exists, and attaches there (lo has no native XDP, so "auto" must fall back
 * to generic). A TCP listener on lo shows that a block drops real packets.
 * Needs root (CAP_SYS_ADMIN for the namespace, CAP_BPF, CAP_NET_ADMIN).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xdp_ctl.h"
#include "xdp_maps.h"

#define PORT 8080

struct fixture {
	struct pxd_conf_xdp conf;
	int listen_fd;
	char dir[64];
};

static void set(struct pxd_conf_xdp *c, const char *key, const char *value)
{
	char err[256];

	if (pxd_conf_xdp_set(c, key, value, err, sizeof(err)))
		fail_msg("xdp.%s = %s: %s", key, value, err);
}

/* Brings lo up in the namespace unshare() just made. */
static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int ret = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int group_setup(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct fixture *f = calloc(1, sizeof(*f));
	int one = 1;

	if (!f)
		return -1;
	if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
		fprintf(stderr, "cannot make a network namespace: %s (run as root)\n",
			strerror(errno));
		free(f);
		return -1;
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (f->listen_fd < 0 ||
	    setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(f->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(f->listen_fd, 64) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	close(f->listen_fd);
	free(f);
	return 0;
}

/* Every test starts from the defaults on lo with a pin dir of its own. */
static int setup(void **state)
{
	struct fixture *f = *state;

	snprintf(f->dir, sizeof(f->dir), "/sys/fs/bpf/pxd-test-ctl-%d", (int)getpid());
	pxd_conf_xdp_defaults(&f->conf);
	set(&f->conf, "interface", "lo");
	set(&f->conf, "ports", "8080");
	set(&f->conf, "pin_dir", f->dir);
	set(&f->conf, "max_cidrs", "1024");
	set(&f->conf, "max_sources", "1024");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* A failed test may leave pins behind; never the next test's problem. */
	pxd_xdp_maps_unpin(f->dir);
	return 0;
}

/* True when a TCP connection to lo:PORT completes within 300 ms. */
static bool can_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct pollfd pfd;
	int err = 0;
	socklen_t len = sizeof(err);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	bool ok = false;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS)
		goto out;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, 300) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	    err == 0)
		ok = true;
out:
	close(fd);
	return ok;
}

/* Accepts and closes whatever the listener has queued, so the backlog never fills. */
static void drain_listener(struct fixture *f)
{
	int fd;

	fcntl(f->listen_fd, F_SETFL, O_NONBLOCK);
	while ((fd = accept(f->listen_fd, NULL, NULL)) >= 0)
		close(fd);
}

static void test_off_without_interface(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct pxd_buf out = { 0 };
	struct pxd_xdp_ctl *ctl;

	set(&f->conf, "interface", "");
	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_non_null(ctl);
	assert_string_equal(pxd_xdp_ctl_state(ctl), "off");
	assert_false(pxd_xdp_ctl_attached(ctl));
	assert_int_equal(pxd_xdp_ctl_block_addr(ctl, (struct sockaddr *)&sin, 60), -ENODEV);
	assert_int_equal(pxd_xdp_ctl_sweep(ctl), 0);
	assert_int_equal(pxd_xdp_ctl_reload(ctl, &f->conf), 0);
	assert_int_equal(pxd_xdp_ctl_metrics(ctl, &out), 0);
	assert_non_null(strstr(out.p, "pixeld_xdp_attached 0\n"));
	assert_null(strstr(out.p, "pixeld_xdp_packets_total"));
	assert_int_equal(access(f->dir, F_OK), -1);
	pxd_xdp_ctl_stop(ctl);
	pxd_buf_free(&out);
	/* NULL reads as "off" everywhere. */
	assert_string_equal(pxd_xdp_ctl_state(NULL), "off");
	assert_false(pxd_xdp_ctl_attached(NULL));
	pxd_xdp_ctl_stop(NULL);
}

static void test_failures_leave_a_state_and_no_pins(void **state)
{
	struct fixture *f = *state;
	struct pxd_xdp_ctl *ctl;

	set(&f->conf, "interface", "nosuchif0");
	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_false(pxd_xdp_ctl_attached(ctl));
	assert_string_equal(pxd_xdp_ctl_state(ctl),
			    "failed: no interface 'nosuchif0' (check xdp.interface; ip link lists "
			    "them)");
	pxd_xdp_ctl_stop(ctl);

	/* lo has no driver-mode XDP: native alone fails, and says what to do. */
	set(&f->conf, "interface", "lo");
	set(&f->conf, "mode", "native");
	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_false(pxd_xdp_ctl_attached(ctl));
	assert_non_null(strstr(pxd_xdp_ctl_state(ctl), "failed: native mode on lo: "));
	assert_non_null(strstr(pxd_xdp_ctl_state(ctl), "set xdp.mode = auto or generic"));
	assert_int_equal(access(f->dir, F_OK), -1);
	pxd_xdp_ctl_stop(ctl);

	/* A list file with a bad line keeps XDP off rather than half-loaded. */
	set(&f->conf, "mode", "auto");
	set(&f->conf, "deny_file", "/nonexistent/deny.txt");
	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_false(pxd_xdp_ctl_attached(ctl));
	assert_non_null(
	    strstr(pxd_xdp_ctl_state(ctl), "failed: /nonexistent/deny.txt: cannot open"));
	assert_int_equal(access(f->dir, F_OK), -1);
	pxd_xdp_ctl_stop(ctl);
}

static void test_auto_falls_back_to_generic_and_stop_cleans_up(void **state)
{
	struct fixture *f = *state;
	struct pxd_xdp_config cfg;
	struct pxd_xdp_maps m;
	struct pxd_xdp_ctl *ctl;

	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_true(pxd_xdp_ctl_attached(ctl));
	assert_string_equal(pxd_xdp_ctl_state(ctl), "generic on lo");
	assert_int_equal(pxd_xdp_maps_open_pinned(f->dir, &m), 0);
	assert_int_equal(pxd_xdp_maps_get_config(&m, &cfg), 0);
	assert_int_equal(cfg.ifindex, if_nametoindex("lo"));
	assert_int_equal(cfg.attach_mode, PXD_XDP_ATTACH_GENERIC);
	assert_true(cfg.prog_id > 0);
	assert_int_equal(cfg.syn_interval_ns, 1000000000ull / 50);
	assert_int_equal(cfg.syn_tolerance_ns, 199 * (1000000000ull / 50));
	assert_int_equal(cfg.pkt_interval_ns, 0);
	pxd_xdp_maps_close(&m);
	assert_true(can_connect());
	pxd_xdp_ctl_stop(ctl);
	assert_int_equal(access(f->dir, F_OK), -1);
	drain_listener(f);
}

static void test_block_addr_drops_packets_and_dedups(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
	struct pxd_conf_cidr lo;
	struct pxd_xdp_maps m;
	struct pxd_xdp_ctl *ctl = pxd_xdp_ctl_start(&f->conf);
	struct pxd_buf out = { 0 };

	assert_true(pxd_xdp_ctl_attached(ctl));
	assert_int_equal(pxd_xdp_maps_open_pinned(f->dir, &m), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(can_connect());
	assert_int_equal(pxd_xdp_ctl_block_addr(ctl, (struct sockaddr *)&sin, 60), 0);
	assert_false(can_connect());
	assert_int_equal(pxd_xdp_ctl_metrics(ctl, &out), 0);
	assert_non_null(strstr(out.p, "pixeld_xdp_attached 1\n"));
	assert_non_null(
	    strstr(out.p, "pixeld_xdp_packets_total{verdict=\"drop\",reason=\"denied_dynamic\"} "));
	assert_null(strstr(
	    out.p, "pixeld_xdp_packets_total{verdict=\"drop\",reason=\"denied_dynamic\"} 0\n"));

	/* This thread remembers the block: a second call makes no syscall, so an entry
	 * removed behind its back stays removed... */
	assert_int_equal(pxd_xdp_cidr_parse("127.0.0.1", &lo), 0);
	assert_int_equal(pxd_xdp_maps_del(&m, PXD_XDP_LIST_DENY, &lo), 0);
	assert_int_equal(pxd_xdp_ctl_block_addr(ctl, (struct sockaddr *)&sin, 60), 0);
	/* ...also when the same client shows up v4-mapped on a dual-stack socket. */
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	assert_int_equal(pxd_xdp_ctl_block_addr(ctl, (struct sockaddr *)&mapped, 60), 0);
	assert_int_equal(pxd_xdp_maps_del(&m, PXD_XDP_LIST_DENY, &lo), -ENOENT);
	assert_true(can_connect());
	assert_int_equal(pxd_xdp_ctl_block_addr(ctl, (struct sockaddr *)&sin, 0), -EINVAL);

	pxd_buf_free(&out);
	pxd_xdp_maps_close(&m);
	pxd_xdp_ctl_stop(ctl);
	drain_listener(f);
}

struct blocker {
	struct pxd_xdp_ctl *ctl;
	int ret;
};

static void *block_from_thread(void *arg)
{
	struct blocker *b = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	inet_pton(AF_INET, "192.0.2.77", &sin.sin_addr);
	b->ret = pxd_xdp_ctl_block_addr(b->ctl, (struct sockaddr *)&sin, 60);
	return NULL;
}

static void test_dedup_is_per_thread(void **state)
{
	struct fixture *f = *state;
	struct pxd_xdp_ctl *ctl = pxd_xdp_ctl_start(&f->conf);
	struct blocker b = { .ctl = ctl };
	struct pxd_conf_cidr c;
	struct pxd_xdp_maps m;
	pthread_t t;

	assert_int_equal(pxd_xdp_maps_open_pinned(f->dir, &m), 0);
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.77", &c), 0);
	assert_int_equal(pthread_create(&t, NULL, block_from_thread, &b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(b.ret, 0);
	assert_int_equal(pxd_xdp_maps_del(&m, PXD_XDP_LIST_DENY, &c), 0);
	/* Another thread has its own memory: it blocks again. */
	assert_int_equal(pthread_create(&t, NULL, block_from_thread, &b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(pxd_xdp_maps_del(&m, PXD_XDP_LIST_DENY, &c), 0);
	pxd_xdp_maps_close(&m);
	pxd_xdp_ctl_stop(ctl);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int count_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	(void)c;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void test_start_loads_lists_and_reload_applies(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/pxd-xdp-ctl-XXXXXX";
	char deny[64];
	struct pxd_conf_xdp next;
	struct pxd_xdp_config cfg;
	struct pxd_xdp_maps m;
	struct pxd_xdp_ctl *ctl;
	int n = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(deny, sizeof(deny), "%s/deny.txt", dir);
	write_file(deny, "127.0.0.0/8\n");
	set(&f->conf, "deny_file", deny);
	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_true(pxd_xdp_ctl_attached(ctl));
	assert_false(can_connect());

	/* SIGHUP: a new file and new rates apply at once; a bad file changes nothing. */
	next = f->conf;
	set(&next, "syn_rate", "10/s");
	set(&next, "syn_burst", "3");
	set(&next, "rate", "1000/s");
	write_file(deny, "192.0.2.0/24\n198.51.100.0/24\n");
	assert_int_equal(pxd_xdp_ctl_reload(ctl, &next), 0);
	assert_true(can_connect());
	assert_int_equal(pxd_xdp_maps_open_pinned(f->dir, &m), 0);
	assert_int_equal(pxd_xdp_maps_get_config(&m, &cfg), 0);
	assert_int_equal(cfg.syn_interval_ns, 100000000ull);
	assert_int_equal(cfg.syn_tolerance_ns, 200000000ull);
	assert_int_equal(cfg.pkt_interval_ns, 1000000ull);
	assert_int_equal(cfg.attach_mode, PXD_XDP_ATTACH_GENERIC);
	assert_int_equal(pxd_xdp_maps_foreach(&m, PXD_XDP_LIST_DENY, count_entry, &n), 0);
	assert_int_equal(n, 2);
	write_file(deny, "not a cidr\n");
	assert_int_equal(pxd_xdp_ctl_reload(ctl, &next), -EINVAL);
	n = 0;
	assert_int_equal(pxd_xdp_maps_foreach(&m, PXD_XDP_LIST_DENY, count_entry, &n), 0);
	assert_int_equal(n, 2);

	pxd_xdp_maps_close(&m);
	pxd_xdp_ctl_stop(ctl);
	unlink(deny);
	rmdir(dir);
	drain_listener(f);
}

static void test_sweep_removes_expired_blocks(void **state)
{
	struct fixture *f = *state;
	struct pxd_xdp_ctl *ctl = pxd_xdp_ctl_start(&f->conf);
	struct pxd_conf_cidr c;
	struct pxd_xdp_config cfg;
	struct pxd_xdp_maps m;

	assert_int_equal(pxd_xdp_maps_open_pinned(f->dir, &m), 0);
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.0/24", &c), 0);
	assert_int_equal(pxd_xdp_maps_add(&m, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT,
					  pxd_xdp_maps_now(&m) + 5000000000ull),
			 0);
	assert_int_equal(pxd_xdp_ctl_sweep(ctl), 0);
	assert_int_equal(pxd_xdp_maps_get_config(&m, &cfg), 0);
	cfg.clock_offset_ns = 6000000000ull;
	assert_int_equal(pxd_xdp_maps_set_config(&m, &cfg), 0);
	assert_int_equal(pxd_xdp_ctl_sweep(ctl), 1);
	assert_int_equal(pxd_xdp_maps_del(&m, PXD_XDP_LIST_DENY, &c), -ENOENT);
	pxd_xdp_maps_close(&m);
	pxd_xdp_ctl_stop(ctl);
}

static void test_stale_pins_are_replaced(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct pxd_xdp_ctl *ctl;
	int fd;

	/* A "config" map from some other build: its value does not fit ours. */
	assert_int_equal(mkdir(f->dir, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "config", 4, 8, 1, NULL);
	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "%s/config", f->dir);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
	ctl = pxd_xdp_ctl_start(&f->conf);
	assert_string_equal(pxd_xdp_ctl_state(ctl), "generic on lo");
	pxd_xdp_ctl_stop(ctl);
	assert_int_equal(access(f->dir, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_off_without_interface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_leave_a_state_and_no_pins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auto_falls_back_to_generic_and_stop_cleans_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_addr_drops_packets_and_dedups, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dedup_is_per_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_loads_lists_and_reload_applies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sweep_removes_expired_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_pins_are_replaced, setup, teardown),
	};

	return cmocka_run_group_tests_name("xdp_ctl", tests, group_setup, group_teardown);
}
