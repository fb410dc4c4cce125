// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bot_ua.h"
#include "compiler.h"

struct fixture {
	struct pxd_bot_ua *db;
	struct pxd_bot_ua_scratch *s;
};

static const char *const browsers[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/17.4.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
	"like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/124.0.6367.82 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
	"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
	"SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
	"Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/459.0.0.40.106;FBBV/590360000]",
	"Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
	"(KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 Instagram "
	"327.0.0.45.121 Android",
	"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
};

static const char *const bots[] = {
	"curl/8.5.0",
	"Wget/1.21.3",
	"python-requests/2.31.0",
	"Python-urllib/3.11",
	"Go-http-client/1.1",
	"Java/17.0.9",
	"okhttp/4.12.0",
	"axios/1.6.8",
	"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
	"PostmanRuntime/7.37.3",
	"Scrapy/2.11.1 (+https://scrapy.org)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"HeadlessChrome/124.0.6367.60 Safari/537.36",
	"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
	"Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
	"Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
	"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
	"+https://openai.com/gptbot)",
	"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
	"+claudebot@anthropic.com)",
	"Mozilla/5.0 (compatible; zgrab/0.x)",
	"sqlmap/1.8#stable (https://sqlmap.org)",
	"Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot)",
};

static const char *const good_bots[] = {
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
	"Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
	"+http://www.google.com/bot.html)",
	"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
	"+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"Twitterbot/1.0",
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
	"DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
	"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
	"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
	"WhatsApp/2.23.20.0 A",
	"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
	"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f || pxd_bot_ua_open(&f->db, err, sizeof(err)) ||
	    pxd_bot_ua_scratch_new(f->db, &f->s)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pxd_bot_ua_scratch_free(f->s);
	pxd_bot_ua_close(f->db);
	free(f);
	return 0;
}

static enum pxd_bot_ua_class classify(struct fixture *f, const char *ua)
{
	return pxd_bot_ua_classify(f->db, f->s, ua, strlen(ua));
}

static void test_embedded_lists_compile(void **state)
{
	struct fixture *f = *state;

	assert_true(pxd_bot_ua_patterns(f->db, PXD_BOT_UA_CLASS_BOT) > 1000);
	assert_true(pxd_bot_ua_patterns(f->db, PXD_BOT_UA_CLASS_GOOD_BOT) > 40);
	assert_int_equal(pxd_bot_ua_patterns(f->db, PXD_BOT_UA_CLASS_HUMAN), 0);
}

static void test_browsers_are_human(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(browsers); i++) {
		if (classify(f, browsers[i]) != PXD_BOT_UA_CLASS_HUMAN)
			fail_msg("browser classified %s: %s",
				 pxd_bot_ua_class_name(classify(f, browsers[i])), browsers[i]);
	}
}

static void test_tools_and_crawlers_are_bots(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bots); i++) {
		if (classify(f, bots[i]) != PXD_BOT_UA_CLASS_BOT)
			fail_msg("bot classified %s: %s",
				 pxd_bot_ua_class_name(classify(f, bots[i])), bots[i]);
	}
}

static void test_known_good_crawlers_are_good_bots(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(good_bots); i++) {
		if (classify(f, good_bots[i]) != PXD_BOT_UA_CLASS_GOOD_BOT)
			fail_msg("good bot classified %s: %s",
				 pxd_bot_ua_class_name(classify(f, good_bots[i])), good_bots[i]);
	}
}

static void test_empty_user_agent_is_human(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pxd_bot_ua_classify(f->db, f->s, "", 0), PXD_BOT_UA_CLASS_HUMAN);
	assert_int_equal(pxd_bot_ua_classify(f->db, f->s, NULL, 0), PXD_BOT_UA_CLASS_HUMAN);
}

/* The agent is a view into a request buffer: only <len> bytes are read, up to a guard page. */
static void test_reads_only_len_bytes(void **state)
{
	struct fixture *f = *state;
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *ua = "Go-http-client/1.1";
	size_t n = strlen(ua);
	char *at = mem + page - n;

	assert_true(mem != MAP_FAILED);
	assert_int_equal(mprotect(mem + page, (size_t)page, PROT_NONE), 0);
	memcpy(at, ua, n);
	assert_int_equal(pxd_bot_ua_classify(f->db, f->s, at, n), PXD_BOT_UA_CLASS_BOT);
	/* "Go-http" alone matches nothing: the rest lies beyond <len>. */
	assert_int_equal(pxd_bot_ua_classify(f->db, f->s, at, 7), PXD_BOT_UA_CLASS_HUMAN);
	for (size_t i = 1; i <= n; i++)
		pxd_bot_ua_classify(f->db, f->s, mem + page - i, i);
	munmap(mem, (size_t)page * 2);
}

