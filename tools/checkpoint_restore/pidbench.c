// SPDX-License-Identifier: GPL-2.0
/*
 * pidbench - what choosing PIDs costs a restore tool.
 *
 * Recreates N tasks at given PIDs inside a fresh PID namespace, with
 *   set_tid     clone3() set_tid (needs CAP_CHECKPOINT_RESTORE);
 *   ns_last_pid write ns_last_pid, then clone (needs it too; serialised);
 *   cycle       create throw-away tasks until the next PID is the wanted
 *               one (needs nothing: the non-root workaround), as threads
 *               that exit at once, on every core until close, then one by
 *               one;
 *   floor       plain clone3() without set_tid: the cost of a task at all.
 * and reports tasks placed per second, the median and 99th percentile time
 * to place one task, and the ratio to the floor, checking that every task
 * got its PID.  Every run gets a PID namespace of its own (as root, or as
 * root of a new user namespace): the host's PIDs are never touched.
 *
 * Usage: pidbench [-n N[,N...]] [--layout sequential|sparse|random|all]
 *                 [--levels 1|2|3] [--threads] [--json] [--plot FILE.png]
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cr_thread.h"

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

#define MAX_LEVELS 3
#define FIRST_PID 300		/* targets start above the namespace's init */

enum method { M_FLOOR, M_SET_TID, M_NS_LAST_PID, M_CYCLE, M_NR };
static const char *const method_name[M_NR] = {
	[M_FLOOR] = "clone3 (floor)",
	[M_SET_TID] = "clone3 set_tid",
	[M_NS_LAST_PID] = "ns_last_pid+clone",
	[M_CYCLE] = "pid cycling",
};

enum layout { L_SEQUENTIAL, L_SPARSE, L_RANDOM, L_NR };
static const char *const layout_name[L_NR] = { "sequential", "sparse", "random" };

struct clone_args_v2 {
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal;
	__u64 stack, stack_size, tls, set_tid, set_tid_size;
};

/* What one run measured; shared with the parent through an mmap. */
struct run {
	int status;		/* 0, or an errno: the method cannot run here */
	int placed, wrong;	/* tasks placed; tasks that got another PID */
	double seconds;		/* wall time for all of them */
	double median_us, p99_us;
	long burned;		/* PIDs burned by cycling */
};

static bool opt_threads;
static int opt_repeat = 3;
static int opt_levels = 1;
static int opt_cores;

static double rate_of(const struct run *r)
{
	return r->seconds > 0 ? r->placed / r->seconds : 0;
}

static int cmp_rate(const void *a, const void *b)
{
	double x = rate_of(a), y = rate_of(b);

	return x < y ? -1 : x > y;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * clone3() whose child exits at once: its PID, or -errno.  Where the suite's
 * helper has no assembly for the architecture, a child that does not share
 * our memory can exit from C.
 */
static long clone3_exit_child(struct clone_args_v2 *args)
{
	long ret = cr_clone3_exiting_thread(args, sizeof(*args));

	if (ret == -EOPNOTSUPP && !(args->flags & CLONE_THREAD)) {
		ret = syscall(__NR_clone3, args, sizeof(*args));
		if (ret == 0)
			_exit(0);
		if (ret < 0)
			ret = -errno;
	}
	return ret;
}

/* Create one task (process, or thread with --threads); -errno on failure. */
static long new_task(const pid_t *set_tid, int levels)
{
	static alignas(16) char stack[4096];
	struct clone_args_v2 args = { .exit_signal = SIGCHLD };
	long pid;

	if (set_tid) {
		args.set_tid = (uintptr_t)set_tid;
		args.set_tid_size = levels;
	}
	if (opt_threads) {
		args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			     CLONE_THREAD | CLONE_SYSVSEM;
		args.exit_signal = 0;
		args.stack = (uintptr_t)stack;
		args.stack_size = sizeof(stack);
	}
	pid = clone3_exit_child(&args);
	if (pid < 0)
		errno = -pid;
	return pid;
}

/* Reap every child (threads reap themselves). */
static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL) > 0)
		;
}

