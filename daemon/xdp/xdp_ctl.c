// SPDX-License-Identifier: MIT
/*
 * pixeld's XDP filter: opens and loads the skeleton with the [xdp] settings,
 * pins its maps, loads the lists, attaches native then generic, reloads on
 * SIGHUP, and blocks bot sources with a per-thread dedup so a bot costs one
 * bpf(2) call per half TTL. Lifecycle: main thread; state and blocking: any.
 */
#include "xdp_ctl.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"
#include "xdp_filter.skel.h"
#include "xdp_maps.h"

#define NS_PER_S 1000000000ull
#define DEDUP_SLOTS 64

struct pxd_xdp_ctl {
	struct xdp_filter_bpf *skel;
	struct pxd_xdp_maps maps;
	int link_fd;
	enum pxd_xdp_attach attach;
	struct pxd_conf_xdp conf; /* as started; reload compares against it */
	char state[440];
};

/*
 * The per-thread memory of pxd_xdp_ctl_block_addr(): one bot hammering us
 * is one bpf(2) call per half TTL, not one per request. Direct-mapped by a
 * hash of the address; a collision only costs an extra syscall.
 */
struct dedup_slot {
	const struct pxd_xdp_ctl *ctl;
	struct pxd_conf_cidr cidr;
	uint64_t until_ns;
};

static _Thread_local struct dedup_slot dedup[DEDUP_SLOTS];

static const char *const attach_names[PXD_XDP_ATTACH_COUNT] = {
	[PXD_XDP_ATTACH_NONE] = "none",
	[PXD_XDP_ATTACH_NATIVE] = "native",
	[PXD_XDP_ATTACH_GENERIC] = "generic",
};

/* The filter's clock without the test offset, which pixeld keeps at 0 (vDSO: no syscall). */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* libbpf's own lines go to debug, so a failed start stays one warning line. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	pxd_log_debug("libbpf", "%s", line);
	return 0;
}

static void fill_config(const struct pxd_conf_xdp *c, struct pxd_xdp_config *cfg)
{
	cfg->syn_interval_ns = c->syn_rate_interval_ns;
	cfg->syn_tolerance_ns = c->syn_rate_interval_ns * (c->syn_burst - 1);
	cfg->pkt_interval_ns = c->rate_interval_ns;
	cfg->pkt_tolerance_ns = c->rate_interval_ns * (c->burst - 1);
	cfg->clock_offset_ns = 0;
}

static int open_and_load(struct pxd_xdp_ctl *ctl, char *why, size_t whylen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = ctl->conf.pin_dir);
	struct xdp_filter_bpf *skel;
	struct bpf_map *lists[] = { NULL, NULL, NULL, NULL, NULL, NULL };
	struct bpf_map *buckets[] = { NULL, NULL };
	int err;

	skel = xdp_filter_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		snprintf(why, whylen, "opening the BPF object: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < ctl->conf.nports; i++) {
		uint16_t p = ctl->conf.ports[i];

		skel->rodata->port_bits[p >> 6] |= 1ull << (p & 63);
	}
	lists[0] = skel->maps.allow_v4;
	lists[1] = skel->maps.allow_v6;
	lists[2] = skel->maps.deny_v4;
	lists[3] = skel->maps.deny_v6;
	lists[4] = skel->maps.deny_hash_v4;
	lists[5] = skel->maps.deny_hash_v6;
	buckets[0] = skel->maps.bucket_v4;
	buckets[1] = skel->maps.bucket_v6;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		bpf_map__set_max_entries(lists[i], ctl->conf.max_cidrs);
	for (size_t i = 0; i < ARRAY_SIZE(buckets); i++)
		bpf_map__set_max_entries(buckets[i], ctl->conf.max_sources);
	err = xdp_filter_bpf__load(skel);
	if (err) {
		snprintf(why, whylen,
			 "loading the XDP program: %s (pixeld needs root, or CAP_BPF, "
			 "CAP_NET_ADMIN and CAP_PERFMON)",
			 strerror(-err));
		xdp_filter_bpf__destroy(skel);
		return err;
	}
	err = pxd_xdp_maps_from_object(skel->obj, &ctl->maps);
	if (!err)
		err = pxd_xdp_maps_mark_all(&ctl->maps);
	if (err) {
		snprintf(why, whylen, "opening the XDP maps: %s", strerror(-err));
		pxd_xdp_maps_close(&ctl->maps);
		xdp_filter_bpf__destroy(skel);
		return err;
	}
	ctl->skel = skel;
	return 0;
}

