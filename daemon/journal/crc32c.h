/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h - CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78)
 * as used by iSCSI (RFC 3720 §12.1) and ext4: the journal's record checksum and
 * the watermark file's. Uses the SSE4.2 crc32 instruction when the CPU has it,
 * slicing-by-8 tables otherwise. No state beyond the tables; any thread.
 */
#ifndef PXD_CRC32C_H
#define PXD_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Returns the CRC-32C of <len> bytes at <buf> continued from <crc>: pass 0 to
 * start, or the value returned for the bytes before, so that
 * pxd_crc32c(pxd_crc32c(0, a, n), b, m) is the CRC of a followed by b. The
 * pre- and post-inversion happen inside (zlib's crc32() convention), so
 * "123456789" gives 0xe3069283. <buf> may be NULL when <len> is 0.
 */
uint32_t pxd_crc32c(uint32_t crc, const void *buf, size_t len);

/* The same result from the tables alone; exported so tests compare both paths. */
uint32_t pxd_crc32c_portable(uint32_t crc, const void *buf, size_t len);

/* Returns true when pxd_crc32c() runs on the SSE4.2 instruction. */
bool pxd_crc32c_hw_available(void);

#endif
