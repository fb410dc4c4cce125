// SPDX-License-Identifier: MIT
/*
 * mock_reply.c - building one answer of the mock platform: the response
 * struct's lifetime, JSON bodies and the records of accepted events.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>

#include "payload.h"

void pxd_mock_resp_init(struct pxd_mock_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
	snprintf(r->content_type, sizeof(r->content_type), "application/json");
}

void pxd_mock_resp_fini(struct pxd_mock_resp *r)
{
	pxd_buf_free(&r->body);
	json_decref(r->records);
	r->records = NULL;
}

void pxd_mock_reply(struct pxd_mock_resp *r, int status, json_t *body)
{
	r->status = status;
	r->refused |= status >= 400;
	r->body.len = 0;
	if (body && pxd_payload_dump(&r->body, body))
		r->status = 500;
	json_decref(body);
}

void pxd_mock_record(struct pxd_mock_resp *r, enum pxd_mock_platform p, const char *event_id,
		     const json_t *ev)
{
	if (!r->records)
		r->records = json_array();
	json_array_append_new(r->records,
			      json_pack("{s:s, s:s?, s:O}", "platform", pxd_mock_platform_name(p),
					"event_id", event_id, "event", (json_t *)ev));
}

void pxd_mock_record_each(struct pxd_mock_resp *r, enum pxd_mock_platform p, const json_t *list,
			  const char *id_key)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		pxd_mock_record(r, p, json_string_value(json_object_get(e, id_key)), e);
	}
}
