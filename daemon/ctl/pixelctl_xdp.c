// SPDX-License-Identifier: MIT
/*
 * The pixelctl XDP commands: status, stats, detach, block/unblock/blocks,
 * allow/unallow/allows and lists reload, on the maps pinned under [xdp]
 * pin_dir, with or without pixeld running. pixelctl's only thread.
 */
#include "pixelctl_xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "xdp_maps.h"

#define NS_PER_S 1000000000ull

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

/* The options every command may take; each command says which it accepts. */
struct opts {
	const char *arg; /* the CIDR, for the commands that take one */
	bool json;
	uint32_t ttl_s; /* 0: none given */
};

enum opt_flags {
	OPT_CIDR = 1 << 0,
	OPT_JSON = 1 << 1,
	OPT_TTL = 1 << 2,
};

struct command {
	const char *word;
	const char *sub; /* second word, or NULL */
	unsigned accepts;
	const char *usage;
	int (*run)(const struct pxd_conf *conf, const struct opts *o);
};

static int cmd_status(const struct pxd_conf *conf, const struct opts *o);
static int cmd_stats(const struct pxd_conf *conf, const struct opts *o);
static int cmd_detach(const struct pxd_conf *conf, const struct opts *o);
static int cmd_block(const struct pxd_conf *conf, const struct opts *o);
static int cmd_unblock(const struct pxd_conf *conf, const struct opts *o);
static int cmd_blocks(const struct pxd_conf *conf, const struct opts *o);
static int cmd_allow(const struct pxd_conf *conf, const struct opts *o);
static int cmd_unallow(const struct pxd_conf *conf, const struct opts *o);
static int cmd_allows(const struct pxd_conf *conf, const struct opts *o);
static int cmd_reload(const struct pxd_conf *conf, const struct opts *o);

static const struct command commands[] = {
	{ "xdp", "status", OPT_JSON,
	  "xdp status [--json]      where the filter is attached, map fill", cmd_status },
	{ "xdp", "stats", OPT_JSON, "xdp stats [--json]       packet counters, summed over CPUs",
	  cmd_stats },
	{ "xdp", "detach", 0, "xdp detach               detach the filter, remove its pins",
	  cmd_detach },
	{ "block", NULL, OPT_CIDR | OPT_TTL,
	  "block CIDR [--ttl 10m]   drop CIDR's packets (until unblocked, or for the TTL)",
	  cmd_block },
	{ "unblock", NULL, OPT_CIDR, "unblock CIDR             remove a deny entry", cmd_unblock },
	{ "blocks", NULL, OPT_JSON, "blocks [--json]          list the deny entries", cmd_blocks },
	{ "allow", NULL, OPT_CIDR, "allow CIDR               never filter CIDR", cmd_allow },
	{ "unallow", NULL, OPT_CIDR, "unallow CIDR             remove an allow entry",
	  cmd_unallow },
	{ "allows", NULL, OPT_JSON, "allows [--json]          list the allow entries", cmd_allows },
	{ "lists", "reload", 0, "lists reload             re-read xdp.allow_file and xdp.deny_file",
	  cmd_reload },
};

static const char *const attach_names[PXD_XDP_ATTACH_COUNT] = {
	[PXD_XDP_ATTACH_NONE] = "none",
	[PXD_XDP_ATTACH_NATIVE] = "native",
	[PXD_XDP_ATTACH_GENERIC] = "generic",
};

bool pxd_pixelctl_xdp_handles(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(word, commands[i].word) == 0)
			return true;
	return false;
}

void pxd_pixelctl_xdp_usage(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  pixelctl %s\n", commands[i].usage);
}

static int open_maps(const struct pxd_conf *conf, struct pxd_xdp_maps *m)
{
	int err = pxd_xdp_maps_open_pinned(conf->xdp.pin_dir, m);

	if (err == -ENOENT)
		fprintf(stderr,
			"pixelctl: no XDP maps pinned under %s: pixeld is not running with "
			"[xdp] interface set (or pin_dir differs in this config)\n",
			conf->xdp.pin_dir);
	else if (err)
		fprintf(stderr, "pixelctl: opening the XDP maps under %s: %s (run as root)\n",
			conf->xdp.pin_dir, strerror(-err));
	return err;
}

