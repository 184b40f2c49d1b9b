// SPDX-License-Identifier: GPL-2.0
/*
 * clone3() set_tid: choosing the PID of a new task, per PID namespace
 * level, needs CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user
 * namespace owning each level.
 *
 * All PIDs are chosen inside PID namespaces the test creates, so no test
 * depends on a free PID of the host.  Layouts in which the owners differ
 * level by level are userns_owner_test.c's.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <sys/types.h>

#include "common.h"

/*
 * Place one task at @tids (innermost first) in @w under @creds; the
 * outcome must be @expected, and a success must land on @tids[0] unless
 * the task is born below the caller's namespace (@visible false).
 */
static void check_set_tid(struct __test_metadata *_metadata,
			  const struct cr_creds *creds,
			  const struct cr_world *w, int expected,
			  int size, const pid_t *tids, bool visible)
{
	struct cr_op op = { .id = OP_SET_TID, .set_tid = { .size = size } };
	struct cr_result res;

	if (cr_unsupported(creds))
		SKIP(return, "%s", cr_unsupported(creds));
	for (int i = 0; i < size && i < 3; i++)
		op.set_tid.pids[i] = tids[i];
	res = cr_run(w, creds, &op);
	cr_expect(creds, expected, &res, set_tid_wrong(&res, visible ? tids[0] : 0));
}

#define CR_FIXTURE set_tid
#include "creds_fixture.h"

TEST_F(set_tid, one_level)
{
	const struct cr_world w = { .pidns_depth = 1 };
	const pid_t tids[] = { 100 };

	check_set_tid(_metadata, &variant->creds, &w, variant->expected_set_tid,
		      1, tids, true);
}

TEST_F(set_tid, nested_two_levels)
{
	const struct cr_world w = { .pidns_depth = 2 };
	const pid_t tids[] = { 200, 300 };

	check_set_tid(_metadata, &variant->creds, &w, variant->expected_set_tid,
		      2, tids, true);
}

TEST_F(set_tid, nested_three_levels)
{
	const struct cr_world w = { .pidns_depth = 3 };
	const pid_t tids[] = { 400, 500, 600 };

	check_set_tid(_metadata, &variant->creds, &w, variant->expected_set_tid,
		      3, tids, true);
}

/* Only the innermost of three levels: the outer ones pick freely. */
TEST_F(set_tid, innermost_of_three_levels)
{
	const struct cr_world w = { .pidns_depth = 3 };
	const pid_t tids[] = { 4242 };

	check_set_tid(_metadata, &variant->creds, &w, variant->expected_set_tid,
		      1, tids, true);
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

	check_set_tid(_metadata, &variant->creds, &w, variant->expected_set_tid,
		      1, tids, false);
}

TEST_F(set_tid, thread_at_chosen_tid)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 700 },
					 .flags = SET_TID_THREAD } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	if (res.err == EOPNOTSUPP)
		SKIP(return, "no clone3() thread helper for this architecture (cr_thread.c)");
	cr_expect(&variant->creds, variant->expected_set_tid, &res,
		  value_wrong(&res, 700, res.val[0], "TID"));
}

/* Taking a PID in use: EEXIST if allowed to choose, EPERM before that. */
TEST_F(set_tid, pid_in_use_is_eexist)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 1 } } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	/* PID 1 of the fresh namespace is the task running the operation. */
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds,
		  variant->expected_set_tid ? variant->expected_set_tid : EEXIST,
		  &res, NULL);
}

/*
 * How a restorer makes a PID namespace's init: clone3(CLONE_NEWPID) with
 * set_tid {1, pid}.  CLONE_NEWPID itself asks for CAP_SYS_ADMIN; then
 * each level's owner is asked, the new namespace's (the caller's user
 * namespace) and the parent's.
 */
TEST_F(set_tid, new_pidns_init_at_pid_1)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 2, .pids = { 1, 800 },
					 .flags = SET_TID_NEWPID } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_new_pidns, &res,
		  set_tid_wrong(&res, 800));
}

/*
 * A PID other than 1 in a namespace that has no init yet is EINVAL, for
 * everybody who may make the namespace, before any capability is asked.
 */
TEST_F(set_tid, new_pidns_without_init_is_einval)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 5 },
					 .flags = SET_TID_NEWPID } };
	const struct cr_creds *c = &variant->creds;
	struct cr_result res;

	if (cr_unsupported(c))
		SKIP(return, "%s", cr_unsupported(c));
	res = cr_run(&w, c, &op);
	cr_expect(c, variant->expected_new_pidns_without_init, &res, NULL);
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
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = size, .pids = { tid, tid, tid },
					 .flags = flags } };
	struct cr_result res;

	if (cr_unsupported(creds))
		SKIP(return, "%s", cr_unsupported(creds));
	res = cr_run(&w, creds, &op);
	if (res.err != expected)
		TH_LOG("set_tid size %ld (effective %ld) tid %ld", size,
		       res.val[2], tid);
	cr_expect(creds, expected, &res, NULL);
}

