/* SPDX-License-Identifier: MIT */
/*
 * conf_value.h - the one grammar for configuration values, used by every
 * section of the INI file ([server], [journal], [xdp], [email], destinations)
 * and by pixelctl's options: numbers, durations, sizes, rates, ports, CIDRs,
 * hosts and names. Parses only; callers check ranges and word the error with
 * the PXD_CONF_*_HINT text. No state, any thread.
 *
 * The rule for bare numbers: a duration or a rate needs its unit ("500ms",
 * "10s", "5m", "2h", "7d"; "50/s", "600/m"), because a bare number meant
 * milliseconds in one section and seconds in another. The one exception is
 * 0, which is zero in every unit. A size without a unit is a number of bytes.
 * A key whose name carries its unit (linger_ms) is a plain number of it.
 */
#ifndef PXD_CONF_VALUE_H
#define PXD_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PXD_CONF_DURATION_HINT "a number with ms, s, m, h or d, e.g. 500ms, 10s, 5m"
#define PXD_CONF_RATE_HINT "a count per s, m or h, e.g. 50/s, 600/m, 1000/h"
#define PXD_CONF_SIZE_HINT "bytes, or with K, M or G, e.g. 64M"

/* A CIDR (trusted proxies, XDP allow and deny lists). */
struct pxd_conf_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/*
 * Parses decimal digits (no sign, blank or base prefix) into <out>.
 * Returns 0, -EINVAL (not a number) or -ERANGE (past 64 bits).
 */
int pxd_conf_value_uint(const char *s, uint64_t *out);

/*
 * Parses a duration into <ms>: digits then one of ms, s, m (or min), h, d.
 * Returns 0, -EINVAL (not a duration), -EDOM (a bare number other than 0:
 * the unit is missing) or -ERANGE.
 */
int pxd_conf_value_duration_ms(const char *s, uint64_t *ms);

/*
 * Parses a duration as pxd_conf_value_duration_ms() does, for keys kept in
 * whole seconds: also -EINVAL when it is not a whole number of seconds.
 */
int pxd_conf_value_duration_s(const char *s, uint64_t *sec);

/* Parses a size into <bytes>: digits, then nothing or K, M, G (either case). -EINVAL, -ERANGE. */
int pxd_conf_value_size(const char *s, uint64_t *bytes);

/*
 * Parses a rate "N/UNIT" into <count> and <period_ms>, UNIT being a duration
 * unit without a number (s, m or min, h, d). Returns 0, -EINVAL (not a rate:
 * a bare number included) or -ERANGE. A count of 0 is returned as such: the
 * caller decides whether it means "off".
 */
int pxd_conf_value_rate(const char *s, uint64_t *count, uint64_t *period_ms);

/* Parses a port into <port>; 0 only when <allow_zero>. Returns 0 or -EINVAL. */
int pxd_conf_value_port(const char *s, bool allow_zero, uint16_t *port);

/*
 * Parses "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6) into <out>. Returns 0,
 * -EINVAL (not an address or a bad prefix) or -EDOM: bits are set past the
 * prefix, which would match nothing the text says; <out> then holds the
 * network with those bits cleared, so the error can name it.
 */
int pxd_conf_value_cidr(const char *s, struct pxd_conf_cidr *out);

/*
 * Parses a listen address "IPv4:port", "[IPv6]:port" or "*:port" (numeric,
 * no names) into <ss>/<len>. Returns NULL, or what is wrong with it as a
 * phrase ("has no port") for the caller's message.
 */
const char *pxd_conf_value_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Checks "host", "host:port", "[v6]" or "[v6]:port", host names lowercase.
 * Returns NULL, or what is wrong as a phrase.
 */
const char *pxd_conf_value_hostport(const char *s);

/* True when <s> (<n> bytes) is a name: 1 to 63 of a-z 0-9 _ -. */
bool pxd_conf_value_is_name(const char *s, size_t n);

#endif
