// SPDX-License-Identifier: GPL-2.0
/*
 * The world an operation runs in, and the switch to the variant's
 * credentials (cr_ns.h).
 *
 * A setup step that fails says which it was and why: setup_fail()
 * records it in the process it failed in, a helper child hands its record
 * to its parent on the pipe it reports on, and the operation's process
 * sends it to the test in place of the operation's result.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cr_clone3.h"
#include "cr_creds.h"
#include "cr_ns.h"
#include "ops.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

struct cr_layout cr_layout = { .caller_userns_fd = -1, .setns_pidns_fd = -1 };

/* ---- what failed, and why ---- */

static char setup_error[CR_WHAT_LEN];

const char *cr_setup_error(void)
{
	return setup_error;
}

/* Record that @step failed, with errno's reason.  Returns -1. */
static int setup_fail(const char *step)
{
	int err = errno;

	snprintf(setup_error, sizeof(setup_error), "%s: %s", step,
		 err ? strerror(err) : "failed");
	errno = err;
	return -1;
}

/* Name the part of the world the failure recorded last happened in. */
static int setup_in(const char *part)
{
	char msg[sizeof(setup_error)];

	snprintf(msg, sizeof(msg), "%s: ", part);
	strncat(msg, setup_error, sizeof(msg) - strlen(msg) - 1);
	memcpy(setup_error, msg, sizeof(msg));
	return -1;
}

/*
 * In a helper child, report once on @fd: an empty record and @size bytes
 * of @data when it is ready (@failed 0), else its setup_error, and exit.
 */
static void child_report(int fd, int failed, const void *data, size_t size)
{
	char msg[sizeof(setup_error)] = "";

	if (failed)
		memcpy(msg, setup_error, sizeof(msg));
	if (write(fd, msg, sizeof(msg)) != sizeof(msg) || failed ||
	    (size && write(fd, data, size) != (ssize_t)size))
		_exit(1);
}

/*
 * Read the report of the helper child on @fd, and close it: 0 when the
 * child is ready (@data filled), else -1 with the child's reason.
 */
static int child_ready(int fd, void *data, size_t size)
{
	char msg[sizeof(setup_error)];
	int ret = -1;

	if (read(fd, msg, sizeof(msg)) != sizeof(msg)) {
		snprintf(setup_error, sizeof(setup_error),
			 "a helper process ended before it reported");
	} else if (msg[0]) {
		msg[sizeof(msg) - 1] = '\0';
		memcpy(setup_error, msg, sizeof(msg));
	} else if (size && read(fd, data, size) != (ssize_t)size) {
		snprintf(setup_error, sizeof(setup_error),
			 "a helper process ended before it said all");
	} else {
		ret = 0;
	}
	close(fd);
	return ret;
}

/* ---- processes that live as long as the test's ---- */

void cr_die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

int cr_self_pidfd(void)
{
	return syscall(__NR_pidfd_open, getpid(), 0);
}

void cr_sleep_while_alive(int pidfd)
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

/* Drop to uid and gid @uid, without groups: 0, or -1 recorded. */
static int become(uid_t uid)
{
	char gid_step[32], uid_step[32];

	snprintf(gid_step, sizeof(gid_step), "setresgid(%u)", uid);
	snprintf(uid_step, sizeof(uid_step), "setresuid(%u)", uid);
	if (setgroups(0, NULL))
		return setup_fail("setgroups(0)");
	if (setresgid(uid, uid, uid))
		return setup_fail(gid_step);
	if (setresuid(uid, uid, uid))
		return setup_fail(uid_step);
	return 0;
}

static int write_file(const char *path, const char *text)
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

/* ---- the helper program the exec'ing variants run ---- */

int cr_open_helper(void)
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

int cr_copy_helper(int in, const char *path, const char *text)
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

/* cr_helper RESULT-FD OP-ID ARG0 ... ARG5 (cr_helper.c): @op as its words. */
static void exec_helper(const char *exe, int fd, const struct cr_op *op)
{
	char s[2 + CR_OP_ARGS][24];
	char *argv[3 + CR_OP_ARGS + 1];

	argv[0] = (char *)exe;
	snprintf(s[0], sizeof(s[0]), "%d", fd);
	snprintf(s[1], sizeof(s[1]), "%d", op->id);
	argv[1] = s[0];
	argv[2] = s[1];
	for (int i = 0; i < CR_OP_ARGS; i++) {
		snprintf(s[2 + i], sizeof(s[2 + i]), "%ld", op->raw[i]);
		argv[3 + i] = s[2 + i];
	}
	argv[3 + CR_OP_ARGS] = NULL;
	execv(exe, argv);
}

