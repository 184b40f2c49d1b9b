/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clone3() with set_tid, PID namespace levels as a task sees them, and the
 * probes the tests use to SKIP what a kernel lacks (cr_clone3.c).
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_CLONE3_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_CLONE3_H

#include <linux/sched.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * struct clone_args is the tree's uapi one: $(KHDR_INCLUDES) puts the
 * headers of the kernel under test first.  Its set_tid and set_tid_size
 * came in 5.5 (CLONE_ARGS_SIZE_VER1), cgroup in 5.7 (VER2).  Headers from
 * before clone3() (5.3) have no such struct: declare it as 5.7 made it.
 * Those of 5.3 and 5.4 have it without set_tid, which cannot be mended.
 */
#ifndef CLONE_ARGS_SIZE_VER0
#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER1 80
#define CLONE_ARGS_SIZE_VER2 88

struct clone_args {
	__aligned_u64 flags;
	__aligned_u64 pidfd;
	__aligned_u64 child_tid;
	__aligned_u64 parent_tid;
	__aligned_u64 exit_signal;
	__aligned_u64 stack;
	__aligned_u64 stack_size;
	__aligned_u64 tls;
	__aligned_u64 set_tid;
	__aligned_u64 set_tid_size;
	__aligned_u64 cgroup;
};
#elif !defined(CLONE_ARGS_SIZE_VER1)
#error "struct clone_args without set_tid: use the tree's headers (make headers)"
#endif

/* Largest PID namespace nesting the kernel accepts (MAX_PID_NS_LEVEL). */
#define CR_MAX_SET_TID 32

/* Below mmap_min_addr: never mapped, for EFAULT tests. */
#define CR_UNMAPPED_ADDR (4096UL * 7)

/* clone3(@args) with stdio flushed first: the child's PID, 0, or -1. */
pid_t sys_clone3(struct clone_args *args);

/*
 * clone3() with set_tid (and @flags, e.g. CLONE_NEWPID); the child exits
 * with 0 if the PIDs it sees for itself in /proc/self/status (NSpid,
 * outermost first) end with set_tid[size - 1], ..., set_tid[0], else 1.
 */
pid_t cr_clone3_set_tid(const pid_t *set_tid, size_t size, __u64 flags,
			int *child_status);

/* How many PID namespaces this task is seen in (the /proc mount's and below). */
int cr_nspid_levels(void);

/*
 * Guard for operations that change PID-namespace state: refuse to run
 * unless this task sits in a PID namespace the test made (pid 1 or 2 there,
 * more than one NSpid level), never in the initial one.
 */
bool cr_in_test_pidns(void);

/* The clone3 feature probe: a missing system call is a SKIP, never a FAIL. */
bool cr_have_clone3(void);

/* /proc/sys/kernel/cap_last_cap, or -1. */
int cr_cap_last_cap(void);

/*
 * For behaviour that changed in a release (the ipc *_next_id sysctls
 * became capability-gated in 5.16) only the version can say what to
 * expect: nothing else is observable but the operation under test, and a
 * probe that tried it would turn a regression into a SKIP.  Features
 * that can be probed are probed (cr_have_clone3(), cr_cap_last_cap(),
 * the sysctl files' presence).
 */
bool cr_kernel_at_least(int major, int minor);

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_CR_CLONE3_H */