static int load_lists(struct pxd_xdp_ctl *ctl, const struct pxd_conf_xdp *c, char *why,
		      size_t whylen)
{
	ssize_t n =
	    pxd_xdp_maps_load_file(&ctl->maps, PXD_XDP_LIST_ALLOW, c->allow_file, why, whylen);

	if (n < 0)
		return (int)n;
	n = pxd_xdp_maps_load_file(&ctl->maps, PXD_XDP_LIST_DENY, c->deny_file, why, whylen);
	return n < 0 ? (int)n : 0;
}

static int attach_mode(struct pxd_xdp_ctl *ctl, int ifindex, enum pxd_xdp_attach mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd;

	opts.flags = mode == PXD_XDP_ATTACH_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	/* A link, not a netlink attachment: if pixeld dies, the kernel detaches it. */
	fd =
	    bpf_link_create(bpf_program__fd(ctl->skel->progs.xdp_ingress), ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return -errno;
	ctl->link_fd = fd;
	ctl->attach = mode;
	return 0;
}

static int attach(struct pxd_xdp_ctl *ctl, int ifindex, char *why, size_t whylen)
{
	const char *name = ctl->conf.interface;
	int err = -EOPNOTSUPP;

	if (ctl->conf.mode != PXD_XDP_MODE_GENERIC) {
		err = attach_mode(ctl, ifindex, PXD_XDP_ATTACH_NATIVE);
		if (!err || ctl->conf.mode == PXD_XDP_MODE_NATIVE || err == -EBUSY ||
		    err == -EEXIST || err == -EPERM)
			goto out;
	}
	err = attach_mode(ctl, ifindex, PXD_XDP_ATTACH_GENERIC);
out:
	if (err == -EBUSY || err == -EEXIST)
		snprintf(why, whylen,
			 "%s already has an XDP program (pixelctl xdp detach, or ip link set dev "
			 "%s xdp off)",
			 name, name);
	else if (err == -EPERM)
		snprintf(why, whylen, "attaching to %s: %s (needs root or CAP_NET_ADMIN)", name,
			 strerror(-err));
	else if (err && ctl->conf.mode == PXD_XDP_MODE_NATIVE)
		snprintf(why, whylen,
			 "native mode on %s: %s (the driver may lack XDP; set xdp.mode = auto or "
			 "generic)",
			 name, strerror(-err));
	else if (err)
		snprintf(why, whylen, "attaching to %s: %s", name, strerror(-err));
	return err;
}

static int record_attachment(struct pxd_xdp_ctl *ctl, int ifindex)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct pxd_xdp_config cfg = { 0 };
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(bpf_program__fd(ctl->skel->progs.xdp_ingress), &info, &len);
	if (err)
		return err;
	fill_config(&ctl->conf, &cfg);
	cfg.ifindex = (__u32)ifindex;
	cfg.attach_mode = ctl->attach;
	cfg.prog_id = info.id;
	return pxd_xdp_maps_set_config(&ctl->maps, &cfg);
}

static int start(struct pxd_xdp_ctl *ctl, char *why, size_t whylen)
{
	const struct pxd_conf_xdp *c = &ctl->conf;
	struct pxd_xdp_config cfg = { 0 };
	int ifindex = (int)if_nametoindex(c->interface);
	int err;

	if (!ifindex) {
		snprintf(why, whylen,
			 "no interface \"%s\" (check xdp.interface; ip link lists them)",
			 c->interface);
		return -ENODEV;
	}
	err = pxd_xdp_maps_prepare_pin_dir(c->pin_dir);
	if (err) {
		snprintf(
		    why, whylen,
		    "pin_dir %.200s: %s (it must lie on a bpffs: mount -t bpf bpf /sys/fs/bpf)",
		    c->pin_dir, strerror(-err));
		return err;
	}
	err = open_and_load(ctl, why, whylen);
	if (err == -EINVAL && access(c->pin_dir, F_OK) == 0) {
		/* Pins left by a build whose maps differ (or other sizes): they cannot be reused.
		 */
		pxd_log_info("xdp", "replacing stale pins under %s", c->pin_dir);
		pxd_xdp_maps_unpin(c->pin_dir);
		err = open_and_load(ctl, why, whylen);
	}
	if (err)
		return err;
	fill_config(c, &cfg);
	err = pxd_xdp_maps_set_config(&ctl->maps, &cfg);
	if (err) {
		snprintf(why, whylen, "writing the config map: %s", strerror(-err));
		return err;
	}
	err = load_lists(ctl, c, why, whylen);
	if (err)
		return err;
	err = attach(ctl, ifindex, why, whylen);
	if (err)
		return err;
	err = record_attachment(ctl, ifindex);
	if (err)
		snprintf(why, whylen, "recording the attachment: %s", strerror(-err));
	return err;
}

