/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - small helpers the unit tests share (header-only, tests only):
 * removing a temporary directory tree.
 */
#ifndef PXD_TEST_UTIL_H
#define PXD_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int pxd_test_rm_one(const char *path, const struct stat *st, int flag,
				  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf <dir>: the tests' temporary directories. */
static inline void pxd_test_rm_tree(const char *dir)
{
	nftw(dir, pxd_test_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
