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
#include <linux/securebits.h>
#include <poll.h>
#include <sys/mman.h>
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
#define CR_FILECAP_P_EXE CR_DIR "/cr_filecap_p"
#define CR_HELPER "cr_helper"
#define CR_NEEDS_ROOT \
	"needs root: the tests build their namespaces and switch credentials as root"

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
	int helper;

	if (geteuid())
		SKIP(return, "%s", CR_NEEDS_ROOT);
	/* Opened first: the suite itself may live under /tmp. */
	helper = cr_open_helper();
	ASSERT_LE(0, helper) {
		TH_LOG("no %s beside the test: %s", CR_HELPER, strerror(errno));
	}
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("crcap", CR_DIR, "tmpfs", 0, "mode=1777,size=32m"));
	if (c->how == CR_AMBIENT || c->how == CR_ROOT_NOROOT || c->domain)
		ASSERT_EQ(0, cr_copy_helper(helper, CR_PLAIN_EXE, NULL));
	if (c->how == CR_FILE_CAP &&
	    (cr_copy_helper(helper, CR_FILECAP_EXE, "cap_checkpoint_restore+ep") ||
	     cr_copy_helper(helper, CR_FILECAP_P_EXE, "cap_checkpoint_restore+p"))) {
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

/* Who owns a namespace of a user-namespace layout (struct cr_world). */
enum cr_owner {
	CR_OWNER_NONE,
	/* The initial user namespace: root made the namespace. */
	CR_OWNER_INIT,
	/*
	 * The caller's user namespace: a child of the initial one made by
	 * uid 65534, which CR_WORLD_USERNS variants enter as its root.
	 */
	CR_OWNER_CALLER,
	/*
	 * A sibling of it made by uid 65533: nobody the tests run as is
	 * privileged there but through the initial user namespace.
	 */
	CR_OWNER_OTHER,
};

#define CR_LEVELS 3
#define CR_OTHER_UID 65533

/* The world a test builds as root before switching credentials. */
struct cr_world {
	/* Fresh PID namespaces nested below the test's own (1 to 3). */
	int pidns_depth;
	/*
	 * The innermost PID namespace is owned by a user namespace that
	 * root created (a child of the initial one).
	 */
	bool pidns_in_child_userns;
	/*
	 * A user-namespace layout instead: the owner of each PID namespace
	 * level, outermost first.  The operation runs in the innermost one
	 * (PID 2 there, after its init), in an IPC namespace owned by
	 * @ipc_owner (or the initial user namespace).
	 */
	enum cr_owner owner[CR_LEVELS];
	enum cr_owner ipc_owner;
	/*
	 * One more PID namespace, below the innermost, owned by
	 * @setns_owner: not entered, its fd left for the operation to
	 * setns() into (cr_layout.setns_pidns_fd).
	 */
	enum cr_owner setns_owner;
	/*
	 * The innermost level's init has exited: the operation runs one
	 * level up, with its children due in the dead namespace.
	 */
	bool innermost_init_dead;
	/*
	 * A process of uid 65533 mapping a memfd, for the operation to look
	 * at: its PID and the mapping's address become op->arg[2] and [3].
	 */
	bool other_uid_target;
};

/* What the world left the operation's process. */
static struct {
	int caller_userns_fd;
	int setns_pidns_fd;
	long target_pid;
	unsigned long target_addr;
} cr_layout = { -1, -1, 0, 0 };

static inline bool cr_world_is_layout(const struct cr_world *w)
{
	return w->owner[0] != CR_OWNER_NONE;
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
	if (c->how == CR_FILE_CAP && c->fcap == CR_FCAP_NOT_IN_BOUNDING_SET &&
	    prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE, 0, 0, 0)) {
		cr_fail(&res, "prctl(PR_CAPBSET_DROP)");
		goto out;
	}
	if (c->how == CR_WORLD_USERNS) {
		/* Root of the user namespace uid 65534 made, and only there. */
		if (setgroups(0, NULL) ||
		    setns(cr_layout.caller_userns_fd, CLONE_NEWUSER) ||
		    setresgid(0, 0, 0) || setresuid(0, 0, 0)) {
			cr_fail(&res, "entering the caller's user namespace");
			goto out;
		}
	} else if (c->how == CR_ROOT_NOROOT) {
		if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED,
			  0, 0, 0)) {
			cr_fail(&res, "prctl(PR_SET_SECUREBITS, SECBIT_NOROOT)");
			goto out;
		}
	} else if (cr_become_nobody()) {
		cr_fail(&res, "setresuid(65534)");
		goto out;
	}
	cr_dumpable();
	switch (c->how) {
	case CR_DIRECT:
	case CR_WORLD_USERNS:
		if (c->sys_resource ? cr_set_sys_resource_only() :
		    cr_set_caps(c->perm_cr, c->perm_sys_admin, eff_cr, eff_sa,
				false)) {
			cr_fail(&res, "cap_set_proc");
			goto out;
		}
		break;
	case CR_ROOT_NOROOT:
		if (cr_set_caps(false, false, false, false, false)) {
			cr_fail(&res, "cap_set_proc");
			goto out;
		}
		cr_exec_helper(CR_PLAIN_EXE, fd, op);
		cr_fail(&res, "execv(" CR_PLAIN_EXE ")");
		goto out;
	case CR_FILE_CAP:
		if (cr_set_caps(false, false, false, false, false)) {
			cr_fail(&res, "cap_set_proc");
			goto out;
		}
		if (c->fcap == CR_FCAP_NO_NEW_PRIVS &&
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
			cr_fail(&res, "prctl(PR_SET_NO_NEW_PRIVS)");
			goto out;
		}
		cr_exec_helper(c->fcap == CR_FCAP_PERMITTED_ONLY ?
			       CR_FILECAP_P_EXE : CR_FILECAP_EXE, fd, op);
		/* A file capability the exec cannot grant refuses the exec. */
		cr_fail(&res, "execv(" CR_FILECAP_EXE ")");
		res.setup_failed = c->fcap != CR_FCAP_NOT_IN_BOUNDING_SET;
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

static inline int cr_wait_byte(int fd)
{
	char c;
	int ret = read(fd, &c, 1) == 1 ? 0 : -1;

	close(fd);
	return ret;
}

static inline int cr_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = -1;
	ssize_t len = strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) == len)
		ret = 0;
	close(fd);
	return ret;
}

