// SPDX-License-Identifier: MIT
#include "admin_job.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int pxd_admin_job_post(struct pxd_admin_job *j, enum pxd_admin_job_kind kind, unsigned ingest,
		       uint32_t slot, uint16_t gen, const char *dest, const int64_t *since_ms)
{
	if (__atomic_load_n(&j->state, __ATOMIC_ACQUIRE) != PXD_ADMIN_JOB_IDLE)
		return -EBUSY;
	j->kind = kind;
	j->generation = 0;
	j->ingest = ingest;
	j->slot = slot;
	j->gen = gen;
	snprintf(j->dest, sizeof(j->dest), "%s", dest ? dest : "");
	j->has_since = since_ms != NULL;
	j->since_ms = since_ms ? *since_ms : 0;
	j->rc = 0;
	j->replayed = j->skipped = 0;
	j->err[0] = '\0';
	__atomic_store_n(&j->state, PXD_ADMIN_JOB_QUEUED, __ATOMIC_RELEASE);
	return 0;
}

bool pxd_admin_job_queued(const struct pxd_admin_job *j, enum pxd_admin_job_kind kind)
{
	return __atomic_load_n(&j->state, __ATOMIC_ACQUIRE) == PXD_ADMIN_JOB_QUEUED &&
	       j->kind == kind;
}

void pxd_admin_job_finish(struct pxd_admin_job *j)
{
	__atomic_store_n(&j->state, PXD_ADMIN_JOB_DONE, __ATOMIC_RELEASE);
}

bool pxd_admin_job_done(const struct pxd_admin_job *j, unsigned ingest)
{
	return __atomic_load_n(&j->state, __ATOMIC_ACQUIRE) == PXD_ADMIN_JOB_DONE &&
	       j->ingest == ingest;
}

void pxd_admin_job_release(struct pxd_admin_job *j)
{
	__atomic_store_n(&j->state, PXD_ADMIN_JOB_IDLE, __ATOMIC_RELEASE);
}