/* ---- the namespaces of a user-namespace layout ---- */

/* The child of cr_make_userns(). */
static int userns_of(uid_t owner)
{
	char step[48];

	snprintf(step, sizeof(step), "unshare(CLONE_NEWUSER) as uid %u", owner);
	if (become(owner))
		return -1;
	if (unshare(CLONE_NEWUSER))
		return setup_fail(step);
	return 0;
}

int cr_make_userns(uid_t owner, int pfd)
{
	char path[64], map[32], step[80];
	int sync[2], fd;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return setup_fail("pipe2");
	pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		cr_die_with_parent();
		child_report(sync[1], userns_of(owner), NULL, 0);
		cr_sleep_while_alive(pfd);
	}
	close(sync[1]);
	if (child_ready(sync[0], NULL, 0))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", owner);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	snprintf(step, sizeof(step), "writing %s", path);
	if (write_file(path, map))
		return setup_fail(step);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	snprintf(step, sizeof(step), "writing %s", path);
	if (write_file(path, map))
		return setup_fail(step);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	snprintf(step, sizeof(step), "open(%s)", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return setup_fail(step);
	return fd;
}

/* The child of cr_make_ns(). */
static int ns_of(int nstype, int userns_fd, bool dead, int pfd)
{
	pid_t init;

	if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER))
		return setup_fail("setns(CLONE_NEWUSER) into its owner");
	if (unshare(nstype))
		return setup_fail(nstype == CLONE_NEWPID ? "unshare(CLONE_NEWPID)" :
				  "unshare(CLONE_NEWIPC)");
	if (nstype != CLONE_NEWPID)
		return 0;
	init = fork();
	if (init < 0)
		return setup_fail("fork (its init)");
	if (init == 0) {
		if (dead)
			_exit(0);
		cr_sleep_while_alive(pfd);
	}
	if (dead && waitpid(init, NULL, 0) != init)
		return setup_fail("waitpid (its init)");
	return 0;
}

int cr_make_ns(int nstype, int userns_fd, bool dead, int pfd)
{
	char path[64], step[80];
	int sync[2], fd;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return setup_fail("pipe2");
	pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		cr_die_with_parent();
		child_report(sync[1], ns_of(nstype, userns_fd, dead, pfd), NULL, 0);
		cr_sleep_while_alive(pfd);
	}
	close(sync[1]);
	if (child_ready(sync[0], NULL, 0))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid,
		 nstype == CLONE_NEWPID ? "pid_for_children" : "ipc");
	snprintf(step, sizeof(step), "open(%s)", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return setup_fail(step);
	return fd;
}

/* Where the process of uid 65533 has its memfd mapped. */
struct other_uid_target {
	long pid;
	unsigned long addr;
};

/* The child of make_other_uid_target(). */
static int other_uid_target_of(struct other_uid_target *t)
{
	int fd = memfd_create("crcap-other", MFD_CLOEXEC);
	char link[32];
	ssize_t n;
	void *p;

	if (fd < 0)
		return setup_fail("memfd_create");
	if (ftruncate(fd, 4096))
		return setup_fail("ftruncate(memfd)");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return setup_fail("mmap(memfd)");
	memcpy(p, CR_TARGET_MAGIC, sizeof(CR_TARGET_MAGIC));
	if (become(CR_OTHER_UID))
		return -1;
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	n = readlink("/proc/self", link, sizeof(link) - 1);
	if (n <= 0)
		return setup_fail("readlink(/proc/self)");
	link[n] = '\0';
	t->pid = atol(link);
	t->addr = (unsigned long)p;
	if (t->pid < 1) {
		errno = ESRCH;
		return setup_fail("readlink(/proc/self)");
	}
	return 0;
}

/* A process of uid 65533 with a memfd mapped, as cr_layout describes. */
static int make_other_uid_target(int pfd)
{
	struct other_uid_target t = { -1, 0 };
	int sync[2];
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC))
		return setup_fail("pipe2");
	pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		cr_die_with_parent();
		child_report(sync[1], other_uid_target_of(&t), &t, sizeof(t));
		cr_sleep_while_alive(pfd);
	}
	close(sync[1]);
	if (child_ready(sync[0], &t, sizeof(t)))
		return -1;
	cr_layout.target_pid = t.pid;
	cr_layout.target_addr = t.addr;
	return 0;
}