/*
 * A user namespace made by @owner (its creator: privileged in it from the
 * parent namespace), mapping root there to @owner.  Returns an fd for it.
 * The process holding it lives as long as the one behind @pfd.
 */
static inline int cr_make_userns(uid_t owner, int pfd)
{
	char path[64], map[32];
	int sync[2], fd = -1;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		cr_die_with_parent();
		if (setgroups(0, NULL) || setresgid(owner, owner, owner) ||
		    setresuid(owner, owner, owner) || unshare(CLONE_NEWUSER) ||
		    write(sync[1], "x", 1) != 1)
			_exit(1);
		cr_sleep_while_alive(pfd);
	}
	close(sync[1]);
	if (cr_wait_byte(sync[0]))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", owner);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	if (cr_write_file(path, map))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	if (cr_write_file(path, map))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/*
 * A namespace of type @nstype owned by @userns_fd (-1: the initial user
 * namespace); a PID namespace is a child of the one our children are born
 * into and gets an init that lives as long as the process behind @pfd, or
 * has already exited if @dead.  Returns an fd for it.
 */
static inline int cr_make_ns(int nstype, int userns_fd, bool dead, int pfd)
{
	int sync[2];
	char path[64];
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		pid_t init;

		cr_die_with_parent();
		if ((userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER)) ||
		    unshare(nstype))
			_exit(1);
		if (nstype == CLONE_NEWPID) {
			init = fork();
			if (init < 0)
				_exit(1);
			if (init == 0) {
				if (dead)
					_exit(0);
				cr_sleep_while_alive(pfd);
			}
			if (dead && waitpid(init, NULL, 0) != init)
				_exit(1);
		}
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		cr_sleep_while_alive(pfd);
	}
	close(sync[1]);
	if (cr_wait_byte(sync[0]))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid,
		 nstype == CLONE_NEWPID ? "pid_for_children" : "ipc");
	return open(path, O_RDONLY | O_CLOEXEC);
}

#define CR_TARGET_MAGIC "crcap foreign mapping"

/* A process of uid 65533 with a memfd mapped, as cr_layout describes. */
static inline int cr_make_other_uid_target(int pfd)
{
	struct { long pid; unsigned long addr; } t = { -1, 0 };
	int sync[2];
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char link[32];
		int fd = memfd_create("crcap-other", MFD_CLOEXEC);
		void *p;
		ssize_t n;

		cr_die_with_parent();
		if (fd < 0 || ftruncate(fd, 4096))
			_exit(1);
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(1);
		memcpy(p, CR_TARGET_MAGIC, sizeof(CR_TARGET_MAGIC));
		if (setgroups(0, NULL) ||
		    setresgid(CR_OTHER_UID, CR_OTHER_UID, CR_OTHER_UID) ||
		    setresuid(CR_OTHER_UID, CR_OTHER_UID, CR_OTHER_UID))
			_exit(1);
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		n = readlink("/proc/self", link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			t.pid = atol(link);
		}
		t.addr = (unsigned long)p;
		if (write(sync[1], &t, sizeof(t)) != sizeof(t))
			_exit(1);
		cr_sleep_while_alive(pfd);
	}
	close(sync[1]);
	if (read(sync[0], &t, sizeof(t)) != sizeof(t) || t.pid < 1) {
		close(sync[0]);
		return -1;
	}
	close(sync[0]);
	cr_layout.target_pid = t.pid;
	cr_layout.target_addr = t.addr;
	return 0;
}

static inline int cr_owner_fd(enum cr_owner o, int caller_fd, int other_fd)
{
	return o == CR_OWNER_CALLER ? caller_fd :
	       o == CR_OWNER_OTHER ? other_fd : -1;
}

