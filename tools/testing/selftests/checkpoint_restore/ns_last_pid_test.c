// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/kernel/ns_last_pid: the file is world-writable, the handler
 * asks for CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user namespace
 * owning the writer's PID namespace.  Every write happens in a PID
 * namespace the test made; the host's ns_last_pid is never written.
 */

#include "ops.h"

static void check_write(struct __test_metadata *_metadata,
			const struct cr_creds *creds, const struct cr_world *w,
			long value)
{
	struct cr_op op = { .id = OP_NS_LAST_PID_WRITE, .arg = { value } };
	struct cr_result res;

	if (access(NS_LAST_PID, F_OK))
		SKIP(return, "no " NS_LAST_PID " (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(w, creds, &op,
		     cr_creds_allowed(creds, CR_SCOPE_TEST_NS) ? 0 : EPERM);
	if (cr_creds_allowed(creds, CR_SCOPE_TEST_NS)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("%s failed: %s", res.what, strerror(res.err));
		}
		ASSERT_EQ(value + 1, res.val[0]) {
			TH_LOG("the fork after writing %ld did not land on the next PID",
			       value);
		}
	} else {
		ASSERT_EQ(EPERM, res.err) {
			TH_LOG("%s: %s, expected EPERM from the write",
			       res.what, res.err ? strerror(res.err) : "success");
		}
	}
}

#define CR_FIXTURE ns_last_pid
#include "creds_fixture.h"

TEST_F(ns_last_pid, write_then_fork_lands_on_next_pid)
{
	const struct cr_world w = { .pidns_depth = 1 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_write(_metadata, &variant->creds, &w, 499);
}

TEST_F(ns_last_pid, write_in_innermost_of_two_levels)
{
	const struct cr_world w = { .pidns_depth = 2 };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_write(_metadata, &variant->creds, &w, 1233);
}

TEST_F(ns_last_pid, write_in_pidns_owned_by_child_userns)
{
	const struct cr_world w = { .pidns_depth = 1,
				    .pidns_in_child_userns = true };

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	check_write(_metadata, &variant->creds, &w, 876);
}

/* Reading is open to everybody: the capability guards writes only. */
TEST_F(ns_last_pid, read_needs_no_capability)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_NS_LAST_PID_READ };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	if (access(NS_LAST_PID, F_OK))
		SKIP(return, "no " NS_LAST_PID " (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op, 0);
	ASSERT_EQ(0, res.err);
	/* The namespace's init is PID 1; the runner itself may follow. */
	ASSERT_LE(1, res.val[0]);
	ASSERT_GE(2, res.val[0]);
}

TEST_HARNESS_MAIN
