// SPDX-License-Identifier: MIT
/*
 * fault_inject.c - an LD_PRELOAD library that makes a disk misbehave for the
 * files whose path contains $PXD_FAULT_PATH, while the file $PXD_FAULT_CTL
 * holds a fault word. Built by the integration tests that use it (cc -shared
 * -fPIC), never part of pixeld. Words in the control file:
 *   fdatasync  fdatasync() and fsync() fail with EIO (the data stays in the
 *              page cache, as after a transient error the kernel reported)
 *   enospc     a write() lands half its bytes and returns short, and the
 *              same thread's next write() fails with ENOSPC (a disk that
 *              fills mid-batch); each waits 100 ms first, which widens the
 *              window in which another writer can append
 *   slow       a pwrite() takes 10 ms longer (a disk that stalls writes)
 * Any thread; the control file is re-read on each call that touches a
 * matching file, so a test switches faults on and off by rewriting it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static __thread bool next_write_fails;

static bool fd_matches(int fd)
{
	const char *want = getenv("PXD_FAULT_PATH");
	char link[64];
	char path[4096];
	ssize_t n;

	if (!want || !*want || fd < 0)
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	return strstr(path, want) != NULL;
}

static bool fault_on(const char *word)
{
	const char *ctl = getenv("PXD_FAULT_CTL");
	char text[256];
	ssize_t n;
	int fd;

	if (!ctl)
		return false;
	fd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	return strstr(text, word) != NULL;
}

/* fdatasync() and fsync(): the real one, or EIO while the fault is on. */
static int sync_call(const char *name, int (**real)(int), int fd)
{
	if (!*real)
		*real = (int (*)(int))dlsym(RTLD_NEXT, name);
	if (fd_matches(fd) && fault_on("fdatasync")) {
		errno = EIO;
		return -1;
	}
	return (*real)(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	return sync_call("fdatasync", &real, fd);
}

int fsync(int fd)
{
	static int (*real)(int);

	return sync_call("fsync", &real, fd);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	struct timespec pause = { 0, 100 * 1000000 };
	ssize_t done;

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (!fd_matches(fd) || !fault_on("enospc")) {
		next_write_fails = false;
		return real(fd, buf, n);
	}
	if (next_write_fails || n < 2) {
		next_write_fails = false;
		nanosleep(&pause, NULL);
		errno = ENOSPC;
		return -1;
	}
	next_write_fails = true;
	done = real(fd, buf, n / 2);
	nanosleep(&pause, NULL);
	return done;
}

/* pwrite(): the real one, 10 ms late while "slow" is on. */
static ssize_t slow_pwrite(const char *name, ssize_t (**real)(int, const void *, size_t, off_t),
			   int fd, const void *buf, size_t n, off_t off)
{
	struct timespec pause = { 0, 10 * 1000000 };

	if (!*real)
		*real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, name);
	if (fd_matches(fd) && fault_on("slow"))
		nanosleep(&pause, NULL);
	return (*real)(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	return slow_pwrite("pwrite", &real, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	return slow_pwrite("pwrite64", &real, fd, buf, n, off);
}
