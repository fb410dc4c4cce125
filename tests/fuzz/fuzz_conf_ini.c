// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the configuration loader (daemon/conf/): any bytes as
 * an INI file either load or fail with one message that names the file, and
 * a file that loads loads again to the same result. The input goes through a
 * memfd, so the loader reads it the way it reads a real file. Built and run
 * by `make fuzz`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pxd_conf a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	char err[1024];
	int rc;

	if (fd < 0) {
		/* Secrets with file: may point anywhere; env: reads this process's. */
		pxd_log_set_level(PXD_LOG_ERR);
		fd = memfd_create("pixeld.ini", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	rc = pxd_conf_load(path, NULL, &a, err, sizeof(err));
	if (rc > 0 || (rc && (!err[0] || strncmp(err, path, strlen(path)) != 0)))
		__builtin_trap();
	if (rc == 0) {
		if (pxd_conf_load(path, NULL, &b, err, sizeof(err)) != 0 ||
		    memcmp(&a, &b, sizeof(a)) != 0)
			__builtin_trap();
	}
	return 0;
}
