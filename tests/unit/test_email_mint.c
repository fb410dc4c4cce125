// SPDX-License-Identifier: MIT
/* Minting email pixel URLs: URL and <img> forms, and the admin API's JSON requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "email_test.h"

static void test_mint_appends_url_or_img_tag(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_buf out = { 0 };
	enum pxd_email_field bad;
	char want[1200];

	assert_int_equal(
	    pxd_email_token_mint(&f->ring, &f->c, "https://t.example.com", false, &out, &bad), 0);
	snprintf(want, sizeof(want), "https://t.example.com/o/%s.gif", f->text);
	assert_string_equal(out.p, want);
	out.len = 0;
	assert_int_equal(
	    pxd_email_token_mint(&f->ring, &f->c, "https://t.example.com", true, &out, &bad), 0);
	snprintf(want, sizeof(want),
		 "<img src=\"https://t.example.com/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\" "
		 "style=\"display:none\">",
		 f->text);
	assert_string_equal(out.p, want);
	f->c.campaign = PXD_SV("");
	assert_int_equal(pxd_email_token_mint(&f->ring, &f->c, "https://t", false, &out, &bad),
			 -EINVAL);
	assert_int_equal(bad, PXD_EMAIL_FIELD_CAMPAIGN);
	pxd_buf_free(&out);
}

static const struct pxd_email_mint mint_opts = {
	.base_url = "https://t.example.com",
	.tenant = PXD_SV("acme"),
	.default_ttl_s = 400 * 86400,
	.now_s = NOW,
};

/* Verifies the token of pixel URL <url> and checks its recipient. */
static void assert_url_verifies(const struct pxd_email_keys *ring, const char *url,
				const char *recipient, uint32_t expires)
{
	struct pxd_email_token tok;
	struct pxd_sv t = pxd_email_token_find(pxd_sv_cstr(url));

	assert_true(strncmp(url, "https://t.example.com/o/", 24) == 0);
	assert_int_equal(pxd_email_token_verify(ring, t, NOW, &tok), PXD_EMAIL_VERDICT_OK);
	assert_true(pxd_sv_eq_lit(tok.c.recipient, recipient));
	assert_true(pxd_sv_eq_lit(tok.c.tenant, "acme"));
	assert_int_equal(tok.c.expires_at, expires);
}

static json_t *mint(const struct pxd_email_keys *ring, const char *req, int want)
{
	struct pxd_buf out = { 0 };
	json_error_t jerr;
	json_t *in = json_loads(req, JSON_ALLOW_NUL, &jerr);
	json_t *resp;

	assert_non_null(in);
	assert_int_equal(pxd_email_token_mint_json(ring, in, &mint_opts, &out), want);
	resp = json_loadb(out.p, out.len, 0, &jerr);
	assert_non_null(resp);
	json_decref(in);
	pxd_buf_free(&out);
	return resp;
}

static void test_mint_json_single_object(void **state)
{
	struct email_fixture *f = *state;
	json_t *r = mint(&f->ring,
			 "{\"campaign\":\"c1\",\"message\":\"m1\",\"recipient\":\"r1\","
			 "\"ttl\":\"30d\",\"meta\":{\"variant\":\"A\"}}",
			 0);
	const char *url = json_string_value(json_object_get(r, "url"));
	const char *html = json_string_value(json_object_get(r, "html"));
	struct pxd_email_token tok;

	assert_non_null(url);
	assert_non_null(html);
	assert_url_verifies(&f->ring, url, "r1", NOW + 30 * 86400);
	assert_non_null(strstr(html, url));
	assert_true(strncmp(html, "<img src=\"", 10) == 0);
	assert_int_equal(
	    pxd_email_token_verify(&f->ring, pxd_email_token_find(pxd_sv_cstr(url)), NOW, &tok),
	    PXD_EMAIL_VERDICT_OK);
	assert_int_equal(tok.c.nmeta, 1);
	assert_true(pxd_sv_eq_lit(tok.c.meta[0].value, "A"));
	json_decref(r);
	/* ttl in seconds and the default ttl */
	r = mint(&f->ring,
		 "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"ttl\":3600}", 0);
	assert_url_verifies(&f->ring, json_string_value(json_object_get(r, "url")), "r",
			    NOW + 3600);
	json_decref(r);
	r = mint(&f->ring, "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"}", 0);
	assert_url_verifies(&f->ring, json_string_value(json_object_get(r, "url")), "r",
			    NOW + 400 * 86400);
	json_decref(r);
}

static void assert_error(json_t *r, const char *error, json_int_t index, const char *field)
{
	assert_string_equal(json_string_value(json_object_get(r, "error")), error);
	assert_int_equal(json_integer_value(json_object_get(r, "index")), index);
	assert_string_equal(json_string_value(json_object_get(r, "field")), field);
	assert_true(strlen(json_string_value(json_object_get(r, "detail"))) > 5);
	json_decref(r);
}

