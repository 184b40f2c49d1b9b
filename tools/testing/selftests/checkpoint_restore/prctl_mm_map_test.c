// SPDX-License-Identifier: GPL-2.0
/*
 * prctl(PR_SET_MM, PR_SET_MM_MAP): replacing /proc/self/exe through
 * exe_fd needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the caller's own
 * user namespace, and a refusal is EPERM (it was EINVAL before 5.9).  The
 * rest of the map needs no capability; the per-field PR_SET_MM commands
 * still need CAP_SYS_RESOURCE, which CAP_CHECKPOINT_RESTORE does not give.
 */

#include "ops.h"

static bool have_set_mm_map(void)
{
	unsigned int size = 0;

	return !prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0);
}

#define CR_FIXTURE prctl_mm_map
#include "creds_fixture.h"

TEST_F(prctl_mm_map, exe_fd_replaces_proc_self_exe)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_MAP, .arg = { 1 } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	if (!have_set_mm_map())
		SKIP(return, "no PR_SET_MM_MAP (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op,
		     cr_creds_allowed(&variant->creds, CR_SCOPE_CALLER_USERNS) ?
		     0 : EPERM);
	if (cr_creds_allowed(&variant->creds, CR_SCOPE_CALLER_USERNS)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("%s: %s", res.what, strerror(res.err));
		}
		ASSERT_EQ(1, res.val[0]) {
			TH_LOG("/proc/self/exe is not " NEW_EXE " after the prctl");
		}
	} else {
		/* Before 5.9 (no capability 40) the refusal was EINVAL. */
		if (res.err == EINVAL && cr_cap_last_cap() < CAP_CHECKPOINT_RESTORE)
			SKIP(return, "no capability 40: exe_fd gets EINVAL, as before 5.9");
		ASSERT_EQ(EPERM, res.err) {
			TH_LOG("%s: %s; a refused exe_fd must be EPERM, not EINVAL",
			       res.what, res.err ? strerror(res.err) : "success");
		}
	}
}

/*
 * Without exe_fd the same map is accepted from anybody: the EPERM above
 * comes from the capability check, not from a malformed map.
 */
TEST_F(prctl_mm_map, map_without_exe_fd_needs_no_capability)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_MAP, .arg = { 0 } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	if (!have_set_mm_map())
		SKIP(return, "no PR_SET_MM_MAP (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op, 0);
	ASSERT_EQ(0, res.err) {
		TH_LOG("%s: %s", res.what, strerror(res.err));
	}
}

/* No over-grant: the per-field commands still need CAP_SYS_RESOURCE. */
TEST_F(prctl_mm_map, set_mm_field_still_needs_cap_sys_resource)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_FIELD };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op, EPERM);
	ASSERT_EQ(EPERM, res.err) {
		TH_LOG("PR_SET_MM_START_BRK without CAP_SYS_RESOURCE: %s",
		       res.err ? strerror(res.err) : "succeeded");
	}
}

TEST_HARNESS_MAIN
