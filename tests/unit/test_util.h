/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - small helpers the unit tests share (header-only, tests only):
 * removing a temporary directory tree, writing a file in one call, running a
 * pixelctl command with its output captured.
 */
#ifndef PXD_TEST_UTIL_H
#define PXD_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct pxd_conf;

/* A pixelctl command's entry point (pxd_pixelctl_*_main). */
typedef int pxd_test_cli_fn(int argc, char **argv, const struct pxd_conf *conf);

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

/*
 * Writes the <n> bytes at <p> to <path>, created with mode 0600, replacing
 * what it held (<flags> O_TRUNC) or after it (O_APPEND). Returns 0 or -errno
 * (-EIO for a short write).
 */
static inline int pxd_test_write_file(const char *path, const void *p, size_t n, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, p, n);
	close(fd);
	return w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
}

static inline void pxd_test_slurp(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/*
 * Runs <fn> with <argc> <args> (at most 63) and <conf>, its stdout and
 * stderr captured into <out> and <err> (NUL-terminated, cut to their size).
 * Returns what <fn> returned.
 */
static inline int pxd_test_run_cli(pxd_test_cli_fn *fn, const struct pxd_conf *conf, int argc,
				   const char **args, char *out, size_t outcap, char *err,
				   size_t errcap)
{
	char *argv[64];
	FILE *o = tmpfile();
	FILE *e = tmpfile();
	int save_out = dup(STDOUT_FILENO);
	int save_err = dup(STDERR_FILENO);
	int rc;

	for (int i = 0; i < argc && i < 63; i++)
		argv[i] = (char *)args[i];
	argv[argc < 63 ? argc : 63] = NULL;
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(o), STDOUT_FILENO);
	dup2(fileno(e), STDERR_FILENO);
	rc = fn(argc < 63 ? argc : 63, argv, conf);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, STDOUT_FILENO);
	dup2(save_err, STDERR_FILENO);
	close(save_out);
	close(save_err);
	pxd_test_slurp(fileno(o), out, outcap);
	pxd_test_slurp(fileno(e), err, errcap);
	fclose(o);
	fclose(e);
	return rc;
}

#endif
