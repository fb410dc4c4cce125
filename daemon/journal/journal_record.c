// SPDX-License-Identifier: MIT
/*
 * The journal record codec (layout in journal_format.h): encoding and sealing
 * on the ingest thread's hot path, checking for the reader, verify and the
 * fuzzer. Pure functions over caller memory: no allocation, no syscall.
 */
#include "journal_format.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "compiler.h"
#include "crc32c.h"

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

ssize_t pxd_journal_record_seal(void *rec, size_t len, int64_t received_ms)
{
	unsigned char *p = rec;
	uint64_t ms = htole64((uint64_t)received_ms);

	if (unlikely(len == 0 || len > PXD_JOURNAL_PAYLOAD_MAX))
		return -EMSGSIZE;
	put_le32(p + 4, (uint32_t)len);
	memcpy(p + 8, &ms, 8);
	put_le32(p, pxd_crc32c(0, p + 4, PXD_JOURNAL_HDR_BYTES - 4 + len));
	return (ssize_t)pxd_journal_record_bytes(len);
}

ssize_t pxd_journal_record_encode(void *buf, size_t cap, int64_t received_ms, const void *payload,
				  size_t len)
{
	if (unlikely(len == 0 || len > PXD_JOURNAL_PAYLOAD_MAX))
		return -EMSGSIZE;
	if (unlikely(cap < pxd_journal_record_bytes(len)))
		return -ENOSPC;
	memcpy((char *)buf + PXD_JOURNAL_HDR_BYTES, payload, len);
	return pxd_journal_record_seal(buf, len, received_ms);
}

enum pxd_journal_bad pxd_journal_record_check(const void *p, size_t avail,
					      struct pxd_journal_rec *rec)
{
	const unsigned char *b = p;
	uint64_t ms;
	uint32_t len;

	if (avail < PXD_JOURNAL_HDR_BYTES)
		return PXD_JOURNAL_BAD_SHORT;
	len = pxd_journal_record_len(b);
	if (len == 0 || len > PXD_JOURNAL_PAYLOAD_MAX)
		return PXD_JOURNAL_BAD_LEN;
	if (avail < pxd_journal_record_bytes(len))
		return PXD_JOURNAL_BAD_SHORT;
	if (get_le32(b) != pxd_crc32c(0, b + 4, PXD_JOURNAL_HDR_BYTES - 4 + len))
		return PXD_JOURNAL_BAD_CRC;
	memcpy(&ms, b + 8, 8);
	rec->pos = 0;
	rec->next = 0;
	rec->received_ms = (int64_t)le64toh(ms);
	rec->payload = (const char *)b + PXD_JOURNAL_HDR_BYTES;
	rec->len = len;
	return PXD_JOURNAL_BAD_NONE;
}

uint32_t pxd_journal_record_len(const void *hdr)
{
	return get_le32((const unsigned char *)hdr + 4);
}

const char *pxd_journal_bad_name(enum pxd_journal_bad why)
{
	static const char *const names[] = {
		[PXD_JOURNAL_BAD_NONE] = "ok",
		[PXD_JOURNAL_BAD_SHORT] = "short",
		[PXD_JOURNAL_BAD_LEN] = "bad_length",
		[PXD_JOURNAL_BAD_CRC] = "bad_crc",
		[PXD_JOURNAL_BAD_GAP] = "missing_segment",
	};

	return (unsigned)why < ARRAY_SIZE(names) ? names[why] : "unknown";
}
