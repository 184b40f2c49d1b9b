/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clone3() with set_tid, PID namespace levels as a task sees them, and the
 * probes the tests use to SKIP what a kernel lacks.  No harness needed.
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_CLONE3_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_CLONE3_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/types.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Largest PID namespace nesting the kernel accepts (MAX_PID_NS_LEVEL). */
#define CR_MAX_SET_TID 32

/* Below mmap_min_addr: never mapped, for EFAULT tests. */
#define CR_UNMAPPED_ADDR (4096UL * 7)

/* First three versions of struct clone_args, up to set_tid_size. */
struct cr_clone_args {
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
};

static inline pid_t sys_clone3(struct cr_clone_args *args)
{
	fflush(stdout);
	fflush(stderr);
	return syscall(__NR_clone3, args, sizeof(*args));
}

/*
 * clone3() with set_tid (and @flags, e.g. CLONE_NEWPID); the child exits
 * with 0 if the PIDs it sees for itself in /proc/self/status (NSpid,
 * outermost first) end with set_tid[size - 1], ..., set_tid[0], else 1.
 */
static inline pid_t cr_clone3_set_tid(const pid_t *set_tid, size_t size,
				      __u64 flags, int *child_status)
{
	struct cr_clone_args args = {
		.flags = flags,
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)set_tid,
		.set_tid_size = size,
	};
	pid_t pid;

	pid = sys_clone3(&args);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		char line[256] = "";
		long ns[CR_MAX_SET_TID + 1];
		int n = 0, ok = 1;
		FILE *f = fopen("/proc/self/status", "r");

		while (f && fgets(line, sizeof(line), f)) {
			char *p = line + 6, *end;

			if (strncmp(line, "NSpid:", 6))
				continue;
			while (n <= CR_MAX_SET_TID) {
				long v = strtol(p, &end, 10);

				if (end == p)
					break;
				ns[n++] = v;
				p = end;
			}
		}
		if (n < (int)size)
			ok = 0;
		for (size_t i = 0; ok && i < size; i++)
			if (ns[n - 1 - i] != set_tid[i])
				ok = 0;
		_exit(ok ? 0 : 1);
	}
	if (waitpid(pid, child_status, 0) != pid)
		*child_status = -1;
	return pid;
}

/* How many PID namespaces this task is seen in (the /proc mount's and below). */
static inline int cr_nspid_levels(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		while (strtol(p, &end, 10), end != p) {
			n++;
			p = end;
		}
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * Guard for operations that change PID-namespace state: refuse to run
 * unless this task sits in a PID namespace the test made (pid 1 or 2 there,
 * more than one NSpid level), never in the initial one.
 */
static inline bool cr_in_test_pidns(void)
{
	return getpid() <= 2 && cr_nspid_levels() >= 2;
}

/* The pidfd/clone3 feature probes: a missing syscall is a SKIP, never a FAIL. */
static inline bool cr_have_clone3(void)
{
	struct cr_clone_args args = { .exit_signal = -1 };

	/*
	 * An invalid exit_signal is refused (EINVAL) before anything is
	 * created; a kernel without clone3() knows no such system call.
	 */
	return syscall(__NR_clone3, &args, sizeof(args)) < 0 && errno == EINVAL;
}

static inline int cr_cap_last_cap(void)
{
	int last = -1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	return last;
}

/*
 * For behaviour that changed in a release (the ipc *_next_id sysctls
 * became capability-gated in 5.16) only the version can say what to
 * expect: nothing else is observable but the operation under test, and a
 * probe that tried it would turn a regression into a SKIP.  Features
 * that can be probed are probed (cr_have_clone3(), cr_cap_last_cap(),
 * the sysctl files' presence).
 */
static inline bool cr_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_CR_CLONE3_H */