static int parse_cidr(const char *s, struct pxd_conf_cidr *c)
{
	if (pxd_xdp_cidr_parse(s, c) == 0)
		return 0;
	fprintf(stderr,
		"pixelctl: \"%s\" is not a CIDR (write e.g. 192.0.2.7, 192.0.2.0/24 or "
		"2001:db8::/32, no bits set past the prefix)\n",
		s);
	return -EINVAL;
}

/* Writes <ns> from now as "1h2m3s", or "expired". */
static void format_remaining(uint64_t expires, uint64_t now, char *buf, size_t len)
{
	uint64_t s;

	if (expires <= now) {
		snprintf(buf, len, "expired");
		return;
	}
	s = (expires - now + NS_PER_S - 1) / NS_PER_S;
	if (s >= 3600)
		snprintf(buf, len, "%lluh%llum%llus", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60), (unsigned long long)(s % 60));
	else if (s >= 60)
		snprintf(buf, len, "%llum%llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
}

/* Tokens per second of a bucket interval; 0 for a bucket that is off. */
static double per_second(uint64_t interval_ns)
{
	return interval_ns ? (double)NS_PER_S / (double)interval_ns : 0;
}

static uint64_t burst_of(uint64_t interval_ns, uint64_t tolerance_ns)
{
	return interval_ns ? tolerance_ns / interval_ns + 1 : 0;
}

/*
 * Finds the XDP link running program <prog_id>. Links are global objects,
 * so this works from any network namespace. Returns the link fd (the
 * caller closes it) or -ENOENT.
 */
static int find_link(__u32 prog_id, struct bpf_link_info *out)
{
	__u32 id = 0;

	while (prog_id && bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    info.type == BPF_LINK_TYPE_XDP && info.prog_id == prog_id) {
			*out = info;
			return fd;
		}
		close(fd);
	}
	return -ENOENT;
}

static void ifname_of(__u32 ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "ifindex %u", ifindex);
}

static void print_bucket(const char *what, uint64_t interval_ns, uint64_t tolerance_ns)
{
	if (interval_ns)
		printf("limit:  %s per source: %g/s, burst %llu\n", what, per_second(interval_ns),
		       (unsigned long long)burst_of(interval_ns, tolerance_ns));
	else
		printf("limit:  %s per source: off\n", what);
}

static int cmd_status(const struct pxd_conf *conf, const struct opts *o)
{
	struct pxd_xdp_config cfg;
	struct bpf_link_info link;
	struct pxd_xdp_maps m;
	char ifname[IF_NAMESIZE + 16];
	const char *mode;
	const char *name;
	bool attached;
	int fd;

	if (open_maps(conf, &m))
		return EXIT_FAIL;
	if (pxd_xdp_maps_get_config(&m, &cfg)) {
		fprintf(stderr, "pixelctl: reading the XDP config map: %s\n", strerror(errno));
		pxd_xdp_maps_close(&m);
		return EXIT_FAIL;
	}
	fd = find_link(cfg.prog_id, &link);
	attached = fd >= 0;
	if (attached)
		close(fd);
	mode = cfg.attach_mode < PXD_XDP_ATTACH_COUNT ? attach_names[cfg.attach_mode] : "?";
	ifname_of(cfg.ifindex, ifname);
	if (o->json)
		printf(
		    "{\"attached\":%s,\"mode\":\"%s\",\"interface\":\"%s\",\"ifindex\":%u,"
		    "\"prog_id\":%u,\"pin_dir\":\"%s\",\"syn_rate_per_s\":%.3f,\"syn_burst\":%llu,"
		    "\"rate_per_s\":%.3f,\"burst\":%llu,\"maps\":{",
		    attached ? "true" : "false", mode, ifname, cfg.ifindex, cfg.prog_id,
		    conf->xdp.pin_dir, per_second(cfg.syn_interval_ns),
		    (unsigned long long)burst_of(cfg.syn_interval_ns, cfg.syn_tolerance_ns),
		    per_second(cfg.pkt_interval_ns),
		    (unsigned long long)burst_of(cfg.pkt_interval_ns, cfg.pkt_tolerance_ns));
	else if (attached)
		printf("state:  attached %s on %s, program id %u\n", mode, ifname, cfg.prog_id);
	else
		printf("state:  not attached (pixeld stopped or crashed; `pixelctl xdp detach` "
		       "removes the stale pins)\n");
	if (!o->json) {
		printf("pins:   %s\n", conf->xdp.pin_dir);
		print_bucket("new connections", cfg.syn_interval_ns, cfg.syn_tolerance_ns);
		print_bucket("all packets", cfg.pkt_interval_ns, cfg.pkt_tolerance_ns);
	}
	for (size_t i = 0; (fd = pxd_xdp_maps_nth(&m, i, &name)) >= 0; i++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		ssize_t fill = pxd_xdp_maps_fill(fd);

		memset(&info, 0, sizeof(info));
		bpf_obj_get_info_by_fd(fd, &info, &len);
		if (o->json)
			printf("%s\"%s\":{\"entries\":%zd,\"max\":%u}", i ? "," : "", name, fill,
			       info.max_entries);
		else
			printf("map:    %-12s %zd/%u\n", name, fill, info.max_entries);
	}
	if (o->json)
		printf("}}\n");
	pxd_xdp_maps_close(&m);
	return attached ? EXIT_OK : EXIT_FAIL;
}

