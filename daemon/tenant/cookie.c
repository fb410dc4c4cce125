// SPDX-License-Identifier: MIT
/* cookie.c - the first-party id cookie's parts (cookie.h). */
#include "daemon/tenant/cookie.h"

#include <arpa/inet.h>
#include <libpsl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct pxd_sv pxd_cookie_get(struct pxd_sv header, const char *name)
{
	size_t nlen = strlen(name);
	size_t i = 0;

	while (i < header.n) {
		const char *semi;
		size_t end;

		while (i < header.n && (header.p[i] == ' ' || header.p[i] == '\t'))
			i++;
		semi = memchr(header.p + i, ';', header.n - i);
		end = semi ? (size_t)(semi - header.p) : header.n;
		if (end - i > nlen && header.p[i + nlen] == '=' &&
		    memcmp(header.p + i, name, nlen) == 0)
			return pxd_sv_make(header.p + i + nlen + 1, end - i - nlen - 1);
		i = end + 1;
	}
	return PXD_SV_NULL;
}

bool pxd_cookie_id_parse(struct pxd_sv v, struct pxd_sv *id, uint64_t *issued_s)
{
	uint64_t t = 0;

	if (v.n < PXD_COOKIE_ID_LEN + 2 || v.n > PXD_COOKIE_ID_LEN + 12 ||
	    v.p[PXD_COOKIE_ID_LEN] != '.')
		return false;
	for (size_t i = 0; i < PXD_COOKIE_ID_LEN; i++)
		if (!((v.p[i] >= '0' && v.p[i] <= '9') || (v.p[i] >= 'a' && v.p[i] <= 'f')))
			return false;
	for (size_t i = PXD_COOKIE_ID_LEN + 1; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		t = t * 10 + (uint64_t)(v.p[i] - '0');
	}
	*id = pxd_sv_make(v.p, PXD_COOKIE_ID_LEN);
	*issued_s = t;
	return true;
}

void pxd_cookie_domain(struct pxd_sv host, char *out, size_t cap)
{
	char name[256];
	const char *colon;
	const char *reg;
	unsigned char addr[16];
	size_t n = host.n;

	out[0] = '\0';
	if (!n || host.p[0] == '[') /* IPv6 literal */
		return;
	colon = memchr(host.p, ':', n);
	if (colon)
		n = (size_t)(colon - host.p);
	if (n == 0 || n >= sizeof(name))
		return;
	for (size_t i = 0; i < n; i++)
		name[i] = host.p[i] >= 'A' && host.p[i] <= 'Z' ? (char)(host.p[i] + 32) : host.p[i];
	name[n] = '\0';
	if (name[n - 1] == '.')
		name[--n] = '\0';
	if (!strchr(name, '.') || inet_pton(AF_INET, name, addr) == 1)
		return;
	reg = psl_registrable_domain(psl_builtin(), name);
	if (reg && strlen(reg) < cap)
		memcpy(out, reg, strlen(reg) + 1);
}

size_t pxd_cookie_line_value(char *out, size_t cap, const char *name, struct pxd_sv value,
			     const struct pxd_cookie_attrs *a)
{
	int n = snprintf(out, cap,
			 "Set-Cookie: %s=%.*s; Max-Age=%llu; Path=/%s%s; %s%sSameSite=Lax\r\n",
			 name, (int)value.n, value.p, (unsigned long long)a->max_age_s,
			 a->domain[0] ? "; Domain=" : "", a->domain, a->secure ? "Secure; " : "",
			 a->http_only ? "HttpOnly; " : "");

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t pxd_cookie_line(char *out, size_t cap, const char *name, struct pxd_sv id, uint64_t issued_s,
		       uint64_t max_age_s, const char *domain, bool secure)
{
	const struct pxd_cookie_attrs a = { max_age_s, domain, secure, true };
	char value[PXD_COOKIE_ID_LEN + 24];
	int n = snprintf(value, sizeof(value), "%.*s.%llu", (int)id.n, id.p,
			 (unsigned long long)issued_s);

	if (n <= 0 || (size_t)n >= sizeof(value))
		return 0;
	return pxd_cookie_line_value(out, cap, name, pxd_sv_make(value, (size_t)n), &a);
}
