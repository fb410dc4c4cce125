// SPDX-License-Identifier: MIT
/*
 * pixelctl nats status: stream state and per-consumer counts, as text for
 * people or as JSON. Lag is what a consumer has not acked yet: the stream's
 * last sequence minus the consumer's ack floor.
 */
#include "pixelctl_nats.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "nats_link.h"

static json_t *cluster_json(const jsClusterInfo *ci)
{
	json_t *peers = json_array();

	for (int i = 0; ci && i < ci->ReplicasLen; i++)
		json_array_append_new(peers, json_pack("{s:s, s:b}", "name", ci->Replicas[i]->Name,
						       "current", ci->Replicas[i]->Current));
	return json_pack("{s:s?, s:o}", "leader", ci ? ci->Leader : NULL, "replicas", peers);
}

static json_t *consumer_json(const jsConsumerInfo *ci, uint64_t last_seq)
{
	uint64_t floor = ci->AckFloor.Stream;

	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "name", ci->Name, "pending",
			 (json_int_t)ci->NumPending, "ack_pending", (json_int_t)ci->NumAckPending,
			 "redelivered", (json_int_t)ci->NumRedelivered, "waiting",
			 (json_int_t)ci->NumWaiting, "lag",
			 (json_int_t)(last_seq > floor ? last_seq - floor : 0), "cluster",
			 cluster_json(ci->Cluster));
}

static void print_text(json_t *st)
{
	json_t *s = json_object_get(st, "stream");
	json_t *consumers = json_object_get(st, "consumers");
	size_t i;
	json_t *c;

	printf("stream %s: %lld messages, %lld bytes, sequences %lld..%lld, leader %s, %zu "
	       "replicas\n",
	       json_string_value(json_object_get(s, "name")),
	       json_integer_value(json_object_get(s, "messages")),
	       json_integer_value(json_object_get(s, "bytes")),
	       json_integer_value(json_object_get(s, "first_seq")),
	       json_integer_value(json_object_get(s, "last_seq")),
	       json_string_value(json_object_get(json_object_get(s, "cluster"), "leader"))
		   ?: "(single server)",
	       json_array_size(json_object_get(json_object_get(s, "cluster"), "replicas")) + 1);
	printf("%-32s %10s %12s %12s %10s\n", "consumer", "pending", "ack_pending", "redelivered",
	       "lag");
	json_array_foreach(consumers, i, c)
	{
		printf("%-32s %10lld %12lld %12lld %10lld\n",
		       json_string_value(json_object_get(c, "name")),
		       json_integer_value(json_object_get(c, "pending")),
		       json_integer_value(json_object_get(c, "ack_pending")),
		       json_integer_value(json_object_get(c, "redelivered")),
		       json_integer_value(json_object_get(c, "lag")));
	}
}

static int status(const struct pxd_conf *conf, bool as_json)
{
	const struct pxd_conf_nats *nc = &conf->nats;
	struct pxd_nats_link link;
	jsStreamInfo *si = NULL;
	jsConsumerInfoList *list = NULL;
	jsErrCode jerr = 0;
	json_t *st = NULL;
	json_t *consumers;
	char err[512];
	natsStatus s;
	int rc = 1;

	if (pxd_nats_link_open(&link, nc, "pixelctl", false, NULL, err, sizeof(err))) {
		fprintf(stderr, "pixelctl: cannot reach NATS (%s): %s; check nats.servers\n",
			nc->servers[0], err);
		return 1;
	}
	s = js_GetStreamInfo(&si, link.js, nc->stream, NULL, &jerr);
	if (s != NATS_OK) {
		fprintf(stderr,
			"pixelctl: stream %s: %s; an ingest process creates it at its first "
			"publish (check nats.stream)\n",
			nc->stream, natsStatus_GetText(s));
		goto out;
	}
	consumers = json_array();
	if (js_Consumers(&list, link.js, nc->stream, NULL, &jerr) == NATS_OK)
		for (int i = 0; i < list->Count; i++)
			json_array_append_new(consumers,
					      consumer_json(list->List[i], si->State.LastSeq));
	st = json_pack("{s:{s:s, s:I, s:I, s:I, s:I, s:o}, s:o}", "stream", "name", nc->stream,
		       "messages", (json_int_t)si->State.Msgs, "bytes", (json_int_t)si->State.Bytes,
		       "first_seq", (json_int_t)si->State.FirstSeq, "last_seq",
		       (json_int_t)si->State.LastSeq, "cluster", cluster_json(si->Cluster),
		       "consumers", consumers);
	if (as_json) {
		char *text = json_dumps(st, JSON_COMPACT);

		printf("%s\n", text);
		free(text);
	} else {
		print_text(st);
	}
	rc = 0;
out:
	json_decref(st);
	jsConsumerInfoList_Destroy(list);
	jsStreamInfo_Destroy(si);
	pxd_nats_link_close(&link);
	return rc;
}

int pxd_pixelctl_nats_main(int argc, char **argv, const struct pxd_conf *conf)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0 &&
	    (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)))
		return status(conf, argc == 3);
	fprintf(stderr, "usage: pixelctl [-c FILE] nats status [--json]\n");
	return 2;
}
