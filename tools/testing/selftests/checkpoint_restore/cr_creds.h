/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The credential sets the tests run operations under (struct cr_creds),
 * and what each is allowed: in which user namespace it holds which
 * capability (cr_creds.c).  creds_fixture.h makes them fixture variants.
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_CREDS_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_CREDS_H

#include <stdbool.h>
#include <sys/capability.h>

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
	 * world holds for its caller (struct cr_world, cr_ns.h): made by
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

/* Our credential changes make us undumpable; /proc/self must stay ours. */
void cr_dumpable(void);

/*
 * Become root of a new user namespace that maps root to our own ids.
 * Returns NULL, or the step that failed (errno says why).
 */
const char *cr_enter_userns(void);

/* Effective/permitted sets with only the given capabilities, through libcap. */
int cr_set_caps(bool perm_cr, bool perm_sa, bool eff_cr, bool eff_sa,
		bool inh_cr);

/* CAP_SYS_RESOURCE alone, permitted and effective. */
int cr_set_sys_resource_only(void);

/*
 * Drop from root to uid/gid 65534, keeping the permitted set for now.
 * Returns NULL, or the step that failed (errno says why).
 */
const char *cr_become_nobody(void);

/*
 * CAP_CHECKPOINT_RESTORE (and CAP_SYS_ADMIN) in the ambient set.  Returns
 * NULL, or the step that failed (errno says why).
 */
const char *cr_raise_ambient(bool sys_admin);

/* The SELinux domain of our next execve(). */
int cr_set_exec_domain(const char *domain);

/* Does the variant hold, or gain, CAP_CHECKPOINT_RESTORE? */
bool cr_creds_use_cr(const struct cr_creds *c);

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_CR_CREDS_H */
