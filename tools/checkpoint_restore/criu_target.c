// SPDX-License-Identifier: GPL-2.0
/*
 * criu_target - a process tree for criu_test.py to checkpoint and restore.
 *
 *   criu_target DIR [--size MB] [--children N] [--threads N]
 *                   [--no-deleted] [--no-pty] [--ipc] [--seccomp] [--shell-job]
 *
 * Each process of the tree (the root and N children) holds:
 *   - N threads that count (progress);
 *   - an anonymous mapping, a memfd mapping and (unless --no-deleted) a
 *     mapping of a file it then deletes (map_files at dump time), filled
 *     with a pattern whose checksum it recomputes every 100 ms;
 *   - unless --no-pty, a pseudo-terminal pair it opened itself (a restore
 *     recreates it and locks its termios: TIOCSLCKTRMIOS);
 *   - with --ipc, a SysV message queue with one message in it.
 * With --seccomp the tree runs under a (permissive) seccomp filter.  It
 * leads a session of its own, unless --shell-job: then it stays in its
 * parent's session, on the terminal it was given (criu --shell-job).
 *
 * Every process reports in its own line of DIR/state, a shared file
 * mapping: "pid=P nspid=A,B count=C sum=S ipc=Q", rewritten every 10 ms.
 * A restored tree must show the same pids and sums, and counts that grow.
 * Stops on SIGTERM; never exits on its own.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cr_proc.h"

#define SLOT 256
#define MAX_PROCS 16

static struct {
	const char *dir;
	size_t size;
	int children, threads;
	int deleted, pty, ipc, seccomp, setsid;
} opt = { .size = 4 << 20, .children = 1, .threads = 2, .deleted = 1, .pty = 1,
	.setsid = 1 };

static char *state;		/* DIR/state, MAX_PROCS slots */
static __u64 counts[64];	/* one per thread, read by run(): atomic */

struct region {
	unsigned char *p;
	size_t len;
};

static void die(const char *what)
{
	fprintf(stderr, "criu_target: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fill(struct region *r, unsigned int seed)
{
	for (size_t i = 0; i < r->len; i += 64)
		r->p[i] = (unsigned char)(seed + i / 64 * 131);
}

/* A sample of the region: one byte in 64, enough to see a page lost. */
static __u32 sum(const struct region *r)
{
	__u32 h = 2166136261u;

	for (size_t i = 0; i < r->len; i += 64)
		h = (h ^ r->p[i]) * 16777619u;
	return h;
}

/* NSpid as "A,B" (outermost first, cut at @size), "?" if unknown. */
static void nspid(char *buf, size_t size)
{
	pid_t pids[33];		/* MAX_PID_NS_LEVEL + 1 */
	int n = cr_nspid(0, pids, 33);
	size_t o = 0;

	snprintf(buf, size, "%s", n < 0 ? "?" : "");
	for (int i = 0; i < n && i < 33 && o < size - 1; i++)
		o += snprintf(buf + o, size - o, "%s%d", i ? "," : "", (int)pids[i]);
}

static void *counter(void *arg)
{
	__u64 *c = arg;

	for (;;) {
		__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
		usleep(1000);
	}
	return NULL;
}

static void install_seccomp(void)
{
	struct sock_filter allow[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 1, .filter = allow };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		die("seccomp");
}

static struct region map_anon(size_t len)
{
	struct region r = { mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), len };

	if (r.p == MAP_FAILED)
		die("mmap anon");
	return r;
}

static struct region map_fd(int fd, size_t len, const char *what)
{
	struct region r = { NULL, len };

	if (ftruncate(fd, len))
		die(what);
	r.p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r.p == MAP_FAILED)
		die(what);
	close(fd);
	return r;
}