static void test_mint_json_errors_name_index_and_field(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_email_keys empty = { 0 };
	json_t *r;

	assert_error(mint(&f->ring, "{\"campaign\":\"c\",\"message\":\"m\"}", -EINVAL),
		     "bad_request", 0, "recipient");
	assert_error(mint(&f->ring,
			  "[{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"},"
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"},"
			  "{\"campaign\":\"c\",\"message\":5,\"recipient\":\"r\"}]",
			  -EINVAL),
		     "bad_request", 2, "message");
	assert_error(mint(&f->ring,
			  "[{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"x\":1}]",
			  -EINVAL),
		     "bad_request", 0, "x");
	assert_error(
	    mint(&f->ring,
		 "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"ttl\":\"5y\"}",
		 -EINVAL),
	    "bad_request", 0, "ttl");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"ttl\":0}",
			  -EINVAL),
		     "bad_request", 0, "ttl");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\","
			  "\"meta\":{\"k\":1}}",
			  -EINVAL),
		     "bad_request", 0, "meta");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\","
			  "\"meta\":{\"bad key\":\"v\"}}",
			  -EINVAL),
		     "bad_request", 0, "meta");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\\u0000x\"}",
			  -EINVAL),
		     "bad_request", 0, "recipient");
	assert_error(mint(&f->ring, "[1]", -EINVAL), "bad_request", 0, "");
	assert_error(mint(&f->ring, "[]", -EINVAL), "bad_request", 0, "");
	r = mint(&empty, "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"}", -ENOKEY);
	assert_string_equal(json_string_value(json_object_get(r, "error")), "no_signing_key");
	json_decref(r);
	{
		struct pxd_email_mint no_url = mint_opts;
		struct pxd_buf out = { 0 };
		json_t *one =
		    json_pack("{s:s, s:s, s:s}", "campaign", "c", "message", "m", "recipient", "r");

		no_url.base_url = "";
		assert_int_equal(pxd_email_token_mint_json(&f->ring, one, &no_url, &out),
				 -EDESTADDRREQ);
		assert_non_null(strstr(out.p, "\"no_base_url\""));
		json_decref(one);
		pxd_buf_free(&out);
	}
}

static void test_mint_json_ten_thousand_in_order_and_one_more_refused(void **state)
{
	struct email_fixture *f = *state;
	json_t *req = json_array();
	struct pxd_buf out = { 0 };
	json_error_t jerr;
	json_t *resp;
	json_t *urls;

	for (int i = 0; i < PXD_EMAIL_MINT_BATCH_MAX; i++) {
		char rcpt[32];

		snprintf(rcpt, sizeof(rcpt), "rcpt-%05d", i);
		json_array_append_new(req, json_pack("{s:s, s:s, s:s}", "campaign", "merge",
						     "message", "m-1", "recipient", rcpt));
	}
	assert_int_equal(pxd_email_token_mint_json(&f->ring, req, &mint_opts, &out), 0);
	resp = json_loadb(out.p, out.len, 0, &jerr);
	assert_non_null(resp);
	urls = json_object_get(resp, "urls");
	assert_int_equal(json_array_size(urls), PXD_EMAIL_MINT_BATCH_MAX);
	for (int i = 0; i < PXD_EMAIL_MINT_BATCH_MAX; i++) {
		char rcpt[32];

		snprintf(rcpt, sizeof(rcpt), "rcpt-%05d", i);
		assert_url_verifies(&f->ring, json_string_value(json_array_get(urls, (size_t)i)),
				    rcpt, NOW + 400 * 86400);
	}
	json_decref(resp);
	/* One more is too many; the error leaves nothing else in the buffer. */
	json_array_append_new(
	    req, json_pack("{s:s, s:s, s:s}", "campaign", "c", "message", "m", "recipient", "r"));
	out.len = 0;
	assert_int_equal(pxd_email_token_mint_json(&f->ring, req, &mint_opts, &out), -E2BIG);
	resp = json_loadb(out.p, out.len, 0, &jerr);
	assert_non_null(resp);
	assert_string_equal(json_string_value(json_object_get(resp, "error")), "bad_request");
	json_decref(resp);
	json_decref(req);
	pxd_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mint_appends_url_or_img_tag, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(test_mint_json_single_object, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(test_mint_json_errors_name_index_and_field,
						email_setup, email_teardown),
		cmocka_unit_test_setup_teardown(
		    test_mint_json_ten_thousand_in_order_and_one_more_refused, email_setup,
		    email_teardown),
	};

	return cmocka_run_group_tests_name("email_mint", tests, NULL, NULL);
}
