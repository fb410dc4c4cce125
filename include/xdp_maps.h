/* SPDX-License-Identifier: MIT */
/*
 * xdp_maps.h - the XDP filter's maps seen from user space, whoever loaded
 * them: open them from their pins, add/remove/list allow and deny CIDRs,
 * load the list files, sweep expired blocks, read the counters and the
 * runtime config. Used by daemon/xdp/xdp_ctl.c (pixeld) and pixelctl alike.
 * Does not load or attach programs. Any thread: every operation is a bpf(2)
 * call on fds that stay read-only after open. Implemented in daemon/xdp/:
 * xdp_maps.c (maps), xdp_cidr.c (CIDR text), xdp_list_file.c (list files).
 */
#ifndef PXD_XDP_MAPS_H
#define PXD_XDP_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf.h"
#include "xdp_filter.h"

struct bpf_object;

/* The map fds, -1 where not open, and the prefilter bits mapped from prefix_bits (or NULL). */
struct pxd_xdp_maps {
	int allow_v4;
	int allow_v6;
	int deny_v4; /* the trie: deny entries of the lengths the hash does not hold */
	int deny_v6;
	int deny_hash_v4; /* PXD_XDP_DENY_HASHED lengths */
	int deny_hash_v6;
	int prefix_bits;
	int bucket_v4;
	int bucket_v6;
	int counters;
	int config;
	struct pxd_xdp_prefix_word *bits;
};

enum pxd_xdp_list {
	PXD_XDP_LIST_ALLOW = 0,
	PXD_XDP_LIST_DENY,
	PXD_XDP_LIST_COUNT, /* number of lists; keep last */
};

/* Longest text pxd_xdp_cidr_format() writes, NUL included. */
#define PXD_XDP_CIDR_STRLEN 48

/* Called once per entry by pxd_xdp_maps_foreach(); a non-zero return stops the walk. */
typedef int pxd_xdp_entry_fn(const struct pxd_conf_cidr *cidr, const struct pxd_xdp_entry *e,
			     void *arg);

/* Returns the fd of the <i>th map of <m> and its name in <*name>, or -ENOENT past the last. */
int pxd_xdp_maps_nth(const struct pxd_xdp_maps *m, size_t i, const char **name);

/* Sets every fd of <m> to -1, so pxd_xdp_maps_close() is safe on it. */
void pxd_xdp_maps_init(struct pxd_xdp_maps *m);

/*
 * Opens every map pinned under <pin_dir>. Returns 0, -ENOENT when a pin is
 * missing (pixeld never attached there, or `xdp detach` removed them), or
 * another -errno (-EPERM without CAP_BPF). On error nothing stays open.
 */
int pxd_xdp_maps_open_pinned(const char *pin_dir, struct pxd_xdp_maps *m);

/*
 * Takes the maps of a loaded xdp_filter object (the loader's, a test's, the bench's): <m>
 * gets its own fds (dup'd), so pxd_xdp_maps_close() applies as after open_pinned. Returns 0,
 * -ENOENT when a map is missing, or -errno; on error nothing stays open.
 */
int pxd_xdp_maps_from_object(const struct bpf_object *obj, struct pxd_xdp_maps *m);

/*
 * Sets the prefilter bits of every allow and deny entry already in the maps: pins left by a
 * build without the prefilter hold entries the program would otherwise skip. Returns 0 or
 * -errno.
 */
int pxd_xdp_maps_mark_all(const struct pxd_xdp_maps *m);

/* Closes the fds of <m> and sets them to -1. Accepts a closed or half-open <m>. */
void pxd_xdp_maps_close(struct pxd_xdp_maps *m);

/*
 * Makes sure <pin_dir>'s parent is a bpffs, mounting one on /sys/fs/bpf when
 * that is the parent and nothing is mounted there (as systemd would have).
 * Returns 0, -ENOTDIR when the parent is another file system, or -errno.
 */
int pxd_xdp_maps_prepare_pin_dir(const char *pin_dir);

/* Unlinks every pin under <pin_dir> and the directory. Returns 0 or the first -errno. */
int pxd_xdp_maps_unpin(const char *pin_dir);

/*
 * Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (full length)
 * into <out> with pxd_conf_value_cidr(). Returns 0 or -EINVAL, also for
 * bits set past the prefix ("10.1.2.3/8" matches nothing it says).
 */
