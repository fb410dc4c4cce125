/* SPDX-License-Identifier: MIT */
/*
 * bot_ua.h - user-agent classification in one Hyperscan pass: bot, known-good
 * bot (search engines, link previews, monitors: they see pages, but their
 * events are not conversions and they are never blocked) or human. The
 * pattern lists are daemon/data/bot_ua.txt and good_bots.txt, embedded in the
 * binary. The compiled database is built once on the main thread and then
 * shared read-only; each thread that classifies owns a scratch.
 */
#ifndef PXD_BOT_UA_H
#define PXD_BOT_UA_H

#include <stddef.h>

enum pxd_bot_ua_class {
	PXD_BOT_UA_CLASS_HUMAN = 0,
	PXD_BOT_UA_CLASS_GOOD_BOT, /* a good-bot pattern matched (it wins over the bot list) */
	PXD_BOT_UA_CLASS_BOT,	   /* a bot pattern matched */
	PXD_BOT_UA_CLASS_COUNT,	   /* number of classes; keep last */
};

struct pxd_bot_ua;
struct pxd_bot_ua_scratch;

/*
 * Compiles the embedded lists into <*out>. Returns 0, -ENOMEM, -ENOTSUP when
 * the CPU lacks what Hyperscan needs (SSSE3), or -EINVAL with <err> naming
 * the list, line and pattern that does not compile. Main thread, at start
 * (compiling takes a moment: about a second for the shipped lists).
 */
int pxd_bot_ua_open(struct pxd_bot_ua **out, char *err, size_t errlen);

/*
 * Like pxd_bot_ua_open() with the given list texts (one pattern per line, '#'
 * comments) instead of the embedded ones; either may be empty. For tests and
 * for lists read from files.
 */
int pxd_bot_ua_open_lists(const char *bots, const char *good, struct pxd_bot_ua **out, char *err,
			  size_t errlen);

/* Frees <db>. Accepts NULL. Every scratch made from it must be freed first. */
void pxd_bot_ua_close(struct pxd_bot_ua *db);

/* Returns the number of patterns of <cls> (BOT or GOOD_BOT) in <db>, for the start log line. */
size_t pxd_bot_ua_patterns(const struct pxd_bot_ua *db, enum pxd_bot_ua_class cls);

/*
 * Makes a scratch for one thread (a clone of the database's prototype).
 * Returns 0 or -ENOMEM. Any thread; the scratch then belongs to the caller.
 */
int pxd_bot_ua_scratch_new(const struct pxd_bot_ua *db, struct pxd_bot_ua_scratch **out);

/* Frees <s>. Accepts NULL. */
void pxd_bot_ua_scratch_free(struct pxd_bot_ua_scratch *s);

/*
 * Classifies the user agent <ua> of <len> bytes (need not be NUL-ended;
 * NULL or empty is human: only a pattern makes a bot). One scan, no allocation, no lock: for the
 * ingest hot path, with the calling thread's own <s>.
 */
enum pxd_bot_ua_class pxd_bot_ua_classify(const struct pxd_bot_ua *db, struct pxd_bot_ua_scratch *s,
					  const char *ua, size_t len);

/* Returns "human", "good_bot" or "bot" (metric labels). */
const char *pxd_bot_ua_class_name(enum pxd_bot_ua_class cls);

#endif
