// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for email token verification: whatever the text, verify
 * answers a verdict without reading past it, and only a token signed with
 * the ring's key can pass (the fuzzer cannot forge an HMAC: OK would mean a
 * broken check). Built and run by `make fuzz`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "email_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pxd_email_keys ring;
	static bool ready;
	struct pxd_email_token tok;
	enum pxd_email_verdict v;
	char *text;

	if (!ready) {
		static const char secret[] = "fuzzing-secret-fuzzing-secret-0123456789";

		if (pxd_email_keys_add(&ring, PXD_SV("k1"), secret, sizeof(secret) - 1))
			__builtin_trap();
		ready = true;
	}
	text = malloc(size ? size : 1);
	memcpy(text, data, size);
	v = pxd_email_token_verify(&ring, pxd_sv_make(text, size), 1795000000, &tok);
	if (v == PXD_EMAIL_VERDICT_OK || v >= PXD_EMAIL_VERDICT_COUNT)
		__builtin_trap();
	free(text);
	return 0;
}
