// SPDX-License-Identifier: MIT
/* The two clocks every thread reads; both are vDSO calls, not syscalls. */
#include <time.h>

#include "daemon.h"

int64_t pxd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pxd_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pxd_mono_ms(void)
{
	return pxd_mono_us() / 1000;
}
