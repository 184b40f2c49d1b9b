/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc/PID/status says of a task's PIDs (cr_proc.c).  Plain C, no
 * kselftest harness: linked into every program of the suite and into the
 * tools of tools/checkpoint_restore (crcheck, criu_target).
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_PROC_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_PROC_H

#include <sys/types.h>

/*
 * The PIDs of @pid (0: the caller) in NSpid, one per PID namespace level,
 * outermost first: how many levels there are, of which the first @max are
 * stored in @pids (may be NULL with @max 0).  -errno if the status file
 * cannot be read, -ENOENT without an NSpid line (kernels before 4.1).
 */
int cr_nspid(pid_t pid, pid_t *pids, int max);

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_CR_PROC_H */
