// SPDX-License-Identifier: GPL-2.0
/*
 * clone3() with set_tid, PID namespace levels, kernel probes: cr_clone3.h.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cr_clone3.h"
#include "cr_proc.h"

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

pid_t sys_clone3(struct clone_args *args)
{
	fflush(stdout);
	fflush(stderr);
	return syscall(__NR_clone3, args, sizeof(*args));
}

pid_t cr_clone3_set_tid(const pid_t *set_tid, size_t size, __u64 flags,
			int *child_status)
{
	struct clone_args args = {
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
		pid_t ns[CR_MAX_SET_TID + 1];
		int n = cr_nspid(0, ns, CR_MAX_SET_TID + 1);
		int ok = n >= (int)size && n <= CR_MAX_SET_TID + 1;

		for (size_t i = 0; ok && i < size; i++)
			if (ns[n - 1 - i] != set_tid[i])
				ok = 0;
		_exit(ok ? 0 : 1);
	}
	if (waitpid(pid, child_status, 0) != pid)
		*child_status = -1;
	return pid;
}

int cr_nspid_levels(void)
{
	int n = cr_nspid(0, NULL, 0);

	return n < 0 ? 0 : n;
}

bool cr_in_test_pidns(void)
{
	return getpid() <= 2 && cr_nspid_levels() >= 2;
}

bool cr_have_clone3(void)
{
	struct clone_args args = { .exit_signal = -1 };

	/*
	 * An invalid exit_signal is refused (EINVAL) before anything is
	 * created; a kernel without clone3() knows no such system call.
	 */
	return syscall(__NR_clone3, &args, sizeof(args)) < 0 && errno == EINVAL;
}

int cr_cap_last_cap(void)
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

bool cr_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}