/*
 * Build the layout of @w from the process about to fork the operation's:
 * each PID namespace level, the IPC namespace, the setns target.  Returns
 * the step that failed (an exit status for __cr_run), 0 on success, with
 * our children due in the level the operation runs in (where they follow
 * its init: PID 2) and, for a dead innermost init, the fd to setns() into
 * in cr_layout.setns_pidns_fd.
 */
static inline int cr_build_layout(const struct cr_world *w)
{
	int pfd = cr_self_pidfd(), caller, other, fd;

	caller = cr_make_userns(CR_NOBODY, pfd);
	other = cr_make_userns(CR_OTHER_UID, pfd);
	if (pfd < 0 || caller < 0 || other < 0)
		return 20;
	cr_layout.caller_userns_fd = caller;
	/* First: its holder must not take a PID in the levels below. */
	if (w->ipc_owner) {
		fd = cr_make_ns(CLONE_NEWIPC,
				cr_owner_fd(w->ipc_owner, caller, other), false, pfd);
		if (fd < 0 || setns(fd, CLONE_NEWIPC))
			return 23;
		close(fd);
	}
	for (int i = 0; i < CR_LEVELS && w->owner[i]; i++) {
		bool last = i + 1 == CR_LEVELS || !w->owner[i + 1];
		bool dead = last && w->innermost_init_dead;

		fd = cr_make_ns(CLONE_NEWPID,
				cr_owner_fd(w->owner[i], caller, other), dead, pfd);
		if (fd < 0)
			return 21;
		if (dead) {
			cr_layout.setns_pidns_fd = fd;
			break;
		}
		if (setns(fd, CLONE_NEWPID))
			return 22;
		close(fd);
	}
	if (w->setns_owner) {
		/* Our children are born in the innermost level: below it. */
		cr_layout.setns_pidns_fd =
			cr_make_ns(CLONE_NEWPID,
				   cr_owner_fd(w->setns_owner, caller, other),
				   false, pfd);
		if (cr_layout.setns_pidns_fd < 0)
			return 24;
	}
	close(other);
	close(pfd);
	return 0;
}

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
 * Whether the result is the expected one is cr_expect()'s to say.
 */
static inline struct cr_result __cr_run(struct __test_metadata *_metadata,
					const struct cr_world *w,
					const struct cr_creds *c,
					const struct cr_op *op,
					cr_dispatch_fn dispatch)
{
	struct cr_result res = { .err = -1 };
	int pipefd[2], status;
	struct cr_op mine;
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
		if (w->other_uid_target) {
			/* Given as arguments: an exec'd helper has no cr_layout. */
			if (cr_make_other_uid_target(cr_self_pidfd()))
				_exit(14);
			mine = *op;
			mine.arg[2] = cr_layout.target_pid;
			mine.arg[3] = cr_layout.target_addr;
			op = &mine;
		}
		if (cr_world_is_layout(w)) {
			int step = cr_build_layout(w);

			if (step)
				_exit(step);
			pid = fork();
			if (pid < 0)
				_exit(13);
			if (pid > 0)
				cr_relay_exit(pid);
			cr_die_with_parent();
			/* Children due in a namespace whose init is gone. */
			if (w->innermost_init_dead &&
			    setns(cr_layout.setns_pidns_fd, CLONE_NEWPID))
				_exit(15);
		}
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
	return res;
}

/* cr_run(): ops.h, with the dispatcher of every operation. */

/*
 * Why the variant @creds cannot run here, or NULL: on a kernel without
 * capability 40 the variants that use it SKIP; the others still run (and
 * see the kernel's older behaviour).
 */
static inline const char *cr_unsupported(const struct cr_creds *creds)
{
	if (geteuid())
		return CR_NEEDS_ROOT;
	if (cr_cap_last_cap() < CAP_CHECKPOINT_RESTORE && cr_creds_use_cr(creds))
		return "kernel lacks CAP_CHECKPOINT_RESTORE (cap_last_cap < 40)";
	if (creds->how == CR_FILE_CAP && access(CR_FILECAP_EXE, X_OK))
		return "no file capabilities on tmpfs (missing CONFIG_TMPFS_XATTR?)";
	return NULL;
}

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
	case EBADF:	return "EBADF";
	case ENOMEM:	return "ENOMEM";
	case ESRCH:	return "ESRCH";
	}
	return strerror(err);
}

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
	char seen[160];

	snprintf(seen, sizeof(seen), "%s%s%s", cr_errname(res->err),
		 wrong ? " but " : "", wrong ? wrong : "");
	ksft_print_msg("%s.%s.%s: expected %s, observed %s\n",
		       _metadata->fixture->name, variant ? variant : "-",
		       _metadata->name, cr_errname(expected), seen);
	fflush(stdout);
	ASSERT_STREQ(cr_errname(expected), seen) {
		if (res->err)
			TH_LOG("refused at \"%s\": %s", res->what,
			       strerror(res->err));
	}
}

#define cr_expect(c, expected, res, wrong) \
	__cr_expect(_metadata, (c)->name, expected, res, wrong)

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_COMMON_H */
