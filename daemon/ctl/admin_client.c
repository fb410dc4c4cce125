// SPDX-License-Identifier: MIT
/*
 * pixelctl's admin client: one blocking libcurl request to the admin
 * listener of the configuration, with the admin key, answer collected into
 * a buffer. pixelctl's only thread.
 */
#include "admin_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static size_t collect(char *p, size_t size, size_t n, void *user)
{
	return pxd_buf_append(user, p, size * n) ? 0 : size * n;
}

/* A wildcard listen address is reached on loopback. */
static void admin_url(const struct pxd_conf *conf, const char *path, char *url, size_t len)
{
	const struct sockaddr_storage *ss = &conf->admin_listen.ss;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		char host[INET6_ADDRSTRLEN] = "::1";

		if (!IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(url, len, "http://[%s]:%u%s", host, ntohs(s6->sin6_port), path);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		char host[INET_ADDRSTRLEN] = "127.0.0.1";

		if (s4->sin_addr.s_addr != htonl(INADDR_ANY))
			inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(url, len, "http://%s:%u%s", host, ntohs(s4->sin_port), path);
	}
}

int pxd_admin_request(const struct pxd_conf *conf, const char *method, const char *path,
		      const char *body, size_t body_len, struct pxd_buf *out, long *status,
		      char *err, size_t errlen)
{
	struct curl_slist *headers = NULL;
	char url[512];
	char auth[300];
	CURLcode cc;
	CURL *h;
	int rc = 0;

	admin_url(conf, path, url, sizeof(url));
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	if (conf->admin_key[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", conf->admin_key);
		headers = curl_slist_append(headers, auth);
	}
	if (body)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	cc = curl_easy_perform(h);
	if (cc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errlen, "pixeld is not running at %s (admin listener of %s)", url,
			 conf->path);
		rc = -ECONNREFUSED;
	} else if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(cc));
		rc = -EIO;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return rc;
}

int pxd_admin_get_json(const struct pxd_conf *conf, const char *path, const char *what, bool raw,
		       json_t **doc)
{
	struct pxd_buf out = { 0 };
	json_error_t jerr;
	char err[512];
	long status = 0;

	*doc = NULL;
	if (pxd_admin_request(conf, "GET", path, NULL, 0, &out, &status, err, sizeof(err))) {
		fprintf(stderr, "pixelctl: %s\n", err);
		return 1;
	}
	if (status != 200) {
		fprintf(stderr, "pixelctl: %s: HTTP %ld: %.*s\n", what, status, (int)out.len,
			out.p ? out.p : "");
		pxd_buf_free(&out);
		return 1;
	}
	if (raw) {
		printf("%.*s\n", (int)out.len, out.p);
		pxd_buf_free(&out);
		return 0;
	}
	*doc = json_loadb(out.p, out.len, 0, &jerr);
	pxd_buf_free(&out);
	if (!*doc) {
		fprintf(stderr, "pixelctl: %s: unreadable answer: %s\n", what, jerr.text);
		return 1;
	}
	return 0;
}
