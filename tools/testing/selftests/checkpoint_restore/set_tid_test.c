// SPDX-License-Identifier: GPL-2.0
/*
 * clone3() set_tid: choosing the PID of a new task, per PID namespace
 * level, needs CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user
 * namespace owning each level.
 *
 * All PIDs are chosen inside PID namespaces the test creates, so no test
 * depends on a free PID of the host.
 */

#include "ops.h"

/*
 * Place one task at @tids (innermost first) in @w under the variant's
 * credentials and check the result against what the credentials allow.
 */
static void check_set_tid(struct __test_metadata *_metadata,
			  const struct cr_creds *creds,
			  const struct cr_world *w, enum cr_scope scope,
			  int size, const pid_t *tids, long flags)
{
	struct cr_op op = { .id = OP_SET_TID, .arg = { size } };
	struct cr_result res;

	for (int i = 0; i < size && i < 3; i++)
		op.arg[1 + i] = tids[i];
	op.arg[5] = flags;
	res = cr_run(w, creds, &op, cr_creds_allowed(creds, scope) ? 0 : EPERM);
	if (cr_creds_allowed(creds, scope)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("set_tid refused with %s at \"%s\", capability held",
			       strerror(res.err), res.what);
		}
		/*
		 * clone3() returns the PID in the caller's own namespace: the
		 * innermost one, unless children are born one level deeper.
		 */
		if (!creds->own_pidns)
			ASSERT_EQ(tids[0], res.val[0]);
		ASSERT_EQ(0, res.val[1]) {
			TH_LOG("NSpid of the new task does not end with the chosen PIDs");
		}
	} else {
		ASSERT_EQ(EPERM, res.err) {
			TH_LOG("set_tid %s (%s), expected EPERM: no capability in the owner",
			       res.err ? strerror(res.err) : "succeeded",
			       res.what);
		}
	}
}

#define CR_FIXTURE set_tid
#include "creds_fixture.h"

TEST_F(set_tid, one_level)
{
	const struct cr_world w = { .pidns_depth = 1 };
	const pid_t tids[] = { 100 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_set_tid(_metadata, &variant->creds, &w, CR_SCOPE_TEST_NS, 1,
		      tids, 0);
}

TEST_F(set_tid, nested_two_levels)
{
	const struct cr_world w = { .pidns_depth = 2 };
	const pid_t tids[] = { 200, 300 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_set_tid(_metadata, &variant->creds, &w, CR_SCOPE_TEST_NS, 2,
		      tids, 0);
}

TEST_F(set_tid, nested_three_levels)
{
	const struct cr_world w = { .pidns_depth = 3 };
	const pid_t tids[] = { 400, 500, 600 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_set_tid(_metadata, &variant->creds, &w, CR_SCOPE_TEST_NS, 3,
		      tids, 0);
}

/* Only the innermost of three levels: the outer ones pick freely. */
TEST_F(set_tid, innermost_of_three_levels)
{
	const struct cr_world w = { .pidns_depth = 3 };
	const pid_t tids[] = { 4242 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_set_tid(_metadata, &variant->creds, &w, CR_SCOPE_TEST_NS, 1,
		      tids, 0);
}

/*
 * A PID namespace owned by a user namespace that root made: a capability
 * in the initial user namespace counts there too, one held only in an
 * unrelated user namespace does not.
 */
TEST_F(set_tid, pidns_owned_by_child_userns)
{
	const struct cr_world w = { .pidns_depth = 1,
				    .pidns_in_child_userns = true };
	const pid_t tids[] = { 150 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_set_tid(_metadata, &variant->creds, &w, CR_SCOPE_TEST_NS, 1,
		      tids, 0);
}

TEST_F(set_tid, thread_at_chosen_tid)
{
	const struct cr_world w = { .pidns_depth = 1 };
	const pid_t tids[] = { 700 };
	struct cr_op op = { .id = OP_SET_TID,
			    .arg = { 1, 700, 0, 0, 0, SET_TID_THREAD } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op,
		     cr_creds_allowed(&variant->creds, CR_SCOPE_TEST_NS) ?
		     0 : EPERM);
	if (res.err == EOPNOTSUPP)
		SKIP(return, "no clone3() thread helper for this architecture (cr_thread.c)");
	if (cr_creds_allowed(&variant->creds, CR_SCOPE_TEST_NS)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("thread at TID 700 refused: %s", strerror(res.err));
		}
		ASSERT_EQ(tids[0], res.val[0]);
	} else {
		ASSERT_EQ(EPERM, res.err);
	}
}

/* Taking a PID in use: EEXIST if allowed to choose, EPERM before that. */
TEST_F(set_tid, pid_in_use_is_eexist)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID, .arg = { 1, 1 } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	/* PID 1 of the fresh namespace is the task running the operation. */
	res = cr_run(&w, &variant->creds, &op,
		     cr_creds_allowed(&variant->creds, CR_SCOPE_TEST_NS) ?
		     EEXIST : EPERM);
	ASSERT_EQ(cr_creds_allowed(&variant->creds, CR_SCOPE_TEST_NS) ?
		  EEXIST : EPERM, res.err);
}

/*
 * Malformed requests are refused with EINVAL (or EFAULT) before the
 * capability is looked at: a caller without it gets the same error as one
 * with it, never EPERM.  Two credential sets say that; the cases
 * themselves are clone3_set_tid's, run as root there.
 */
FIXTURE(set_tid_invalid) {
};

FIXTURE_VARIANT(set_tid_invalid) {
	struct cr_creds creds;
};

FIXTURE_VARIANT_ADD(set_tid_invalid, nobody_no_caps) {
	.creds = { .name = "nobody_no_caps", .how = CR_DIRECT },
};

FIXTURE_VARIANT_ADD(set_tid_invalid, nobody_cap_cr) {
	.creds = { .name = "nobody_cap_cr", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true },
};

FIXTURE_SETUP(set_tid_invalid)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(set_tid_invalid)
{
}

static void check_invalid(struct __test_metadata *_metadata,
			  const struct cr_creds *creds, long size, long tid,
			  long flags, int expected)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID, .arg = { size, tid, tid, tid } };
	struct cr_result res;

	op.arg[5] = flags;
	res = cr_run(&w, creds, &op, expected);
	ASSERT_EQ(expected, res.err) {
		TH_LOG("set_tid size %ld (effective %ld) tid %ld: got %s (%s)",
		       size, res.val[2], tid,
		       res.err ? strerror(res.err) : "success", res.what);
	}
}

TEST_F(set_tid_invalid, pid_zero_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 1, 0, 0, EINVAL);
}

