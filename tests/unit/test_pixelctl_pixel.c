// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "email_token.h"
#include "daemon/ctl/pixelctl_pixel.h"

#define SECRET "6b3a55e0261b0304143f805a24924d0c1c44524821305f31d9277843b8a10f4e"

struct fixture {
	struct pxd_conf *conf;
	struct pxd_email_keys ring;
	char dir[64];
	char keypath[128];
	char csvpath[128];
	char out[65536];
	char err[8192];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char value[300];
	char err[256];

	assert_non_null(f);
	f->conf = calloc(1, sizeof(*f->conf));
	assert_non_null(f->conf);
	strcpy(f->conf->path, "/etc/pixeld.ini");
	strcpy(f->dir, "/tmp/pxd_ctlXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->keypath, sizeof(f->keypath), "%s/k1.key", f->dir);
	snprintf(f->csvpath, sizeof(f->csvpath), "%s/merge.csv", f->dir);
	assert_int_equal(pxd_test_write_file(f->keypath, SECRET "\n", strlen(SECRET) + 1, O_TRUNC),
			 0);
	pxd_conf_email_defaults(&f->conf->email);
	snprintf(value, sizeof(value), "k1:%s", f->keypath);
	assert_int_equal(pxd_conf_email_set(&f->conf->email, "keys", value, err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_email_set(&f->conf->email, "base_url", "https://t.example.com/",
					    err, sizeof(err)),
			 0);
	assert_int_equal(pxd_conf_email_set(&f->conf->email, "tenant", "acme", err, sizeof(err)),
			 0);
	assert_int_equal(pxd_email_keys_add(&f->ring, PXD_SV("k1"), SECRET, strlen(SECRET)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->keypath);
	unlink(f->csvpath);
	rmdir(f->dir);
	free(f->conf);
	free(f);
	return 0;
}

/* Runs the command with its output captured in <f>. */
static int run(struct fixture *f, int argc, const char **args)
{
	return pxd_test_run_cli(pxd_pixelctl_pixel_main, f->conf, argc, args, f->out,
				sizeof(f->out), f->err, sizeof(f->err));
}

#define RUN(f, ...)                                                                   \
	run(f, (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)), \
	    (const char *[]){ __VA_ARGS__ })

/* Verifies the pixel URL that starts <line> and returns its token. */
static void check_url(struct fixture *f, const char *line, size_t len, const char *recipient,
		      struct pxd_email_token *tok)
{
	struct pxd_sv t = pxd_email_token_find(pxd_sv_make(line, len));

	assert_true(strncmp(line, "https://t.example.com/o/", 24) == 0);
	assert_true(t.n > 0);
	assert_int_equal(pxd_email_token_verify(&f->ring, t, time(NULL), tok),
			 PXD_EMAIL_VERDICT_OK);
	assert_true(pxd_sv_eq_lit(tok->c.recipient, recipient));
	assert_true(pxd_sv_eq_lit(tok->c.tenant, "acme"));
}

static void test_sign_prints_a_url_that_verifies(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_token tok;
	time_t now = time(NULL);

	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "spring", "--message", "m-1",
			     "--recipient", "r-1", "--ttl", "7d", "--meta", "variant=B", "--meta",
			     "list=vip"),
			 0);
	assert_string_equal(f->err, "");
	assert_non_null(strchr(f->out, '\n'));
	assert_int_equal(strchr(f->out, '\n') - f->out, (ptrdiff_t)strlen(f->out) - 1);
	check_url(f, f->out, strlen(f->out) - 1, "r-1", &tok);
	assert_true(pxd_sv_eq_lit(tok.c.campaign, "spring"));
	assert_true(tok.c.expires_at - tok.c.issued_at == 7 * 86400);
	assert_true(tok.c.issued_at >= now - 1 && tok.c.issued_at <= now + 1);
	assert_int_equal(tok.c.nmeta, 2);
	assert_true(pxd_sv_eq_lit(tok.c.meta[1].key, "list"));
	assert_true(pxd_sv_eq_lit(tok.c.meta[1].value, "vip"));
}

