// SPDX-License-Identifier: MIT
/* The email key ring: RFC 2104 keys, rotation, refused keys and key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "email_test.h"
#include "test_util.h"

static void test_long_secret_is_hashed_as_rfc2104_says(void **state)
{
	struct pxd_email_keys ring = { 0 };
	struct pxd_email_claims c;
	char secret[200];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	ssize_t len;
	size_t n;

	(void)state;
	memset(secret, 'x', sizeof(secret));
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("long"), secret, sizeof(secret)), 0);
	email_claims_init(&c);
	len = pxd_email_token_encode(&ring, &c, text, sizeof(text), NULL);
	assert_true(len > 0);
	n = email_ref_decode(text, (size_t)len, rec);
	HMAC(EVP_sha256(), secret, sizeof(secret), rec, n - 16, md, &mdlen);
	assert_memory_equal(rec + n - 16, md, 16);
	assert_int_equal(email_verify_at(&ring, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_OK);
}

static void test_rotation_new_key_signs_old_key_verifies(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_email_keys rotated = { 0 };
	struct pxd_email_keys retired = { 0 };
	struct pxd_email_token tok;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	ssize_t len;

	/* keys = k2:new, k1:old */
	assert_int_equal(pxd_email_keys_add(&rotated, PXD_SV("k2"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(pxd_email_keys_add(&rotated, PXD_SV("k1"), SECRET1, strlen(SECRET1)), 0);
	assert_int_equal(email_verify_at(&rotated, f->text, f->len, NOW), PXD_EMAIL_VERDICT_OK);
	len = pxd_email_token_encode(&rotated, &f->c, text, sizeof(text), NULL);
	assert_true(len > 0);
	assert_int_equal(
	    pxd_email_token_verify(&rotated, pxd_sv_make(text, (size_t)len), NOW, &tok),
	    PXD_EMAIL_VERDICT_OK);
	email_assert_sv(tok.kid, PXD_SV("k2"));
	/* A collector still on the old list cannot read the new mail... */
	assert_int_equal(email_verify_at(&f->ring, text, (size_t)len, NOW),
			 PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	/* ...and once k1 is retired, mail signed with it stops counting. */
	assert_int_equal(pxd_email_keys_add(&retired, PXD_SV("k2"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(email_verify_at(&retired, f->text, f->len, NOW),
			 PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	assert_int_equal(email_verify_at(&retired, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_OK);
}

static void test_key_ring_refuses_bad_keys(void **state)
{
	struct pxd_email_keys ring = { 0 };
	char big[PXD_EMAIL_SECRET_MAX + 1];

	(void)state;
	memset(big, 'b', sizeof(big));
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), "short", 5), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), big, sizeof(big)), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV(""), SECRET1, 40), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("toolongid"), SECRET1, 40), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k.1"), SECRET1, 40), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), SECRET1, 40), 0);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), SECRET2, 40), -EEXIST);
	for (int i = 2; i <= PXD_CONF_EMAIL_MAX_KEYS; i++) {
		char kid[8];

		snprintf(kid, sizeof(kid), "k%d", i);
		assert_int_equal(pxd_email_keys_add(&ring, pxd_sv_cstr(kid), SECRET1, 40), 0);
	}
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k99"), SECRET1, 40), -ENOSPC);
	pxd_email_keys_wipe(&ring);
	assert_int_equal(ring.n, 0);
}

static void write_key(const char *dir, const char *name, const char *content, mode_t mode,
		      char *path)
{
	sprintf(path, "%s/%s", dir, name);
	assert_int_equal(pxd_test_write_file(path, content, strlen(content), O_TRUNC), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_keys_load_reads_files_and_refuses_open_modes(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_conf_email ce;
	struct pxd_email_keys ring;
	char keydir[] = "/tmp/pxd_keysXXXXXX";
	char err[8192];

	assert_non_null(mkdtemp(keydir));
	pxd_conf_email_defaults(&ce);
	assert_int_equal(pxd_conf_email_set(&ce, "keys", "k2:x, k1:y", err, sizeof(err)), 0);
	write_key(keydir, "k2", SECRET2 "\n", 0600, ce.keys[0].path);
	write_key(keydir, "k1", SECRET1 "\n", 0400, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), 0);
	assert_int_equal(ring.n, 2);
	assert_string_equal(ring.key[0].kid, "k2");
	/* The newline is not part of the secret: the fixture's k1 token verifies. */
	assert_int_equal(email_verify_at(&ring, f->text, f->len, NOW), PXD_EMAIL_VERDICT_OK);

	write_key(keydir, "k1", SECRET1 "\n", 0640, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_non_null(strstr(err, "key k1"));
	assert_int_equal(ring.n, 0);
	write_key(keydir, "k1", SECRET1 "\n", 0604, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -EPERM);

	write_key(keydir, "k1", "too short\n", 0600, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "openssl rand -hex 32"));

	unlink(ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, ce.keys[1].path));
	unlink(ce.keys[0].path);
	rmdir(keydir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_secret_is_hashed_as_rfc2104_says),
		cmocka_unit_test_setup_teardown(test_rotation_new_key_signs_old_key_verifies,
						email_setup, email_teardown),
		cmocka_unit_test(test_key_ring_refuses_bad_keys),
		cmocka_unit_test_setup_teardown(test_keys_load_reads_files_and_refuses_open_modes,
						email_setup, email_teardown),
	};

	return cmocka_run_group_tests_name("email_keys", tests, NULL, NULL);
}
