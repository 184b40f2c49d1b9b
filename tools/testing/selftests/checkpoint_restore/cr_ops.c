// SPDX-License-Identifier: GPL-2.0
/*
 * The operations (ops.h), run under the variant's credentials: in the
 * child cr_ns.c forks, or in cr_helper after an execve().
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cr_clone3.h"
#include "cr_creds.h"
#include "cr_ns.h"
#include "cr_thread.h"
#include "ops.h"

/* Every operation's arguments cross an execve() as cr_op.raw: none is longer. */
static_assert(sizeof(struct cr_op) - offsetof(struct cr_op, raw) ==
	      sizeof(long[CR_OP_ARGS]),
	      "an operation's arguments must fit in cr_op.raw");

int cr_fail(struct cr_result *res, const char *what)
{
	int err = errno ? errno : EIO;

	snprintf(res->what, sizeof(res->what), "%s", what);
	res->err = err;
	return err;
}

/* ---- clone3() set_tid ---- */

static int op_set_tid(const struct cr_op *op, struct cr_result *res)
{
	/* Its only instruction is the exit system call: no call, no alignment. */
	static long stack[512];
	pid_t tids[CR_MAX_SET_TID + 1];
	const struct cr_set_tid_arg *a = &op->set_tid;
	long size = a->size, flags = a->flags;
	int status = -1;
	pid_t pid;

	for (int i = 0; i <= CR_MAX_SET_TID; i++)
		tids[i] = i < 3 ? a->pids[i] : a->pids[0];
	if (flags & SET_TID_DEPTH_PLUS_ONE)
		size = cr_nspid_levels() + 1;
	if (flags & SET_TID_PID_MAX) {
		FILE *f = fopen("/proc/sys/kernel/pid_max", "r");

		if (!f || fscanf(f, "%d", &tids[0]) != 1)
			return cr_fail(res, "reading pid_max");
		fclose(f);
	}
	res->val[2] = size;
	if ((flags & SET_TID_SETNS) &&
	    setns(cr_layout.setns_pidns_fd, CLONE_NEWPID))
		return cr_fail(res, "setns(CLONE_NEWPID)");

	if (flags & (SET_TID_NULL_ARRAY | SET_TID_BAD_POINTER | SET_TID_THREAD)) {
		struct clone_args args = {
			.exit_signal = SIGCHLD,
			.set_tid = (uintptr_t)tids,
			.set_tid_size = size,
		};

		if (flags & SET_TID_NULL_ARRAY)
			args.set_tid = 0;
		if (flags & SET_TID_BAD_POINTER)
			args.set_tid = CR_UNMAPPED_ADDR;
		if (flags & SET_TID_THREAD) {
			args.flags = CLONE_VM | CLONE_FS | CLONE_FILES |
				     CLONE_SIGHAND | CLONE_THREAD |
				     CLONE_SYSVSEM;
			args.exit_signal = 0;
			args.stack = (uintptr_t)stack;
			args.stack_size = sizeof(stack);
			pid = cr_clone3_exiting_thread(&args, sizeof(args));
			if (pid < 0) {
				errno = -pid;
				return cr_fail(res, "clone3(CLONE_THREAD)");
			}
			res->val[0] = pid;
			res->val[1] = 0;
			return 0;
		}
		pid = sys_clone3(&args);
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			return cr_fail(res, "clone3");
		waitpid(pid, NULL, 0);
		res->val[0] = pid;
		return 0;
	}

	pid = cr_clone3_set_tid(tids, size,
				(flags & SET_TID_NEWPID) ? CLONE_NEWPID : 0, &status);
	if (pid < 0) {
		cr_fail(res, "clone3");
		/* Refused: is the PID we asked for taken all the same? */
		if (!(flags & (SET_TID_NEWPID | SET_TID_SETNS)) &&
		    (kill(tids[0], 0) == 0 || errno != ESRCH))
			res->val[3] = 1;
		return res->err;
	}
	res->val[0] = pid;
	res->val[1] = status;
	return 0;
}

/* ---- ns_last_pid ---- */