/* Undoes start() in reverse: the link, the skeleton, the pins. */
static void teardown(struct pxd_xdp_ctl *ctl)
{
	if (ctl->link_fd >= 0)
		close(ctl->link_fd);
	ctl->link_fd = -1;
	ctl->attach = PXD_XDP_ATTACH_NONE;
	if (ctl->skel) {
		xdp_filter_bpf__destroy(ctl->skel);
		ctl->skel = NULL;
		pxd_xdp_maps_unpin(ctl->conf.pin_dir);
	}
	pxd_xdp_maps_close(&ctl->maps);
}

/* Keeps the state embeddable in JSON and log lines as is: no quote, backslash or control. */
static void sanitize(char *s)
{
	for (; *s; s++) {
		if (*s == '"')
			*s = '\'';
		else if (*s == '\\')
			*s = '/';
		else if ((unsigned char)*s < 0x20)
			*s = ' ';
	}
}

struct pxd_xdp_ctl *pxd_xdp_ctl_start(const struct pxd_conf_xdp *c)
{
	struct pxd_xdp_ctl *ctl = calloc(1, sizeof(*ctl));
	char why[400];
	int err;

	if (!ctl)
		return NULL;
	ctl->link_fd = -1;
	ctl->conf = *c;
	pxd_xdp_maps_init(&ctl->maps);
	if (!c->interface[0]) {
		snprintf(ctl->state, sizeof(ctl->state), "off");
		return ctl;
	}
	libbpf_set_print(libbpf_log);
	err = start(ctl, why, sizeof(why));
	if (err) {
		teardown(ctl);
		snprintf(ctl->state, sizeof(ctl->state), "failed: %s", why);
		sanitize(ctl->state);
		pxd_log_warn("xdp", "XDP filter not attached, running without it: %s", why);
		return ctl;
	}
	snprintf(ctl->state, sizeof(ctl->state), "%s on %s", attach_names[ctl->attach],
		 c->interface);
	pxd_log_info("xdp", "XDP filter attached %s, maps pinned under %s", ctl->state, c->pin_dir);
	return ctl;
}

const char *pxd_xdp_ctl_state(const struct pxd_xdp_ctl *ctl)
{
	return ctl ? ctl->state : "off";
}

bool pxd_xdp_ctl_attached(const struct pxd_xdp_ctl *ctl)
{
	return ctl && ctl->attach != PXD_XDP_ATTACH_NONE;
}

int pxd_xdp_ctl_metrics(const struct pxd_xdp_ctl *ctl, struct pxd_buf *out)
{
	uint64_t v[PXD_XDP_COUNTER_COUNT];
	int err;

	err = pxd_buf_printf(out,
			     "# HELP pixeld_xdp_attached 1 while the XDP filter is attached.\n"
			     "# TYPE pixeld_xdp_attached gauge\n"
			     "pixeld_xdp_attached %d\n",
			     pxd_xdp_ctl_attached(ctl) ? 1 : 0);
	if (err || !pxd_xdp_ctl_attached(ctl))
		return err;
	err = pxd_xdp_maps_counters(&ctl->maps, v);
	if (err)
		return err;
	err = pxd_buf_puts(out, "# HELP pixeld_xdp_packets_total Packets the XDP filter judged, "
				"by verdict and reason.\n"
				"# TYPE pixeld_xdp_packets_total counter\n");
	for (int i = 0; i < PXD_XDP_COUNTER_COUNT && !err; i++)
		err = pxd_buf_printf(
		    out, "pixeld_xdp_packets_total{verdict=\"%s\",reason=\"%s\"} %llu\n",
		    pxd_xdp_counter_verdict((enum pxd_xdp_counter)i),
		    pxd_xdp_counter_reason((enum pxd_xdp_counter)i), (unsigned long long)v[i]);
	return err;
}

