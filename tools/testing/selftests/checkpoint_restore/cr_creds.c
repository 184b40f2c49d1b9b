// SPDX-License-Identifier: GPL-2.0
/*
 * Switching to a variant's credentials (cr_creds.h): in a child that is
 * about to run an operation.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cr_creds.h"

void cr_dumpable(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* Write all of @text to @path (a file of /proc/self). */
static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != len)
		return -1;
	close(fd);
	return 0;
}

const char *cr_enter_userns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (unshare(CLONE_NEWUSER))
		return "unshare(CLONE_NEWUSER)";
	if (write_proc("/proc/self/setgroups", "deny"))
		return "writing deny to /proc/self/setgroups";
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_proc("/proc/self/gid_map", map))
		return "writing /proc/self/gid_map";
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_proc("/proc/self/uid_map", map))
		return "writing /proc/self/uid_map";
	return NULL;
}

int cr_set_caps(bool perm_cr, bool perm_sa, bool eff_cr, bool eff_sa,
		bool inh_cr)
{
	cap_value_t cr = CAP_CHECKPOINT_RESTORE, sa = CAP_SYS_ADMIN;
	cap_t caps = cap_init();
	int ret = -1;

	if (!caps)
		return -1;
	if ((perm_cr && cap_set_flag(caps, CAP_PERMITTED, 1, &cr, CAP_SET)) ||
	    (perm_sa && cap_set_flag(caps, CAP_PERMITTED, 1, &sa, CAP_SET)) ||
	    (eff_cr && cap_set_flag(caps, CAP_EFFECTIVE, 1, &cr, CAP_SET)) ||
	    (eff_sa && cap_set_flag(caps, CAP_EFFECTIVE, 1, &sa, CAP_SET)) ||
	    (inh_cr && cap_set_flag(caps, CAP_INHERITABLE, 1, &cr, CAP_SET)))
		goto out;
	ret = cap_set_proc(caps);
out:
	cap_free(caps);
	return ret;
}

int cr_set_sys_resource_only(void)
{
	cap_value_t v = CAP_SYS_RESOURCE;
	cap_t caps = cap_init();
	int ret = -1;

	if (caps && !cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET) &&
	    !cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET))
		ret = cap_set_proc(caps);
	cap_free(caps);
	return ret;
}

const char *cr_become_nobody(void)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return "prctl(PR_SET_KEEPCAPS, 1)";
	if (setgroups(0, NULL))
		return "setgroups(0)";
	if (setresgid(CR_NOBODY, CR_NOBODY, CR_NOBODY))
		return "setresgid(65534)";
	if (setresuid(CR_NOBODY, CR_NOBODY, CR_NOBODY))
		return "setresuid(65534)";
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		return "prctl(PR_SET_KEEPCAPS, 0)";
	return NULL;
}

const char *cr_raise_ambient(bool sys_admin)
{
	cap_value_t v[] = { CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN };
	int n = sys_admin ? 2 : 1, ret = -1;
	cap_t caps = cap_init();

	if (!caps)
		return "cap_init";
	if (!cap_set_flag(caps, CAP_PERMITTED, n, v, CAP_SET) &&
	    !cap_set_flag(caps, CAP_INHERITABLE, n, v, CAP_SET) &&
	    !cap_set_proc(caps))
		ret = 0;
	cap_free(caps);
	if (ret)
		return "cap_set_proc (permitted and inheritable)";
	for (int i = 0; i < n; i++)
		if (cap_set_ambient(v[i], CAP_SET))
			return i ? "cap_set_ambient(CAP_SYS_ADMIN)" :
				   "cap_set_ambient(CAP_CHECKPOINT_RESTORE)";
	return NULL;
}

int cr_set_exec_domain(const char *domain)
{
	char ctx[128];
	int fd, len, ret = 0;

	len = snprintf(ctx, sizeof(ctx), "u:r:%s", domain);
	fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, ctx, len) != len)
		ret = -1;
	close(fd);
	return ret;
}

bool cr_creds_use_cr(const struct cr_creds *c)
{
	return c->perm_cr || c->eff_cr || c->how == CR_FILE_CAP ||
	       c->how == CR_AMBIENT;
}