int pxd_xdp_cidr_parse(const char *s, struct pxd_conf_cidr *out);

/* Writes <c> as "addr/prefix" to <buf> (PXD_XDP_CIDR_STRLEN fits any). */
void pxd_xdp_cidr_format(const struct pxd_conf_cidr *c, char *buf, size_t len);

/*
 * The block for a client socket address: IPv4 /32, IPv6 /64 (a host owns at
 * least a /64), v4-mapped IPv6 as IPv4. Returns 0 or -EAFNOSUPPORT.
 */
int pxd_xdp_cidr_from_sockaddr(const struct sockaddr *sa, struct pxd_conf_cidr *out);

/* Returns the filter's clock: CLOCK_MONOTONIC_COARSE ns plus the config's test offset. */
uint64_t pxd_xdp_maps_now(const struct pxd_xdp_maps *m);

/*
 * Adds <c> to <list> with <origin>, expiring at <expires_ns> on the filter's
 * clock (0: never; allow entries never expire). Deny entries of the lengths
 * PXD_XDP_DENY_HASHED names go to the exact-match hash, the rest to the trie;
 * the prefilter bits are set first. An existing entry for the
 * same CIDR is kept when it is stronger: a static entry beats a dynamic one,
 * a manual static entry beats a file one, and a later expiry beats an earlier.
 * Returns 0, -E2BIG when the map is full, or another -errno.
 */
int pxd_xdp_maps_add(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
		     const struct pxd_conf_cidr *c, enum pxd_xdp_origin origin,
		     uint64_t expires_ns);

/*
 * Removes exactly <c> from <list> (from the map its length lives in). Returns 0, -ENOENT when
 * it is not there, or -errno. Prefilter bits stay set (see PXD_XDP_PREFIX_BITS).
 */
int pxd_xdp_maps_del(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
		     const struct pxd_conf_cidr *c);

/*
 * Calls <fn> for each entry of <list>, IPv4 first (the deny hash, then the
 * trie, for each family), in the maps' own order.
 * A snapshot of the keys is taken first, so <fn> may add or delete entries.
 * Returns 0, <fn>'s non-zero return, or -errno (-ENOMEM).
 */
int pxd_xdp_maps_foreach(const struct pxd_xdp_maps *m, enum pxd_xdp_list list, pxd_xdp_entry_fn *fn,
			 void *arg);

/*
 * Makes the FILE entries of <list> exactly the CIDRs in <path> (one per
 * line, '#' starts a comment); an empty <path> removes them all. Manual and
 * bot entries stay. Returns the number of CIDRs in the file, or -errno with
 * <err> saying what failed, e.g. "/etc/deny.txt:3: \"10.0.0.300\" is not a
 * CIDR ...". On a parse error the maps are left unchanged.
 */
ssize_t pxd_xdp_maps_load_file(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
			       const char *path, char *err, size_t errlen);

/* Deletes deny entries that expired by <now_ns>. Returns how many, or -errno. */
ssize_t pxd_xdp_maps_sweep(const struct pxd_xdp_maps *m, uint64_t now_ns);

/* Returns the number of entries in the map <fd>, or -errno. Walks the map: cold paths only. */
ssize_t pxd_xdp_maps_fill(int fd);

/* Sums every counter over the possible CPUs into <out>. Returns 0 or -errno. */
int pxd_xdp_maps_counters(const struct pxd_xdp_maps *m, uint64_t out[PXD_XDP_COUNTER_COUNT]);

/* Reads or writes the runtime config entry. Return 0 or -errno. */
int pxd_xdp_maps_get_config(const struct pxd_xdp_maps *m, struct pxd_xdp_config *cfg);
int pxd_xdp_maps_set_config(const struct pxd_xdp_maps *m, const struct pxd_xdp_config *cfg);

/* Returns the Prometheus labels of <counter>: verdict "pass"/"drop" and a reason. */
const char *pxd_xdp_counter_verdict(enum pxd_xdp_counter counter);
const char *pxd_xdp_counter_reason(enum pxd_xdp_counter counter);

/* Returns "file", "manual" or "bot". */
const char *pxd_xdp_origin_name(enum pxd_xdp_origin origin);

#endif
