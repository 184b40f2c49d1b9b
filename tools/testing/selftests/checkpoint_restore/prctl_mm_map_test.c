// SPDX-License-Identifier: GPL-2.0
/*
 * prctl(PR_SET_MM, PR_SET_MM_MAP): replacing /proc/self/exe through
 * exe_fd needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the caller's own
 * user namespace, and a refusal is EPERM (it was EINVAL before 5.9).  The
 * rest of the map needs no capability; the per-field PR_SET_MM commands,
 * PR_SET_MM_EXE_FILE among them, still need CAP_SYS_RESOURCE, which
 * CAP_CHECKPOINT_RESTORE does not give.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/prctl.h>
#include <stdbool.h>
#include <sys/prctl.h>

#include "common.h"

static bool have_set_mm_map(void)
{
	unsigned int size = 0;

	return !prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0);
}

#define CR_FIXTURE prctl_mm_map
#include "creds_fixture.h"

static void check_exe(struct __test_metadata *_metadata,
		      const struct cr_creds *creds, enum exe_kind kind,
		      int expected)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_MAP, .set_mm_map = { .exe = kind } };
	struct cr_result res;

	if (cr_unsupported(creds))
		SKIP(return, "%s", cr_unsupported(creds));
	if (!have_set_mm_map())
		SKIP(return, "no PR_SET_MM_MAP (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, creds, &op);
	/* Before 5.9 (no capability 40) the refusal was EINVAL. */
	if (expected == EPERM && res.err == EINVAL &&
	    cr_cap_last_cap() < CAP_CHECKPOINT_RESTORE)
		SKIP(return, "no capability 40: exe_fd gets EINVAL, as before 5.9");
	cr_expect(creds, expected, &res, kind == EXE_NEW && !res.err && !res.val[0] ?
		  "/proc/self/exe is not " NEW_EXE : NULL);
}

TEST_F(prctl_mm_map, exe_fd_replaces_proc_self_exe)
{
	check_exe(_metadata, &variant->creds, EXE_NEW, variant->expected_exe_fd);
}

/*
 * The capability is asked first: without it every exe_fd is EPERM; with
 * it, the file is checked: not executable or not a regular file EACCES,
 * not open EBADF.
 */
TEST_F(prctl_mm_map, exe_fd_not_executable)
{
	check_exe(_metadata, &variant->creds, EXE_NOT_EXECUTABLE,
		  variant->expected_exe_fd ?: EACCES);
}

TEST_F(prctl_mm_map, exe_fd_directory)
{
	check_exe(_metadata, &variant->creds, EXE_DIRECTORY,
		  variant->expected_exe_fd ?: EACCES);
}

TEST_F(prctl_mm_map, exe_fd_closed)
{
	check_exe(_metadata, &variant->creds, EXE_CLOSED_FD,
		  variant->expected_exe_fd ?: EBADF);
}

/*
 * Without exe_fd the same map is accepted from anybody: the EPERM above
 * comes from the capability check, not from a malformed map.
 */
TEST_F(prctl_mm_map, map_without_exe_fd_needs_no_capability)
{
	check_exe(_metadata, &variant->creds, EXE_NONE, 0);
}

/* No over-grant: the per-field commands still need CAP_SYS_RESOURCE. */
TEST_F(prctl_mm_map, set_mm_field_still_needs_cap_sys_resource)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_FIELD };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, EPERM, &res, NULL);
}

/*
 * PR_SET_MM_EXE_FILE, the single-field way to the same change, asks for
 * CAP_SYS_RESOURCE and nothing else: neither capability of the wiring
 * opens it, CAP_SYS_RESOURCE alone does.
 */
FIXTURE(set_mm_exe_file) {};

FIXTURE_VARIANT(set_mm_exe_file) {
	struct cr_creds creds;
	int expected;
};

FIXTURE_VARIANT_ADD(set_mm_exe_file, nobody_cap_cr) {
	.creds = { .name = "nobody_cap_cr", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true },
	.expected = EPERM,
};

FIXTURE_VARIANT_ADD(set_mm_exe_file, nobody_cap_cr_and_sys_admin) {
	.creds = { .name = "nobody_cap_cr_and_sys_admin", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
	.expected = EPERM,
};

FIXTURE_VARIANT_ADD(set_mm_exe_file, nobody_cap_sys_resource) {
	.creds = { .name = "nobody_cap_sys_resource", .how = CR_DIRECT,
		   .sys_resource = true },
	.expected = 0,
};

FIXTURE_SETUP(set_mm_exe_file)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(set_mm_exe_file) {}

TEST_F(set_mm_exe_file, replaces_proc_self_exe)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_EXE_FILE };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	if (variant->creds.sys_resource &&
	    prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) != 1)
		SKIP(return, "CAP_SYS_RESOURCE is not in this system's bounding set");
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected, &res,
		  !res.err && !res.val[0] ? "/proc/self/exe is not " NEW_EXE : NULL);
}

TEST_HARNESS_MAIN
