// SPDX-License-Identifier: MIT
#include "webhook.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_test.h"

extern const struct pxd_adapter pxd_adapter_webhook;

static const char secret[] = "whsec_test";

/* The receiver's side, written independently of webhook.c: one-shot HMAC()
 * over the concatenated "<t>.<body>". */
static void reference_sig(int64_t t, const char *body, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *msg = NULL;
	int n = asprintf(&msg, "%lld.%.*s", (long long)t, (int)len, body);

	assert_true(n > 0);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg,
			     (size_t)n, md, &mdlen));
	assert_int_equal(mdlen, 32);
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	free(msg);
}

static void test_sign_matches_known_vector(void **state)
{
	static const char body[] = "[{\"event_id\":\"a\"}]";
	char sig[PXD_WEBHOOK_SIG_MAX];

	(void)state;
	/* printf %s '1700000000.[{"event_id":"a"}]' | openssl dgst -sha256 -hmac whsec_test */
	assert_int_equal(pxd_webhook_sign(secret, strlen(secret), 1700000000, body, strlen(body),
					  sig, sizeof(sig)),
			 0);
	assert_string_equal(sig,
			    "t=1700000000,v1="
			    "89ae4d221594241c96d6b55542cbbd6fd47ca8a9d250d745a12bddfe61958d07");
	assert_int_equal(
	    pxd_webhook_sign(secret, strlen(secret), -1, body, strlen(body), sig, sizeof(sig)),
	    -EINVAL);
	assert_int_equal(pxd_webhook_sign(secret, strlen(secret), 1, body, strlen(body), sig, 40),
			 -ENOSPC);
}

static void test_verify_refuses_tampering_and_replays(void **state)
{
	static const char body[] = "[{\"event_id\":\"a\"},{\"event_id\":\"b\"}]";
	const size_t len = strlen(body);
	char sig[PXD_WEBHOOK_SIG_MAX];
	char bad[PXD_WEBHOOK_SIG_MAX];

	(void)state;
	assert_int_equal(
	    pxd_webhook_sign(secret, strlen(secret), 1700000000, body, len, sig, sizeof(sig)), 0);
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), sig, body, len, 1700000100, 300), 0);
	/* Another body, another key, a replay an hour later, broken headers. */
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), sig, body, len - 1, 1700000000, 300),
	    -EBADMSG);
	assert_int_equal(pxd_webhook_verify("other", 5, sig, body, len, 1700000000, 300), -EBADMSG);
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), sig, body, len, 1700003600, 300), -ETIME);
	memcpy(bad, sig, sizeof(bad));
	bad[strlen(bad) - 1] ^= 1;
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), bad, body, len, 1700000000, 300), -EBADMSG);
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), "v1=abc", body, len, 1700000000, 300),
	    -EBADMSG);
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), NULL, body, len, 1700000000, 300), -EBADMSG);
	snprintf(bad, sizeof(bad), "t= 1700000000%s", strchr(sig, ','));
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), bad, body, len, 1700000000, 300), -EBADMSG);
}

static struct tdest *webhook_dest(const char *url)
{
	struct tdest *t = tdest_new(&pxd_adapter_webhook);

	tdest_set(t, "url", url);
	tdest_set(t, "secret", secret);
	return t;
}

static void test_build_sends_journal_lines_signed(void **state)
{
	struct tdest *t = webhook_dest("http://127.0.0.1:9/hooks/pixeld");
	json_t *evs[2] = { golden("events/purchase.json"), golden("events/custom.json") };
	struct pxd_batch_item items[2];
	struct pxd_request req = { 0 };
	struct pxd_batch b;
	char want[65], expect[8192];
	const char *h;
	long long ts;
	int64_t now = pxd_now_ms() / 1000;

	(void)state;
	assert_int_equal(tdest_init(t), 0);
	batch_make(&b, items, evs, 2);
	assert_int_equal(pxd_adapter_webhook.build(&t->dest, &b, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/hooks/pixeld");
	snprintf(expect, sizeof(expect), "[%s,%s]", items[0].line, items[1].line);
	assert_int_equal(req.body.len, strlen(expect));
	assert_memory_equal(req.body.p, expect, req.body.len);
	h = req_header(&req, PXD_WEBHOOK_HEADER ": ");
	assert_non_null(h);
	h += strlen(PXD_WEBHOOK_HEADER ": ");
	assert_int_equal(sscanf(h, "t=%lld,v1=", &ts), 1);
	assert_true(ts >= now - 5 && ts <= now + 5);
	reference_sig(ts, req.body.p, req.body.len, want);
	assert_string_equal(strstr(h, ",v1=") + 4, want);
	assert_int_equal(
	    pxd_webhook_verify(secret, strlen(secret), h, req.body.p, req.body.len, now, 300), 0);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(evs[0]);
	json_decref(evs[1]);
	tdest_free(t);
}

static void test_classify_by_status(void **state)
{
	struct tdest *t = webhook_dest("https://hooks.example/in");
	struct pxd_batch_item items[2] = { 0 };
	struct pxd_batch b = { items, 2 };
	struct pxd_outcome out[2];
	struct pxd_response r = response(202, NULL);

	(void)state;
	assert_int_equal(tdest_init(t), 0);
	pxd_adapter_webhook.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
	r = response(503, "maintenance");
	r.retry_after_ms = 120000;
	pxd_adapter_webhook.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 120000);
	r = response(401, "bad signature");
	pxd_adapter_webhook.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[0].reason, "webhook: HTTP 401: bad signature");
	tdest_free(t);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = webhook_dest("hooks.example/in");

	(void)state;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_string_equal(t->err,
			    TEST_CONF ":11: url: \"hooks.example/in\" is not an http(s) URL");
	tdest_free(t);
	t = webhook_dest("https://hooks.example/in");
	tdest_set(t, "map.Purchase", "order");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":13: map.Purchase: unknown key for type webhook"));
	tdest_free(t);
	t = webhook_dest("https://hooks.example/in");
	t->conf.nkv = 1;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "secret: missing"));
	tdest_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_matches_known_vector),
		cmocka_unit_test(test_verify_refuses_tampering_and_replays),
		cmocka_unit_test(test_build_sends_journal_lines_signed),
		cmocka_unit_test(test_classify_by_status),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
