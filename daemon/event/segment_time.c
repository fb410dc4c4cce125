// SPDX-License-Identifier: MIT
/*
 * Segment's times: ISO 8601 date-times to Unix ms, and the event time with
 * Segment's clock-skew correction. Any thread; no state.
 */
#include "segment.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "daemon/event/segment_map.h"

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -EINVAL;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int pxd_segment_iso_ms(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, frac = 0, scale = 1000;
	const char *p = s;
	int sign = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || h > 23 || mi > 59)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) || sec > 60)
				return -EINVAL;
		}
		if (*p == '.') {
			p++;
			/* Fractions past milliseconds are cut; at most 9 digits read. */
			for (int i = 0; i < 9 && *p >= '0' && *p <= '9'; i++, p++) {
				if (scale > 1) {
					scale /= 10;
					frac += (*p - '0') * scale;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '+' ? 1 : -1;
			if (digits(&p, 2, &oh))
				return -EINVAL;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om) || oh > 23 || om > 59)
				return -EINVAL;
		}
	}
	if (*p)
		return -EINVAL;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
	       sign * (oh * 3600 + om * 60)) *
		  1000 +
	      frac;
	return 0;
}

/* A time member: an ISO 8601 string or a number of Unix ms. */
static bool get_time(const json_t *v, int64_t *ms)
{
	if (json_is_string(v))
		return pxd_segment_iso_ms(json_string_value(v), ms) == 0;
	if (json_is_integer(v)) {
		*ms = json_integer_value(v);
		return true;
	}
	return false;
}

/* Segment: timestamp = receivedAt - (sentAt - originalTimestamp). */
bool pxd_segment_event_ts(json_t *msg, json_t *env, int64_t received_ms, int64_t *ts)
{
	int64_t client, sent;

	if (!get_time(json_object_get(msg, "originalTimestamp"), &client) &&
	    !get_time(json_object_get(msg, "timestamp"), &client))
		return false;
	if (get_time(pxd_segment_member(msg, env, "sentAt"), &sent))
		*ts = received_ms - (sent - client);
	else
		*ts = client;
	return true;
}