static size_t dedup_hash(const struct pxd_conf_cidr *c)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(c->addr); i++)
		h = (h ^ c->addr[i]) * 16777619u;
	return h % DEDUP_SLOTS;
}

int pxd_xdp_ctl_block_addr(struct pxd_xdp_ctl *ctl, const struct sockaddr *sa, uint32_t ttl_s)
{
	struct pxd_conf_cidr cidr;
	struct dedup_slot *slot;
	uint64_t now;
	int err;

	if (!pxd_xdp_ctl_attached(ctl))
		return -ENODEV;
	if (!ttl_s)
		return -EINVAL;
	err = pxd_xdp_cidr_from_sockaddr(sa, &cidr);
	if (err)
		return err;
	now = mono_ns();
	slot = &dedup[dedup_hash(&cidr)];
	if (slot->ctl == ctl && now < slot->until_ns && slot->cidr.family == cidr.family &&
	    slot->cidr.prefix == cidr.prefix && !memcmp(slot->cidr.addr, cidr.addr, 16))
		return 0;
	err = pxd_xdp_maps_add(&ctl->maps, PXD_XDP_LIST_DENY, &cidr, PXD_XDP_ORIGIN_BOT,
			       now + (uint64_t)ttl_s * NS_PER_S);
	if (err)
		return err;
	slot->ctl = ctl;
	slot->cidr = cidr;
	slot->until_ns = now + (uint64_t)ttl_s * NS_PER_S / 2;
	return 0;
}

int pxd_xdp_ctl_reload(struct pxd_xdp_ctl *ctl, const struct pxd_conf_xdp *c)
{
	const struct pxd_conf_xdp *old;
	struct pxd_xdp_config cfg;
	char why[400];
	int err;

	if (!pxd_xdp_ctl_attached(ctl))
		return 0;
	old = &ctl->conf;
	if (strcmp(old->interface, c->interface) || old->mode != c->mode ||
	    old->nports != c->nports || memcmp(old->ports, c->ports, sizeof(old->ports)) ||
	    strcmp(old->pin_dir, c->pin_dir) || old->max_cidrs != c->max_cidrs ||
	    old->max_sources != c->max_sources)
		pxd_log_info("xdp", "xdp.interface, mode, ports, pin_dir, max_cidrs and "
				    "max_sources take effect at the next restart");
	err = pxd_xdp_maps_get_config(&ctl->maps, &cfg);
	if (!err) {
		fill_config(c, &cfg);
		err = pxd_xdp_maps_set_config(&ctl->maps, &cfg);
	}
	if (err) {
		pxd_log_warn("xdp", "updating the XDP rates failed: %s", strerror(-err));
		return err;
	}
	ctl->conf.rate_interval_ns = c->rate_interval_ns;
	ctl->conf.burst = c->burst;
	ctl->conf.syn_rate_interval_ns = c->syn_rate_interval_ns;
	ctl->conf.syn_burst = c->syn_burst;
	err = load_lists(ctl, c, why, sizeof(why));
	if (err) {
		pxd_log_warn("xdp", "XDP list not reloaded (it keeps its old entries): %s", why);
		return err;
	}
	memcpy(ctl->conf.allow_file, c->allow_file, sizeof(c->allow_file));
	memcpy(ctl->conf.deny_file, c->deny_file, sizeof(c->deny_file));
	return 0;
}

int pxd_xdp_ctl_sweep(struct pxd_xdp_ctl *ctl)
{
	ssize_t n;

	if (!pxd_xdp_ctl_attached(ctl))
		return 0;
	n = pxd_xdp_maps_sweep(&ctl->maps, pxd_xdp_maps_now(&ctl->maps));
	if (n > 0)
		pxd_log_debug("xdp", "swept %zd expired blocks", n);
	return (int)n;
}

void pxd_xdp_ctl_stop(struct pxd_xdp_ctl *ctl)
{
	if (!ctl)
		return;
	if (pxd_xdp_ctl_attached(ctl))
		pxd_log_info("xdp", "detaching the XDP filter from %s", ctl->conf.interface);
	teardown(ctl);
	free(ctl);
}
