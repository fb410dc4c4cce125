// SPDX-License-Identifier: MIT
/*
 * Dropping root: hands the data directories to server.user, switches user
 * and groups, and keeps CAP_BPF and CAP_NET_ADMIN only when XDP needs them.
 * Main thread, once, before other threads start.
 */
#include "privdrop.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8; older uapi headers lack the name */
#endif

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, chown_uid, chown_gid) ? -errno : 0;
}

/* Raw capset: libcap is not worth a dependency for two bits. */
static int keep_caps(bool keep_bpf)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	unsigned caps[] = { CAP_BPF, CAP_NET_ADMIN };

	memset(data, 0, sizeof(data));
	for (size_t i = 0; keep_bpf && i < sizeof(caps) / sizeof(caps[0]); i++) {
		data[caps[i] / 32].effective |= 1u << (caps[i] % 32);
		data[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
	}
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

int pxd_privdrop(const char *user, const char *const *dirs, size_t ndirs, bool keep_bpf, char *err,
		 size_t errlen)
{
	struct passwd *pw;
	int rc;

	if (!user[0] || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen,
			 "server.user: no user \"%s\"; create it (useradd --system %s) "
			 "or leave server.user empty",
			 user, user);
		return -ENOENT;
	}
	chown_uid = pw->pw_uid;
	chown_gid = pw->pw_gid;
	for (size_t i = 0; i < ndirs; i++) {
		rc = nftw(dirs[i], chown_one, 16, FTW_PHYS);
		if (rc) {
			snprintf(err, errlen, "server.user: cannot hand %s to %s: %s", dirs[i],
				 user, strerror(rc < 0 ? -rc : errno));
			return -EPERM;
		}
	}
	/* Keep the permitted set across setuid, then trim it to what XDP needs. */
	if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid)) {
		rc = -errno;
		snprintf(err, errlen, "server.user: cannot switch to %s: %s", user, strerror(-rc));
		return rc;
	}
	rc = keep_caps(keep_bpf);
	if (rc) {
		snprintf(err, errlen, "server.user: cannot set capabilities: %s", strerror(-rc));
		return rc;
	}
	prctl(PR_SET_KEEPCAPS, 0);
	return 0;
}
