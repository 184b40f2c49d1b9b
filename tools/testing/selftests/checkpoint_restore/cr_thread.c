// SPDX-License-Identifier: GPL-2.0
/*
 * A thread at a chosen TID that exits at once, for the set_tid tests (and
 * the PIDs pidbench creates and burns).
 *
 * The new thread shares our memory but must not use our stack: it calls
 * exit() from the instruction after the system call, which needs the
 * system call to be issued from assembly.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "cr_thread.h"

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

#if defined(__x86_64__)
long cr_clone3_exiting_thread(void *args, size_t size)
{
	register long ret asm("rax") = __NR_clone3;
	register long a1 asm("rdi") = (long)args;
	register long a2 asm("rsi") = size;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "mov %[nr_exit], %%eax\n\t"
		     "xor %%edi, %%edi\n\t"
		     "syscall\n\t"
		     "1:\n\t"
		     : "+r"(ret)
		     : "r"(a1), "r"(a2), [nr_exit] "i"(__NR_exit)
		     : "rcx", "r11", "memory");
	return ret;
}
#else
long cr_clone3_exiting_thread(void *args, size_t size)
{
	return -EOPNOTSUPP;
}
#endif
