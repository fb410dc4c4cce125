// SPDX-License-Identifier: MIT
/*
 * Bot user agents: parses the embedded (or given) bot and good-bot lists,
 * compiles them into one Hyperscan database on the main thread, and
 * classifies a User-Agent in one scan with a per-thread scratch.
 */
#include "bot_ua.h"

#include <errno.h>
#include <hs/hs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

/* daemon/data/NAME.txt as NUL-terminated arrays; the Makefile embeds them. */
extern const char pxd_data_bot_ua[];
extern const char pxd_data_good_bots[];

/*
 * Pattern ids are positions: [0, nbots) come from the bot list and
 * [nbots, nbots + ngood) from the good-bot list, so the match callback tells
 * the lists apart with one compare.
 */
struct pxd_bot_ua {
	hs_database_t *db;
	hs_scratch_t *proto; /* cloned for each thread */
	unsigned nbots;
	unsigned ngood;
};

struct pxd_bot_ua_scratch {
	hs_scratch_t *hs;
};

/* The patterns of both lists, parsed, with where each came from for errors. */
struct pattern_set {
	char **expr;
	unsigned *line;
	const char **list;
	unsigned n;
	unsigned cap;
};

struct scan_ctx {
	unsigned nbots;
	enum pxd_bot_ua_class cls;
};

static const char *const class_names[PXD_BOT_UA_CLASS_COUNT] = {
	[PXD_BOT_UA_CLASS_HUMAN] = "human",
	[PXD_BOT_UA_CLASS_GOOD_BOT] = "good_bot",
	[PXD_BOT_UA_CLASS_BOT] = "bot",
};

static void set_free(struct pattern_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->expr[i]);
	free(s->expr);
	free(s->line);
	free(s->list);
}

static int set_push(struct pattern_set *s, const char *p, size_t len, const char *list,
		    unsigned line)
{
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 256;
		char **expr = realloc(s->expr, cap * sizeof(*expr));
		unsigned *lines;
		const char **lists;

		if (!expr)
			return -ENOMEM;
		s->expr = expr;
		lines = realloc(s->line, cap * sizeof(*lines));
		if (!lines)
			return -ENOMEM;
		s->line = lines;
		lists = realloc(s->list, cap * sizeof(*lists));
		if (!lists)
			return -ENOMEM;
		s->list = lists;
		s->cap = cap;
	}
	s->expr[s->n] = strndup(p, len);
	if (!s->expr[s->n])
		return -ENOMEM;
	s->line[s->n] = line;
	s->list[s->n] = list;
	s->n++;
	return 0;
}

/* Adds every pattern line of <text>: trimmed, skipping blank lines and '#' comments. */
static int parse_list(struct pattern_set *s, const char *text, const char *list)
{
	unsigned line = 0;

	while (*text) {
		const char *eol = strchr(text, '\n');
		const char *end = eol ? eol : text + strlen(text);
		const char *p = text;
		int err;

		line++;
		text = eol ? eol + 1 : end;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (p == end || *p == '#')
			continue;
		err = set_push(s, p, (size_t)(end - p), list, line);
		if (err)
			return err;
	}
	return 0;
}