static int owner_fd(enum cr_owner o, int caller_fd, int other_fd)
{
	return o == CR_OWNER_CALLER ? caller_fd :
	       o == CR_OWNER_OTHER ? other_fd : -1;
}

static const char *owner_name(enum cr_owner o)
{
	return o == CR_OWNER_CALLER ? "the caller's" :
	       o == CR_OWNER_OTHER ? "the sibling" : "the initial";
}

/*
 * Build the layout of @w from the process about to fork the operation's:
 * each PID namespace level, the IPC namespace, the setns target.  Returns
 * 0, with our children due in the level the operation runs in (where they
 * follow its init: PID 2) and, for a dead innermost init, the fd to
 * setns() into in cr_layout.setns_pidns_fd; or -1, the failure recorded.
 */
static int build_layout(const struct cr_world *w)
{
	int pfd = cr_self_pidfd(), caller, other, fd;
	char part[80];

	if (pfd < 0)
		return setup_fail("pidfd_open(ourselves)");
	caller = cr_make_userns(CR_NOBODY, pfd);
	if (caller < 0)
		return setup_in("the caller's user namespace");
	other = cr_make_userns(CR_OTHER_UID, pfd);
	if (other < 0)
		return setup_in("the sibling user namespace");
	cr_layout.caller_userns_fd = caller;
	/* First: its holder must not take a PID in the levels below. */
	if (w->ipc_owner) {
		snprintf(part, sizeof(part),
			 "the IPC namespace owned by %s user namespace",
			 owner_name(w->ipc_owner));
		fd = cr_make_ns(CLONE_NEWIPC,
				owner_fd(w->ipc_owner, caller, other), false, pfd);
		if (fd < 0)
			return setup_in(part);
		if (setns(fd, CLONE_NEWIPC)) {
			setup_fail("setns(CLONE_NEWIPC)");
			return setup_in(part);
		}
		close(fd);
	}
	for (int i = 0; i < CR_LEVELS && w->owner[i]; i++) {
		bool last = i + 1 == CR_LEVELS || !w->owner[i + 1];
		bool dead = last && w->innermost_init_dead;

		snprintf(part, sizeof(part),
			 "PID namespace level %d, owned by %s user namespace",
			 i + 1, owner_name(w->owner[i]));
		fd = cr_make_ns(CLONE_NEWPID,
				owner_fd(w->owner[i], caller, other), dead, pfd);
		if (fd < 0)
			return setup_in(part);
		if (dead) {
			cr_layout.setns_pidns_fd = fd;
			break;
		}
		if (setns(fd, CLONE_NEWPID)) {
			setup_fail("setns(CLONE_NEWPID)");
			return setup_in(part);
		}
		close(fd);
	}
	if (w->setns_owner) {
		/* Our children are born in the innermost level: below it. */
		cr_layout.setns_pidns_fd =
			cr_make_ns(CLONE_NEWPID,
				   owner_fd(w->setns_owner, caller, other),
				   false, pfd);
		if (cr_layout.setns_pidns_fd < 0)
			return setup_in("the PID namespace to setns() into");
	}
	close(other);
	close(pfd);
	return 0;
}

/* The child of setns_child_userns_pidns(). */
static int child_userns_pidns(void)
{
	pid_t init;
	int hpfd;

	if (unshare(CLONE_NEWUSER | CLONE_NEWPID))
		return setup_fail("unshare(CLONE_NEWUSER | CLONE_NEWPID)");
	hpfd = cr_self_pidfd();
	init = fork();
	if (init < 0)
		return setup_fail("fork (its init)");
	if (init == 0)
		cr_sleep_while_alive(hpfd);
	return 0;
}

/*
 * Make a PID namespace owned by a new user namespace, and make it the one
 * our children are born into.  The namespace's init is a child of a
 * helper that dies with us.
 */