static void run(int idx)
{
	struct region reg[3];
	int nreg = 0, qid = -1, master = -1, slave = -1;
	char path[4096], ns[128];
	pthread_t th;

	/* anon 1/2, memfd 1/4, deleted file 1/4 (or anon 3/4 without it) */
	reg[nreg] = map_anon(opt.deleted ? opt.size / 2 : opt.size / 4 * 3);
	fill(&reg[nreg++], idx * 7 + 1);
	reg[nreg] = map_fd(memfd_create("criu_target", 0), opt.size / 4, "memfd");
	fill(&reg[nreg++], idx * 7 + 2);
	if (opt.deleted) {
		snprintf(path, sizeof(path), "%s/deleted.%d", opt.dir, idx);
		reg[nreg] = map_fd(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600),
				   opt.size / 4, "deleted file");
		fill(&reg[nreg++], idx * 7 + 3);
		if (unlink(path))
			die("unlink");
	}
	if (opt.pty) {
		master = posix_openpt(O_RDWR | O_NOCTTY);
		if (master < 0 || grantpt(master) || unlockpt(master))
			die("posix_openpt");
		slave = open(ptsname(master), O_RDWR | O_NOCTTY);
		if (slave < 0)
			die("pty slave");
	}
	if (opt.ipc) {
		struct { long type; char text[16]; } msg = { 1, "crcap" };

		qid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (qid < 0 || msgsnd(qid, &msg, sizeof(msg.text), 0))
			die("msgget/msgsnd");
	}
	for (int t = 0; t < opt.threads; t++)
		if (pthread_create(&th, NULL, counter, (void *)&counts[t]))
			die("pthread_create");
	nspid(ns, sizeof(ns));
	for (__u64 tick = 0;; tick++) {
		static __u32 total;
		__u64 c = 0;
		char line[SLOT], slot[SLOT];
		struct msqid_ds q;
		int msgs = -1;

		if (tick % 10 == 0) {
			total = 0;
			for (int i = 0; i < nreg; i++)
				total ^= sum(&reg[i]) + i;
		}
		for (int t = 0; t < opt.threads; t++)
			c += __atomic_load_n(&counts[t], __ATOMIC_RELAXED);
		if (qid >= 0 && !msgctl(qid, IPC_STAT, &q))
			msgs = (int)q.msg_qnum;
		snprintf(line, sizeof(line), "pid=%d nspid=%s count=%llu sum=%08x ipc=%d pty=%d",
			 getpid(), ns, (unsigned long long)c, total, msgs,
			 master >= 0 && slave >= 0);
		/*
		 * The whole slot at once: a reader must never find it blank
		 * (it took a child's line for the root's, once).
		 */
		memset(slot, ' ', SLOT - 1);
		memcpy(slot, line, strlen(line));
		slot[SLOT - 1] = '\n';
		memcpy(state + idx * SLOT, slot, SLOT);
		usleep(10000);
	}
}

int main(int argc, char **argv)
{
	char path[4096];
	int fd;

	if (argc < 2) {
		fprintf(stderr,
			"usage: criu_target DIR [--size MB] [--children N] [--threads N] [--no-deleted] [--no-pty] [--ipc] [--seccomp] [--shell-job]\n");
		return 2;
	}
	opt.dir = argv[1];
	/* A tree of its own session (no --shell-job), unless --shell-job. */
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--shell-job"))
			opt.setsid = 0;
	if (opt.setsid && getsid(0) != getpid())
		setsid();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			opt.size = (size_t)atol(argv[++i]) << 20;
		else if (!strcmp(argv[i], "--children") && i + 1 < argc)
			opt.children = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			opt.threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-deleted"))
			opt.deleted = 0;
		else if (!strcmp(argv[i], "--no-pty"))
			opt.pty = 0;
		else if (!strcmp(argv[i], "--ipc"))
			opt.ipc = 1;
		else if (!strcmp(argv[i], "--seccomp"))
			opt.seccomp = 1;
		else if (!strcmp(argv[i], "--shell-job"))
			;	/* handled above */
		else
			return fprintf(stderr, "criu_target: unknown option %s\n", argv[i]), 2;
	}
	if (opt.children + 1 > MAX_PROCS || opt.threads > 64 || opt.threads < 1)
		return fprintf(stderr, "criu_target: too many children or threads\n"), 2;
	snprintf(path, sizeof(path), "%s/state", opt.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, MAX_PROCS * SLOT))
		die("state file");
	state = mmap(NULL, MAX_PROCS * SLOT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (state == MAP_FAILED)
		die("mmap state");
	close(fd);
	if (opt.seccomp)
		install_seccomp();
	for (int i = 1; i <= opt.children; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			run(i);
		}
	}
	run(0);
	return 0;
}
