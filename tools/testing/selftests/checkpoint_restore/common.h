/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restore capability selftests: shared helpers.
 *
 * Every test follows the same pattern:
 *
 *   1. As root, build a throw-away world for the operation: fresh PID
 *      namespaces (optionally owned by a user namespace made by root), a
 *      fresh IPC and UTS namespace, and a private mount namespace with a
 *      tmpfs on /tmp.  Nothing outside these namespaces is changed.
 *   2. Switch to the credentials of the fixture variant (uid 65534 with a
 *      given capability set, a file capability, an ambient capability, or
 *      root of a new user namespace).
 *   3. Run one operation and report its errno (and what it observed) back
 *      through a pipe.
 *
 * The test body then compares the errno with the one the variant must get.
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H
#define _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/types.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "cr_clone3.h"
#include "cr_creds.h"

/* ------------------------------------------------------------------ */
/* Operations run under the variant's credentials                     */
/* ------------------------------------------------------------------ */

#define CR_OP_ARGS 6

struct cr_op {
	int id;
	long arg[CR_OP_ARGS];
};

struct cr_result {
	/* 0 on success, else the errno of the operation. */
	int err;
	/* What the operation observed (operation specific). */
	long val[4];
	/* The step that failed, for the test log. */
	char what[96];
	/* Set when switching credentials failed: not the operation's answer. */
	int setup_failed;
};

/* Runs one operation; ops.h has the one every test uses. */
typedef int (*cr_dispatch_fn)(const struct cr_op *op, struct cr_result *res);

static inline int cr_fail(struct cr_result *res, const char *what)
{
	int err = errno ? errno : EIO;

	snprintf(res->what, sizeof(res->what), "%s", what);
	res->err = err;
	return err;
}

/* Our credential changes make us undumpable; /proc/self must stay ours. */
static inline void cr_dumpable(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

#define CR_DIR "/tmp"
#define CR_PLAIN_EXE CR_DIR "/cr_plain"
#define CR_FILECAP_EXE CR_DIR "/cr_filecap"
#define CR_HELPER "cr_helper"

/* The helper program, installed beside the test: an fd to copy it from. */
static inline int cr_open_helper(void)
{
	char src[4096];
	ssize_t n = readlink("/proc/self/exe", src, sizeof(src) - sizeof(CR_HELPER) - 1);
	char *slash;

	if (n < 0)
		return -1;
	src[n] = '\0';
	slash = strrchr(src, '/');
	snprintf(slash ? slash + 1 : src, sizeof(CR_HELPER), "%s", CR_HELPER);
	return open(src, O_RDONLY | O_CLOEXEC);
}

/*
 * Copy the helper (@in, from cr_open_helper()) to @path, mode 0755, with
 * the file capabilities @text: the file capability and ambient variants
 * exec it to run their operation.
 */
static inline int cr_copy_helper(int in, const char *path, const char *text)
{
	char buf[65536];
	int out, ret = 0;
	ssize_t n;

	if (in < 0 || lseek(in, 0, SEEK_SET))
		return -1;
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			ret = -1;
			break;
		}
	if (n < 0 || fchmod(out, 0755))
		ret = -1;
	close(out);
	if (!ret && text) {
		cap_t caps = cap_from_text(text);

		if (!caps)
			return -1;
		ret = cap_set_file(path, caps);
		cap_free(caps);
	}
	return ret;
}

/*
 * Private mount namespace with a fresh tmpfs on /tmp and, for the variants
 * that exec, copies of the helper program in it.  Only changes the
 * calling process.
 */
static inline void cr_private_tmp(struct __test_metadata *_metadata,
				  const struct cr_creds *c)
{
	/* Opened first: the suite itself may live under /tmp. */
	int helper = cr_open_helper();

	ASSERT_LE(0, helper) {
		TH_LOG("no %s beside the test: %s", CR_HELPER, strerror(errno));
	}
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("crcap", CR_DIR, "tmpfs", 0, "mode=1777,size=32m"));
	if (c->how == CR_AMBIENT || c->domain)
		ASSERT_EQ(0, cr_copy_helper(helper, CR_PLAIN_EXE, NULL));
	if (c->how == CR_FILE_CAP &&
	    cr_copy_helper(helper, CR_FILECAP_EXE, "cap_checkpoint_restore+ep")) {
		TH_LOG("cannot set a file capability on tmpfs: %s (missing CONFIG_TMPFS_XATTR?)",
		       strerror(errno));
		unlink(CR_FILECAP_EXE);
	}
	close(helper);
}

static inline void cr_die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

/* A pidfd for ourselves: children that must not outlive us poll it. */
static inline int cr_self_pidfd(void)
{
	return syscall(__NR_pidfd_open, getpid(), 0);
}

