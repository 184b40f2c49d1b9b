/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_THREAD_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_THREAD_H

#include <stddef.h>

/*
 * clone3() for a thread that exits at once (cr_thread.c): its TID, a
 * negative errno, or -EOPNOTSUPP where the architecture has no helper.
 * @args is a struct clone_args with CLONE_THREAD, a stack and set_tid.
 */
long cr_clone3_exiting_thread(void *args, size_t size);

#endif
