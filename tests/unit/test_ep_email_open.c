// SPDX-License-Identifier: MIT
/* The EmailOpen event's props, as GET /o/<token>.gif writes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "daemon/endpoints/ep_email_open.h"
#include "email_test.h"

static void test_props_json_is_exact_and_escaped(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_email_token tok;
	struct pxd_email_claims c;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	char out[PXD_EMAIL_OPEN_PROPS_MAX];
	ssize_t n;
	const char *want = "{\"campaign\":\"say \\\"hi\\\"\",\"message\":\"m\\\\1\","
			   "\"recipient\":\"r\",\"meta\":{\"variant\":\"B\"},"
			   "\"open_kind\":\"apple_mpp\",\"first_open\":true}";

	email_claims_init(&c);
	c.campaign = PXD_SV("say \"hi\"");
	c.message = PXD_SV("m\\1");
	c.recipient = PXD_SV("r");
	c.nmeta = 1;
	n = pxd_email_token_encode(&f->ring, &c, text, sizeof(text), NULL);
	assert_true(n > 0);
	assert_int_equal(pxd_email_token_verify(&f->ring, pxd_sv_make(text, (size_t)n), NOW, &tok),
			 PXD_EMAIL_VERDICT_OK);
	n = pxd_email_open_props_json(&tok, PXD_OPEN_KIND_APPLE_MPP, true, out, sizeof(out));
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(pxd_email_open_props_json(&tok, PXD_OPEN_KIND_HUMAN, false, out, 20),
			 -ENOSPC);
	n = pxd_email_open_props_json(&tok, PXD_OPEN_KIND_SCANNER, false, out, sizeof(out));
	assert_non_null(strstr(out, "\"open_kind\":\"scanner\",\"first_open\":false}"));
	assert_int_equal(n, (ssize_t)strlen(out));
}

static void test_props_of_the_worst_token_fit_the_documented_room(void **state)
{
	struct email_fixture *f = *state;
	static char q[300];
	static const char keys[] = "abcdefgh";
	struct pxd_email_token tok;
	struct pxd_email_claims c;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	char out[PXD_EMAIL_OPEN_PROPS_MAX];
	json_error_t jerr;
	json_t *j;
	ssize_t n;

	memset(q, '"', sizeof(q)); /* every character needs escaping */
	email_claims_init(&c);
	c.campaign = pxd_sv_make(q, PXD_EMAIL_CAMPAIGN_MAX);
	c.message = pxd_sv_make(q, PXD_EMAIL_MESSAGE_MAX);
	c.recipient = pxd_sv_make(q, PXD_EMAIL_RECIPIENT_MAX);
	for (c.nmeta = 0; c.nmeta < PXD_EMAIL_META_MAX; c.nmeta++)
		c.meta[c.nmeta] =
		    (struct pxd_email_meta){ pxd_sv_make(&keys[c.nmeta], 1), pxd_sv_make(q, 29) };
	n = pxd_email_token_encode(&f->ring, &c, text, sizeof(text), NULL);
	assert_true(n > 0);
	assert_int_equal(pxd_email_token_verify(&f->ring, pxd_sv_make(text, (size_t)n), NOW, &tok),
			 PXD_EMAIL_VERDICT_OK);
	n = pxd_email_open_props_json(&tok, PXD_OPEN_KIND_OTHER_PROXY, false, out, sizeof(out));
	assert_true(n > 0);
	j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(j, "recipient")),
			 PXD_EMAIL_RECIPIENT_MAX);
	assert_int_equal(json_object_size(json_object_get(j, "meta")), PXD_EMAIL_META_MAX);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_props_json_is_exact_and_escaped, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(
		    test_props_of_the_worst_token_fit_the_documented_room, email_setup,
		    email_teardown),
	};

	return cmocka_run_group_tests_name("ep_email_open", tests, NULL, NULL);
}
