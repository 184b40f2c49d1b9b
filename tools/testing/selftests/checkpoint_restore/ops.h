/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restore capability selftests: the operations (cr_ops.c).
 *
 * Each operation runs after the credentials were switched (cr_ns.c),
 * possibly after an execve() of cr_helper, so it takes its inputs from the
 * struct cr_op alone and reports 0 or the errno, plus what it saw, in
 * *res.  Every program can run every operation: the SELinux tests use
 * them all.
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_OPS_H
#define _SELFTESTS_CHECKPOINT_RESTORE_OPS_H

#include <stdbool.h>
#include <sys/types.h>

enum cr_op_id {
	OP_SET_TID,		/* .set_tid */
	OP_NS_LAST_PID_WRITE,	/* .ns_last_pid */
	OP_NS_LAST_PID_READ,
	OP_MAP_FILES,		/* .map_files */
	OP_SET_MM_MAP,		/* .set_mm_map */
	OP_SET_MM_FIELD,	/* PR_SET_MM_START_BRK, unchanged value */
	OP_LOCK_TERMIOS,
	OP_IPC_NEXT_ID,		/* .next_id */
	OP_MOUNT_TMPFS,
	OP_SETHOSTNAME,
	OP_SEIZE,		/* .seize */
	OP_SET_MM_EXE_FILE,	/* PR_SET_MM_EXE_FILE to NEW_EXE */
};

/* ---- clone3() set_tid ---- */

/* struct cr_set_tid_arg flags */
#define SET_TID_NULL_ARRAY	0x1	/* set_tid = NULL, size as given */
#define SET_TID_BAD_POINTER	0x2	/* set_tid points to unmapped memory */
#define SET_TID_THREAD		0x4	/* CLONE_THREAD at the chosen TID */
#define SET_TID_DEPTH_PLUS_ONE	0x8	/* size = this task's nesting + 2 */
#define SET_TID_PID_MAX		0x10	/* set_tid[0] = pid_max */
#define SET_TID_NEWPID		0x20	/* CLONE_NEWPID: set_tid[0] is the new init */
#define SET_TID_SETNS		0x40	/* setns() into cr_layout.setns_pidns_fd first */

struct cr_set_tid_arg {
	/* set_tid_size. */
	int size;
	/* set_tid, innermost level first; entries past the third repeat pids[0]. */
	pid_t pids[3];
	/* SET_TID_*. */
	unsigned int flags;
};

/* ---- ns_last_pid ---- */

#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

struct cr_ns_last_pid_arg {
	/* Written to ns_last_pid, then a fork(). */
	long value;
	/* Write pid_max + value instead. */
	bool past_pid_max;
};

/* ---- map_files ---- */

enum map_kind {
	MAP_MEMFD,
	MAP_DELETED_FILE,
};

/* Whose map_files entry OP_MAP_FILES goes through. */
enum map_target {
	/* A child of ours, with our uid and no capabilities. */
	MAP_TARGET_CHILD,
	/* The same, after PR_SET_DUMPABLE 0. */
	MAP_TARGET_CHILD_NOT_DUMPABLE,
	/* The world's process of uid 65533 (struct cr_world, cr_ns.h). */
	MAP_TARGET_OTHER_UID,
};

struct cr_map_files_arg {
	/* What our child maps (not MAP_TARGET_OTHER_UID). */
	enum map_kind kind;
	enum map_target target;
	/* MAP_TARGET_OTHER_UID: its PID and mapping, set by the world. */
	long target_pid;
	unsigned long target_addr;
};

#define CR_TARGET_MAGIC "crcap foreign mapping"

/* ---- PR_SET_MM ---- */

#define NEW_EXE "/bin/true"

/* What OP_SET_MM_MAP passes as exe_fd. */
enum exe_kind {
	EXE_NONE,		/* -1: keep /proc/self/exe */
	EXE_NEW,		/* NEW_EXE, with our own executable unmapped */
	EXE_NOT_EXECUTABLE,	/* a regular file of mode 0644 */
	EXE_DIRECTORY,		/* / */
	EXE_CLOSED_FD,		/* a descriptor that is not open */
};

struct cr_set_mm_map_arg {
	enum exe_kind exe;
};

/* ---- TIOCSLCKTRMIOS, ipc *_next_id ---- */

enum ipc_kind { IPC_MSG, IPC_SEM, IPC_SHM };

/* The sysctl file of each kind. */
extern const char *const next_id_file[];

struct cr_next_id_arg {
	enum ipc_kind kind;
	/* Written to the kind's *_next_id before an object is made. */
	long id;
};

/* ---- what still needs CAP_SYS_ADMIN ---- */

#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP 0x200000	/* 1 << 21 */
#endif

struct cr_seize_arg {
	/* PTRACE_SEIZE's options. */
	unsigned long options;
};

/* ---- an operation and its result ---- */

/* How many longs carry an operation's arguments across execve(). */
#define CR_OP_ARGS 6

struct cr_op {
	enum cr_op_id id;
	/* The arguments of operation @id, by name. */
	union {
		struct cr_set_tid_arg set_tid;
		struct cr_ns_last_pid_arg ns_last_pid;
		struct cr_map_files_arg map_files;
		struct cr_set_mm_map_arg set_mm_map;
		struct cr_next_id_arg next_id;
		struct cr_seize_arg seize;
		/* The same bytes as cr_helper's command line takes them. */
		long raw[CR_OP_ARGS];
	};
};

/* Room for what failed, and for a setup failure's reason. */
#define CR_WHAT_LEN 192

struct cr_result {
	/* 0 on success, else the errno of the operation. */
	int err;
	/* What the operation observed (operation specific). */
	long val[4];
	/* The step that failed, for the test log. */
	char what[CR_WHAT_LEN];
	/*
	 * Set when the world or the credentials could not be set up: not
	 * the operation's answer; @what says which step failed and why.
	 */
	int setup_failed;
};

/* Record that the step @what failed, with errno: returns the errno. */
int cr_fail(struct cr_result *res, const char *what);

/* Run @op: 0 or the errno, and what it observed, in @res. */
int cr_dispatch(const struct cr_op *op, struct cr_result *res);

/* The name of an outcome: "ok" for 0, else the errno's. */
const char *cr_errname(int err);

/*
 * What is wrong in an operation's effect, for cr_expect(), or NULL.  The
 * errno is judged there; these look at what the operation left behind.
 */

/* set_tid: the new task at @pid (0: not visible to us), NSpid as asked. */
const char *set_tid_wrong(const struct cr_result *r, pid_t pid);

/* A value the operation observed, against the one it must have. */
const char *value_wrong(const struct cr_result *r, long want, long got,
			const char *what);

/* map_files: the link names the object, and opening it gives its bytes. */
const char *map_files_wrong(const struct cr_result *r);

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_OPS_H */