static int op_write_then_fork(const struct cr_op *op, struct cr_result *res)
{
	long value = op->ns_last_pid.value;
	char buf[32];
	int fd, len;
	pid_t pid;

	if (!cr_in_test_pidns()) {
		errno = ECANCELED;
		return cr_fail(res, "not inside a PID namespace of the test");
	}
	if (op->ns_last_pid.past_pid_max) {
		FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
		long max;

		if (!f || fscanf(f, "%ld", &max) != 1)
			return cr_fail(res, "reading pid_max");
		fclose(f);
		value += max;
	}
	fd = open(NS_LAST_PID, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cr_fail(res, "open(" NS_LAST_PID ")");
	len = snprintf(buf, sizeof(buf), "%ld", value);
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

static int op_read(struct cr_result *res)
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

/* ---- map_files ---- */

#define MAGIC "crcap map_files contents"

static int map_something(enum map_kind kind, void **addr)
{
	char path[] = CR_DIR "/cr_map_XXXXXX";
	int fd;

	if (kind == MAP_MEMFD) {
		fd = memfd_create("crcap", MFD_CLOEXEC);
	} else {
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0 || ftruncate(fd, 4096))
		return -1;
	*addr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (*addr == MAP_FAILED)
		return -1;
	memcpy(*addr, MAGIC, sizeof(MAGIC));
	return 0;
}

/*
 * Go through a process's map_files entry for a mapping of @kind: val[0] =
 * readlink's errno, val[1] = 1 if the link names a deleted object, val[2]
 * = 1 if open() gave the mapped contents.  The result is open()'s.
 */
static int op_map_files(const struct cr_op *op, struct cr_result *res)
{
	const struct cr_map_files_arg *a = &op->map_files;
	char path[128], link[256], buf[sizeof(MAGIC)];
	const char *magic = MAGIC;
	int sync[2], fd, pfd;
	pid_t target = 0;
	long proc_pid;
	void *addr;
	ssize_t n;

	if (a->target == MAP_TARGET_OTHER_UID) {
		proc_pid = a->target_pid;
		addr = (void *)a->target_addr;
		magic = CR_TARGET_MAGIC;
		goto look;
	}
	if (map_something(a->kind, &addr))
		return cr_fail(res, "mapping a file");
	if (pipe2(sync, O_CLOEXEC))
		return cr_fail(res, "pipe");
	pfd = cr_self_pidfd();
	target = fork();
	if (target < 0)
		return cr_fail(res, "fork");
	if (target == 0) {
		/*
		 * Without capabilities of our own, so that ptrace read access
		 * (the caller's effective set covers our permitted set) never
		 * stands in the way: only the link-following check may refuse.
		 */
		cr_set_caps(false, false, false, false, false);
		if (a->target == MAP_TARGET_CHILD_NOT_DUMPABLE)
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		/* Our PID as the /proc mount sees it. */
		n = readlink("/proc/self", link, sizeof(link) - 1);
		proc_pid = n > 0 ? (link[n] = '\0', atol(link)) : -1;
		if (write(sync[1], &proc_pid, sizeof(proc_pid)) < 0)
			_exit(1);
		cr_sleep_while_alive(pfd);
	}
	if (pfd >= 0)
		close(pfd);
	close(sync[1]);
	if (read(sync[0], &proc_pid, sizeof(proc_pid)) != sizeof(proc_pid) ||
	    proc_pid < 1) {
		errno = ESRCH;
		cr_fail(res, "learning the target's PID");
		goto out;
	}
look:
	snprintf(path, sizeof(path), "/proc/%ld/map_files/%lx-%lx", proc_pid,
		 (unsigned long)addr, (unsigned long)addr + 4096);

	n = readlink(path, link, sizeof(link) - 1);
	res->val[0] = n < 0 ? errno : 0;
	if (n > 0) {
		link[n] = '\0';
		res->val[1] = !!strstr(link, "(deleted)") ||
			      !!strstr(link, "memfd:");
	}

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cr_fail(res, "open(/proc/PID/map_files/...)");
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	res->val[2] = n > 0 && !strncmp(buf, magic, n);
	close(fd);
out:
	if (target > 0) {
		kill(target, SIGKILL);
		waitpid(target, NULL, 0);
	}
	return res->err;
}

/* ---- PR_SET_MM_MAP ---- */

/* Fill @map with the current values, as /proc/self/stat shows them. */
static int current_mm_map(struct prctl_mm_map *map)
{
	unsigned long long v[52] = {};
	char buf[2048], *p, *tok, *save;
	ssize_t n;
	int fd, i;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the command name, which may hold anything but ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (tok = strtok_r(p + 1, " ", &save), i = 3; tok && i <= 51;
	     tok = strtok_r(NULL, " ", &save), i++)
		v[i] = strtoull(tok, NULL, 10);
	if (i <= 51)
		return -1;
	memset(map, 0, sizeof(*map));
	map->start_code = v[26];
	map->end_code = v[27];
	map->start_stack = v[28];
	map->start_data = v[45];
	map->end_data = v[46];
	map->start_brk = v[47];
	map->arg_start = v[48];
	map->arg_end = v[49];
	map->env_start = v[50];
	map->env_end = v[51];
	map->brk = syscall(SYS_brk, 0);
	map->exe_fd = -1;
	return map->start_code && map->arg_start ? 0 : -1;
}

/*
 * The kernel refuses a new exe file while the old one is still mapped.
 * Replace every mapping of our executable by an anonymous copy with the
 * same contents and protection; mremap() swaps each in place in one step,
 * so the code keeps running from identical bytes.
 */
static int unmap_own_executable(void)
{
	struct { unsigned long start, end; int prot; } vma[32];
	char exe[512], line[1024];
	int n = 0;
	ssize_t len;
	FILE *f;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -1;
	exe[len] = '\0';
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	while (n < 32 && fgets(line, sizeof(line), f)) {
		char perms[8], path[512] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %511s", &vma[n].start,
			   &vma[n].end, perms, path) < 3 || strcmp(path, exe))
			continue;
		vma[n].prot = (perms[0] == 'r' ? PROT_READ : 0) |
			      (perms[1] == 'w' ? PROT_WRITE : 0) |
			      (perms[2] == 'x' ? PROT_EXEC : 0);
		n++;
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		size_t size = vma[i].end - vma[i].start;
		void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (copy == MAP_FAILED)
			return -1;
		if (vma[i].prot & PROT_READ)
			memcpy(copy, (void *)vma[i].start, size);
		if (mprotect(copy, size, vma[i].prot) ||
		    mremap(copy, size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)vma[i].start) == MAP_FAILED)
			return -1;
	}
	return n ? 0 : -1;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

