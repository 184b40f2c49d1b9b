// SPDX-License-Identifier: GPL-2.0
/*
 * The later users of checkpoint_restore_ns_capable():
 *  - TIOCSLCKTRMIOS (locking termios flags of a tty): the capability in
 *    the initial user namespace (6.8; Debian's 6.1 carries it too; a
 *    kernel without that part of the wiring fails here);
 *  - kernel.{msg,sem,shm}_next_id: writable with the capability in the
 *    user namespace owning the IPC namespace (5.16); without it the file
 *    opens read-only for others (EACCES), and no audit record is made.
 * All IPC writes happen in an IPC namespace the test made.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define CR_FIXTURE tty_ipc
#include "creds_fixture.h"

TEST_F(tty_ipc, tiocslcktrmios_locks_termios)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_LOCK_TERMIOS };
	const struct cr_creds *c = &variant->creds;
	struct cr_result res;
	int fd;

	if (cr_unsupported(c))
		SKIP(return, "%s", cr_unsupported(c));
	fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (fd < 0)
		SKIP(return, "no pseudo-terminals: %s (missing CONFIG_UNIX98_PTYS or devpts?)",
		     strerror(errno));
	close(fd);
	res = cr_run(&w, c, &op);
	cr_expect(c, variant->expected_lock_termios, &res,
		  !res.err && !res.val[0] ?
		  "TIOCGLCKTRMIOS does not read back the locked flags" : NULL);
}

static void check_next_id(struct __test_metadata *_metadata,
			  const struct cr_creds *c, enum ipc_kind kind,
			  long id, int expected)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_IPC_NEXT_ID,
			    .next_id = { .kind = kind, .id = id } };
	struct cr_result res;

	if (cr_unsupported(c))
		SKIP(return, "%s", cr_unsupported(c));
	if (access(next_id_file[kind], F_OK))
		SKIP(return, "no %s (missing CONFIG_CHECKPOINT_RESTORE or CONFIG_SYSVIPC?)",
		     next_id_file[kind]);
	if (!cr_kernel_at_least(5, 16))
		SKIP(return, "kernel before 5.16: *_next_id are root-only, not capability-gated");
	res = cr_run(&w, c, &op);
	cr_expect(c, expected, &res,
		  value_wrong(&res, id, res.val[0], "the new object got id"));
}

TEST_F(tty_ipc, msg_next_id)
{
	check_next_id(_metadata, &variant->creds, IPC_MSG, 4711,
		      variant->expected_next_id);
}

TEST_F(tty_ipc, sem_next_id)
{
	check_next_id(_metadata, &variant->creds, IPC_SEM, 815,
		      variant->expected_next_id);
}

TEST_F(tty_ipc, shm_next_id)
{
	check_next_id(_metadata, &variant->creds, IPC_SHM, 1234,
		      variant->expected_next_id);
}

TEST_HARNESS_MAIN