TEST_F(set_tid_invalid, pid_zero_is_einval)
{
	check_invalid(_metadata, &variant->creds, 1, 0, 0, EINVAL);
}

TEST_F(set_tid_invalid, negative_pid_is_einval)
{
	check_invalid(_metadata, &variant->creds, 1, -5, 0, EINVAL);
}

TEST_F(set_tid_invalid, pid_max_is_einval)
{
	check_invalid(_metadata, &variant->creds, 1, 0, SET_TID_PID_MAX, EINVAL);
}

TEST_F(set_tid_invalid, size_over_nesting_depth_is_einval)
{
	check_invalid(_metadata, &variant->creds, 0, 100,
		      SET_TID_DEPTH_PLUS_ONE, EINVAL);
}

TEST_F(set_tid_invalid, size_over_max_level_is_einval)
{
	check_invalid(_metadata, &variant->creds, CR_MAX_SET_TID + 1, 100, 0,
		      EINVAL);
}

TEST_F(set_tid_invalid, null_array_with_size_is_einval)
{
	check_invalid(_metadata, &variant->creds, 1, 100, SET_TID_NULL_ARRAY,
		      EINVAL);
}

TEST_F(set_tid_invalid, array_with_size_zero_is_einval)
{
	check_invalid(_metadata, &variant->creds, 0, 100, SET_TID_BAD_POINTER,
		      EINVAL);
}

TEST_F(set_tid_invalid, bad_array_pointer_is_efault)
{
	check_invalid(_metadata, &variant->creds, 1, 100, SET_TID_BAD_POINTER,
		      EFAULT);
}

/*
 * Namespace-local capabilities: root of a new user namespace that made
 * its own PID namespace may choose PIDs in it with CAP_CHECKPOINT_RESTORE
 * or CAP_SYS_ADMIN held there, and not without.  Its children are born in
 * a PID namespace it is not in itself, where CLONE_NEWPID is EINVAL once
 * CAP_SYS_ADMIN lets the question be asked.
 */
FIXTURE(own_pidns) {};

FIXTURE_VARIANT(own_pidns) {
	struct cr_creds creds;
	int expected_set_tid;
	int expected_new_pidns;
};

FIXTURE_VARIANT_ADD(own_pidns, userns_root) {
	.creds = { .name = "userns_root", .how = CR_USERNS, .own_pidns = true,
		   .perm_cr = true, .eff_cr = true, .perm_sys_admin = true,
		   .eff_sys_admin = true },
	.expected_set_tid = 0,
	.expected_new_pidns = EINVAL,
};

FIXTURE_VARIANT_ADD(own_pidns, userns_cap_cr_only) {
	.creds = { .name = "userns_cap_cr_only", .how = CR_USERNS,
		   .own_pidns = true, .perm_cr = true, .eff_cr = true },
	.expected_set_tid = 0,
	.expected_new_pidns = EPERM,
};

FIXTURE_VARIANT_ADD(own_pidns, userns_cap_sys_admin_only) {
	.creds = { .name = "userns_cap_sys_admin_only", .how = CR_USERNS,
		   .own_pidns = true, .perm_sys_admin = true,
		   .eff_sys_admin = true },
	.expected_set_tid = 0,
	.expected_new_pidns = EINVAL,
};

FIXTURE_VARIANT_ADD(own_pidns, userns_cap_cr_permitted_only) {
	.creds = { .name = "userns_cap_cr_permitted_only", .how = CR_USERNS,
		   .own_pidns = true, .perm_cr = true },
	.expected_set_tid = EPERM,
	.expected_new_pidns = EPERM,
};

FIXTURE_VARIANT_ADD(own_pidns, userns_no_caps) {
	.creds = { .name = "userns_no_caps", .how = CR_USERNS,
		   .own_pidns = true },
	.expected_set_tid = EPERM,
	.expected_new_pidns = EPERM,
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

	check_set_tid(_metadata, &variant->creds, &w, variant->expected_set_tid,
		      1, tids, false);
}

TEST_F(own_pidns, new_pidns_init_at_pid_1)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 2, .pids = { 1, 322 },
					 .flags = SET_TID_NEWPID } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected_new_pidns, &res,
		  set_tid_wrong(&res, 0));
}

TEST_HARNESS_MAIN
