/* SPDX-License-Identifier: MIT */
/*
 * admin_job.h - the one admin job an ingest thread hands to the main thread
 * because it does blocking file I/O (POST /admin/dlq/replay reads the
 * dead-letter files, POST /admin/reload the configuration): the ingest
 * thread posts it and leaves the connection
 * waiting, the main thread runs it on its next tick, and the ingest thread
 * answers when it finds the job done. One job at a time; the fields are
 * handed over with <state> (release/acquire), so no lock is taken.
 */
#ifndef PXD_ADMIN_JOB_H
#define PXD_ADMIN_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_ADMIN_JOB_DEST_MAX 64

enum pxd_admin_job_state {
	PXD_ADMIN_JOB_IDLE = 0,
	PXD_ADMIN_JOB_QUEUED, /* posted by an ingest thread, for the main thread */
	PXD_ADMIN_JOB_DONE,   /* run by the main thread, for the ingest thread to answer */
};

enum pxd_admin_job_kind {
	PXD_ADMIN_JOB_DLQ_REPLAY = 0,
	PXD_ADMIN_JOB_RELOAD, /* run by the main thread's SIGHUP path */
};

struct pxd_admin_job {
	int state; /* enum pxd_admin_job_state, atomic */
	enum pxd_admin_job_kind kind;
	/* The request: which connection waits, and the replay's filter. */
	unsigned ingest;
	uint32_t slot;
	uint16_t gen;
	char dest[PXD_ADMIN_JOB_DEST_MAX]; /* empty: every destination */
	bool has_since;
	int64_t since_ms;
	/* The result. */
	int rc;
	size_t replayed;
	size_t skipped;
	uint64_t generation; /* reload: the generation in force after it */
	char err[1024];
};

/*
 * Posts a job of <kind> for connection <slot>/<gen> of ingest thread
 * <ingest>; a replay of dead letters takes <dest> and <since_ms> (NULL: no
 * filter). Returns 0, or -EBUSY while another job is queued or unanswered.
 * Ingest thread.
 */
int pxd_admin_job_post(struct pxd_admin_job *j, enum pxd_admin_job_kind kind, unsigned ingest,
		       uint32_t slot, uint16_t gen, const char *dest, const int64_t *since_ms);

/* Returns true when a job of <kind> is queued for the main thread. Main thread. */
bool pxd_admin_job_queued(const struct pxd_admin_job *j, enum pxd_admin_job_kind kind);

/* Publishes the result of the queued job (fields filled by the caller). Main thread. */
void pxd_admin_job_finish(struct pxd_admin_job *j);

/*
 * Returns true, once, when the job of ingest thread <ingest> is done; the
 * job is then the caller's to read until pxd_admin_job_release(). Ingest
 * thread.
 */
bool pxd_admin_job_done(const struct pxd_admin_job *j, unsigned ingest);

/* Makes the slot free for the next job. Ingest thread, after pxd_admin_job_done(). */
void pxd_admin_job_release(struct pxd_admin_job *j);

#endif
