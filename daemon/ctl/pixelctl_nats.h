/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_nats.h - `pixelctl nats status`: the JetStream stream pixeld
 * publishes into and every consumer on it (pending, waiting for acks,
 * redelivered, lag), asked of the NATS servers in [nats] directly, so it
 * works from any host that reaches them, whether pixeld runs or not.
 * Changes nothing. pixelctl's one thread.
 */
#ifndef PXD_PIXELCTL_NATS_H
#define PXD_PIXELCTL_NATS_H

#include "conf.h"

/*
 * Runs `pixelctl nats` with <argv>[0] == "nats": `status [--json]`.
 * Returns the exit status: 0, 1 (NATS unreachable, no such stream), 2 (usage).
 */
int pxd_pixelctl_nats_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
