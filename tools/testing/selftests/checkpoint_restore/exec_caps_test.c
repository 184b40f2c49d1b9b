// SPDX-License-Identifier: GPL-2.0
/*
 * The capability gained at execve(), and the ways execve() withholds it:
 * a file capability that is permitted but not effective, one outside the
 * bounding set (the exec itself is refused), one under no_new_privs, and
 * root under SECBIT_NOROOT.  Each exec'd program runs set_tid and opens a
 * map_files link; what it must get is written per variant.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <string.h>

#include "common.h"

FIXTURE(exec_caps) {};

FIXTURE_VARIANT(exec_caps) {
	struct cr_creds creds;
	int expected;
	/* The step that refuses, when it is not the operation. */
	const char *expected_refused_by;
};

FIXTURE_VARIANT_ADD(exec_caps, file_cap_effective) {
	.creds = { .name = "file_cap_effective", .how = CR_FILE_CAP,
		   .fcap = CR_FCAP_EFFECTIVE },
	.expected = 0,
};

/* +p: permitted after the exec, never raised: the program is not aware. */
FIXTURE_VARIANT_ADD(exec_caps, file_cap_permitted_only) {
	.creds = { .name = "file_cap_permitted_only", .how = CR_FILE_CAP,
		   .fcap = CR_FCAP_PERMITTED_ONLY },
	.expected = EPERM,
};

/* +ep the exec cannot grant: execve() fails rather than run without. */
FIXTURE_VARIANT_ADD(exec_caps, file_cap_not_in_bounding_set) {
	.creds = { .name = "file_cap_not_in_bounding_set", .how = CR_FILE_CAP,
		   .fcap = CR_FCAP_NOT_IN_BOUNDING_SET },
	.expected = EPERM,
	.expected_refused_by = "execv",
};

FIXTURE_VARIANT_ADD(exec_caps, file_cap_under_no_new_privs) {
	.creds = { .name = "file_cap_under_no_new_privs", .how = CR_FILE_CAP,
		   .fcap = CR_FCAP_NO_NEW_PRIVS },
	.expected = EPERM,
};

/* uid 0 whose exec no longer makes it privileged. */
FIXTURE_VARIANT_ADD(exec_caps, root_with_secbit_noroot) {
	.creds = { .name = "root_with_secbit_noroot", .how = CR_ROOT_NOROOT },
	.expected = EPERM,
};

FIXTURE_SETUP(exec_caps)
{
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(exec_caps) {}

static const char *refused_by_wrong(const FIXTURE_VARIANT(exec_caps) * v,
				    const struct cr_result *res)
{
	const char *by = v->expected_refused_by;

	if (!res->err)
		return NULL;
	if (by && strncmp(res->what, by, strlen(by)))
		return "the operation ran: the exec should have been refused";
	if (!by && !strncmp(res->what, "execv", 5))
		return "the exec was refused";
	return NULL;
}

TEST_F(exec_caps, set_tid)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 123 } } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected, &res,
		  refused_by_wrong(variant, &res) ?: set_tid_wrong(&res, 123));
}

TEST_F(exec_caps, map_files_open)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_MAP_FILES,
			    .map_files = { .kind = MAP_DELETED_FILE,
					   .target = MAP_TARGET_CHILD } };
	struct cr_result res;

	if (cr_unsupported(&variant->creds))
		SKIP(return, "%s", cr_unsupported(&variant->creds));
	res = cr_run(&w, &variant->creds, &op);
	cr_expect(&variant->creds, variant->expected, &res,
		  refused_by_wrong(variant, &res) ?: map_files_wrong(&res));
}

TEST_HARNESS_MAIN
