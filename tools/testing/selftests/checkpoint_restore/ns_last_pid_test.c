// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/kernel/ns_last_pid: the file is world-writable, the handler
 * asks for CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the user namespace
 * owning the writer's PID namespace.  Every write happens in a PID
 * namespace the test made; the host's ns_last_pid is never written.
 */

#include "common.h"

#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

enum {
	OP_WRITE_THEN_FORK,	/* arg0: value written */
	OP_READ,
};

static int op_write_then_fork(const struct cr_op *op, struct cr_result *res)
{
	char buf[32];
	int fd, len;
	pid_t pid;

	if (!cr_in_test_pidns()) {
		errno = ECANCELED;
		return cr_fail(res, "not inside a PID namespace of the test");
	}
	fd = open(NS_LAST_PID, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cr_fail(res, "open(" NS_LAST_PID ")");
	len = snprintf(buf, sizeof(buf), "%ld", op->arg[0]);
	if (write(fd, buf, len) != len) {
		close(fd);
		return cr_fail(res, "write(" NS_LAST_PID ")");
	}
	close(fd);
	pid = fork();
	if (pid < 0)
		return cr_fail(res, "fork");
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	res->val[0] = pid;
	return 0;
}

static int op_read(const struct cr_op *op, struct cr_result *res)
{
	FILE *f = fopen(NS_LAST_PID, "r");

	if (!f)
		return cr_fail(res, "fopen(" NS_LAST_PID ")");
	if (fscanf(f, "%ld", &res->val[0]) != 1) {
		fclose(f);
		errno = EIO;
		return cr_fail(res, "parsing " NS_LAST_PID);
	}
	fclose(f);
	return 0;
}

static int cr_dispatch(const struct cr_op *op, struct cr_result *res)
{
	switch (op->id) {
	case OP_WRITE_THEN_FORK:
		return op_write_then_fork(op, res);
	case OP_READ:
		return op_read(op, res);
	}
	errno = EINVAL;
	return cr_fail(res, "unknown operation");
}

static void check_write(struct __test_metadata *_metadata,
			const struct cr_creds *creds, const struct cr_world *w,
			long value)
{
	struct cr_op op = { .id = OP_WRITE_THEN_FORK, .arg = { value } };
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

CR_CREDS_FIXTURE(ns_last_pid);

TEST_F(ns_last_pid, write_then_fork_lands_on_next_pid)
{
	const struct cr_world w = { .pidns_depth = 1 };

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	check_write(_metadata, &variant->creds, &w, 499);
}

TEST_F(ns_last_pid, write_in_innermost_of_two_levels)
{
	const struct cr_world w = { .pidns_depth = 2 };

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	check_write(_metadata, &variant->creds, &w, 1233);
}

TEST_F(ns_last_pid, write_in_pidns_owned_by_child_userns)
{
	const struct cr_world w = { .pidns_depth = 1,
				    .pidns_in_child_userns = true };

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	check_write(_metadata, &variant->creds, &w, 876);
}

/* Reading is open to everybody: the capability guards writes only. */
TEST_F(ns_last_pid, read_needs_no_capability)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_READ };
	struct cr_result res;

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	if (access(NS_LAST_PID, F_OK))
		SKIP(return, "no " NS_LAST_PID " (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op, 0);
	ASSERT_EQ(0, res.err);
	/* The namespace's init is PID 1; the runner itself may follow. */
	ASSERT_LE(1, res.val[0]);
	ASSERT_GE(2, res.val[0]);
}

TEST_HARNESS_MAIN