static void test_sign_html_and_base_url_override(void **state)
{
	struct fixture *f = *state;
	const char *q;

	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m", "--recipient",
			     "r", "--html", "--base-url", "https://px.example.org"),
			 0);
	assert_true(strncmp(f->out, "<img src=\"https://px.example.org/o/", 35) == 0);
	q = strstr(f->out, ".gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">\n");
	assert_non_null(q);
	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m", "--recipient",
			     "r", "--base-url", "javascript:alert(1)"),
			 2);
	assert_non_null(strstr(f->err, "--base-url"));
	assert_string_equal(f->out, "");
}

static void test_sign_refuses_bad_values_and_usage(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m"), 2);
	assert_non_null(strstr(f->err, "--recipient"));
	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m", "--recipient",
			     "r", "--ttl", "forever"),
			 1);
	assert_non_null(strstr(f->err, "ttl must be"));
	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m", "--recipient",
			     "r", "--meta", "novalue"),
			 1);
	assert_non_null(strstr(f->err, "meta must be"));
	assert_int_equal(
	    RUN(f, "pixel", "sign", "--campaign", "", "--message", "m", "--recipient", "r"), 1);
	assert_non_null(strstr(f->err, "campaign must be 1..64"));
	assert_int_equal(RUN(f, "pixel", "sign", "--bogus"), 2);
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", "x.csv", "--campaign", "c"), 2);
	assert_int_equal(RUN(f, "pixel"), 2);
	assert_int_equal(RUN(f, "pixel", "help"), 0);
	assert_non_null(strstr(f->out, "pixelctl pixel verify"));
	assert_string_equal(f->conf->email.base_url, "https://t.example.com");
	f->conf->email.base_url[0] = '\0';
	assert_int_equal(
	    RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m", "--recipient", "r"), 2);
	assert_non_null(strstr(f->err, "email.base_url"));
	f->conf->email.nkeys = 0;
	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c", "--message", "m", "--recipient",
			     "r", "--base-url", "https://t.example.com"),
			 1);
	assert_non_null(strstr(f->err, "no signing keys"));
	assert_string_equal(f->out, "");
}

static void write_csv(struct fixture *f, const char *text)
{
	FILE *c = fopen(f->csvpath, "w");

	assert_non_null(c);
	assert_int_equal(fputs(text, c) >= 0, 1);
	fclose(c);
}

