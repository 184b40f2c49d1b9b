// SPDX-License-Identifier: GPL-2.0
/*
 * Which user namespace each check asks.  The caller is uid 65534, either
 * root of a user namespace of its own (the "caller's") or in the initial
 * one; the PID namespaces it works in are three levels deep, and the owner
 * of each level, like the owner of its IPC namespace, is chosen per
 * variant: the initial user namespace, the caller's, or a sibling of the
 * caller's that uid 65533 made.  The answers then differ between "capable
 * in the owner", "capable in the initial user namespace" and "capable in
 * the caller's own", so a check asking the wrong one fails here:
 *
 *   clone3() set_tid   the owner of every level set_tid reaches
 *   ns_last_pid        the owner of the writer's PID namespace
 *   *_next_id          the owner of the writer's IPC namespace
 *   map_files          the initial user namespace
 *   PR_SET_MM_MAP      the caller's own user namespace
 *   TIOCSLCKTRMIOS     the initial user namespace
 *
 * Each variant writes down what every operation must give.
 *
 * A PID namespace's owner must be its parent's owner or a descendant of it
 * (pidns_nesting below), and a capability in a user namespace
 * holds in its descendants: going inward, the caller's privilege can
 * appear but never end.  The layouts are those the kernel lets exist.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

FIXTURE(userns_owner) {};

FIXTURE_VARIANT(userns_owner) {
	struct cr_creds creds;
	/* Owners of the PID namespace levels, outermost first, and IPC's. */
	enum cr_owner owner[CR_LEVELS];
	enum cr_owner ipc_owner;
	/* set_tid of 1, 2 and 3 entries: the innermost levels it reaches. */
	int expected_set_tid[CR_LEVELS];
	int expected_ns_last_pid;
	int expected_next_id;
	int expected_map_files;
	int expected_exe_fd;
	int expected_lock_termios;
	/* clone3(CLONE_NEWPID) with set_tid {1, pid}. */
	int expected_new_pidns;
};

/*
 * Root of its user namespace with CAP_CHECKPOINT_RESTORE, every level
 * and the IPC namespace its own: everything namespaced is allowed.
 */
