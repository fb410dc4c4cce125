/* SPDX-License-Identifier: MIT */
/*
 * console_dlq.h - the console's dead-letter browser: GET /admin/dlq/list
 * reads <data_dir>/dlq like `pixelctl dlq list|show`. Cold path on the admin
 * listener's thread (it reads files, as the replay does).
 */
#ifndef PXD_CONSOLE_DLQ_H
#define PXD_CONSOLE_DLQ_H

#include "http_reply.h"

#define PXD_CONSOLE_DLQ_MAX 100 /* newest entries per answer */

/*
 * GET /admin/dlq/list[?dest=D][&reason=TEXT][&since=T][&id=ID]: 200
 * {"dead_letters":[entry, ...],"matched":N}, the newest PXD_CONSOLE_DLQ_MAX
 * entries that match, newest first, each the stored entry (its event with
 * PII hashed, the response excerpt redacted). reason matches a part of the
 * reason; T is RFC 3339 or a duration (1h). 400 for a bad dest or since.
 */
void pxd_ep_admin_dlq_list(struct pxd_reqctx *rc);

#endif
