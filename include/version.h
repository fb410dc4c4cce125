/* SPDX-License-Identifier: MIT */
/* version.h - the release of pixeld and pixelctl. */
#ifndef PXD_VERSION_H
#define PXD_VERSION_H

#define PXD_VERSION "0.1.0"

#endif