static int write_ns_last_pid(pid_t pid)
{
	char buf[16];
	int fd, len, ret = 0;

	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The next PID this namespace would hand out is @cycle_last + 1 (the
 * parallel phase's workers store it concurrently: atomically).  They stop
 * at @cycle_stop, set before they start.
 */
static long cycle_last;
static pid_t cycle_stop;
static long cycle_burned;	/* by the parallel phase's workers */

/* Gaps longer than this many PIDs per core are cycled on every core. */
#define PARALLEL_GAP 16

/*
 * Burn one PID, the cheapest way: a thread that exits at once (no memory
 * to copy, nobody to reap); vfork()+_exit where that helper is missing.
 */
static long burn_one(void)
{
	static alignas(16) char stack[4096];
	struct clone_args_v2 args = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM,
		.stack = (uintptr_t)stack, .stack_size = sizeof(stack),
	};
	long pid = clone3_exit_child(&args);

	if (pid != -EOPNOTSUPP)
		return pid;
	pid = vfork();
	if (pid == 0)
		_exit(0);
	return pid < 0 ? -errno : pid;
}

static void *cycle_worker(void *arg)
{
	(void)arg;
	for (;;) {
		long pid = burn_one();

		if (pid < 0)
			return NULL;
		__atomic_fetch_add(&cycle_burned, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&cycle_last, pid, __ATOMIC_RELAXED);
		if (pid >= cycle_stop)
			return NULL;
	}
}

/*
 * Burn PIDs until the next one is @target: all cores while far away, one
 * by one at the end, so that no burner overshoots.
 */
static long cycle_to(pid_t target, long *burned)
{
	long pid = cycle_last;
	int margin = 4 * opt_cores;

	if (pid >= target)
		return -EOVERFLOW;	/* wrapping around pid_max is not measured */
	if (opt_cores > 1 && target - pid > PARALLEL_GAP * opt_cores) {
		pthread_t th[64];
		int n = opt_cores < 64 ? opt_cores : 64;

		cycle_stop = target - margin;
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, cycle_worker, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		*burned += __atomic_exchange_n(&cycle_burned, 0, __ATOMIC_RELAXED);
		pid = cycle_last;
	}
	while (pid < target - 1) {
		pid = burn_one();
		if (pid < 0)
			return pid;
		(*burned)++;
	}
	return 0;
}

/* Runs as init of a fresh PID namespace (levels deep), fills @r. */
static void measure(enum method m, const pid_t *targets, int n, struct run *r)
{
	double *t = calloc(n, sizeof(*t)), t0, t1, start;
	pid_t set_tid[MAX_LEVELS];
	struct sigaction sa = { .sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT };

	/* Cycling reaps nothing by hand: children vanish as they exit. */
	if (m == M_CYCLE)
		sigaction(SIGCHLD, &sa, NULL);
	cycle_last = getpid();
	start = now();
	for (int i = 0; i < n; i++) {
		long pid, err = 0;

		t0 = now();
		switch (m) {
		case M_FLOOR:
			pid = new_task(NULL, 0);
			break;
		case M_SET_TID:
			for (int l = 0; l < opt_levels; l++)
				set_tid[l] = targets[i];
			pid = new_task(set_tid, opt_levels);
			break;
		case M_NS_LAST_PID:
			err = write_ns_last_pid(targets[i] - 1);
			pid = err ? err : new_task(NULL, 0);
			break;
		case M_CYCLE:
			err = cycle_to(targets[i], &r->burned);
			pid = err ? err : new_task(NULL, 0);
			if (pid > 0)
				cycle_last = pid;
			break;
		default:
			pid = -EINVAL;
		}
		t1 = now();
		if (pid < 0) {
			r->status = -pid;
			break;
		}
		t[i] = (t1 - t0) * 1e6;
		if (m != M_FLOOR && pid != targets[i])
			r->wrong++;
		r->placed++;
	}
	r->seconds = now() - start;
	if (r->placed) {
		qsort(t, r->placed, sizeof(*t), cmp_double);
		r->median_us = t[r->placed / 2];
		r->p99_us = t[(int)(r->placed * 0.99) < r->placed ?
			      (int)(r->placed * 0.99) : r->placed - 1];
	}
	free(t);
	if (m != M_CYCLE)
		reap_all();
}

/* Become root of a user namespace when not root: its own PID namespaces. */
static int own_userns(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int fd, len;

	if (uid == 0)
		return 0;
	if (unshare(CLONE_NEWUSER))
		return -1;
	fd = open("/proc/self/setgroups", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "deny", 4) != 4)
			return -1;
		close(fd);
	}
	len = snprintf(map, sizeof(map), "0 %u 1", gid);
	fd = open("/proc/self/gid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, len) != len)
		return -1;
	close(fd);
	len = snprintf(map, sizeof(map), "0 %u 1", uid);
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, len) != len)
		return -1;
	close(fd);
	return 0;
}

