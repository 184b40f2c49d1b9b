// SPDX-License-Identifier: GPL-2.0
/*
 * CAP_CHECKPOINT_RESTORE is a narrow capability: it must not open what
 * still needs CAP_SYS_ADMIN.  Each operation runs in a namespace the test
 * made as root (owned by the initial user namespace), so the kernel asks
 * for CAP_SYS_ADMIN there exactly as it would in the initial namespaces,
 * and a regression could not change the host.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include "common.h"

static void check_sys_admin_only(struct __test_metadata *_metadata,
				 const struct cr_creds *c, struct cr_op *op,
				 int expected)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_result res;

	if (cr_unsupported(c))
		SKIP(return, "%s", cr_unsupported(c));
	res = cr_run(&w, c, op);
	cr_expect(c, expected, &res, NULL);
}

#define CR_FIXTURE no_overgrant
#include "creds_fixture.h"

TEST_F(no_overgrant, mount_needs_cap_sys_admin)
{
	struct cr_op op = { .id = OP_MOUNT_TMPFS };

	check_sys_admin_only(_metadata, &variant->creds, &op,
			     variant->expected_sys_admin_only);
}

TEST_F(no_overgrant, sethostname_needs_cap_sys_admin)
{
	struct cr_op op = { .id = OP_SETHOSTNAME };

	check_sys_admin_only(_metadata, &variant->creds, &op,
			     variant->expected_sys_admin_only);
}

TEST_F(no_overgrant, ptrace_suspend_seccomp_needs_cap_sys_admin)
{
	struct cr_op seize = { .id = OP_SEIZE };
	struct cr_op op = { .id = OP_SEIZE,
			    .seize = { .options = PTRACE_O_SUSPEND_SECCOMP } };
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	/* Attaching without the option works: what follows is about it. */
	res = cr_run(&w, &variant->creds, &seize);
	if (res.err == EPERM)
		SKIP(return, "cannot ptrace our own child here (Yama ptrace_scope 3?)");
	ASSERT_EQ(0, res.err) {
		TH_LOG("%s: %s", res.what, strerror(res.err));
	}
	check_sys_admin_only(_metadata, &variant->creds, &op,
			     variant->expected_sys_admin_only);
}

TEST_HARNESS_MAIN