static int cmd_stats(const struct pxd_conf *conf, const struct opts *o)
{
	uint64_t v[PXD_XDP_COUNTER_COUNT];
	struct pxd_xdp_maps m;
	int err;

	if (open_maps(conf, &m))
		return EXIT_FAIL;
	err = pxd_xdp_maps_counters(&m, v);
	pxd_xdp_maps_close(&m);
	if (err) {
		fprintf(stderr, "pixelctl: reading the XDP counters: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	if (o->json)
		printf("[");
	else
		printf("%-8s %-18s %s\n", "verdict", "reason", "packets");
	for (int i = 0; i < PXD_XDP_COUNTER_COUNT; i++) {
		const char *verdict = pxd_xdp_counter_verdict((enum pxd_xdp_counter)i);
		const char *reason = pxd_xdp_counter_reason((enum pxd_xdp_counter)i);

		if (o->json)
			printf("%s{\"verdict\":\"%s\",\"reason\":\"%s\",\"packets\":%llu}",
			       i ? "," : "", verdict, reason, (unsigned long long)v[i]);
		else
			printf("%-8s %-18s %llu\n", verdict, reason, (unsigned long long)v[i]);
	}
	if (o->json)
		printf("]\n");
	return EXIT_OK;
}

static int cmd_detach(const struct pxd_conf *conf, const struct opts *o)
{
	struct pxd_xdp_config cfg = { 0 };
	struct bpf_link_info link;
	struct pxd_xdp_maps m;
	bool pinned;
	int fd;
	int err;

	(void)o;
	pinned = pxd_xdp_maps_open_pinned(conf->xdp.pin_dir, &m) == 0;
	if (pinned) {
		pxd_xdp_maps_get_config(&m, &cfg);
		pxd_xdp_maps_close(&m);
	}
	fd = find_link(cfg.prog_id, &link);
	if (fd >= 0) {
		err = bpf_link_detach(fd);
		close(fd);
		if (err) {
			fprintf(stderr, "pixelctl: detaching XDP link %u: %s\n", link.id,
				strerror(errno));
			return EXIT_FAIL;
		}
		printf("detached program %u (link %u) from ifindex %u\n", link.prog_id, link.id,
		       link.xdp.ifindex);
	}
	if (pinned || access(conf->xdp.pin_dir, F_OK) == 0) {
		err = pxd_xdp_maps_unpin(conf->xdp.pin_dir);
		if (err) {
			fprintf(stderr, "pixelctl: removing the pins under %s: %s\n",
				conf->xdp.pin_dir, strerror(-err));
			return EXIT_FAIL;
		}
		printf("removed the pins under %s\n", conf->xdp.pin_dir);
	} else if (fd < 0) {
		printf("nothing attached, nothing pinned under %s\n", conf->xdp.pin_dir);
	}
	return EXIT_OK;
}

/* Says so when an allow entry covers the block <c>: the filter checks allow first. */
static void note_allowed(const struct pxd_xdp_maps *m, const struct pxd_conf_cidr *c)
{
	struct pxd_xdp_lpm_v6 key = { .prefixlen = c->prefix };
	struct pxd_xdp_entry covering;

	/* The v4 trie reads only the first 8 bytes of the key: prefixlen and 4 address bytes. */
	memcpy(key.addr, c->addr, sizeof(key.addr));
	if (bpf_map_lookup_elem(c->family == AF_INET ? m->allow_v4 : m->allow_v6, &key,
				&covering) == 0)
		printf("note: the allow entry /%u covers it, and allow wins\n", covering.prefixlen);
}

static int add_entry(const struct pxd_conf *conf, const struct opts *o, enum pxd_xdp_list list)
{
	struct pxd_conf_cidr c;
	struct pxd_xdp_maps m;
	char text[PXD_XDP_CIDR_STRLEN];
	char ttl[32];
	uint64_t now;
	int err;

	if (parse_cidr(o->arg, &c))
		return EXIT_USAGE;
	if (open_maps(conf, &m))
		return EXIT_FAIL;
	now = pxd_xdp_maps_now(&m);
	err = pxd_xdp_maps_add(&m, list, &c, PXD_XDP_ORIGIN_MANUAL,
			       o->ttl_s ? now + (uint64_t)o->ttl_s * NS_PER_S : 0);
	pxd_xdp_cidr_format(&c, text, sizeof(text));
	if (err) {
		fprintf(stderr, "pixelctl: adding %s: %s%s\n", text, strerror(-err),
			err == -E2BIG ? " (the map is full: raise [xdp] max_cidrs and restart)"
				      : "");
		pxd_xdp_maps_close(&m);
		return EXIT_FAIL;
	}
	if (list == PXD_XDP_LIST_ALLOW) {
		printf("allowed %s\n", text);
	} else {
		format_remaining(now + (uint64_t)o->ttl_s * NS_PER_S, now, ttl, sizeof(ttl));
		printf("blocked %s %s%s\n", text, o->ttl_s ? "for " : "until unblocked",
		       o->ttl_s ? ttl : "");
		note_allowed(&m, &c);
	}
	pxd_xdp_maps_close(&m);
	return EXIT_OK;
}

static int del_entry(const struct pxd_conf *conf, const struct opts *o, enum pxd_xdp_list list)
{
	struct pxd_conf_cidr c;
	struct pxd_xdp_maps m;
	char text[PXD_XDP_CIDR_STRLEN];
	int err;

	if (parse_cidr(o->arg, &c))
		return EXIT_USAGE;
	if (open_maps(conf, &m))
		return EXIT_FAIL;
	err = pxd_xdp_maps_del(&m, list, &c);
	pxd_xdp_maps_close(&m);
	pxd_xdp_cidr_format(&c, text, sizeof(text));
	if (err == -ENOENT) {
		fprintf(stderr, "pixelctl: %s is not on the %s list (pixelctl %s lists it)\n", text,
			list == PXD_XDP_LIST_DENY ? "deny" : "allow",
			list == PXD_XDP_LIST_DENY ? "blocks" : "allows");
		return EXIT_FAIL;
	}
	if (err) {
		fprintf(stderr, "pixelctl: removing %s: %s\n", text, strerror(-err));
		return EXIT_FAIL;
	}
	printf("%s %s\n", list == PXD_XDP_LIST_DENY ? "unblocked" : "unallowed", text);
	return EXIT_OK;
}

struct print_ctx {
	bool json;
	uint64_t now;
	size_t n;
};

static int print_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	struct print_ctx *p = arg;
	char text[PXD_XDP_CIDR_STRLEN];
	char left[32];

	pxd_xdp_cidr_format(c, text, sizeof(text));
	if (e->expires_ns)
		format_remaining(e->expires_ns, p->now, left, sizeof(left));
	else
		snprintf(left, sizeof(left), "never");
	if (p->json) {
		printf("%s{\"cidr\":\"%s\",\"origin\":\"%s\",", p->n ? "," : "", text,
		       pxd_xdp_origin_name((enum pxd_xdp_origin)e->origin));
		if (e->expires_ns)
			printf("\"expires_in_s\":%llu}",
			       (unsigned long long)(e->expires_ns > p->now
							? (e->expires_ns - p->now) / NS_PER_S
							: 0));
		else
			printf("\"expires_in_s\":null}");
	} else {
		printf("%-44s %-7s %s\n", text, pxd_xdp_origin_name((enum pxd_xdp_origin)e->origin),
		       left);
	}
	p->n++;
	return 0;
}

static int list_entries(const struct pxd_conf *conf, const struct opts *o, enum pxd_xdp_list list)
{
	struct print_ctx p = { .json = o->json };
	struct pxd_xdp_maps m;
	int err;

	if (open_maps(conf, &m))
		return EXIT_FAIL;
	p.now = pxd_xdp_maps_now(&m);
	if (o->json)
		printf("[");
	else
		printf("%-44s %-7s %s\n", "cidr", "origin", "expires in");
	err = pxd_xdp_maps_foreach(&m, list, print_entry, &p);
	pxd_xdp_maps_close(&m);
	if (o->json)
		printf("]\n");
	if (err) {
		fprintf(stderr, "pixelctl: listing entries: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int cmd_block(const struct pxd_conf *conf, const struct opts *o)
{
	return add_entry(conf, o, PXD_XDP_LIST_DENY);
}

static int cmd_unblock(const struct pxd_conf *conf, const struct opts *o)
{
	return del_entry(conf, o, PXD_XDP_LIST_DENY);
}

static int cmd_blocks(const struct pxd_conf *conf, const struct opts *o)
{
	return list_entries(conf, o, PXD_XDP_LIST_DENY);
}

static int cmd_allow(const struct pxd_conf *conf, const struct opts *o)
{
	return add_entry(conf, o, PXD_XDP_LIST_ALLOW);
}

static int cmd_unallow(const struct pxd_conf *conf, const struct opts *o)
{
	return del_entry(conf, o, PXD_XDP_LIST_ALLOW);
}

static int cmd_allows(const struct pxd_conf *conf, const struct opts *o)
{
	return list_entries(conf, o, PXD_XDP_LIST_ALLOW);
}

static int cmd_reload(const struct pxd_conf *conf, const struct opts *o)
{
	static const struct {
		enum pxd_xdp_list list;
		const char *name;
		size_t off;
	} files[] = {
		{ PXD_XDP_LIST_ALLOW, "allow", offsetof(struct pxd_conf_xdp, allow_file) },
		{ PXD_XDP_LIST_DENY, "deny", offsetof(struct pxd_conf_xdp, deny_file) },
	};
	struct pxd_xdp_maps m;
	int ret = EXIT_OK;

	(void)o;
	if (open_maps(conf, &m))
		return EXIT_FAIL;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const char *path = (const char *)&conf->xdp + files[i].off;
		char err[512];
		ssize_t n = pxd_xdp_maps_load_file(&m, files[i].list, path, err, sizeof(err));

		if (n < 0) {
			fprintf(stderr,
				"pixelctl: %s list not reloaded (it keeps its entries): %s\n",
				files[i].name, err);
			ret = EXIT_FAIL;
		} else if (*path) {
			printf("%s list: %zd CIDRs from %s\n", files[i].name, n, path);
		} else {
			printf("%s list: no xdp.%s_file, file entries removed\n", files[i].name,
			       files[i].name);
		}
	}
	pxd_xdp_maps_close(&m);
	return ret;
}

static int parse_opts(const struct command *cmd, int argc, char **argv, struct opts *o)
{
	char err[160];

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && (cmd->accepts & OPT_JSON)) {
			o->json = true;
		} else if (strcmp(argv[i], "--ttl") == 0 && (cmd->accepts & OPT_TTL)) {
			if (++i == argc ||
			    pxd_conf_xdp_parse_ttl(argv[i], &o->ttl_s, err, sizeof(err)) < 0) {
				fprintf(stderr, "pixelctl: --ttl: %s\n",
					i == argc ? "needs a duration, e.g. 10m" : err);
				return -EINVAL;
			}
		} else if (argv[i][0] != '-' && (cmd->accepts & OPT_CIDR) && !o->arg) {
			o->arg = argv[i];
		} else {
			fprintf(stderr, "pixelctl: %s: unexpected \"%s\"; usage: pixelctl %s\n",
				cmd->word, argv[i], cmd->usage);
			return -EINVAL;
		}
	}
	if ((cmd->accepts & OPT_CIDR) && !o->arg) {
		fprintf(stderr, "pixelctl: %s needs a CIDR; usage: pixelctl %s\n", cmd->word,
			cmd->usage);
		return -EINVAL;
	}
	return 0;
}

int pxd_pixelctl_xdp_main(int argc, char **argv, const struct pxd_conf *conf)
{
	for (size_t i = 0; argc > 0 && i < ARRAY_SIZE(commands); i++) {
		const struct command *cmd = &commands[i];
		int skip = cmd->sub ? 2 : 1;
		struct opts o;

		if (strcmp(argv[0], cmd->word) != 0)
			continue;
		if (cmd->sub && (argc < 2 || strcmp(argv[1], cmd->sub) != 0))
			continue;
		if (parse_opts(cmd, argc - skip, argv + skip, &o))
			return EXIT_USAGE;
		return cmd->run(conf, &o);
	}
	fprintf(stderr, "pixelctl: unknown command; the XDP commands are:\n");
	pxd_pixelctl_xdp_usage(stderr);
	return EXIT_USAGE;
}
