// SPDX-License-Identifier: GPL-2.0
/*
 * cr_helper RESULT-FD OP-ID ARG0 ... ARG5
 *
 * The program the file capability, ambient capability and SELinux domain
 * variants exec (a copy of it, set up by cr_copy_helper()): it runs one
 * operation of ops.h with the credentials the exec gave it and writes the
 * struct cr_result to RESULT-FD.  ARG0..ARG5 are the words of struct
 * cr_op's raw[], as exec_helper() (cr_ns.c) wrote them.  No harness here.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cr_creds.h"
#include "ops.h"

int main(int argc, char **argv)
{
	struct cr_result res = {};
	struct cr_op op = {};
	int fd;

	if (argc != 3 + CR_OP_ARGS) {
		fprintf(stderr, "usage: %s RESULT-FD OP-ID ARG0..ARG%d\n", argv[0],
			CR_OP_ARGS - 1);
		return 2;
	}
	fd = atoi(argv[1]);
	op.id = atoi(argv[2]);
	for (int i = 0; i < CR_OP_ARGS; i++)
		op.raw[i] = atol(argv[3 + i]);
	cr_dumpable();
	errno = 0;
	cr_dispatch(&op, &res);
	if (write(fd, &res, sizeof(res)) != sizeof(res))
		return 2;
	return 0;
}
