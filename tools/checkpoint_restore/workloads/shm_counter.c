// SPDX-License-Identifier: GPL-2.0
/*
 * The job of the container the runc_path workload checkpoints: a counter
 * kept in shared memory the way shared-memory users keep it, a file of
 * /tmp mapped shared and then removed, with no descriptor left.  Its only
 * name is then /proc/PID/map_files, which a checkpoint in a user namespace
 * may open only with the RFC's 0001.  Every tenth of a second it counts
 * on in the mapping and writes the count to COUNT_FILE, where the test
 * reads it: restored, it must go on from the count it had.
 *
 *	shm_counter COUNT_FILE
 *
 * Static (the container is busybox's), and its output is the container's
 * /dev/null: criu cannot dump a file of the host's.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SHM_FILE "/tmp/.shm_counter"

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	unsigned long *n;
	char tmp[256];
	int fd;

	if (argc != 2 || snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= (int)sizeof(tmp))
		return 2;
	fd = open(SHM_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, getpagesize()))
		return 1;
	n = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (n == MAP_FAILED || close(fd) || unlink(SHM_FILE))
		return 1;
	for (;;) {
		char buf[32];
		int len;

		++*n;
		len = snprintf(buf, sizeof(buf), "%lu\n", *n);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, len) != len || close(fd) || rename(tmp, argv[1]))
			return 1;
		nanosleep(&tick, NULL);
	}
}
