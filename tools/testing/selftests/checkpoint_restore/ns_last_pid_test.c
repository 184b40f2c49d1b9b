// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/kernel/ns_last_pid: the file is world-writable, the handler
 * asks for CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user namespace
 * owning the writer's PID namespace.  Every write happens in a PID
 * namespace the test made; the host's ns_last_pid is never written.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <unistd.h>

#include "common.h"

/* Write @value (pid_max + @value if @past_pid_max) and fork. */
static void check_write(struct __test_metadata *_metadata,
			const struct cr_creds *creds, const struct cr_world *w,
			long value, bool past_pid_max, int expected)
{
	struct cr_op op = { .id = OP_NS_LAST_PID_WRITE,
			    .ns_last_pid = { .value = value,
					     .past_pid_max = past_pid_max } };
	struct cr_result res;

	if (cr_unsupported(creds))
		SKIP(return, "%s", cr_unsupported(creds));
	if (access(NS_LAST_PID, F_OK))
		SKIP(return, "no " NS_LAST_PID " (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(w, creds, &op);
	cr_expect(creds, expected, &res,
		  value_wrong(&res, value + 1, res.val[0], "the next fork got PID"));
}

#define CR_FIXTURE ns_last_pid
#include "creds_fixture.h"

TEST_F(ns_last_pid, write_then_fork_lands_on_next_pid)
{
	const struct cr_world w = { .pidns_depth = 1 };

	check_write(_metadata, &variant->creds, &w, 499, false,
		    variant->expected_ns_last_pid);
}

TEST_F(ns_last_pid, write_in_innermost_of_two_levels)
{
	const struct cr_world w = { .pidns_depth = 2 };

	check_write(_metadata, &variant->creds, &w, 1233, false,
		    variant->expected_ns_last_pid);
}

TEST_F(ns_last_pid, write_in_pidns_owned_by_child_userns)
{
	const struct cr_world w = { .pidns_depth = 1,
				    .pidns_in_child_userns = true };

	check_write(_metadata, &variant->creds, &w, 876, false,
		    variant->expected_ns_last_pid);
}

/* Out of range: refused by the value check, after the capability one. */
TEST_F(ns_last_pid, negative_value_is_einval)
{
	const struct cr_world w = { .pidns_depth = 1 };

	check_write(_metadata, &variant->creds, &w, -1, false,
		    variant->expected_ns_last_pid ?: EINVAL);
}

TEST_F(ns_last_pid, value_past_pid_max_is_einval)
{
	const struct cr_world w = { .pidns_depth = 1 };

	check_write(_metadata, &variant->creds, &w, 1, true,
		    variant->expected_ns_last_pid ?: EINVAL);
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
	res = cr_run(&w, &variant->creds, &op);
	/* The namespace's init is PID 1; the runner itself may follow. */
	cr_expect(&variant->creds, 0, &res,
		  res.val[0] < 1 || res.val[0] > 2 ? "a last PID other than 1 or 2" : NULL);
}

TEST_HARNESS_MAIN