static int setns_child_userns_pidns(void)
{
	char path[64], step[80];
	int sync[2], fd, pfd;
	pid_t helper;

	if (pipe2(sync, O_CLOEXEC))
		return setup_fail("pipe2");
	pfd = cr_self_pidfd();
	helper = fork();
	if (helper < 0)
		return setup_fail("fork");
	if (helper == 0) {
		cr_die_with_parent();
		child_report(sync[1], child_userns_pidns(), NULL, 0);
		cr_sleep_while_alive(pfd);
	}
	if (pfd >= 0)
		close(pfd);
	close(sync[1]);
	if (child_ready(sync[0], NULL, 0))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid_for_children", helper);
	snprintf(step, sizeof(step), "open(%s)", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return setup_fail(step);
	if (setns(fd, CLONE_NEWPID)) {
		setup_fail("setns(CLONE_NEWPID)");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---- entering the world ---- */

/* Wait for @pid and leave with its exit status: never returns. */
static void relay_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		_exit(CR_EXIT_LEVEL_DIED);
	_exit(WEXITSTATUS(status));
}

/* fork(): the parent waits and relays; the child goes on. */
static int descend(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return setup_fail("fork");
	if (pid > 0)
		relay_exit(pid);
	cr_die_with_parent();
	return 0;
}

/*
 * Build @w from the child the test forked, as root; @op takes what the
 * world has for it.  Returns in the process the operation runs in (its
 * ancestors wait, relaying its exit status): 0, or -1 with the failure
 * recorded.
 */
static int enter_world(const struct cr_world *w, struct cr_op *op)
{
	if (unshare(CLONE_NEWIPC | CLONE_NEWUTS))
		return setup_fail("unshare(CLONE_NEWIPC | CLONE_NEWUTS)");
	if (w->other_uid_target) {
		if (make_other_uid_target(cr_self_pidfd()))
			return setup_in("the process of uid 65533");
		/* Given as arguments: an exec'd helper has no cr_layout. */
		op->map_files.target_pid = cr_layout.target_pid;
		op->map_files.target_addr = cr_layout.target_addr;
	}
	/* A user-namespace layout. */
	if (w->owner[0] != CR_OWNER_NONE) {
		if (build_layout(w) || descend())
			return -1;
		/* Children due in a namespace whose init is gone. */
		if (w->innermost_init_dead &&
		    setns(cr_layout.setns_pidns_fd, CLONE_NEWPID))
			return setup_fail("setns(CLONE_NEWPID) below the dead init");
	}
	for (int level = 1; level <= w->pidns_depth; level++) {
		if (level == w->pidns_depth && w->pidns_in_child_userns) {
			if (setns_child_userns_pidns())
				return setup_in("the PID namespace of a child user namespace");
		} else if (unshare(CLONE_NEWPID)) {
			return setup_fail("unshare(CLONE_NEWPID)");
		}
		if (descend())
			return -1;
	}
	return 0;
}

/* The world could not be built: tell the test why, instead of a result; exit. */
static void world_failed(int fd)
{
	struct cr_result res = { .err = -1, .setup_failed = 1 };

	memcpy(res.what, setup_error, sizeof(res.what));
	if (write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(CR_EXIT_NO_REPORT);
	_exit(0);
}

/* ---- switching credentials ---- */

/*
 * unshare() a PID and an IPC namespace and start the init of the PID
 * one, which sleeps until we die: afterwards our children are born into
 * it.  Returns NULL, or the step that failed.
 */
static const char *spawn_init(void)
{
	pid_t pid;
	int pfd;

	if (unshare(CLONE_NEWPID | CLONE_NEWIPC))
		return "unshare(CLONE_NEWPID | CLONE_NEWIPC)";
	pfd = cr_self_pidfd();
	pid = fork();
	if (pid < 0)
		return "fork (the init of the new PID namespace)";
	if (pid == 0)
		cr_sleep_while_alive(pfd);
	if (pfd >= 0)
		close(pfd);
	return NULL;
}

/* Root of the user namespace uid 65534 made, and only there. */
static const char *enter_caller_userns(void)
{
	if (setgroups(0, NULL))
		return "setgroups(0)";
	if (setns(cr_layout.caller_userns_fd, CLONE_NEWUSER))
		return "setns(CLONE_NEWUSER) into the caller's user namespace";
	if (setresgid(0, 0, 0))
		return "setresgid(0) in the caller's user namespace";
	if (setresuid(0, 0, 0))
		return "setresuid(0) in the caller's user namespace";
	return NULL;
}

/* Switching to the variant's credentials failed at @step, errno says why. */
static void creds_failed(struct cr_result *res, const char *step)
{
	int err = errno ? errno : EIO;

	snprintf(res->what, sizeof(res->what), "%s as uid %u: %s", step,
		 geteuid(), strerror(err));
	res->err = err;
	res->setup_failed = 1;
}

/*
 * Switch to @c and run @op, writing the result to @fd.  Runs in a child
 * that is about to exit; returns only through _exit().
 */
static void run_as(const struct cr_creds *c, const struct cr_op *op, int fd)
{
	bool eff_cr = c->eff_cr, eff_sa = c->eff_sys_admin;
	struct cr_result res = {};
	const char *step;

	errno = 0;
	if (c->how == CR_FILE_CAP && c->fcap == CR_FCAP_NOT_IN_BOUNDING_SET &&
	    prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE, 0, 0, 0)) {
		step = "prctl(PR_CAPBSET_DROP)";
		goto failed;
	}
	if (c->how == CR_WORLD_USERNS) {
		step = enter_caller_userns();
		if (step)
			goto failed;
	} else if (c->how == CR_ROOT_NOROOT) {
		if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED,
			  0, 0, 0)) {
			step = "prctl(PR_SET_SECUREBITS, SECBIT_NOROOT)";
			goto failed;
		}
	} else {
		step = cr_become_nobody();
		if (step)
			goto failed;
	}
	cr_dumpable();
	step = "cap_set_proc";
	switch (c->how) {
	case CR_DIRECT:
	case CR_WORLD_USERNS:
		if (c->sys_resource ? cr_set_sys_resource_only() :
		    cr_set_caps(c->perm_cr, c->perm_sys_admin, eff_cr, eff_sa,
				false))
			goto failed;
		break;
	case CR_ROOT_NOROOT:
		if (cr_set_caps(false, false, false, false, false))
			goto failed;
		exec_helper(CR_PLAIN_EXE, fd, op);
		step = "execv(" CR_PLAIN_EXE ")";
		goto failed;
	case CR_FILE_CAP:
		if (cr_set_caps(false, false, false, false, false))
			goto failed;
		if (c->fcap == CR_FCAP_NO_NEW_PRIVS &&
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
			step = "prctl(PR_SET_NO_NEW_PRIVS)";
			goto failed;
		}
		if (c->fcap == CR_FCAP_PERMITTED_ONLY) {
			exec_helper(CR_FILECAP_P_EXE, fd, op);
			step = "execv(" CR_FILECAP_P_EXE ")";
			goto failed;
		}
		exec_helper(CR_FILECAP_EXE, fd, op);
		step = "execv(" CR_FILECAP_EXE ")";
		/* A file capability the exec cannot grant refuses the exec. */
		if (c->fcap != CR_FCAP_NOT_IN_BOUNDING_SET)
			goto failed;
		cr_fail(&res, step);
		goto out;
	case CR_AMBIENT:
		step = cr_raise_ambient(c->perm_sys_admin);
		if (step)
			goto failed;
		if (c->domain && cr_set_exec_domain(c->domain)) {
			step = "writing /proc/thread-self/attr/exec";
			goto failed;
		}
		exec_helper(CR_PLAIN_EXE, fd, op);
		step = "execv(" CR_PLAIN_EXE ")";
		goto failed;
	case CR_USERNS:
		if (cr_set_caps(false, false, false, false, false))
			goto failed;
		step = cr_enter_userns();
		if (step)
			goto failed;
		if (c->own_pidns) {
			step = spawn_init();
			if (step)
				goto failed;
		}
		step = "cap_set_proc in the user namespace";
		if (cr_set_caps(c->perm_cr, c->perm_sys_admin, eff_cr, eff_sa,
				false))
			goto failed;
		if (c->domain) {
			/* Root of the user namespace keeps its set across exec. */
			step = "writing /proc/thread-self/attr/exec";
			if (cr_set_exec_domain(c->domain))
				goto failed;
			exec_helper(CR_PLAIN_EXE, fd, op);
			step = "execv(" CR_PLAIN_EXE ")";
			goto failed;
		}
		break;
	}
	errno = 0;
	cr_dispatch(op, &res);
	goto out;
failed:
	creds_failed(&res, step);
out:
	if (write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(CR_EXIT_NO_REPORT);
	_exit(0);
}

void cr_run_in_world(const struct cr_world *w, const struct cr_creds *c,
		     const struct cr_op *op, int fd)
{
	struct cr_op mine = *op;

	cr_die_with_parent();
	if (enter_world(w, &mine))
		world_failed(fd);
	run_as(c, &mine, fd);
}

const char *cr_unsupported(const struct cr_creds *creds)
{
	if (geteuid())
		return CR_NEEDS_ROOT;
	if (cr_cap_last_cap() < CAP_CHECKPOINT_RESTORE && cr_creds_use_cr(creds))
		return "kernel lacks CAP_CHECKPOINT_RESTORE (cap_last_cap < 40)";
	if (creds->how == CR_FILE_CAP && access(CR_FILECAP_EXE, X_OK))
		return "no file capabilities on tmpfs (missing CONFIG_TMPFS_XATTR?)";
	return NULL;
}
