// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/map_files/: reading a link needs only ptrace read access,
 * following it (open) needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the
 * initial user namespace.  This is how a dumper reaches the contents of a
 * memfd or a deleted file that is mapped by the process it checkpoints.
 * The capability opens the link, not the process: ptrace access checks
 * still stand before it.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "common.h"

static void check_map_files(struct __test_metadata *_metadata,
			    const struct cr_creds *creds,
			    const struct cr_world *w, enum map_kind kind,
			    enum map_target target, int expected)
{
	struct cr_op op = { .id = OP_MAP_FILES,
			    .map_files = { .kind = kind, .target = target } };
	struct cr_result res;

	if (cr_unsupported(creds))
		SKIP(return, "%s", cr_unsupported(creds));
	res = cr_run(w, creds, &op);
	cr_expect(creds, expected, &res, map_files_wrong(&res));
}

#define CR_FIXTURE map_files
#include "creds_fixture.h"

TEST_F(map_files, open_memfd_of_other_process)
{
	const struct cr_world w = { .pidns_depth = 1 };

	check_map_files(_metadata, &variant->creds, &w, MAP_MEMFD,
			MAP_TARGET_CHILD, variant->expected_map_files);
}

TEST_F(map_files, open_deleted_file_of_other_process)
{
	const struct cr_world w = { .pidns_depth = 1 };

	check_map_files(_metadata, &variant->creds, &w, MAP_DELETED_FILE,
			MAP_TARGET_CHILD, variant->expected_map_files);
}

/*
 * A process of another uid: its map_files directory (mode 0500, owned by
 * it) is closed to every variant, whatever capability it holds.
 */
TEST_F(map_files, process_of_other_uid_is_eacces)
{
	const struct cr_world w = { .pidns_depth = 1,
				    .other_uid_target = true };

	check_map_files(_metadata, &variant->creds, &w, MAP_MEMFD,
			MAP_TARGET_OTHER_UID, EACCES);
}

/*
 * A non-dumpable child of the caller's own uid: the directory belongs to
 * root now, and ptrace access would need CAP_SYS_PTRACE: EACCES for all.
 */
TEST_F(map_files, non_dumpable_process_is_eacces)
{
	const struct cr_world w = { .pidns_depth = 1 };

	check_map_files(_metadata, &variant->creds, &w, MAP_MEMFD,
			MAP_TARGET_CHILD_NOT_DUMPABLE, EACCES);
}

TEST_HARNESS_MAIN