/* One run in fresh PID namespaces (opt_levels deep); returns the result. */
static struct run run_once(enum method m, const pid_t *targets, int n)
{
	struct run *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct run res = { .status = ENOMEM };
	/* The floor at the same depth: a task in N levels costs more. */
	int levels = (m == M_SET_TID || m == M_FLOOR) ? opt_levels : 1;
	pid_t pid;

	if (r == MAP_FAILED)
		return res;
	memset(r, 0, sizeof(*r));
	r->status = ECHILD;
	pid = fork();
	if (pid == 0) {
		for (int l = 0; l < levels; l++) {
			if (unshare(CLONE_NEWPID)) {
				r->status = errno;
				_exit(1);
			}
			pid = fork();
			if (pid < 0)
				_exit(1);
			if (pid > 0) {
				waitpid(pid, NULL, 0);
				_exit(0);
			}
		}
		r->status = 0;
		measure(m, targets, n, r);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	res = *r;
	munmap(r, sizeof(*r));
	return res;
}

static void make_targets(enum layout l, pid_t *t, int n)
{
	switch (l) {
	case L_SEQUENTIAL:
		for (int i = 0; i < n; i++)
			t[i] = FIRST_PID + i;
		break;
	case L_SPARSE:
		for (int i = 0; i < n; i++)
			t[i] = FIRST_PID + 97 * i;
		break;
	case L_RANDOM: {
		/*
		 * Distinct, ascending (a restore creates parents first, and
		 * cycling only goes up), spread over 40 PIDs per task.
		 */
		unsigned int seed = 42;
		pid_t p = FIRST_PID;

		for (int i = 0; i < n; i++) {
			p += 1 + rand_r(&seed) % 79;
			t[i] = p;
		}
		break;
	}
	default:
		break;
	}
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: pidbench [-n N[,N...]] [--layout sequential|sparse|random|all]\n"
		"                [--levels 1|2|3] [--threads] [--cores K] [--repeat R] [--json]\n"
		"                [--plot FILE.png]\n");
}

/* One run's JSON object, after @sep. */
static void print_json_run(const char *sep, const char *layout, int n, enum method m,
			   const struct run *r, double rate, double vs_floor,
			   double lo, double hi)
{
	printf("%s{\"layout\": \"%s\", \"n\": %d, \"method\": \"%s\", ",
	       sep, layout, n, method_name[m]);
	printf("\"status\": \"%s\", \"placed\": %d, \"wrong_pid\": %d, ",
	       r->status ? strerror(r->status) : "ok", r->placed, r->wrong);
	printf("\"tasks_per_s\": %.1f, \"median_us\": %.2f, \"p99_us\": %.2f, ",
	       rate, r->median_us, r->p99_us);
	printf("\"vs_floor\": %.3f, \"pids_burned\": %ld, \"repeats\": %d, ",
	       vs_floor, r->burned, opt_repeat);
	printf("\"tasks_per_s_min\": %.1f, \"tasks_per_s_max\": %.1f}", lo, hi);
}

