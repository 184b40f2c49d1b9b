/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The credential sets every operation runs under, as ten variants of the
 * fixture the including program names first:
 *
 *	#define CR_FIXTURE set_tid
 *	#include "creds_fixture.h"
 *
 * Each test of that fixture then runs once per credential set, with
 * variant->creds describing it (struct cr_creds, cr_creds.h), in a private
 * mount namespace with a fresh /tmp that holds the helper copies the
 * exec'ing variants need.
 */

#include "common.h"

#ifndef CR_FIXTURE
#error "define CR_FIXTURE (the fixture's name) before including creds_fixture.h"
#endif

/* The harness pastes its arguments: these expand CR_FIXTURE first. */
#define CR_FIXTURE_(f) FIXTURE(f)
#define CR_FIXTURE_VARIANT_(f) FIXTURE_VARIANT(f)
#define CR_VARIANT_(f, v) FIXTURE_VARIANT_ADD(f, v)
#define CR_SETUP_(f) FIXTURE_SETUP(f)
#define CR_TEARDOWN_(f) FIXTURE_TEARDOWN(f)

CR_FIXTURE_(CR_FIXTURE) {
};

CR_FIXTURE_VARIANT_(CR_FIXTURE) {
	struct cr_creds creds;
	/*
	 * What each operation must give under these credentials (0 or the
	 * errno), in namespaces the test made as root:
	 */
	/* clone3() set_tid at every level of PID namespaces root made. */
	int expected_set_tid;
	/* Writing ns_last_pid of such a PID namespace. */
	int expected_ns_last_pid;
	/* Opening /proc/PID/map_files/ of a child (initial user ns only). */
	int expected_map_files;
	/* PR_SET_MM_MAP with exe_fd (the caller's own user namespace). */
	int expected_exe_fd;
	/* TIOCSLCKTRMIOS (the wiring's 0006: 6.8, carried by Debian's 6.1). */
	int expected_lock_termios;
	/* Writing kernel.{msg,sem,shm}_next_id of an IPC namespace root made. */
	int expected_next_id;
	/* What CAP_CHECKPOINT_RESTORE must not open: mount, sethostname... */
	int expected_sys_admin_only;
	/*
	 * clone3(CLONE_NEWPID) with set_tid {1, pid}: CAP_SYS_ADMIN for the
	 * new namespace, then the capability in both levels' owners.
	 */
	int expected_new_pidns;
	/* The same with set_tid {5}: EINVAL once CLONE_NEWPID is allowed. */
	int expected_new_pidns_without_init;
};

/* uid 65534, capabilities set directly (capset). */
CR_VARIANT_(CR_FIXTURE, nobody_no_caps) {
	.creds = { .name = "nobody_no_caps", .how = CR_DIRECT },
	.expected_set_tid = EPERM,
	.expected_ns_last_pid = EPERM,
	.expected_map_files = EPERM,
	.expected_exe_fd = EPERM,
	.expected_lock_termios = EPERM,
	.expected_next_id = EACCES,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

CR_VARIANT_(CR_FIXTURE, nobody_cap_cr) {
	.creds = { .name = "nobody_cap_cr", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true },
	.expected_set_tid = 0,
	.expected_ns_last_pid = 0,
	.expected_map_files = 0,
	.expected_exe_fd = 0,
	.expected_lock_termios = 0,
	.expected_next_id = 0,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

CR_VARIANT_(CR_FIXTURE, nobody_cap_sys_admin) {
	.creds = { .name = "nobody_cap_sys_admin", .how = CR_DIRECT,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.expected_set_tid = 0,
	.expected_ns_last_pid = 0,
	.expected_map_files = 0,
	.expected_exe_fd = 0,
	.expected_lock_termios = 0,
	.expected_next_id = 0,
	.expected_sys_admin_only = 0,
	.expected_new_pidns = 0,
	.expected_new_pidns_without_init = EINVAL,
};

CR_VARIANT_(CR_FIXTURE, nobody_cap_cr_and_sys_admin) {
	.creds = { .name = "nobody_cap_cr_and_sys_admin", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.expected_set_tid = 0,
	.expected_ns_last_pid = 0,
	.expected_map_files = 0,
	.expected_exe_fd = 0,
	.expected_lock_termios = 0,
	.expected_next_id = 0,
	.expected_sys_admin_only = 0,
	.expected_new_pidns = 0,
	.expected_new_pidns_without_init = EINVAL,
};

/* Permitted but not effective: the capability does not count. */
CR_VARIANT_(CR_FIXTURE, nobody_cap_cr_permitted_only) {
	.creds = { .name = "nobody_cap_cr_permitted_only", .how = CR_DIRECT,
		   .perm_cr = true },
	.expected_set_tid = EPERM,
	.expected_ns_last_pid = EPERM,
	.expected_map_files = EPERM,
	.expected_exe_fd = EPERM,
	.expected_lock_termios = EPERM,
	.expected_next_id = EACCES,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

/* uid 65534 exec'ing a copy of cr_helper with cap_checkpoint_restore+ep. */
CR_VARIANT_(CR_FIXTURE, nobody_file_cap_cr) {
	.creds = { .name = "nobody_file_cap_cr", .how = CR_FILE_CAP },
	.expected_set_tid = 0,
	.expected_ns_last_pid = 0,
	.expected_map_files = 0,
	.expected_exe_fd = 0,
	.expected_lock_termios = 0,
	.expected_next_id = 0,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

/* uid 65534 with the capability ambient, exec'ing a plain cr_helper. */
CR_VARIANT_(CR_FIXTURE, nobody_ambient_cap_cr) {
	.creds = { .name = "nobody_ambient_cap_cr", .how = CR_AMBIENT },
	.expected_set_tid = 0,
	.expected_ns_last_pid = 0,
	.expected_map_files = 0,
	.expected_exe_fd = 0,
	.expected_lock_termios = 0,
	.expected_next_id = 0,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

/*
 * Root of a user namespace of its own, made by uid 65534: the
 * namespaces the test made are owned by the initial user namespace, so
 * only PR_SET_MM_MAP, which asks the caller's own, is allowed.
 */
CR_VARIANT_(CR_FIXTURE, userns_root) {
	.creds = { .name = "userns_root", .how = CR_USERNS,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.expected_set_tid = EPERM,
	.expected_ns_last_pid = EPERM,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_next_id = EACCES,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EINVAL,
};

CR_VARIANT_(CR_FIXTURE, userns_cap_cr_only) {
	.creds = { .name = "userns_cap_cr_only", .how = CR_USERNS,
		   .perm_cr = true, .eff_cr = true },
	.expected_set_tid = EPERM,
	.expected_ns_last_pid = EPERM,
	.expected_map_files = EPERM,
	.expected_exe_fd = 0,
	.expected_lock_termios = EPERM,
	.expected_next_id = EACCES,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

CR_VARIANT_(CR_FIXTURE, userns_no_caps) {
	.creds = { .name = "userns_no_caps", .how = CR_USERNS },
	.expected_set_tid = EPERM,
	.expected_ns_last_pid = EPERM,
	.expected_map_files = EPERM,
	.expected_exe_fd = EPERM,
	.expected_lock_termios = EPERM,
	.expected_next_id = EACCES,
	.expected_sys_admin_only = EPERM,
	.expected_new_pidns = EPERM,
	.expected_new_pidns_without_init = EPERM,
};

CR_SETUP_(CR_FIXTURE)
{
	cr_private_tmp(_metadata, &variant->creds);
}

CR_TEARDOWN_(CR_FIXTURE)
{
}
