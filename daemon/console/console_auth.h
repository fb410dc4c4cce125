/* SPDX-License-Identifier: MIT */
/*
 * console_auth.h - the admin key check for the admin API and the console:
 * "Authorization: Bearer <key>" (pixelctl, curl, Prometheus) or HTTP Basic
 * with the key as the password (what a browser asks for and then sends by
 * itself, to the page and its event stream alike). Any thread; no state.
 */
#ifndef PXD_CONSOLE_AUTH_H
#define PXD_CONSOLE_AUTH_H

#include <stdbool.h>

#include "strview.h"

/* The realm browsers show when they ask for the key. */
#define PXD_CONSOLE_REALM "pixeld console (password: the admin key)"

/* Returns true when the Authorization value <auth> carries <key>, compared in
 * constant time so the key cannot be guessed byte by byte from timing. */
bool pxd_admin_auth_ok(struct pxd_sv auth, const char *key);

#endif