static int compile(struct pxd_bot_ua *ua, const struct pattern_set *s, char *err, size_t errlen)
{
	hs_compile_error_t *cerr = NULL;
	unsigned *flags = calloc(s->n ? s->n : 1, sizeof(*flags));
	unsigned *ids = calloc(s->n ? s->n : 1, sizeof(*ids));
	int ret = -ENOMEM;

	if (!flags || !ids) {
		snprintf(err, errlen, "out of memory compiling %u user-agent patterns", s->n);
		goto out;
	}
	for (unsigned i = 0; i < s->n; i++) {
		/* One report per pattern is all we need: stops Hyperscan tracking more. */
		flags[i] = HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	if (hs_compile_multi((const char *const *)s->expr, flags, ids, s->n, HS_MODE_BLOCK, NULL,
			     &ua->db, &cerr) != HS_SUCCESS) {
		if (cerr->expression >= 0 && (unsigned)cerr->expression < s->n)
			snprintf(err, errlen,
				 "%s:%u: pattern \"%.80s\": %s (fix or remove the line)",
				 s->list[cerr->expression], s->line[cerr->expression],
				 s->expr[cerr->expression], cerr->message);
		else
			snprintf(err, errlen, "compiling the user-agent patterns: %s",
				 cerr->message);
		hs_free_compile_error(cerr);
		ret = -EINVAL;
		goto out;
	}
	if (hs_alloc_scratch(ua->db, &ua->proto) != HS_SUCCESS) {
		snprintf(err, errlen, "out of memory for the Hyperscan scratch");
		goto out;
	}
	ret = 0;
out:
	free(flags);
	free(ids);
	return ret;
}

static int open_texts(const char *bots, const char *bots_name, const char *good,
		      const char *good_name, struct pxd_bot_ua **out, char *err, size_t errlen)
{
	struct pattern_set set = { 0 };
	struct pxd_bot_ua *ua;
	int ret;

	*out = NULL;
	if (hs_valid_platform() != HS_SUCCESS) {
		snprintf(err, errlen,
			 "this CPU lacks SSSE3, which Hyperscan needs for bot matching");
		return -ENOTSUP;
	}
	ua = calloc(1, sizeof(*ua));
	if (!ua)
		return -ENOMEM;
	ret = parse_list(&set, bots, bots_name);
	ua->nbots = set.n;
	if (!ret)
		ret = parse_list(&set, good, good_name);
	ua->ngood = set.n - ua->nbots;
	if (ret) {
		snprintf(err, errlen, "out of memory reading the user-agent patterns");
		goto fail;
	}
	/* Hyperscan refuses an empty pattern set; with no patterns everyone is human. */
	ret = set.n ? compile(ua, &set, err, errlen) : 0;
	if (ret)
		goto fail;
	set_free(&set);
	*out = ua;
	return 0;
fail:
	set_free(&set);
	pxd_bot_ua_close(ua);
	return ret;
}

int pxd_bot_ua_open(struct pxd_bot_ua **out, char *err, size_t errlen)
{
	return open_texts(pxd_data_bot_ua, "daemon/data/bot_ua.txt", pxd_data_good_bots,
			  "daemon/data/good_bots.txt", out, err, errlen);
}

int pxd_bot_ua_open_lists(const char *bots, const char *good, struct pxd_bot_ua **out, char *err,
			  size_t errlen)
{
	return open_texts(bots, "bot list", good, "good-bot list", out, err, errlen);
}

void pxd_bot_ua_close(struct pxd_bot_ua *ua)
{
	if (!ua)
		return;
	hs_free_scratch(ua->proto);
	hs_free_database(ua->db);
	free(ua);
}

size_t pxd_bot_ua_patterns(const struct pxd_bot_ua *ua, enum pxd_bot_ua_class cls)
{
	if (cls == PXD_BOT_UA_CLASS_BOT)
		return ua->nbots;
	return cls == PXD_BOT_UA_CLASS_GOOD_BOT ? ua->ngood : 0;
}

int pxd_bot_ua_scratch_new(const struct pxd_bot_ua *ua, struct pxd_bot_ua_scratch **out)
{
	struct pxd_bot_ua_scratch *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if (ua->proto && hs_clone_scratch(ua->proto, &s->hs) != HS_SUCCESS) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void pxd_bot_ua_scratch_free(struct pxd_bot_ua_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->hs);
	free(s);
}

/* A good-bot match settles it, so it stops the scan; a bot match keeps looking for one. */
static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *arg)
{
	struct scan_ctx *ctx = arg;

	(void)from;
	(void)to;
	(void)flags;
	if (id >= ctx->nbots) {
		ctx->cls = PXD_BOT_UA_CLASS_GOOD_BOT;
		return 1;
	}
	ctx->cls = PXD_BOT_UA_CLASS_BOT;
	return 0;
}

enum pxd_bot_ua_class pxd_bot_ua_classify(const struct pxd_bot_ua *ua, struct pxd_bot_ua_scratch *s,
					  const char *text, size_t len)
{
	struct scan_ctx ctx = { .nbots = ua->nbots, .cls = PXD_BOT_UA_CLASS_HUMAN };
	hs_error_t rc;

	/* No user agent is suspicious but not proof: server-side senders of
	 * beacons often have none, and dropping a real conversion costs more
	 * than counting a bot's event. Only a pattern makes a bot. */
	if (!text || !len)
		return PXD_BOT_UA_CLASS_HUMAN;
	if (!ua->nbots && !ua->ngood)
		return PXD_BOT_UA_CLASS_HUMAN;
	rc = hs_scan(ua->db, text, (unsigned)PXD_MIN(len, (size_t)UINT32_MAX), 0, s->hs, on_match,
		     &ctx);
	/* Anything but a finished or stopped scan is a bug of ours; count the agent human
	 * rather than drop a real visitor's events. */
	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
		return PXD_BOT_UA_CLASS_HUMAN;
	return ctx.cls;
}

const char *pxd_bot_ua_class_name(enum pxd_bot_ua_class cls)
{
	return (unsigned)cls < PXD_BOT_UA_CLASS_COUNT ? class_names[cls] : "?";
}
