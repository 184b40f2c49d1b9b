// SPDX-License-Identifier: GPL-2.0
/*
 * The OpenMP workload: a job of CHUNKS chunks, run by a team of threads,
 * that is checkpointed part-way and finishes after its restore.
 *
 *	omp_job DIR CHUNKS
 *
 * Each chunk is a fixed computation.  When a chunk is done its thread
 * appends "chunk I" to DIR/chunks (one write(2), O_APPEND); at the end
 * the job writes "pid=PID sum=SUM" to DIR/result.  It writes its PID to
 * DIR/pid when it starts.  SUM does not depend on
 * the order the chunks ran in, so an uninterrupted run gives the value a
 * restored run must give; DIR/chunks names every chunk once if no work
 * was lost or done twice; PID is the job's PID when it started.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t chunk(int i)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
	long n;

	for (n = 0; n < 50000000; n++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

int main(int argc, char **argv)
{
	char path[4096];
	pid_t pid = getpid();
	uint64_t sum = 0, *part;
	int chunks, fd, i;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: omp_job DIR CHUNKS\n");
		return 2;
	}
	chunks = atoi(argv[2]);
	snprintf(path, sizeof(path), "%s/pid", argv[1]);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/chunks", argv[1]);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	part = calloc(chunks, sizeof(*part));
	if (!part) {
		perror("calloc");
		return 1;
	}
#pragma omp parallel for schedule(dynamic, 1)
	for (i = 0; i < chunks; i++) {
		char msg[32];
		int n;

		part[i] = chunk(i);
		n = snprintf(msg, sizeof(msg), "chunk %d\n", i);
		if (write(fd, msg, n) != n)
			abort();
	}
	close(fd);
	for (i = 0; i < chunks; i++)
		sum ^= part[i];
	snprintf(path, sizeof(path), "%s/result", argv[1]);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	fprintf(f, "pid=%d sum=%llu\n", (int)pid, (unsigned long long)sum);
	return fclose(f) ? 1 : 0;
}