static void test_good_list_wins_in_either_order(void **state)
{
	struct pxd_bot_ua *db;
	struct pxd_bot_ua_scratch *s;
	char err[256];

	(void)state;
	assert_int_equal(pxd_bot_ua_open_lists("# generic\n[bB]ot\n  spider \n", "Googlebot\n", &db,
					       err, sizeof(err)),
			 0);
	assert_int_equal(pxd_bot_ua_scratch_new(db, &s), 0);
	assert_int_equal(pxd_bot_ua_patterns(db, PXD_BOT_UA_CLASS_BOT), 2);
	assert_int_equal(pxd_bot_ua_patterns(db, PXD_BOT_UA_CLASS_GOOD_BOT), 1);
	/* The bot pattern matches before, inside and after the good one. */
	assert_int_equal(pxd_bot_ua_classify(db, s, "Bot-ish Googlebot bot", 21),
			 PXD_BOT_UA_CLASS_GOOD_BOT);
	assert_int_equal(pxd_bot_ua_classify(db, s, "Googlebot", 9), PXD_BOT_UA_CLASS_GOOD_BOT);
	assert_int_equal(pxd_bot_ua_classify(db, s, "a spider", 8), PXD_BOT_UA_CLASS_BOT);
	/* Matching is case-sensitive, as the lists are written. */
	assert_int_equal(pxd_bot_ua_classify(db, s, "SPIDER", 6), PXD_BOT_UA_CLASS_HUMAN);
	assert_int_equal(pxd_bot_ua_classify(db, s, "googlebot", 9), PXD_BOT_UA_CLASS_BOT);
	pxd_bot_ua_scratch_free(s);
	pxd_bot_ua_close(db);
}

static void test_bad_pattern_names_list_and_line(void **state)
{
	struct pxd_bot_ua *db = (struct pxd_bot_ua *)1;
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    pxd_bot_ua_open_lists("curl\n\n# comment\n(unclosed\n", "", &db, err, sizeof(err)),
	    -EINVAL);
	assert_null(db);
	assert_non_null(strstr(err, "bot list:4: pattern \"(unclosed\""));
	assert_int_equal(pxd_bot_ua_open_lists("", "ok\nback(?=ref)\n", &db, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "good-bot list:2:"));
}

static void test_empty_lists_make_everyone_human(void **state)
{
	struct pxd_bot_ua *db;
	struct pxd_bot_ua_scratch *s;
	char err[256];

	(void)state;
	assert_int_equal(pxd_bot_ua_open_lists("# nothing\n", "", &db, err, sizeof(err)), 0);
	assert_int_equal(pxd_bot_ua_scratch_new(db, &s), 0);
	assert_int_equal(pxd_bot_ua_classify(db, s, "curl/8", 6), PXD_BOT_UA_CLASS_HUMAN);
	assert_int_equal(pxd_bot_ua_classify(db, s, "", 0), PXD_BOT_UA_CLASS_HUMAN);
	pxd_bot_ua_scratch_free(s);
	pxd_bot_ua_close(db);
}

struct worker {
	const struct pxd_bot_ua *db;
	int wrong;
};

static void *classify_many(void *arg)
{
	struct worker *w = arg;
	struct pxd_bot_ua_scratch *s;

	if (pxd_bot_ua_scratch_new(w->db, &s)) {
		w->wrong = -1;
		return NULL;
	}
	for (int i = 0; i < 2000; i++) {
		const char *ua =
		    i % 2 ? bots[i % ARRAY_SIZE(bots)] : browsers[i % ARRAY_SIZE(browsers)];
		enum pxd_bot_ua_class want = i % 2 ? PXD_BOT_UA_CLASS_BOT : PXD_BOT_UA_CLASS_HUMAN;

		if (pxd_bot_ua_classify(w->db, s, ua, strlen(ua)) != want)
			w->wrong++;
	}
	pxd_bot_ua_scratch_free(s);
	return NULL;
}

static void test_threads_share_the_database(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .db = f->db };
		assert_int_equal(pthread_create(&t[i], NULL, classify_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].wrong, 0);
	}
}

static void test_class_names(void **state)
{
	(void)state;
	assert_string_equal(pxd_bot_ua_class_name(PXD_BOT_UA_CLASS_HUMAN), "human");
	assert_string_equal(pxd_bot_ua_class_name(PXD_BOT_UA_CLASS_GOOD_BOT), "good_bot");
	assert_string_equal(pxd_bot_ua_class_name(PXD_BOT_UA_CLASS_BOT), "bot");
	assert_string_equal(pxd_bot_ua_class_name(PXD_BOT_UA_CLASS_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_lists_compile),
		cmocka_unit_test(test_browsers_are_human),
		cmocka_unit_test(test_tools_and_crawlers_are_bots),
		cmocka_unit_test(test_known_good_crawlers_are_good_bots),
		cmocka_unit_test(test_empty_user_agent_is_human),
		cmocka_unit_test(test_reads_only_len_bytes),
		cmocka_unit_test(test_good_list_wins_in_either_order),
		cmocka_unit_test(test_bad_pattern_names_list_and_line),
		cmocka_unit_test(test_empty_lists_make_everyone_human),
		cmocka_unit_test(test_threads_share_the_database),
		cmocka_unit_test(test_class_names),
	};

	return cmocka_run_group_tests_name("bot_ua", tests, setup, teardown);
}
