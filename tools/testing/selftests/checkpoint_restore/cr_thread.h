/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_THREAD_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_THREAD_H

#include <stddef.h>

/*
 * clone3() whose child exits at once (cr_thread.c): its TID (or PID), a
 * negative errno, or -EOPNOTSUPP where the architecture has no helper.
 * The child runs no C code, so it may be a thread that shares our memory:
 * the set_tid tests pass CLONE_THREAD, a stack and set_tid in @args (a
 * struct clone_args).  No kselftest harness: pidbench links it too.
 */
long cr_clone3_exiting_thread(void *args, size_t size);

#endif
