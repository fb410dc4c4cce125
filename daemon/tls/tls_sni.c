// SPDX-License-Identifier: MIT
#include "daemon/tls/tls_sni.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "tls.h"

int pxd_tls_sni_parse(const uint8_t *ext, size_t len, char *name, size_t cap)
{
	size_t list, off = 2;

	if (len < 2)
		return -EINVAL;
	list = (size_t)ext[0] << 8 | ext[1];
	if (list + 2 != len)
		return -EINVAL;
	while (off + 3 <= len) {
		uint8_t type = ext[off];
		size_t n = (size_t)ext[off + 1] << 8 | ext[off + 2];

		off += 3;
		if (n > len - off)
			return -EINVAL;
		if (type == 0) { /* host_name */
			if (n && ext[off + n - 1] == '.')
				n--;
			if (n == 0 || n >= cap)
				return -EINVAL;
			for (size_t i = 0; i < n; i++) {
				unsigned char ch = ext[off + i];

				/* Labels are not empty: no leading dot, no two in a row. */
				if ((!isalnum(ch) && ch != '-' && ch != '.' && ch != '_') ||
				    (ch == '.' && (i == 0 || name[i - 1] == '.' || i == n - 1)))
					return -EINVAL;
				name[i] = (char)tolower(ch);
			}
			name[n] = '\0';
			return (int)n;
		}
		off += n;
	}
	return off == len ? -ENOENT : -EINVAL;
}

bool pxd_tls_sni_match(const char *pat, const char *name)
{
	const char *dot;

	if (pat[0] != '*')
		return strcmp(pat, name) == 0;
	dot = strchr(name, '.');
	return dot && dot != name && strcmp(pat + 1, dot) == 0;
}

int pxd_tls_sni_pick(const struct pxd_tls_store *st, const char *name)
{
	for (size_t i = 0; name && i < st->n; i++)
		for (size_t h = 0; h < st->e[i].nhosts; h++)
			if (pxd_tls_sni_match(st->e[i].hosts[h], name))
				return (int)i;
	return st->default_idx;
}

/*
 * Runs before OpenSSL looks at versions or ciphers, so the switched context
 * decides everything. Returns SSL_CLIENT_HELLO_SUCCESS, or _ERROR with
 * <alert> set (OpenSSL's contract for this callback).
 */
int pxd_tls_sni_client_hello(SSL *s, int *alert, void *arg)
{
	const struct pxd_tls_store *st = arg;
	enum pxd_tls_fail *why = SSL_get_app_data(s);
	const unsigned char *ext;
	size_t len;
	char name[256];
	int idx, n = -ENOENT;

	if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &ext, &len) == 1)
		n = pxd_tls_sni_parse(ext, len, name, sizeof(name));
	if (n == -EINVAL) {
		*alert = SSL_AD_DECODE_ERROR;
		if (why)
			*why = PXD_TLS_FAIL_NOT_TLS;
		return SSL_CLIENT_HELLO_ERROR;
	}
	idx = pxd_tls_sni_pick(st, n > 0 ? name : NULL);
	if (idx < 0) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		if (why)
			*why = PXD_TLS_FAIL_UNKNOWN_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (!SSL_set_SSL_CTX(s, st->e[idx].ctx)) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}