FIXTURE_VARIANT_ADD(userns_owner, cap_cr_owns_every_level) {
	.creds = { .name = "cap_cr_owns_every_level", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.owner = { CR_OWNER_CALLER, CR_OWNER_CALLER, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_CALLER,
	.expected_set_tid = { 0, 0, 0 },
	.expected_ns_last_pid = 0,
	.expected_next_id = 0,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

/*
 * The outermost level root made: a set_tid that reaches it is refused;
 * the IPC namespace root made too.
 */
FIXTURE_VARIANT_ADD(userns_owner, cap_cr_owns_inner_two_levels) {
	.creds = { .name = "cap_cr_owns_inner_two_levels", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.owner = { CR_OWNER_INIT, CR_OWNER_CALLER, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_INIT,
	.expected_set_tid = { 0, 0, EPERM },
	.expected_ns_last_pid = 0,
	.expected_next_id = EACCES,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

FIXTURE_VARIANT_ADD(userns_owner, cap_cr_owns_innermost_only) {
	.creds = { .name = "cap_cr_owns_innermost_only", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.owner = { CR_OWNER_INIT, CR_OWNER_INIT, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_CALLER,
	.expected_set_tid = { 0, EPERM, EPERM },
	.expected_ns_last_pid = 0,
	.expected_next_id = 0,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

/* The inner levels owned by a sibling user namespace, made by uid 65533. */
FIXTURE_VARIANT_ADD(userns_owner, cap_cr_sibling_owns_inner_levels) {
	.creds = { .name = "cap_cr_sibling_owns_inner_levels", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.owner = { CR_OWNER_INIT, CR_OWNER_OTHER, CR_OWNER_OTHER },
	.ipc_owner = CR_OWNER_OTHER,
	.expected_set_tid = { EPERM, EPERM, EPERM },
	.expected_ns_last_pid = EPERM,
	.expected_next_id = EACCES,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

/*
 * CAP_SYS_ADMIN instead: the fallback answers the same questions, and
 * CLONE_NEWPID is allowed.
 */
FIXTURE_VARIANT_ADD(userns_owner, cap_sys_admin_owns_every_level) {
	.creds = { .name = "cap_sys_admin_owns_every_level", .how = CR_WORLD_USERNS,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.owner = { CR_OWNER_CALLER, CR_OWNER_CALLER, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_CALLER,
	.expected_set_tid = { 0, 0, 0 },
	.expected_ns_last_pid = 0,
	.expected_next_id = 0,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = 0,
};

FIXTURE_VARIANT_ADD(userns_owner, cap_sys_admin_owns_innermost_only) {
	.creds = { .name = "cap_sys_admin_owns_innermost_only", .how = CR_WORLD_USERNS,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.owner = { CR_OWNER_INIT, CR_OWNER_INIT, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_INIT,
	.expected_set_tid = { 0, EPERM, EPERM },
	.expected_ns_last_pid = 0,
	.expected_next_id = EACCES,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = 0,
};

/* Root of its user namespace without capabilities: owning is not enough. */
FIXTURE_VARIANT_ADD(userns_owner, no_caps_owns_every_level) {
	.creds = { .name = "no_caps_owns_every_level", .how = CR_WORLD_USERNS },
	.owner = { CR_OWNER_CALLER, CR_OWNER_CALLER, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_CALLER,
	.expected_set_tid = { EPERM, EPERM, EPERM },
	.expected_ns_last_pid = EPERM,
	.expected_next_id = EACCES,
	.expected_map_files = EPERM,
	.expected_exe_fd = EPERM,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

/*
 * uid 65534 with CAP_CHECKPOINT_RESTORE in the initial user namespace:
 * a capability there reaches every namespace below.
 */
FIXTURE_VARIANT_ADD(userns_owner, init_cap_cr_sibling_owns_all) {
	.creds = { .name = "init_cap_cr_sibling_owns_all", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true },
	.owner = { CR_OWNER_OTHER, CR_OWNER_OTHER, CR_OWNER_OTHER },
	.ipc_owner = CR_OWNER_OTHER,
	.expected_set_tid = { 0, 0, 0 },
	.expected_ns_last_pid = 0,
	.expected_next_id = 0,
	.expected_map_files = 0,
	.expected_exe_fd = 0,
	.expected_lock_termios = 0,
	.expected_new_pidns = EPERM,
};

/*
 * uid 65534 without capabilities in the initial user namespace, yet
 * the creator of the user namespace owning every level: a creator holds
 * every capability in its user namespace, from the parent.
 */
FIXTURE_VARIANT_ADD(userns_owner, init_no_caps_creator_of_owner) {
	.creds = { .name = "init_no_caps_creator_of_owner", .how = CR_DIRECT },
	.owner = { CR_OWNER_CALLER, CR_OWNER_CALLER, CR_OWNER_CALLER },
	.ipc_owner = CR_OWNER_CALLER,
	.expected_set_tid = { 0, 0, 0 },
	.expected_ns_last_pid = 0,
	.expected_next_id = 0,
	.expected_map_files = EPERM,
	.expected_exe_fd = EPERM,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

FIXTURE_VARIANT_ADD(userns_owner, init_no_caps_sibling_owns_all) {
	.creds = { .name = "init_no_caps_sibling_owns_all", .how = CR_DIRECT },
	.owner = { CR_OWNER_OTHER, CR_OWNER_OTHER, CR_OWNER_OTHER },
	.ipc_owner = CR_OWNER_OTHER,
	.expected_set_tid = { EPERM, EPERM, EPERM },
	.expected_ns_last_pid = EPERM,
	.expected_next_id = EACCES,
	.expected_map_files = EPERM,
	.expected_exe_fd = EPERM,
	.expected_lock_termios = EPERM,
	.expected_new_pidns = EPERM,
};

FIXTURE_SETUP(userns_owner)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(userns_owner) {}

/*
 * Without capability 40 (before 5.9) every answer here is another: the
 * layouts ask where the capability is asked, so they are not run.
 */
static const char *layout_unsupported(const struct cr_creds *c)
{
	if (cr_cap_last_cap() < CAP_CHECKPOINT_RESTORE)
		return "kernel lacks CAP_CHECKPOINT_RESTORE (cap_last_cap < 40)";
	return cr_unsupported(c);
}

static struct cr_world layout_of(const FIXTURE_VARIANT(userns_owner) * v)
{
	struct cr_world w = { .ipc_owner = v->ipc_owner };

	memcpy(w.owner, v->owner, sizeof(w.owner));
	return w;
}

static void check_set_tid(struct __test_metadata *_metadata,
			  const FIXTURE_VARIANT(userns_owner) * v, int levels)
{
	const pid_t tids[CR_LEVELS] = { 300 + levels, 310 + levels, 320 + levels };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = levels,
					 .pids = { tids[0], tids[1], tids[2] } } };
	struct cr_world w = layout_of(v);
	struct cr_result res;

	if (layout_unsupported(&v->creds))
		SKIP(return, "%s", layout_unsupported(&v->creds));
	res = cr_run(&w, &v->creds, &op);
	cr_expect(&v->creds, v->expected_set_tid[levels - 1], &res,
		  set_tid_wrong(&res, tids[0]));
}

TEST_F(userns_owner, set_tid_innermost_level)
{
	check_set_tid(_metadata, variant, 1);
}

TEST_F(userns_owner, set_tid_two_levels)
{
	check_set_tid(_metadata, variant, 2);
}

TEST_F(userns_owner, set_tid_three_levels)
{
	check_set_tid(_metadata, variant, 3);
}

TEST_F(userns_owner, ns_last_pid_write)
{
	struct cr_op op = { .id = OP_NS_LAST_PID_WRITE,
			    .ns_last_pid = { .value = 776 } };
	struct cr_world w = layout_of(variant);
	struct cr_result res;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	if (access(NS_LAST_PID, F_OK))
		SKIP(return, "no " NS_LAST_PID " (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_ns_last_pid, &res,
		  value_wrong(&res, 777, res.val[0], "the next fork got PID"));
}

TEST_F(userns_owner, msg_next_id)
{
	struct cr_op op = { .id = OP_IPC_NEXT_ID,
			    .next_id = { .kind = IPC_MSG, .id = 4711 } };
	struct cr_world w = layout_of(variant);
	struct cr_result res;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	if (access(next_id_file[IPC_MSG], F_OK))
		SKIP(return, "no %s (missing CONFIG_CHECKPOINT_RESTORE or CONFIG_SYSVIPC?)",
		     next_id_file[IPC_MSG]);
	if (!cr_kernel_at_least(5, 16))
		SKIP(return, "kernel before 5.16: *_next_id are root-only, not capability-gated");
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_next_id, &res,
		  value_wrong(&res, 4711, res.val[0], "the new queue got id"));
}

TEST_F(userns_owner, map_files_open)
{
	struct cr_op op = { .id = OP_MAP_FILES,
			    .map_files = { .kind = MAP_MEMFD,
					   .target = MAP_TARGET_CHILD } };
	struct cr_world w = layout_of(variant);
	struct cr_result res;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_map_files, &res,
		  map_files_wrong(&res));
}

TEST_F(userns_owner, prctl_mm_map_exe_fd)
{
	struct cr_op op = { .id = OP_SET_MM_MAP,
			    .set_mm_map = { .exe = EXE_NEW } };
	struct cr_world w = layout_of(variant);
	struct cr_result res;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_exe_fd, &res,
		  !res.err && !res.val[0] ? "/proc/self/exe is not " NEW_EXE : NULL);
}

TEST_F(userns_owner, tiocslcktrmios)
{
	struct cr_op op = { .id = OP_LOCK_TERMIOS };
	struct cr_world w = layout_of(variant);
	struct cr_result res;
	int fd;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (fd < 0)
		SKIP(return, "no pseudo-terminals: %s (missing CONFIG_UNIX98_PTYS or devpts?)",
		     strerror(errno));
	close(fd);
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_lock_termios, &res,
		  !res.err && !res.val[0] ? "the flags did not lock" : NULL);
}

TEST_F(userns_owner, new_pidns_init_at_pid_1)
{
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 2, .pids = { 1, 555 },
					 .flags = SET_TID_NEWPID } };
	struct cr_world w = layout_of(variant);
	struct cr_result res;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_new_pidns, &res,
		  set_tid_wrong(&res, 555));
}

/*
 * Why no layout has a level the caller owns outside one it does not: the
 * kernel refuses to nest a PID namespace owned by a user namespace that
 * does not descend from the parent level's owner.
 */
FIXTURE(pidns_nesting) {};
FIXTURE_SETUP(pidns_nesting) {}
FIXTURE_TEARDOWN(pidns_nesting) {}

TEST_F(pidns_nesting, owner_must_descend_from_parent_owner)
{
	int pfd = cr_self_pidfd(), other, fd;
	pid_t pid;
	int status;

	if (geteuid())
		SKIP(return, "needs root: the test builds its namespaces as root");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Level 1 owned by a sibling user namespace, level 2 by init. */
		other = cr_make_userns(CR_OTHER_UID, pfd);
		fd = cr_make_ns(CLONE_NEWPID, other, false, pfd);
		if (other < 0 || fd < 0) {
			TH_LOG("setup: %s", cr_setup_error());
			_exit(2);
		}
		if (setns(fd, CLONE_NEWPID)) {
			TH_LOG("setup: setns(CLONE_NEWPID): %s", strerror(errno));
			_exit(2);
		}
		_exit(cr_make_ns(CLONE_NEWPID, -1, false, pfd) < 0 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(true, WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("%s", WEXITSTATUS(status) == 1 ?
		       "a PID namespace owned by init was made inside a sibling's" :
		       "building the outer level failed");
	}
	close(pfd);
}

/*
 * set_tid after setns() into a PID namespace below the caller's: entering
 * takes CAP_SYS_ADMIN in its owner (and in the caller's own user
 * namespace); choosing a PID there then takes the capability in its owner.
 * The variant says which call refuses.
 */
FIXTURE(pidns_setns) {};

FIXTURE_VARIANT(pidns_setns) {
	struct cr_creds creds;
	enum cr_owner target_owner;
	int expected;
	const char *expected_refused_by;
};

FIXTURE_VARIANT_ADD(pidns_setns, cap_cr_and_sys_admin_into_own) {
	.creds = { .name = "cap_cr_and_sys_admin_into_own", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.target_owner = CR_OWNER_CALLER,
	.expected = 0,
};

FIXTURE_VARIANT_ADD(pidns_setns, cap_sys_admin_into_own) {
	.creds = { .name = "cap_sys_admin_into_own", .how = CR_WORLD_USERNS,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.target_owner = CR_OWNER_CALLER,
	.expected = 0,
};

FIXTURE_VARIANT_ADD(pidns_setns, cap_cr_into_own) {
	.creds = { .name = "cap_cr_into_own", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.target_owner = CR_OWNER_CALLER,
	.expected = EPERM,
	.expected_refused_by = "setns",
};

FIXTURE_VARIANT_ADD(pidns_setns, cap_cr_and_sys_admin_into_other) {
	.creds = { .name = "cap_cr_and_sys_admin_into_other", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.target_owner = CR_OWNER_OTHER,
	.expected = EPERM,
	.expected_refused_by = "setns",
};

FIXTURE_VARIANT_ADD(pidns_setns, init_cap_sys_admin_into_other) {
	.creds = { .name = "init_cap_sys_admin_into_other", .how = CR_DIRECT,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.target_owner = CR_OWNER_OTHER,
	.expected = 0,
};

FIXTURE_SETUP(pidns_setns)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(pidns_setns) {}

TEST_F(pidns_setns, set_tid_after_setns)
{
	const struct cr_world w = {
		.owner = { CR_OWNER_INIT },
		.setns_owner = variant->target_owner,
	};
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 42 },
					 .flags = SET_TID_SETNS } };
	const char *by = variant->expected_refused_by;
	struct cr_result res;

	if (layout_unsupported(&variant->creds))
		SKIP(return, "%s", layout_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected, &res,
		  res.err && by && strncmp(res.what, by, strlen(by)) ?
		  res.what : set_tid_wrong(&res, 0));
}

/*
 * A PID namespace whose init has died takes no new task: fork() and
 * set_tid alike get ENOMEM, once the capability check (set_tid only) has
 * passed.  The caller is one level up, its children due in the dead one.
 */
FIXTURE(dead_pidns) {};

FIXTURE_VARIANT(dead_pidns) {
	struct cr_creds creds;
	int expected_set_tid;
};

FIXTURE_VARIANT_ADD(dead_pidns, cap_cr_owns_it) {
	.creds = { .name = "cap_cr_owns_it", .how = CR_WORLD_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.expected_set_tid = ENOMEM,
};

FIXTURE_VARIANT_ADD(dead_pidns, no_caps_owns_it) {
	.creds = { .name = "no_caps_owns_it", .how = CR_WORLD_USERNS },
	.expected_set_tid = EPERM,
};

FIXTURE_SETUP(dead_pidns)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(dead_pidns) {}

static void check_dead(struct __test_metadata *_metadata,
		       const FIXTURE_VARIANT(dead_pidns) * v,
		       struct cr_op *op, int expected)
{
	const struct cr_world w = {
		.owner = { CR_OWNER_INIT, CR_OWNER_CALLER },
		.innermost_init_dead = true,
	};
	struct cr_result res;

	if (layout_unsupported(&v->creds))
		SKIP(return, "%s", layout_unsupported(&v->creds));
	res = cr_run(&w, &v->creds, op);
	cr_expect(&v->creds, expected, &res, NULL);
}

TEST_F(dead_pidns, set_tid_is_enomem)
{
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 7 } } };

	check_dead(_metadata, variant, &op, variant->expected_set_tid);
}

TEST_F(dead_pidns, set_tid_of_a_new_init_is_enomem)
{
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 1 } } };

	check_dead(_metadata, variant, &op, variant->expected_set_tid);
}

TEST_F(dead_pidns, fork_is_enomem)
{
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 0, .flags = SET_TID_NULL_ARRAY } };

	check_dead(_metadata, variant, &op, ENOMEM);
}

TEST_HARNESS_MAIN
