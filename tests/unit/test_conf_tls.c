// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

struct fx {
	char path[64];
	struct pxd_conf *conf;
	char err[1024];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	f->conf = calloc(1, sizeof(*f->conf));
	snprintf(f->path, sizeof(f->path), "/tmp/test_conf_tls.XXXXXX");
	fd = mkstemp(f->path);
	if (!f->conf || fd < 0)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	free(f->conf);
	free(f);
	return 0;
}

static int load(struct fx *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	fputs(text, fp);
	fclose(fp);
	f->err[0] = '\0';
	return pxd_conf_load(f->path, NULL, f->conf, f->err, sizeof(f->err));
}

#define SERVER "[server]\nlisten = 127.0.0.1:8080\ntls_listen = 127.0.0.1:8443\n"
#define SHOP                                                                                      \
	"[certificate \"shop\"]\ncert = /c/shop.pem\nkey = /c/shop.key\nhosts = T.Shop.Example, " \
	"*.shop.example\n"

static void test_sections_fill_the_tls_conf(void **state)
{
	struct fx *f = *state;
	const struct pxd_conf_tls *t = &f->conf->tls;

	assert_int_equal(load(f, SERVER "handshake_timeout = 2s\n[tls]\ndefault_certificate = "
					"other\nticket_rotation = 12h\n" SHOP
					"[certificate \"other\"]\ncert = /c/o.pem\nkey = /c/o.key\n"
					"hosts = px.other.example\n"),
			 0);
	assert_string_equal(f->conf->tls_listen.text, "127.0.0.1:8443");
	assert_int_equal(f->conf->handshake_timeout_ms, 2000);
	assert_int_equal(t->ncerts, 2);
	assert_string_equal(t->certs[0].name, "shop");
	assert_string_equal(t->certs[0].cert, "/c/shop.pem");
	assert_int_equal(t->certs[0].nhosts, 2);
	assert_string_equal(t->certs[0].hosts[0], "t.shop.example");
	assert_string_equal(t->certs[0].hosts[1], "*.shop.example");
	assert_string_equal(t->default_cert, "other");
	assert_false(t->refuse_unknown);
	assert_int_equal(t->ticket_rotation_s, 12 * 3600);
}

static void test_defaults_without_tls(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, "[server]\nlisten = 127.0.0.1:8080\n"), 0);
	assert_string_equal(f->conf->tls_listen.text, "");
	assert_int_equal(f->conf->handshake_timeout_ms, 10000);
	assert_int_equal(f->conf->tls.ncerts, 0);
	assert_int_equal(f->conf->tls.ticket_rotation_s, 3600);
}

static void test_refusals_name_line_and_fix(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, SERVER), -EINVAL);
	assert_non_null(strstr(f->err, "no [certificate \"NAME\"] section"));
	assert_int_equal(
	    load(f, SERVER "[certificate \"shop\"]\ncert = /c/s.pem\nhosts = a.example\n"),
	    -EINVAL);
	assert_non_null(strstr(f->err, ":4: certificate.shop: no key"));
	assert_int_equal(load(f, SERVER SHOP "[certificate \"shop\"]\n"), -EINVAL);
	assert_non_null(strstr(f->err, "the name is taken (line 4)"));
	assert_int_equal(load(f, SERVER "[certificate \"shop\"]\nhosts = bad_host!\n"), -EINVAL);
	assert_non_null(strstr(f->err, ":5: certificate.shop.hosts: \"bad_host!\" is not a host"));
	assert_int_equal(load(f, SERVER "[certificate \"shop\"]\nhosts = *shop.example\n"),
			 -EINVAL);
	assert_int_equal(load(f, SERVER SHOP "[tls]\ndefault_certificate = nope\n"), -EINVAL);
	assert_non_null(strstr(f->err, "names no [certificate] section"));
	assert_int_equal(load(f, SERVER SHOP "[tls]\nticket_rotation = 5s\n"), -EINVAL);
	assert_non_null(strstr(f->err, "tls.ticket_rotation"));
	assert_int_equal(load(f, SERVER SHOP "[tls]\nsession_cache = on\n"), -EINVAL);
	assert_non_null(strstr(f->err, "tls.session_cache: unknown key"));
	assert_int_equal(load(f, SERVER SHOP "[certificate \"x\"]\nchain = /c\n"), -EINVAL);
	assert_non_null(strstr(f->err, "certificate.x.chain: unknown key"));
	assert_int_equal(
	    load(f, "[server]\nlisten = 127.0.0.1:8080\ntls_listen = 127.0.0.1:8080\n" SHOP),
	    -EINVAL);
	assert_non_null(strstr(f->err, "server.tls_listen: \"127.0.0.1:8080\" clashes"));
	assert_int_equal(load(f, SERVER "[certificate shop]\n"), -EINVAL);
	assert_non_null(strstr(f->err, "write [certificate \"NAME\"]"));
}

static void test_default_none_refuses_unknown_names(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, SERVER SHOP "[tls]\ndefault_certificate = none\n"), 0);
	assert_true(f->conf->tls.refuse_unknown);
	assert_string_equal(f->conf->tls.default_cert, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sections_fill_the_tls_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_without_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_name_line_and_fix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_none_refuses_unknown_names, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("conf_tls", tests, NULL, NULL);
}