TEST_F(set_tid_invalid, negative_pid_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 1, -5, 0, EINVAL);
}

TEST_F(set_tid_invalid, pid_max_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 1, 0, SET_TID_PID_MAX, EINVAL);
}

TEST_F(set_tid_invalid, size_over_nesting_depth_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 0, 100,
		      SET_TID_DEPTH_PLUS_ONE, EINVAL);
}

TEST_F(set_tid_invalid, size_over_max_level_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, CR_MAX_SET_TID + 1, 100, 0,
		      EINVAL);
}

TEST_F(set_tid_invalid, null_array_with_size_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 1, 100, SET_TID_NULL_ARRAY,
		      EINVAL);
}

TEST_F(set_tid_invalid, array_with_size_zero_is_einval)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 0, 100, SET_TID_BAD_POINTER,
		      EINVAL);
}

TEST_F(set_tid_invalid, bad_array_pointer_is_efault)
{
	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_invalid(_metadata, &variant->creds, 1, 100, SET_TID_BAD_POINTER,
		      EFAULT);
}

/*
 * Namespace-local capabilities: root of a new user namespace that made
 * its own PID namespace may choose PIDs in it with CAP_CHECKPOINT_RESTORE
 * or CAP_SYS_ADMIN held there, and not without.
 */
FIXTURE(own_pidns) {};

FIXTURE_VARIANT(own_pidns) {
	struct cr_creds creds;
};

FIXTURE_VARIANT_ADD(own_pidns, userns_root) {
	.creds = { .name = "userns_root", .how = CR_USERNS, .own_pidns = true,
		   .perm_cr = true, .eff_cr = true, .perm_sys_admin = true,
		   .eff_sys_admin = true },
};

FIXTURE_VARIANT_ADD(own_pidns, userns_cap_cr_only) {
	.creds = { .name = "userns_cap_cr_only", .how = CR_USERNS,
		   .own_pidns = true, .perm_cr = true, .eff_cr = true },
};

FIXTURE_VARIANT_ADD(own_pidns, userns_cap_sys_admin_only) {
	.creds = { .name = "userns_cap_sys_admin_only", .how = CR_USERNS,
		   .own_pidns = true, .perm_sys_admin = true,
		   .eff_sys_admin = true },
};

FIXTURE_VARIANT_ADD(own_pidns, userns_cap_cr_permitted_only) {
	.creds = { .name = "userns_cap_cr_permitted_only", .how = CR_USERNS,
		   .own_pidns = true, .perm_cr = true },
};

FIXTURE_VARIANT_ADD(own_pidns, userns_no_caps) {
	.creds = { .name = "userns_no_caps", .how = CR_USERNS,
		   .own_pidns = true },
};

FIXTURE_SETUP(own_pidns)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(own_pidns) {}

TEST_F(own_pidns, set_tid)
{
	const struct cr_world w = { .pidns_depth = 1 };
	const pid_t tids[] = { 321 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_set_tid(_metadata, &variant->creds, &w, CR_SCOPE_CALLER_USERNS,
		      1, tids, 0);
}

TEST_HARNESS_MAIN
