// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the watermarks file (daemon/journal/watermark.c): any
 * bytes either load or are refused as damaged, never crash; a file that loads
 * saves and loads again to the same bytes. Built and run by `make fuzz`.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "watermark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *slurp(const char *dir, size_t *n)
{
	char path[128];
	char *buf = malloc(1 << 20);
	int fd;
	ssize_t r;

	snprintf(path, sizeof(path), "%s/watermarks", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf)
		abort();
	r = read(fd, buf, 1 << 20);
	close(fd);
	if (r < 0)
		abort();
	*n = (size_t)r;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[3][64];
	struct pxd_watermarks *w = NULL, *again = NULL;
	char path[128];
	size_t n1, n2;
	char *one, *two;
	int fd;

	if (!dir[0][0]) {
		pxd_log_set_level(PXD_LOG_ERR);
		for (int i = 0; i < 3; i++) {
			snprintf(dir[i], sizeof(dir[i]), "/tmp/fuzz_watermarks.XXXXXX");
			if (!mkdtemp(dir[i]))
				abort();
		}
	}
	snprintf(path, sizeof(path), "%s/watermarks", dir[0]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	if (pxd_watermarks_load(dir[0], &w) != 0 || !w)
		return 0;
	if (pxd_watermarks_save(w, dir[1]) != 0 || pxd_watermarks_load(dir[1], &again) != 0 ||
	    pxd_watermarks_save(again, dir[2]) != 0)
		__builtin_trap();
	one = slurp(dir[1], &n1);
	two = slurp(dir[2], &n2);
	if (n1 != n2 || memcmp(one, two, n1) != 0)
		__builtin_trap();
	free(one);
	free(two);
	pxd_watermarks_free(w);
	pxd_watermarks_free(again);
	return 0;
}