/* One run's line of the table: @lo-@hi the spread of the repeats. */
static void print_table_run(enum method m, const struct run *r, double rate,
			    double vs_floor, double lo, double hi)
{
	char spread[32];

	if (r->status && !r->placed) {
		printf("%-20s %s\n", method_name[m],
		       r->status == EOPNOTSUPP ? "n/a for this configuration" :
		       r->status == EPERM ? "refused: needs CAP_CHECKPOINT_RESTORE" :
		       strerror(r->status));
		return;
	}
	snprintf(spread, sizeof(spread), "(%.0f-%.0f)", lo, hi);
	printf("%-20s %12.0f %15s %10.2f %10.2f %8.2fx %s",
	       method_name[m], rate, spread, r->median_us, r->p99_us, vs_floor,
	       m == M_FLOOR ? "-" : r->wrong ? "WRONG PIDS" :
	       r->status ? strerror(r->status) : "all PIDs right");
	if (m == M_CYCLE)
		printf(" (%ld PIDs burned, %.0f PIDs/s)", r->burned,
		       r->seconds > 0 ? (r->burned + r->placed) / r->seconds : 0);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "layout", required_argument, NULL, 'l' },
		{ "levels", required_argument, NULL, 'L' },
		{ "threads", no_argument, NULL, 't' },
		{ "cores", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int ns[16] = { 1000 }, nn = 1, lay_first = 0, lay_last = L_NR - 1;
	const char *plot = NULL;
	bool json = false;
	int c, first = 1;

	opt_cores = sysconf(_SC_NPROCESSORS_ONLN);
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *s = optarg;

			for (nn = 0; s && *s && nn < 16; nn++) {
				ns[nn] = strtol(s, &s, 10);
				if (*s == ',')
					s++;
			}
			break;
		}
		case 'l':
			if (!strcmp(optarg, "all"))
				break;
			for (lay_first = 0; lay_first < L_NR; lay_first++)
				if (!strcmp(optarg, layout_name[lay_first]))
					break;
			if (lay_first == L_NR) {
				print_usage(stderr);
				return 2;
			}
			lay_last = lay_first;
			break;
		case 'L':
			opt_levels = atoi(optarg);
			if (opt_levels < 1 || opt_levels > MAX_LEVELS) {
				print_usage(stderr);
				return 2;
			}
			break;
		case 't':
			opt_threads = true;
			break;
		case 'c':
			opt_cores = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			plot = optarg;
			break;
		case 'r':
			opt_repeat = atoi(optarg);
			if (opt_repeat < 1 || opt_repeat > 16) {
				fprintf(stderr, "pidbench: --repeat must be 1..16\n");
				return 2;
			}
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	for (int i = 0; i < nn; i++)
		if (ns[i] < 1 || ns[i] > 20000) {
			fprintf(stderr, "pidbench: N must be 1..20000\n");
			return 2;
		}
	if (own_userns()) {
		perror("pidbench: no user namespace to work in (not root)");
		return 1;
	}

	FILE *dat = NULL;
	char datpath[] = "/tmp/pidbench-XXXXXX";

	if (plot) {
		int fd = mkstemp(datpath);

		dat = fd >= 0 ? fdopen(fd, "w") : NULL;
	}
	if (json) {
		printf("{\"levels\": %d, \"threads\": %s, \"cores\": %d, \"runs\": [",
		       opt_levels, opt_threads ? "true" : "false", opt_cores);
	} else {
		printf("pidbench: %s, %d PID namespace level%s (the floor too), ",
		       opt_threads ? "threads" : "processes", opt_levels,
		       opt_levels > 1 ? "s" : "");
		printf("cycling on %d core%s (gaps over %d PIDs in parallel), median of %d runs\n",
		       opt_cores, opt_cores > 1 ? "s" : "",
		       PARALLEL_GAP * opt_cores, opt_repeat);
	}
	for (int l = lay_first; l <= lay_last; l++) {
		for (int k = 0; k < nn; k++) {
			int n = ns[k];
			pid_t *targets = calloc(n, sizeof(*targets));
			struct run res[M_NR], rep[16];
			double lo[M_NR] = {0}, hi[M_NR] = {0};
			double floor_rate;

			make_targets(l, targets, n);
			for (int m = 0; m < M_NR; m++) {
				bool applies = !(opt_levels > 1 &&
						 (m == M_NS_LAST_PID || m == M_CYCLE)) &&
					       !(opt_threads && m == M_CYCLE) &&
					       !(opt_threads && m == M_NS_LAST_PID);

				memset(&res[m], 0, sizeof(res[m]));
				res[m].status = applies ? 0 : EOPNOTSUPP;
				if (!applies)
					continue;
				/* Several runs: the median, and the spread around it. */
				for (int k = 0; k < opt_repeat; k++)
					rep[k] = run_once(m, targets, n);
				qsort(rep, opt_repeat, sizeof(rep[0]), cmp_rate);
				res[m] = rep[opt_repeat / 2];
				for (int k = 0; k < opt_repeat; k++)
					if (rep[k].status && !res[m].status)
						res[m].status = rep[k].status;
				lo[m] = rate_of(&rep[0]);
				hi[m] = rate_of(&rep[opt_repeat - 1]);
			}
			floor_rate = res[M_FLOOR].seconds > 0 ?
				     res[M_FLOOR].placed / res[M_FLOOR].seconds : 0;
			if (!json)
				printf("\nlayout %s, N=%d (PIDs %d..%d)\n"
				       "%-20s %12s %15s %10s %10s %9s %s\n", layout_name[l],
				       n, targets[0], targets[n - 1], "method", "tasks/s",
				       "(min-max)", "median us", "p99 us", "vs floor", "check");
			for (int m = 0; m < M_NR; m++) {
				struct run *r = &res[m];
				double rate = r->seconds > 0 ? r->placed / r->seconds : 0;
				double vs_floor = floor_rate ? rate / floor_rate : 0;

				if (json) {
					print_json_run(first ? "" : ", ", layout_name[l], n, m, r,
						       rate, vs_floor, lo[m], hi[m]);
					first = 0;
				} else {
					print_table_run(m, r, rate, vs_floor, lo[m], hi[m]);
				}
				if (dat && !r->status)
					fprintf(dat, "%s %d %d %.1f %.2f\n", layout_name[l], m, n,
						rate, r->median_us);
			}
			if (!json && !res[M_SET_TID].status && !res[M_CYCLE].status &&
			    res[M_SET_TID].seconds > 0 && res[M_CYCLE].seconds > 0) {
				double st = res[M_SET_TID].placed / res[M_SET_TID].seconds;
				double cy = res[M_CYCLE].placed / res[M_CYCLE].seconds;
				double burn = (res[M_CYCLE].burned + res[M_CYCLE].placed) /
					      res[M_CYCLE].seconds;

				printf("set_tid places tasks %.1fx faster than cycling here; ",
				       st / cy);
				printf("cycling burned %.0f PIDs/s on %d core%s %s\n",
				       burn, opt_cores, opt_cores > 1 ? "s" : "",
				       "(the published ~100,000 PIDs/s: 4 cores, num_cpus+2 threads)");
			}
			free(targets);
		}
	}
	if (json)
		printf("]}\n");
	if (dat) {
		char cmd[1024];
		FILE *gp = NULL;

		fclose(dat);
		if (system("command -v gnuplot >/dev/null 2>&1") == 0)
			gp = popen("gnuplot", "w");
		if (!gp) {
			fprintf(stderr,
				"pidbench: no gnuplot for --plot (apt-get install gnuplot-nox)\n");
			unlink(datpath);
			return 1;
		}
		fprintf(gp, "set terminal png size 1100,560 noenhanced\nset output '%s'\n"
			"set multiplot layout 1,2\nset logscale y\nset key below\n"
			"set xlabel 'N tasks'\nset title 'tasks placed per second'\nplot ", plot);
		/* One line per layout and method: N grows along each line. */
		for (int col = 4; col <= 5; col++) {
			int k = 0;

			if (col == 5)
				fprintf(gp,
					"\nset title 'median time to place one task (us)'\nplot ");
			for (int l = lay_first; l <= lay_last; l++)
				for (int m = 0; m < M_NR; m++)
					fprintf(gp,
						"%s'< awk \"\\$1 == \\\"%s\\\" && \\$2 == %d\" %s' using 3:%d with linespoints title '%s, %s'",
						k++ ? ", " : "", layout_name[l], m, datpath, col,
						method_name[m], layout_name[l]);
		}
		fprintf(gp, "\nunset multiplot\n");
		snprintf(cmd, sizeof(cmd), "%s", datpath);
		if (pclose(gp) != 0) {
			fprintf(stderr, "pidbench: gnuplot failed to write %s\n", plot);
			unlink(cmd);
			return 1;
		}
		unlink(cmd);
	}
	return 0;
}
