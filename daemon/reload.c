// SPDX-License-Identifier: MIT
/*
 * reload.c - one reload (reload.h): load as the next generation, check the
 * certificates, apply what is not read through the generation ([xdp] rates
 * and lists, certificates, log level and format), publish, and record the
 * outcome for /admin/status, /metrics and a waiting pixelctl reload. Main
 * thread only. A reload that adds or changes destinations restarts the
 * dispatcher pool first (dispatch_pool.h).
 */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dispatch_pool.h"
#include "log.h"
#include "tls.h"
#include "xdp_ctl.h"

/* Loads and checks <path> into <fresh>; 0 or -errno with <err>. */
static int prepare(struct pxd_daemon *d, const char *path, const struct pxd_conf_overrides *ov,
		   struct pxd_conf *fresh, char *err, size_t errlen)
{
	const struct pxd_conf *cur = ck_pr_load_ptr(&d->live.cur);
	struct pxd_tls_live *tls = NULL;
	int rc = pxd_conf_load_reload(path, ov, d->conf, cur, fresh, err, errlen);

	/* New or changed destinations load as at start (keys, secrets), or nothing changes. */
	if (!rc && pxd_dispatch_pool_needed(d->conf, fresh))
		rc = pxd_dispatch_pool_check(d->conf, fresh, err, errlen);
	if (rc || !fresh->tls_listen.text[0])
		return rc;
	/* The certificates, keys and chains load as at start, or nothing changes. */
	rc = pxd_tls_live_start(fresh, &tls, err, errlen);
	pxd_tls_live_stop(tls);
	return rc;
}

static void apply_log(const struct pxd_conf *c)
{
	enum pxd_log_level level;
	enum pxd_log_format format;

	if (!pxd_log_level_parse(c->log_level, &level))
		pxd_log_set_level(level);
	if (!pxd_log_format_parse(c->log_format, &format))
		pxd_log_set_format(format);
}

/* Hands the outcome to a POST /admin/reload waiting for it. */
static void answer_job(struct pxd_daemon *d, int rc, const char *err)
{
	struct pxd_admin_job *j = &d->admin_job;

	if (!pxd_admin_job_queued(j, PXD_ADMIN_JOB_RELOAD))
		return;
	j->rc = rc;
	j->generation = __atomic_load_n(&d->live.generation, __ATOMIC_ACQUIRE);
	snprintf(j->err, sizeof(j->err), "%s", rc ? err : "");
	pxd_admin_job_finish(j);
}

int pxd_reload_run(struct pxd_daemon *d, struct pxd_conf *boot, const char **dest_names,
		   const char *path, const struct pxd_conf_overrides *ov, char *err, size_t errlen)
{
	struct pxd_conf *fresh = pxd_conf_live_alloc();
	uint64_t gen;
	int rc;

	err[0] = '\0';
	if (!fresh) {
		snprintf(err, errlen, "reload: out of memory; the running configuration stays");
		rc = -ENOMEM;
	} else {
		rc = prepare(d, path, ov, fresh, err, errlen);
	}
	/* Before anything else is applied: a pool that cannot start leaves the old one running. */
	if (!rc && pxd_dispatch_pool_needed(d->conf, fresh))
		rc = pxd_dispatch_pool_swap(d, boot, dest_names, fresh, err, errlen);
	if (rc) {
		pxd_conf_live_discard(fresh);
		pxd_log_warn("main", "SIGHUP: reload refused: %s; the running configuration stays",
			     err);
		pxd_conf_live_note(&d->live, PXD_CONF_RELOAD_REFUSED, pxd_now_ms(), err);
		answer_job(d, rc, err);
		return rc;
	}
	pxd_xdp_ctl_reload(d->xdp, &fresh->xdp);
	pxd_tls_live_reload(d->tls, fresh);
	apply_log(fresh);
	gen = pxd_conf_live_publish(&d->live, fresh);
	pxd_log_info("main", "reloaded %s: configuration generation %lu, %zu tenants", fresh->path,
		     (unsigned long)gen, fresh->tenants.n);
	pxd_conf_live_note(&d->live, PXD_CONF_RELOAD_OK, pxd_now_ms(), "");
	answer_job(d, 0, "");
	return 0;
}

void pxd_reload_check_readable(struct pxd_daemon *d, const char *path,
			       const struct pxd_conf_overrides *ov)
{
	struct pxd_conf *probe = pxd_conf_live_alloc();
	char err[1024];

	if (!probe)
		return;
	if (pxd_conf_load_reload(path, ov, d->conf, d->conf, probe, err, sizeof(err)))
		pxd_log_warn("main",
			     "running as %s, pixeld cannot load its configuration again: %s; a "
			     "reload would be refused: let %s read that file (chown %s FILE; "
			     "secret files stay mode 600)",
			     d->conf->user, err, d->conf->user, d->conf->user);
	pxd_conf_live_discard(probe);
}