/*
 * In a child that only has to exist: sleep until the process behind
 * @pidfd (taken by the parent before fork()) is gone, then exit.  Unlike
 * PR_SET_PDEATHSIG alone, this cannot miss a parent that died before the
 * child got to run; an orphan would keep the test's output pipe open.
 */
static inline void cr_sleep_while_alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	cr_die_with_parent();
	if (pidfd < 0)
		for (;;)
			pause();
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/*
 * unshare(@flags) and start the init of the new PID namespace, which
 * sleeps until we die: afterwards our children are born into it.
 */
static inline int cr_spawn_init(int flags)
{
	pid_t pid;
	int pfd;

	if (unshare(flags))
		return -1;
	pfd = cr_self_pidfd();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		cr_sleep_while_alive(pfd);
	if (pfd >= 0)
		close(pfd);
	return 0;
}

static inline void cr_exec_helper(const char *exe, int fd,
				  const struct cr_op *op)
{
	char s[2 + CR_OP_ARGS][24];
	char *argv[3 + CR_OP_ARGS + 1];

	/* cr_helper RESULT-FD OP-ID ARG... (cr_helper.c) */
	argv[0] = (char *)exe;
	snprintf(s[0], sizeof(s[0]), "%d", fd);
	snprintf(s[1], sizeof(s[1]), "%d", op->id);
	argv[1] = s[0];
	argv[2] = s[1];
	for (int i = 0; i < CR_OP_ARGS; i++) {
		snprintf(s[2 + i], sizeof(s[2 + i]), "%ld", op->arg[i]);
		argv[3 + i] = s[2 + i];
	}
	argv[3 + CR_OP_ARGS] = NULL;
	execv(exe, argv);
}

/*
 * Switch to @c and run @op, writing the result to @fd.  Runs in a child
 * that is about to exit; returns only through _exit().
 */
static inline void cr_run_as(const struct cr_creds *c, const struct cr_op *op,
			     int fd, cr_dispatch_fn dispatch)
{
	struct cr_result res = {};
	bool eff_cr = c->eff_cr, eff_sa = c->eff_sys_admin;

	errno = 0;
	res.setup_failed = 1;
	if (cr_become_nobody()) {
		cr_fail(&res, "setresuid(65534)");
		goto out;
	}
	cr_dumpable();
	switch (c->how) {
	case CR_DIRECT:
		if (cr_set_caps(c->perm_cr, c->perm_sys_admin, eff_cr, eff_sa,
				false)) {
			cr_fail(&res, "cap_set_proc");
			goto out;
		}
		break;
	case CR_FILE_CAP:
		if (cr_set_caps(false, false, false, false, false)) {
			cr_fail(&res, "cap_set_proc");
			goto out;
		}
		cr_exec_helper(CR_FILECAP_EXE, fd, op);
		cr_fail(&res, "execv(" CR_FILECAP_EXE ")");
		goto out;
	case CR_AMBIENT:
		if (cr_raise_ambient(c->perm_sys_admin)) {
			cr_fail(&res, "raising the ambient capability");
			goto out;
		}
		if (c->domain && cr_set_exec_domain(c->domain)) {
			cr_fail(&res, "writing /proc/thread-self/attr/exec");
			goto out;
		}
		cr_exec_helper(CR_PLAIN_EXE, fd, op);
		cr_fail(&res, "execv(" CR_PLAIN_EXE ")");
		goto out;
	case CR_USERNS:
		if (cr_set_caps(false, false, false, false, false) ||
		    cr_enter_userns()) {
			cr_fail(&res, "entering a new user namespace");
			goto out;
		}
		if (c->own_pidns && cr_spawn_init(CLONE_NEWPID | CLONE_NEWIPC)) {
			cr_fail(&res, "creating a PID namespace in the user namespace");
			goto out;
		}
		if (cr_set_caps(c->perm_cr, c->perm_sys_admin, eff_cr, eff_sa,
				false)) {
			cr_fail(&res, "cap_set_proc in the user namespace");
			goto out;
		}
		if (c->domain) {
			/* Root of the user namespace keeps its set across exec. */
			if (cr_set_exec_domain(c->domain)) {
				cr_fail(&res, "writing /proc/thread-self/attr/exec");
				goto out;
			}
			cr_exec_helper(CR_PLAIN_EXE, fd, op);
			cr_fail(&res, "execv(" CR_PLAIN_EXE ")");
			goto out;
		}
		break;
	}
	errno = 0;
	res.setup_failed = 0;
	dispatch(op, &res);
out:
	if (write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(0);
}

/* The world a test builds as root before switching credentials. */
struct cr_world {
	/* Fresh PID namespaces nested below the test's own (1 to 3). */
	int pidns_depth;
	/*
	 * The innermost PID namespace is owned by a user namespace that
	 * root created (a child of the initial one).
	 */
	bool pidns_in_child_userns;
};

/*
 * Make @pidns a PID namespace owned by a new user namespace, and make it
 * the one our children are born into.  The namespace's init is a child
 * of a helper that dies with us.
 */
static inline int cr_setns_child_userns_pidns(void)
{
	int sync[2], fd, pfd;
	char path[64], c;
	pid_t helper;

	if (pipe2(sync, O_CLOEXEC))
		return -1;
	pfd = cr_self_pidfd();
	helper = fork();
	if (helper < 0)
		return -1;
	if (helper == 0) {
		int hpfd;

		cr_die_with_parent();
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID))
			_exit(1);
		hpfd = cr_self_pidfd();
		if (fork() == 0)
			cr_sleep_while_alive(hpfd);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		cr_sleep_while_alive(pfd);
	}
	if (pfd >= 0)
		close(pfd);
	close(sync[1]);
	if (read(sync[0], &c, 1) != 1)
		return -1;
	close(sync[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid_for_children", helper);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (setns(fd, CLONE_NEWPID)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Wait for @pid and leave with its exit status. */
static inline void cr_relay_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		_exit(3);
	_exit(WEXITSTATUS(status));
}

/*
 * Build the world described by @w, switch to @c and run @op in it.
 * Returns the result; a setup failure is reported as a test failure.
 */
static inline void __cr_report(struct __test_metadata *_metadata,
			       const struct cr_creds *c, int expected,
			       int observed);

static inline struct cr_result __cr_run(struct __test_metadata *_metadata,
					const struct cr_world *w,
					const struct cr_creds *c,
					const struct cr_op *op, int expected,
					cr_dispatch_fn dispatch)
{
	struct cr_result res = { .err = -1 };
	int pipefd[2], status;
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
		cr_die_with_parent();
		if (unshare(CLONE_NEWIPC | CLONE_NEWUTS))
			_exit(10);
		for (int level = 1; level <= w->pidns_depth; level++) {
			if (level == w->pidns_depth && w->pidns_in_child_userns) {
				if (cr_setns_child_userns_pidns())
					_exit(11);
			} else if (unshare(CLONE_NEWPID)) {
				_exit(12);
			}
			pid = fork();
			if (pid < 0)
				_exit(13);
			if (pid > 0)
				cr_relay_exit(pid);
			cr_die_with_parent();
		}
		cr_run_as(c, op, pipefd[1], dispatch);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &res, sizeof(res)) != sizeof(res))
		res.err = -1;
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(true, WIFEXITED(status)) {
		TH_LOG("the operation's process died: status %#x", status);
	}
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("setting up the namespaces failed at step %d",
		       WEXITSTATUS(status));
	}
	EXPECT_NE(-1, res.err) {
		TH_LOG("the operation reported no result");
	}
	EXPECT_EQ(0, res.setup_failed) {
		TH_LOG("switching credentials failed at \"%s\": %s", res.what,
		       strerror(res.err));
	}
	__cr_report(_metadata, c, expected, res.err);
	return res;
}

