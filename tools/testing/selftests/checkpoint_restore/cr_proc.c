// SPDX-License-Identifier: GPL-2.0
/*
 * The NSpid line of /proc/PID/status: cr_proc.h.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_proc.h"

int cr_nspid(pid_t pid, pid_t *pids, int max)
{
	/* 33 levels (MAX_PID_NS_LEVEL + 1) of 7-digit PIDs fit. */
	char path[32], line[512];
	int n = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (n = 0;; n++, p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (n < max)
				pids[n] = v;
		}
		break;
	}
	fclose(f);
	return n;
}