#define CR_CLOSED_FD 1000
#define CR_NOEXEC_FILE CR_DIR "/cr_noexec"

static int open_exe(enum exe_kind kind)
{
	int fd;

	switch (kind) {
	case EXE_NEW:
		return open(NEW_EXE, O_RDONLY | O_CLOEXEC);
	case EXE_NOT_EXECUTABLE:
		fd = open(CR_NOEXEC_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0 && write(fd, "#!/bin/true\n", 12) != 12) {
			close(fd);
			return -1;
		}
		return fd;
	case EXE_DIRECTORY:
		return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case EXE_CLOSED_FD:
		close(CR_CLOSED_FD);
		return CR_CLOSED_FD;
	case EXE_NONE:
		break;
	}
	return -1;
}

/* val[0] = 1 if /proc/self/exe is NEW_EXE afterwards. */
static int op_set_mm_map(const struct cr_op *op, struct cr_result *res)
{
	enum exe_kind exe = op->set_mm_map.exe;
	struct prctl_mm_map map;
	int fd = -1;

	if (current_mm_map(&map))
		return cr_fail(res, "reading the current mm from /proc/self/stat");
	if (exe != EXE_NONE) {
		fd = open_exe(exe);
		if (fd < 0)
			return cr_fail(res, "opening the new exe file");
		/* Only the file that can succeed needs the old one gone. */
		if (exe == EXE_NEW && unmap_own_executable())
			return cr_fail(res, "unmapping our own executable");
		map.exe_fd = fd;
	}
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof(map), 0))
		return cr_fail(res, "prctl(PR_SET_MM, PR_SET_MM_MAP)");
	res->val[0] = same_file("/proc/self/exe", NEW_EXE);
	return 0;
}

/* The older, single-field way: it asks for CAP_SYS_RESOURCE. */
static int op_set_mm_exe_file(struct cr_result *res)
{
	int fd = open(NEW_EXE, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cr_fail(res, "open(" NEW_EXE ")");
	if (unmap_own_executable())
		return cr_fail(res, "unmapping our own executable");
	if (prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0))
		return cr_fail(res, "prctl(PR_SET_MM, PR_SET_MM_EXE_FILE)");
	res->val[0] = same_file("/proc/self/exe", NEW_EXE);
	return 0;
}

static int op_set_mm_field(struct cr_result *res)
{
	struct prctl_mm_map map;

	if (current_mm_map(&map))
		return cr_fail(res, "reading the current mm from /proc/self/stat");
	if (prctl(PR_SET_MM, PR_SET_MM_START_BRK, map.start_brk, 0, 0))
		return cr_fail(res, "prctl(PR_SET_MM, PR_SET_MM_START_BRK)");
	return 0;
}

/* ---- TIOCSLCKTRMIOS, ipc *_next_id ---- */

const char *const next_id_file[] = {
	[IPC_MSG] = "/proc/sys/kernel/msg_next_id",
	[IPC_SEM] = "/proc/sys/kernel/sem_next_id",
	[IPC_SHM] = "/proc/sys/kernel/shm_next_id",
};

/* val[0] = 1 if TIOCGLCKTRMIOS reads back the locked flags. */
static int op_lock_termios(struct cr_result *res)
{
	struct termios lock = {}, back = {};
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return cr_fail(res, "posix_openpt");
	lock.c_cflag = CSIZE;
	lock.c_lflag = ECHO;
	if (ioctl(fd, TIOCSLCKTRMIOS, &lock)) {
		cr_fail(res, "ioctl(TIOCSLCKTRMIOS)");
		close(fd);
		return res->err;
	}
	if (!ioctl(fd, TIOCGLCKTRMIOS, &back))
		res->val[0] = back.c_cflag == CSIZE && back.c_lflag == ECHO;
	close(fd);
	return 0;
}