static void test_sign_csv_prints_one_url_per_row_in_order(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_token tok;
	const char *line;
	const char *nl;

	write_csv(f, "campaign,message,recipient,ttl,variant,list\r\n"
		     "spring,m-1,alice,1d,A,\r\n"
		     "\"spring, again\",m-1,\"bob \"\"the\"\" builder\",,B,vip\r\n"
		     "\n"
		     "spring,m-2,carol,30d,,\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 0);
	assert_string_equal(f->err, "");
	line = f->out;
	nl = strchr(line, '\n');
	assert_non_null(nl);
	check_url(f, line, (size_t)(nl - line), "alice", &tok);
	assert_true(tok.c.expires_at - tok.c.issued_at == 86400);
	assert_int_equal(tok.c.nmeta, 1);
	assert_true(pxd_sv_eq_lit(tok.c.meta[0].key, "variant"));
	line = nl + 1;
	nl = strchr(line, '\n');
	check_url(f, line, (size_t)(nl - line), "bob \"the\" builder", &tok);
	assert_true(pxd_sv_eq_lit(tok.c.campaign, "spring, again"));
	assert_true(tok.c.expires_at - tok.c.issued_at == 400 * 86400); /* email.default_ttl */
	assert_int_equal(tok.c.nmeta, 2);
	assert_true(pxd_sv_eq_lit(tok.c.meta[1].value, "vip"));
	line = nl + 1;
	nl = strchr(line, '\n');
	assert_non_null(nl);
	check_url(f, line, (size_t)(nl - line), "carol", &tok);
	assert_true(pxd_sv_eq_lit(tok.c.message, "m-2"));
	assert_int_equal(tok.c.nmeta, 0);
	assert_string_equal(nl + 1, "");
}

static void test_sign_csv_bad_row_prints_nothing_and_names_the_line(void **state)
{
	struct fixture *f = *state;

	/* A quoted newline is read as part of the field, then refused: not printable. */
	write_csv(f, "campaign,message,recipient\nc,m,alice\nc,\"multi\nline\",bob\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 1);
	assert_string_equal(f->out, "");
	assert_non_null(strstr(f->err, "merge.csv:3: message must be"));

	write_csv(f, "campaign,message,recipient\nc,m,alice\nc,m\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 1);
	assert_non_null(strstr(f->err, "merge.csv:3: wrong number of columns"));

	write_csv(f, "campaign,message,recipient\nc,m\"x,alice\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 1);
	assert_non_null(strstr(f->err, "merge.csv:2: bad quoting"));

	write_csv(f, "campaign,message,recipient,ttl\nc,m,alice,9999d\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 1);
	assert_non_null(strstr(f->err, "merge.csv:2: ttl must be"));

	write_csv(f, "recipient,message,campaign\nr,m,c\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 1);
	assert_non_null(strstr(f->err, "merge.csv:1: the header must be"));

	write_csv(f, "campaign,message,recipient,a,b,c,d,e,f,g,h,i\nc,m,r,1,2,3,4,5,6,7,8,9\n");
	assert_int_equal(RUN(f, "pixel", "sign", "--csv", f->csvpath), 1);
	assert_non_null(strstr(f->err, "meta must be"));

	assert_int_equal(RUN(f, "pixel", "sign", "--csv", "/nonexistent/x.csv"), 1);
	assert_non_null(strstr(f->err, "cannot read /nonexistent/x.csv"));
	assert_string_equal(f->out, "");
}

static void test_verify_prints_fields_or_the_reason(void **state)
{
	struct fixture *f = *state;
	char url[2048];

	assert_int_equal(RUN(f, "pixel", "sign", "--campaign", "c9", "--message", "m9",
			     "--recipient", "r9", "--meta", "k=v"),
			 0);
	snprintf(url, sizeof(url), "%.*s?utm_source=x", (int)strlen(f->out) - 1, f->out);
	assert_int_equal(RUN(f, "pixel", "verify", url), 0);
	assert_non_null(strstr(f->out, "verdict: ok\n"));
	assert_non_null(strstr(f->out, "key: k1\n"));
	assert_non_null(strstr(f->out, "tenant: acme\n"));
	assert_non_null(strstr(f->out, "campaign: c9\nmessage: m9\nrecipient: r9\n"));
	assert_non_null(strstr(f->out, "meta.k: v\n"));
	assert_non_null(strstr(f->out, "expires_at: "));

	/* Flip one character of the token: a forgery, exit 1. */
	{
		char *o = strstr(url, "/o/") + 10;

		*o = *o == 'A' ? 'B' : 'A';
	}
	assert_int_equal(RUN(f, "pixel", "verify", url), 1);
	assert_true(strncmp(f->out, "verdict: ", 9) == 0);
	assert_null(strstr(f->out, "verdict: ok"));
	assert_int_equal(RUN(f, "pixel", "verify", "https://t.example.com/o/@@.gif"), 1);
	assert_string_equal(f->out, "verdict: malformed\n");
	assert_int_equal(RUN(f, "pixel", "verify"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_prints_a_url_that_verifies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sign_html_and_base_url_override, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sign_refuses_bad_values_and_usage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sign_csv_prints_one_url_per_row_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_csv_bad_row_prints_nothing_and_names_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_prints_fields_or_the_reason, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("pixelctl_pixel", tests, NULL, NULL);
}
