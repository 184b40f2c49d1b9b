/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The credential sets the tests run operations under (struct cr_creds),
 * and what each is allowed: in which user namespace it holds which
 * capability.  creds_fixture.h makes them fixture variants.
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_CREDS_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_CREDS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* Overflow uid the tests run as: nobody. */
#define CR_NOBODY 65534

enum cr_how {
	/* uid 65534, capabilities set with cap_set_proc(). */
	CR_DIRECT,
	/*
	 * uid 65534 without capabilities, then exec of a binary carrying
	 * the file capability cap_checkpoint_restore+ep.
	 */
	CR_FILE_CAP,
	/*
	 * uid 65534, CAP_CHECKPOINT_RESTORE raised in the ambient set,
	 * then exec of a binary without file capabilities.
	 */
	CR_AMBIENT,
	/*
	 * uid 65534 without capabilities, then unshare(CLONE_NEWUSER):
	 * root of a new user namespace, capabilities only there.
	 */
	CR_USERNS,
	/*
	 * uid 65534 entering, with setns(), the user namespace the test's
	 * world holds for its caller (struct cr_world, common.h): made by
	 * uid 65534 and mapping its root to it, so the variant is root
	 * there, with the capabilities it asks for, and nowhere else.
	 */
	CR_WORLD_USERNS,
	/*
	 * uid 0 with SECBIT_NOROOT (locked) and no capabilities, exec'ing a
	 * plain cr_helper: without the bit, root's exec would regain them.
	 */
	CR_ROOT_NOROOT,
};

/* How a CR_FILE_CAP variant's file capability is set up. */
enum cr_file_cap {
	/* cap_checkpoint_restore+ep. */
	CR_FCAP_EFFECTIVE,
	/* cap_checkpoint_restore+p: permitted after exec, not effective. */
	CR_FCAP_PERMITTED_ONLY,
	/* +ep, with the capability dropped from the bounding set first. */
	CR_FCAP_NOT_IN_BOUNDING_SET,
	/* +ep, exec'd under PR_SET_NO_NEW_PRIVS. */
	CR_FCAP_NO_NEW_PRIVS,
};

struct cr_creds {
	/* The variant's name, for the results table. */
	const char *name;
	enum cr_how how;
	/* Capabilities in the permitted set (CR_DIRECT, CR_USERNS). */
	bool perm_cr, perm_sys_admin;
	/* Capabilities in the effective set (CR_DIRECT, CR_USERNS). */
	bool eff_cr, eff_sys_admin;
	/* CR_DIRECT: CAP_SYS_RESOURCE alone, permitted and effective. */
	bool sys_resource;
	/* CR_FILE_CAP: which file capability, exec'd how. */
	enum cr_file_cap fcap;
	/*
	 * CR_USERNS: while still holding every capability there, create a
	 * PID namespace owned by the new user namespace, with an init, and
	 * have children born into it.
	 */
	bool own_pidns;
	/*
	 * SELinux: exec into the domain u:r:<domain> before the operation
	 * (CR_AMBIENT, CR_USERNS).  With CR_AMBIENT, perm_sys_admin also
	 * raises CAP_SYS_ADMIN in the ambient set.
	 */
	const char *domain;
};

/* Switching to them: in a child that is about to run an operation. */

/* Become root of a new user namespace that maps root to our own ids. */
static inline int cr_enter_userns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int fd, len;

	if (unshare(CLONE_NEWUSER))
		return -1;
	fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "deny", 4) != 4)
		return -1;
	close(fd);
	len = snprintf(map, sizeof(map), "0 %u 1", gid);
	fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, len) != len)
		return -1;
	close(fd);
	len = snprintf(map, sizeof(map), "0 %u 1", uid);
	fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, len) != len)
		return -1;
	close(fd);
	return 0;
}

/* Effective/permitted sets with only the given capabilities, through libcap. */
static inline int cr_set_caps(bool perm_cr, bool perm_sa, bool eff_cr,
			      bool eff_sa, bool inh_cr)
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

/* CAP_SYS_RESOURCE alone, permitted and effective. */
static inline int cr_set_sys_resource_only(void)
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

/* Drop from root to uid/gid 65534, keeping the permitted set for now. */
static inline int cr_become_nobody(void)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
	    setgroups(0, NULL) ||
	    setresgid(CR_NOBODY, CR_NOBODY, CR_NOBODY) ||
	    setresuid(CR_NOBODY, CR_NOBODY, CR_NOBODY))
		return -1;
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

/* CAP_CHECKPOINT_RESTORE (and CAP_SYS_ADMIN) in the ambient set. */
static inline int cr_raise_ambient(bool sys_admin)
{
	cap_value_t v[] = { CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN };
	int n = sys_admin ? 2 : 1, ret = -1;
	cap_t caps = cap_init();

	if (!caps)
		return -1;
	if (!cap_set_flag(caps, CAP_PERMITTED, n, v, CAP_SET) &&
	    !cap_set_flag(caps, CAP_INHERITABLE, n, v, CAP_SET) &&
	    !cap_set_proc(caps))
		ret = 0;
	cap_free(caps);
	for (int i = 0; !ret && i < n; i++)
		ret = cap_set_ambient(v[i], CAP_SET);
	return ret;
}

/* The SELinux domain of our next execve(). */
static inline int cr_set_exec_domain(const char *domain)
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

/* Does the variant hold, or gain, CAP_CHECKPOINT_RESTORE? */
static inline bool cr_creds_use_cr(const struct cr_creds *c)
{
	return c->perm_cr || c->eff_cr || c->how == CR_FILE_CAP ||
	       c->how == CR_AMBIENT;
}

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_CR_CREDS_H */