/* val[0] = the id the next object got. */
static int op_ipc_next_id(const struct cr_op *op, struct cr_result *res)
{
	const struct cr_next_id_arg *a = &op->next_id;
	const char *file = next_id_file[a->kind];
	char buf[32];
	int fd, len, id = -1;

	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cr_fail(res, "open(*_next_id) for writing");
	len = snprintf(buf, sizeof(buf), "%ld", a->id);
	if (write(fd, buf, len) != len) {
		close(fd);
		return cr_fail(res, "write(*_next_id)");
	}
	close(fd);
	switch (a->kind) {
	case IPC_MSG:
		id = msgget(IPC_PRIVATE, 0600);
		if (id >= 0)
			msgctl(id, IPC_RMID, NULL);
		break;
	case IPC_SEM:
		id = semget(IPC_PRIVATE, 1, 0600);
		if (id >= 0)
			semctl(id, 0, IPC_RMID);
		break;
	case IPC_SHM:
		id = shmget(IPC_PRIVATE, 4096, 0600);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
		break;
	}
	if (id < 0)
		return cr_fail(res, "creating an IPC object");
	res->val[0] = id;
	return 0;
}

/* ---- what still needs CAP_SYS_ADMIN ---- */

static int op_mount(struct cr_result *res)
{
	if (mount("crcap", CR_DIR, "tmpfs", 0, "size=1m"))
		return cr_fail(res, "mount(tmpfs)");
	return 0;
}

static int op_sethostname(struct cr_result *res)
{
	if (sethostname("crcap", 5))
		return cr_fail(res, "sethostname");
	return 0;
}

/* PTRACE_SEIZE a child of ours with the given options. */
static int op_seize(const struct cr_op *op, struct cr_result *res)
{
	int pfd = cr_self_pidfd();
	pid_t child;

	child = fork();
	if (child < 0)
		return cr_fail(res, "fork");
	if (child == 0) {
		cr_set_caps(false, false, false, false, false);
		cr_sleep_while_alive(pfd);
	}
	if (pfd >= 0)
		close(pfd);
	if (ptrace(PTRACE_SEIZE, child, NULL, (void *)op->seize.options))
		cr_fail(res, "ptrace(PTRACE_SEIZE)");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return res->err;
}

int cr_dispatch(const struct cr_op *op, struct cr_result *res)
{
	switch (op->id) {
	case OP_SET_TID:
		return op_set_tid(op, res);
	case OP_NS_LAST_PID_WRITE:
		return op_write_then_fork(op, res);
	case OP_NS_LAST_PID_READ:
		return op_read(res);
	case OP_MAP_FILES:
		return op_map_files(op, res);
	case OP_SET_MM_MAP:
		return op_set_mm_map(op, res);
	case OP_SET_MM_FIELD:
		return op_set_mm_field(res);
	case OP_LOCK_TERMIOS:
		return op_lock_termios(res);
	case OP_IPC_NEXT_ID:
		return op_ipc_next_id(op, res);
	case OP_MOUNT_TMPFS:
		return op_mount(res);
	case OP_SETHOSTNAME:
		return op_sethostname(res);
	case OP_SEIZE:
		return op_seize(op, res);
	case OP_SET_MM_EXE_FILE:
		return op_set_mm_exe_file(res);
	}
	errno = EINVAL;
	return cr_fail(res, "unknown operation");
}

/* ---- judging the effect ---- */

/* set_tid: the new task at @pid (0: not visible to us), NSpid as asked. */
const char *set_tid_wrong(const struct cr_result *r, pid_t pid)
{
	static char buf[64];

	if (r->err)
		return r->val[3] ? "the PID asked for is taken" : NULL;
	if (r->val[1]) {
		snprintf(buf, sizeof(buf), "NSpid does not end with set_tid (status %#lx)",
			 r->val[1]);
		return buf;
	}
	if (pid && r->val[0] != pid) {
		snprintf(buf, sizeof(buf), "PID %ld, not %d", r->val[0], pid);
		return buf;
	}
	return NULL;
}

/* A value the operation observed, against the one it must have. */
const char *value_wrong(const struct cr_result *r, long want, long got,
			const char *what)
{
	static char buf[96];

	if (r->err || want == got)
		return NULL;
	snprintf(buf, sizeof(buf), "%s %ld, not %ld", what, got, want);
	return buf;
}

/* map_files: the link names the object, and opening it gives its bytes. */
const char *map_files_wrong(const struct cr_result *r)
{
	if (r->err)
		return NULL;
	if (r->val[0])
		return "readlink failed";
	if (!r->val[1])
		return "the link names no deleted object";
	return r->val[2] ? NULL : "other contents";
}

/* ---- naming outcomes ---- */

const char *cr_errname(int err)
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
