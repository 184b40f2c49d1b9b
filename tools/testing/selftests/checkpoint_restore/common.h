/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restore capability selftests: what the tests use of the
 * harness's _metadata.  The operations are ops.h's, the world they run in
 * cr_ns.h's, the credentials cr_creds.h's; all linked into every program.
 *
 * A test describes the namespaces it needs (struct cr_world), runs one
 * operation in them under the variant's credentials (cr_run()) and
 * compares the errno, and what the operation left behind, with what the
 * variant must get (cr_expect()).
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H
#define _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "cr_clone3.h"
#include "cr_creds.h"
#include "cr_ns.h"
#include "ops.h"

/*
 * Private mount namespace with a fresh tmpfs on /tmp and, for the variants
 * that exec, copies of the helper program in it.  Only changes the
 * calling process.
 */
static inline void cr_private_tmp(struct __test_metadata *_metadata,
				  const struct cr_creds *c)
{
	int helper;

	if (geteuid())
		SKIP(return, "%s", CR_NEEDS_ROOT);
	/* Opened first: the suite itself may live under /tmp. */
	helper = cr_open_helper();
	ASSERT_LE(0, helper) {
		TH_LOG("no %s beside the test: %s", CR_HELPER, strerror(errno));
	}
	ASSERT_EQ(0, unshare(CLONE_NEWNS)) {
		TH_LOG("setup: unshare(CLONE_NEWNS): %s", strerror(errno));
	}
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		TH_LOG("setup: making / private: %s", strerror(errno));
	}
	ASSERT_EQ(0, mount("crcap", CR_DIR, "tmpfs", 0, "mode=1777,size=32m")) {
		TH_LOG("setup: mounting a tmpfs on " CR_DIR ": %s", strerror(errno));
	}
	if (c->how == CR_AMBIENT || c->how == CR_ROOT_NOROOT || c->domain) {
		ASSERT_EQ(0, cr_copy_helper(helper, CR_PLAIN_EXE, NULL)) {
			TH_LOG("setup: copying %s to " CR_PLAIN_EXE ": %s",
			       CR_HELPER, strerror(errno));
		}
	}
	if (c->how == CR_FILE_CAP &&
	    (cr_copy_helper(helper, CR_FILECAP_EXE, "cap_checkpoint_restore+ep") ||
	     cr_copy_helper(helper, CR_FILECAP_P_EXE, "cap_checkpoint_restore+p"))) {
		TH_LOG("cannot set a file capability on tmpfs: %s (missing CONFIG_TMPFS_XATTR?)",
		       strerror(errno));
		unlink(CR_FILECAP_EXE);
	}
	close(helper);
}

/*
 * Build the world described by @w, switch to @c and run @op in it
 * (cr_run_in_world(), in a child).  Returns the result; a setup failure is
 * reported as a test failure, with the step that failed and why.
 * Whether the result is the expected one is cr_expect()'s to say.
 */
static inline struct cr_result __cr_run(struct __test_metadata *_metadata,
					const struct cr_world *w,
					const struct cr_creds *c,
					const struct cr_op *op)
{
	struct cr_result res = { .err = -1 };
	int pipefd[2], status;
	bool reported;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd)) {
		return res;
	}
	pid = fork();
	ASSERT_LE(0, pid) {
		return res;
	}
	if (pid == 0) {
		close(pipefd[0]);
		cr_run_in_world(w, c, op, pipefd[1]);
	}
	close(pipefd[1]);
	reported = read(pipefd[0], &res, sizeof(res)) == sizeof(res);
	if (!reported)
		res.err = -1;
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(true, WIFEXITED(status)) {
		TH_LOG("the operation's process died: status %#x", status);
	}
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("the operation's process exited with %d%s",
		       WEXITSTATUS(status),
		       WEXITSTATUS(status) == CR_EXIT_LEVEL_DIED ?
		       ": a process of its PID namespaces was killed" :
		       WEXITSTATUS(status) == CR_EXIT_NO_REPORT ?
		       ": it could not write its result" : "");
	}
	EXPECT_EQ(true, reported) {
		TH_LOG("the operation reported no result");
	}
	EXPECT_EQ(0, res.setup_failed) {
		TH_LOG("setup: %s", res.what);
	}
	return res;
}

/* Run @op in world @w as @c; cr_expect() judges the result. */
#define cr_run(w, c, op) __cr_run(_metadata, w, c, op)

/*
 * The verdict on one case, from its whole outcome: the errno the
 * operation got (0: it succeeded) and, when @wrong is not NULL, what in
 * its effect differs from what the operation must do (a success on the
 * wrong PID, a refusal that still created something).  One diagnostic
 * line per case, for whoever reads the log and for tables built from it:
 *   # <fixture>.<variant>.<test>: expected <outcome>, observed <outcome>
 * where an outcome is "ok" or the errno's name, followed by " but ..."
 * when the effect is wrong.
 */
static inline void __cr_expect(struct __test_metadata *_metadata,
			       const char *variant, int expected,
			       const struct cr_result *res, const char *wrong)
{
	char seen[CR_WHAT_LEN + 32];

	snprintf(seen, sizeof(seen), "%s%s%s", cr_errname(res->err),
		 wrong ? " but " : "", wrong ? wrong : "");
	ksft_print_msg("%s.%s.%s: expected %s, observed %s\n",
		       _metadata->fixture->name, variant ? variant : "-",
		       _metadata->name, cr_errname(expected), seen);
	fflush(stdout);
	ASSERT_STREQ(cr_errname(expected), seen) {
		if (res->err && !res->setup_failed)
			TH_LOG("refused at \"%s\": %s", res->what,
			       strerror(res->err));
	}
}

#define cr_expect(c, expected, res, wrong) \
	__cr_expect(_metadata, (c)->name, expected, res, wrong)

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H */