/*
 * Run @op under @c in @w; @expected (0 or an errno) is only reported for
 * the results table, the caller asserts.
 */
/* cr_run(): ops.h, with the dispatcher of every operation. */

/* Skips a test whose variant needs what this kernel or system lacks. */

/*
 * Why the variant @creds cannot run here, or NULL: on a kernel without
 * capability 40 the variants that use it SKIP; the others still run (and
 * see the kernel's older behaviour).
 */
static inline const char *cr_unsupported(const struct cr_creds *creds)
{
	if (cr_cap_last_cap() < CAP_CHECKPOINT_RESTORE && cr_creds_use_cr(creds))
		return "kernel lacks CAP_CHECKPOINT_RESTORE (cap_last_cap < 40)";
	if (creds->how == CR_FILE_CAP && access(CR_FILECAP_EXE, X_OK))
		return "no file capabilities on tmpfs (missing CONFIG_TMPFS_XATTR?)";
	return NULL;
}

/*
 * One diagnostic line per case with what the operation got, for whoever
 * reads the log (and tables built from it):
 *   # <fixture>.<variant>.<test>: expected <errno>, observed <errno>
 */
static inline const char *cr_errname(int err)
{
	switch (err) {
	case 0:		return "ok";
	case EPERM:	return "EPERM";
	case EACCES:	return "EACCES";
	case EINVAL:	return "EINVAL";
	case EEXIST:	return "EEXIST";
	case EFAULT:	return "EFAULT";
	case EBUSY:	return "EBUSY";
	}
	return strerror(err);
}

static inline void __cr_report(struct __test_metadata *_metadata,
			       const struct cr_creds *c, int expected,
			       int observed)
{
	ksft_print_msg("%s.%s.%s: expected %s, observed %s\n", _metadata->fixture->name,
		       c->name ? c->name : "-", _metadata->name, cr_errname(expected),
		       cr_errname(observed));
	fflush(stdout);
}

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H */
