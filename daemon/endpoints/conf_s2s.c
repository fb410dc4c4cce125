// SPDX-License-Identifier: MIT
/*
 * The [s2s] configuration section: dedup window, table size, beacon opt-in,
 * state file and per-key rate, each setter quoting the bad value and saying
 * what to write. Main thread, at load.
 */
#include "conf_s2s.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_value.h"

void pxd_conf_s2s_defaults(struct pxd_conf_s2s *c)
{
	memset(c, 0, sizeof(*c));
	c->dedup_window_s = 86400;
	c->dedup_slots = 1u << 20;
	c->key_rate = 100;
}

static int set_window(struct pxd_conf_s2s *c, const char *value, char *err, size_t errlen)
{
	uint64_t v;
	int rc = pxd_conf_value_duration_s(value, &v);

	if (rc || (v && v < 60) || v > PXD_CONF_S2S_WINDOW_MAX_S) {
		snprintf(err, errlen,
			 "\"%s\" %s; write 0 (no dedup) or %s, whole seconds from 1m to 30d", value,
			 rc == -EDOM	 ? "has no unit"
			 : rc == -EINVAL ? "is not a duration"
					 : "is out of range",
			 PXD_CONF_DURATION_HINT);
		return -EINVAL;
	}
	c->dedup_window_s = (uint32_t)v;
	return 0;
}

static int set_slots(struct pxd_conf_s2s *c, const char *value, char *err, size_t errlen)
{
	uint64_t v;

	if (pxd_conf_value_uint(value, &v) || v < PXD_CONF_S2S_SLOTS_MIN ||
	    v > PXD_CONF_S2S_SLOTS_MAX || (v & (v - 1))) {
		snprintf(err, errlen,
			 "\"%s\" is not a power of two from %u to %u; write e.g. 1048576", value,
			 PXD_CONF_S2S_SLOTS_MIN, PXD_CONF_S2S_SLOTS_MAX);
		return -EINVAL;
	}
	c->dedup_slots = (uint32_t)v;
	return 0;
}

static int set_bool(bool *out, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
		*out = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "off") == 0)
		*out = false;
	else {
		snprintf(err, errlen, "\"%s\" is not a switch; write true or false", value);
		return -EINVAL;
	}
	return 0;
}

/* A rate as conf_value.h reads it, kept per second; 0 turns the bucket off. */
static int set_rate(struct pxd_conf_s2s *c, const char *value, char *err, size_t errlen)
{
	uint64_t count = 0, period_ms = 0, per_s;

	if (strcmp(value, "0") == 0) {
		c->key_rate = 0;
		return 0;
	}
	if (pxd_conf_value_rate(value, &count, &period_ms) || !period_ms) {
		snprintf(err, errlen, "\"%s\" is not a rate; write 0 (unlimited) or %s", value,
			 PXD_CONF_RATE_HINT);
		return -EINVAL;
	}
	per_s = count * 1000 / period_ms;
	if ((count && !per_s) || per_s > PXD_CONF_S2S_RATE_MAX) {
		snprintf(err, errlen, "\"%s\" is out of range; write 1/s to %u/s, or 0 (unlimited)",
			 value, PXD_CONF_S2S_RATE_MAX);
		return -EINVAL;
	}
	c->key_rate = (uint32_t)per_s;
	return 0;
}

static int set_burst(struct pxd_conf_s2s *c, const char *value, char *err, size_t errlen)
{
	uint64_t v;

	if (pxd_conf_value_uint(value, &v) || v > 2ull * PXD_CONF_S2S_RATE_MAX) {
		snprintf(err, errlen,
			 "\"%s\" is not a number from 0 (twice key_rate) to %u; write e.g. 200",
			 value, 2 * PXD_CONF_S2S_RATE_MAX);
		return -EINVAL;
	}
	c->key_burst = (uint32_t)v;
	return 0;
}

int pxd_conf_s2s_set(struct pxd_conf_s2s *c, const char *key, const char *value, char *err,
		     size_t errlen)
{
	if (strcmp(key, "dedup_window") == 0)
		return set_window(c, value, err, errlen);
	if (strcmp(key, "dedup_slots") == 0)
		return set_slots(c, value, err, errlen);
	if (strcmp(key, "dedup_beacons") == 0)
		return set_bool(&c->dedup_beacons, value, err, errlen);
	if (strcmp(key, "state_file") == 0) {
		if (strlen(value) >= sizeof(c->state_file)) {
			snprintf(err, errlen, "the path is longer than %zu bytes",
				 sizeof(c->state_file) - 1);
			return -EINVAL;
		}
		strcpy(c->state_file, value);
		return 0;
	}
	if (strcmp(key, "key_rate") == 0)
		return set_rate(c, value, err, errlen);
	if (strcmp(key, "key_burst") == 0)
		return set_burst(c, value, err, errlen);
	return -ENOENT;
}

int pxd_conf_s2s_check(const struct pxd_conf_s2s *c, char *err, size_t errlen)
{
	if (c->dedup_beacons && !c->dedup_window_s) {
		snprintf(err, errlen,
			 "s2s.dedup_beacons is on but s2s.dedup_window is 0; set a window or "
			 "turn dedup_beacons off");
		return -EINVAL;
	}
	return 0;
}

uint32_t pxd_conf_s2s_burst(const struct pxd_conf_s2s *c)
{
	return c->key_burst ? c->key_burst : 2 * c->key_rate;
}
