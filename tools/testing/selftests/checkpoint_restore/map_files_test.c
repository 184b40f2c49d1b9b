// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/map_files/: reading a link needs only ptrace read access,
 * following it (open) needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the
 * initial user namespace.  This is how a dumper reaches the contents of a
 * memfd or a deleted file that is mapped by the process it checkpoints.
 */

#include "ops.h"

static void check_map_files(struct __test_metadata *_metadata,
			    const struct cr_creds *creds, enum map_kind kind)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_MAP_FILES, .arg = { kind } };
	struct cr_result res;

	if (cr_unsupported(creds))
		SKIP(return, "%s", cr_unsupported(creds));
	res = cr_run(&w, creds, &op,
		     cr_creds_allowed(creds, CR_SCOPE_INIT_USERNS) ? 0 : EPERM);
	ASSERT_EQ(0, res.val[0]) {
		TH_LOG("readlink of map_files needs no capability, got %s",
		       strerror(res.val[0]));
	}
	ASSERT_EQ(1, res.val[1]) {
		TH_LOG("the link does not name a deleted object");
	}
	if (cr_creds_allowed(creds, CR_SCOPE_INIT_USERNS)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("%s: %s", res.what, strerror(res.err));
		}
		ASSERT_EQ(1, res.val[2]) {
			TH_LOG("opening the link did not give the mapped contents");
		}
	} else {
		ASSERT_EQ(EPERM, res.err) {
			TH_LOG("%s: %s, expected EPERM (counts in the initial user namespace only)",
			       res.what, res.err ? strerror(res.err) : "success");
		}
	}
}

#define CR_FIXTURE map_files
#include "creds_fixture.h"

TEST_F(map_files, open_memfd_of_other_process)
{
	check_map_files(_metadata, &variant->creds, MAP_MEMFD);
}

TEST_F(map_files, open_deleted_file_of_other_process)
{
	check_map_files(_metadata, &variant->creds, MAP_DELETED_FILE);
}

TEST_HARNESS_MAIN
