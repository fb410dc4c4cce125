// SPDX-License-Identifier: MIT
/*
 * dest_error.c - a destination's last error (dispatcher.h, struct
 * pxd_dest_error): written by its shard when a request fails or an event is
 * dead-lettered, read by the console's stats on the admin side. Byte-wise
 * relaxed atomics under a sequence count, so neither side locks.
 */
#include <stdio.h>

#include "daemon/delivery/redact.h"
#include "dispatcher.h"

void pxd_dest_error_note(struct pxd_dest_error *e, int64_t time_ms, const char *text)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	char buf[sizeof(e->text)];

	snprintf(buf, sizeof(buf), "%s", text);
	pxd_redact(buf); /* transport errors are not redacted on their way here */
	__atomic_store_n(&e->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t i = 0; i < sizeof(buf); i++) {
		__atomic_store_n(&e->text[i], buf[i], __ATOMIC_RELAXED);
		if (!buf[i])
			break;
	}
	__atomic_store_n(&e->time_ms, time_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

bool pxd_dest_error_read(const struct pxd_dest_error *e, int64_t *time_ms, char *out, size_t cap)
{
	/* A writer holds the count odd for a few hundred stores: a few tries suffice. */
	for (int tries = 0; tries < 64; tries++) {
		unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		size_t i = 0;

		if (seq & 1)
			continue;
		for (; i + 1 < cap && i < sizeof(e->text); i++) {
			out[i] = __atomic_load_n(&e->text[i], __ATOMIC_RELAXED);
			if (!out[i])
				break;
		}
		out[i < cap ? i : cap - 1] = '\0';
		*time_ms = __atomic_load_n(&e->time_ms, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq)
			return *time_ms != 0;
	}
	return false;
}
