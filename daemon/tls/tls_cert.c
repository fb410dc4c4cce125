// SPDX-License-Identifier: MIT
#include "daemon/tls/tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"

/* A PEM private key file: RSA 4096 is about 3.3 KB. */
#define KEY_FILE_MAX 16384

/* Checks that the certificate <path> can be opened for reading; says what to do if not. */
static int readable(const char *path, const char *name, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	rc = -errno;
	snprintf(err, errlen,
		 "certificate.%s: cannot read the certificate %s: %s; check the path and that "
		 "pixeld's user may read it",
		 name, path, strerror(-rc));
	return rc;
}

static void openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	snprintf(buf, len, "%s", e ? ERR_reason_error_string(e) : "unknown error");
	if (!e || !ERR_reason_error_string(e))
		snprintf(buf, len, "not a PEM file");
	ERR_clear_error();
}

/*
 * Keys are secrets: read by the one secret-file reader (daemon/conf/conf_secret.c)
 * with its mode check, like server.admin_key's file:, then parsed from memory.
 */
static int use_key(SSL_CTX *ctx, const struct pxd_conf_cert *cc, char *err, size_t errlen)
{
	unsigned char pem[KEY_FILE_MAX];
	char why[512];
	EVP_PKEY *pkey = NULL;
	size_t len = 0;
	BIO *bio;
	int rc;

	rc = pxd_conf_secret_file(cc->key, pem, sizeof(pem), &len, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "certificate.%s: the key %s", cc->name, why);
		return rc;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(pem, sizeof(pem));
	rc = pkey && SSL_CTX_use_PrivateKey(ctx, pkey) == 1 ? 0 : -EINVAL;
	EVP_PKEY_free(pkey);
	if (rc) {
		openssl_reason(why, sizeof(why));
		snprintf(err, errlen,
			 "certificate.%s: the key %s does not load or does not match %s (%s); "
			 "give the private key of this certificate, unencrypted PEM",
			 cc->name, cc->key, cc->cert, why);
	}
	return rc;
}

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "(unreadable date)");
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void describe(X509 *x, struct pxd_tls_cert_info *info)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t o = 0;

	X509_NAME_oneline(X509_get_subject_name(x), info->subject, sizeof(info->subject));
	info->names[0] = '\0';
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		int n;

		if (gn->type != GEN_DNS)
			continue;
		n = snprintf(info->names + o, sizeof(info->names) - o, "%s%.*s", o ? "," : "",
			     ASN1_STRING_length(gn->d.dNSName),
			     (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
		if (n < 0 || (size_t)n >= sizeof(info->names) - o)
			break;
		o += (size_t)n;
	}
	GENERAL_NAMES_free(sans);
	info->not_before = asn1_time_unix(X509_get0_notBefore(x));
	info->not_after = asn1_time_unix(X509_get0_notAfter(x));
}

int pxd_tls_cert_load(SSL_CTX *ctx, const struct pxd_conf_cert *cc, struct pxd_tls_cert_info *info,
		      char *err, size_t errlen)
{
	char why[256];
	char when[64];
	X509 *x;
	int rc;

	rc = readable(cc->cert, cc->name, err, errlen);
	if (rc)
		return rc;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cc->cert) != 1) {
		openssl_reason(why, sizeof(why));
		snprintf(err, errlen,
			 "certificate.%s: %s is not a usable PEM certificate (%s); give the "
			 "certificate first, then its chain",
			 cc->name, cc->cert, why);
		return -EINVAL;
	}
	rc = use_key(ctx, cc, err, errlen);
	if (rc)
		return rc;
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen,
			 "certificate.%s: the key %s does not match the certificate %s; give the "
			 "key the certificate was issued for",
			 cc->name, cc->key, cc->cert);
		return -EINVAL;
	}
	x = SSL_CTX_get0_certificate(ctx);
	describe(x, info);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		asn1_time_text(X509_get0_notAfter(x), when, sizeof(when));
		snprintf(err, errlen, "certificate.%s: %s expired on %s; renew it", cc->name,
			 cc->cert, when);
		return -EKEYEXPIRED;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
		asn1_time_text(X509_get0_notBefore(x), when, sizeof(when));
		snprintf(err, errlen,
			 "certificate.%s: %s is not valid before %s; check the system clock or "
			 "wait",
			 cc->name, cc->cert, when);
		return -EKEYREJECTED;
	}
	return 0;
}
