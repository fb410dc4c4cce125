// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the HTTP request parser. Each input (and a set of its
 * prefixes) sits in a heap block of exactly its size, so ASan sees any read
 * past <len>. Beyond "no crash" it checks the contract: views stay inside the
 * request, limits hold, and a prefix answers -EAGAIN or what the whole input
 * answers. Build and run (seeds are read, new inputs go to the first dir):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     tests/fuzz/fuzz_http_parse.c daemon/http/http_parse.c daemon/http/refusal.c -o
 * fuzz_http_parse
 *   ./fuzz_http_parse -dict=tests/fuzz/http.dict -max_len=20000 -max_total_time=60 \
 *     NEW_DIR tests/fuzz/corpus/http_parse
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

/* Inputs up to this size get every prefix checked; longer ones a sample. */
#define ALL_PREFIXES_MAX 512
#define PREFIX_SAMPLES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[PXD_HTTP_MAX_BODY];

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static bool inside(struct pxd_sv v, const char *lo, size_t n)
{
	if (!v.p)
		return v.n == 0;
	return v.p >= lo && v.n <= n && (size_t)(v.p - lo) <= n - v.n;
}

static ssize_t parse_copy(const uint8_t *data, size_t n, struct pxd_http_req *req,
			  enum pxd_refusal *r)
{
	char *buf = malloc(n ? n : 1);
	ssize_t got;

	check(buf != NULL);
	memcpy(buf, data, n);
	got = pxd_http_parse_request(buf, n, req, scratch, sizeof(scratch), r);
	free(buf);
	return got;
}

static void check_request(const char *buf, size_t n, const struct pxd_http_req *req)
{
	check(req->head_len <= PXD_HTTP_MAX_HEAD && req->head_len <= n);
	check(req->target.n >= 1 && req->target.n <= PXD_HTTP_MAX_URI);
	check(req->nheaders <= PXD_HTTP_MAX_HEADERS);
	check(req->body.n <= PXD_HTTP_MAX_BODY);
	check(req->minor_version == 0 || req->minor_version == 1);
	check(req->minor_version == 0 || req->host.p != NULL);
	check(!(req->chunked && req->has_content_length));
	check(inside(req->method_name, buf, n) && inside(req->target, buf, n));
	check(inside(req->path, buf, n) && inside(req->query, buf, n));
	check(inside(req->host, buf, n) && inside(req->cookie, buf, n));
	for (size_t i = 0; i < req->nheaders; i++)
		check(inside(req->headers[i].name, buf, n) &&
		      inside(req->headers[i].value, buf, n));
	if (req->chunked)
		check(req->body.p == scratch);
	else
		check(inside(req->body, buf, n) && req->body.n == req->content_length);
}

/* What a prefix of <k> bytes may answer, given the whole input's answer. */
static void check_prefix(const uint8_t *data, size_t k, ssize_t whole, enum pxd_refusal why)
{
	struct pxd_http_req req;
	enum pxd_refusal r;
	ssize_t got = parse_copy(data, k, &req, &r);

	if (whole > 0 && (size_t)whole <= k)
		check(got == whole);
	else if (whole == -EPROTO)
		check(got == -EAGAIN || (got == -EPROTO && r == why));
	else
		check(got == -EAGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pxd_http_req req;
	enum pxd_refusal r;
	char *buf = malloc(size ? size : 1);
	ssize_t got;

	check(buf != NULL);
	memcpy(buf, data, size);
	got = pxd_http_parse_request(buf, size, &req, scratch, sizeof(scratch), &r);
	check(got > 0 || got == -EAGAIN || got == -EPROTO);
	check((got == -EPROTO) == (r != PXD_REFUSAL_NONE));
	check(r < PXD_REFUSAL_COUNT);
	if (got > 0) {
		check((size_t)got <= size);
		check_request(buf, (size_t)got, &req);
	}
	free(buf);

	if (size <= ALL_PREFIXES_MAX) {
		for (size_t k = 0; k < size; k++)
			check_prefix(data, k, got, r);
	} else {
		for (size_t i = 0; i < PREFIX_SAMPLES; i++)
			check_prefix(data, size / PREFIX_SAMPLES * i, got, r);
		check_prefix(data, size - 1, got, r);
		if (got > 0)
			check_prefix(data, (size_t)got - 1, got, r);
	}
	return 0;
}
