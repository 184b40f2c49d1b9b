// SPDX-License-Identifier: GPL-2.0
/*
 * The read side of every operation that CAP_CHECKPOINT_RESTORE guards needs
 * no capability at all.
 *
 * Since Linux 5.9 checkpoint_restore_ns_capable() (CAP_CHECKPOINT_RESTORE or
 * CAP_SYS_ADMIN) guards the write side of several operations; next to each
 * of them is a read that a dumper needs and that must stay free:
 *
 *  - reading /proc/sys/kernel/ns_last_pid (pid_ns_ctl_handler() checks the
 *    capability for a write only);
 *  - reading /proc/sys/kernel/{msg,sem,shm}_next_id (mode 0444 for those not
 *    capable);
 *  - listing /proc/PID/map_files/ and readlink() of an entry: only following
 *    a link (open) needs the capability, the rest needs ptrace read access,
 *    which a task has to itself;
 *  - TIOCGLCKTRMIOS on a tty (only TIOCSLCKTRMIOS needs the capability);
 *  - prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE): the size of struct prctl_mm_map
 *    (only PR_SET_MM_MAP with an exe_fd needs the capability);
 *  - readlink() of /proc/self/exe, what PR_SET_MM_MAP's exe_fd replaces.
 *
 * A kernel that adds a capability check to one of these read paths breaks
 * every dumper that is not root; the variants without a capability catch it.
 * Each case forks a child that switches to the variant's credentials, does
 * the read, checks its effect (a value parsed and in range, a path) and
 * reports through a pipe; the parent prints one line per case:
 *   # read_side.<variant>.<test>: expected <outcome>, observed <outcome>
 * where an outcome is "ok" or the errno's name, with " but <what>" when the
 * read succeeded with a wrong effect.  Run as non-root, every case SKIPs.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/prctl.h>
#include <linux/securebits.h>

#include "../kselftest_harness.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define NS_LAST_PID	"/proc/sys/kernel/ns_last_pid"
#define PID_MAX		"/proc/sys/kernel/pid_max"
#define MSG_NEXT_ID	"/proc/sys/kernel/msg_next_id"
#define SEM_NEXT_ID	"/proc/sys/kernel/sem_next_id"
#define SHM_NEXT_ID	"/proc/sys/kernel/shm_next_id"
#define MAP_FILES	"/proc/self/map_files"
#define NOBODY		65534

#define NEEDS_ROOT	"needs root: switches credentials"
#define NO_CR_CONFIG	"(CONFIG_CHECKPOINT_RESTORE)"
#define NO_NEXT_ID	"(CONFIG_SYSVIPC, CONFIG_CHECKPOINT_RESTORE)"

/* uid 0 that cannot regain a capability: not by exec, not by setuid. */
#define ROOT_NO_CAPS_SECUREBITS	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | \
				 SECBIT_NO_SETUID_FIXUP | \
				 SECBIT_NO_SETUID_FIXUP_LOCKED | \
				 SECBIT_KEEP_CAPS_LOCKED | \
				 SECBIT_NO_CAP_AMBIENT_RAISE | \
				 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

static const char *errname(int err)
{
	switch (err) {
	case 0:		return "ok";
	case EPERM:	return "EPERM";
	case ENOENT:	return "ENOENT";
	case ESRCH:	return "ESRCH";
	case EIO:	return "EIO";
	case ENXIO:	return "ENXIO";
	case EBADF:	return "EBADF";
	case ENOMEM:	return "ENOMEM";
	case EACCES:	return "EACCES";
	case EFAULT:	return "EFAULT";
	case EBUSY:	return "EBUSY";
	case ENODEV:	return "ENODEV";
	case ENOTDIR:	return "ENOTDIR";
	case EINVAL:	return "EINVAL";
	case ENOTTY:	return "ENOTTY";
	case ERANGE:	return "ERANGE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	return NULL;
}

/* "ok", "EPERM", ... or "errno 123"; " but @but" after it when given. */
static void outcome(char *buf, size_t len, int err, const char *but)
{
	const char *name = errname(err);
	int n;

	if (name)
		n = snprintf(buf, len, "%s", name);
	else
		n = snprintf(buf, len, "errno %d", err);
	if (but && but[0] && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " but %s", but);
}

/* A step that failed: its name in @what, its errno returned. */
static int failed(char *what, size_t len, const char *step, int err)
{
	snprintf(what, len, "%s", step);
	return err;
}

/* A read that succeeded with a wrong effect: what is wrong, in @but. */
static int wrong(char *but, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(but, len, fmt, ap);
	va_end(ap);
	return 0;
}

/* The whole of a small file, as text without its trailing newline. */
static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = errno;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* A decimal integer and nothing else. */
static bool parse_long(const char *text, long *val)
{
	char *end;

	errno = 0;
	*val = strtol(text, &end, 10);
	return end != text && !*end && !errno;
}

static long read_number(const char *path)
{
	char text[32];
	long val;

	if (read_text(path, text, sizeof(text)) || !parse_long(text, &val))
		return -1;
	return val;
}

/* The credentials a variant reads with. */
struct read_creds {
	/* The variant's name, as the diagnostic lines give it. */
	const char *name;
	/* false: keep the caller's credentials (root). */
	bool switch_creds;
	uid_t uid;
	gid_t gid;
	/* CAP_CHECKPOINT_RESTORE effective and permitted, nothing else. */
	bool cap_cr;
	/* Set (and locked) before the switch, 0 for none. */
	unsigned long securebits;
};

FIXTURE(read_side) {};

FIXTURE_VARIANT(read_side) {
	struct read_creds creds;
	/* Per test: the errno expected, 0 for success. */
	int expected_ns_last_pid_read;
	int expected_msg_next_id_read;
	int expected_sem_next_id_read;
	int expected_shm_next_id_read;
	int expected_map_files_readdir;
	int expected_map_files_readlink;
	int expected_lock_termios_get;
	int expected_mm_map_size;
	int expected_exe_readlink;
};

/* uid and gid 65534, no capability in any set. */
FIXTURE_VARIANT_ADD(read_side, nobody_no_caps) {
	.creds = {
		.name = "nobody_no_caps",
		.switch_creds = true,
		.uid = NOBODY,
		.gid = NOBODY,
	},
	.expected_ns_last_pid_read = 0,
	.expected_msg_next_id_read = 0,
	.expected_sem_next_id_read = 0,
	.expected_shm_next_id_read = 0,
	.expected_map_files_readdir = 0,
	.expected_map_files_readlink = 0,
	.expected_lock_termios_get = 0,
	.expected_mm_map_size = 0,
	.expected_exe_readlink = 0,
};

/* uid 0, every capability set empty (ambient too), locked that way. */
FIXTURE_VARIANT_ADD(read_side, root_no_caps) {
	.creds = {
		.name = "root_no_caps",
		.switch_creds = true,
		.uid = 0,
		.gid = 0,
		.securebits = ROOT_NO_CAPS_SECUREBITS,
	},
	.expected_ns_last_pid_read = 0,
	.expected_msg_next_id_read = 0,
	.expected_sem_next_id_read = 0,
	.expected_shm_next_id_read = 0,
	.expected_map_files_readdir = 0,
	.expected_map_files_readlink = 0,
	.expected_lock_termios_get = 0,
	.expected_mm_map_size = 0,
	.expected_exe_readlink = 0,
};

/* uid 65534 with CAP_CHECKPOINT_RESTORE only: what a rootless dumper has. */
FIXTURE_VARIANT_ADD(read_side, nobody_cap_cr) {
	.creds = {
		.name = "nobody_cap_cr",
		.switch_creds = true,
		.uid = NOBODY,
		.gid = NOBODY,
		.cap_cr = true,
	},
	.expected_ns_last_pid_read = 0,
	.expected_msg_next_id_read = 0,
	.expected_sem_next_id_read = 0,
	.expected_shm_next_id_read = 0,
	.expected_map_files_readdir = 0,
	.expected_map_files_readlink = 0,
	.expected_lock_termios_get = 0,
	.expected_mm_map_size = 0,
	.expected_exe_readlink = 0,
};

/* Full root, unchanged: the reference the others are read against. */
FIXTURE_VARIANT_ADD(read_side, root) {
	.creds = {
		.name = "root",
		.switch_creds = false,
	},
	.expected_ns_last_pid_read = 0,
	.expected_msg_next_id_read = 0,
	.expected_sem_next_id_read = 0,
	.expected_shm_next_id_read = 0,
	.expected_map_files_readdir = 0,
	.expected_map_files_readlink = 0,
	.expected_lock_termios_get = 0,
	.expected_mm_map_size = 0,
	.expected_exe_readlink = 0,
};

FIXTURE_SETUP(read_side)
{
}

FIXTURE_TEARDOWN(read_side)
{
}

/* The set of capabilities the variant must end up with. */
static cap_t wanted_caps(const struct read_creds *v)
{
	cap_value_t cr = CAP_CHECKPOINT_RESTORE;
	cap_t caps = cap_init();

	if (caps && v->cap_cr &&
	    (cap_set_flag(caps, CAP_PERMITTED, 1, &cr, CAP_SET) ||
	     cap_set_flag(caps, CAP_EFFECTIVE, 1, &cr, CAP_SET))) {
		cap_free(caps);
		return NULL;
	}
	return caps;
}

/* Whether the credentials are now exactly the variant's. */
static int check_creds(const struct read_creds *v, char *what, size_t len)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	char step[160] = "";
	cap_t now, want;
	char *text;

	if (getresuid(&ruid, &euid, &suid) || getresgid(&rgid, &egid, &sgid))
		return failed(what, len, "getresuid/getresgid", errno);
	if (ruid != v->uid || euid != v->uid || suid != v->uid ||
	    rgid != v->gid || egid != v->gid || sgid != v->gid) {
		snprintf(step, sizeof(step),
			 "uids %u/%u/%u gids %u/%u/%u, not %u/%u", ruid, euid,
			 suid, rgid, egid, sgid, v->uid, v->gid);
		return failed(what, len, step, EINVAL);
	}
	if (getgroups(0, NULL))
		return failed(what, len, "supplementary groups left", EINVAL);
	want = wanted_caps(v);
	now = cap_get_proc();
	if (!want || !now) {
		cap_free(want);
		cap_free(now);
		return failed(what, len, "cap_get_proc", ENOMEM);
	}
	/* Inheritable empty: the kernel keeps ambient inside it, empty too. */
	if (cap_compare(now, want)) {
		text = cap_to_text(now, NULL);
		snprintf(step, sizeof(step), "capabilities \"%s\"",
			 text ? text : "?");
		cap_free(text);
	}
	cap_free(want);
	cap_free(now);
	return step[0] ? failed(what, len, step, EINVAL) : 0;
}

/*
 * Into the variant's credentials.  A uid change makes the task not
 * dumpable, and /proc/self/ then belongs to root: the child makes itself
 * dumpable again, as any task may, so that what is tested is the
 * capability and not the dumpable flag.
 */
static int switch_creds(const struct read_creds *v, char *what, size_t len)
{
	cap_t caps;
	int err = 0;

	if (!v->switch_creds)
		return 0;
	if (v->securebits &&
	    prctl(PR_SET_SECUREBITS, v->securebits, 0UL, 0UL, 0UL))
		return failed(what, len, "PR_SET_SECUREBITS", errno);
	if (v->cap_cr && prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL))
		return failed(what, len, "PR_SET_KEEPCAPS", errno);
	if (setgroups(0, NULL))
		return failed(what, len, "setgroups", errno);
	if (setresgid(v->gid, v->gid, v->gid))
		return failed(what, len, "setresgid", errno);
	if (setresuid(v->uid, v->uid, v->uid))
		return failed(what, len, "setresuid", errno);
	caps = wanted_caps(v);
	if (!caps)
		return failed(what, len, "cap_init/cap_set_flag", ENOMEM);
	if (cap_set_proc(caps))
		err = failed(what, len, "cap_set_proc", errno);
	cap_free(caps);
	if (err)
		return err;
	if (v->cap_cr && prctl(PR_SET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL))
		return failed(what, len, "PR_SET_KEEPCAPS", errno);
	if (prctl(PR_SET_DUMPABLE, 1UL, 0UL, 0UL, 0UL))
		return failed(what, len, "PR_SET_DUMPABLE", errno);
	return check_creds(v, what, len);
}

/* Why the variant cannot run here, or NULL. */
static const char *unsupported(const struct read_creds *v)
{
	static const cap_value_t needed[] = {
		CAP_SETUID, CAP_SETGID, CAP_SETPCAP,
	};
	cap_value_t cr = CAP_CHECKPOINT_RESTORE;
	cap_flag_value_t on = CAP_SET;
	const char *why = NULL;
	cap_t caps;
	size_t i;

	if (geteuid())
		return NEEDS_ROOT;
	/* A capability the kernel does not know: EINVAL. */
	if (v->cap_cr &&
	    prctl(PR_CAPBSET_READ, (unsigned long)cr, 0UL, 0UL, 0UL) < 0)
		return "kernel lacks CAP_CHECKPOINT_RESTORE (Linux before 5.9)";
	if (!v->switch_creds)
		return NULL;
	caps = cap_get_proc();
	if (!caps)
		return NEEDS_ROOT " (cap_get_proc failed)";
	for (i = 0; i < ARRAY_SIZE(needed) && on == CAP_SET; i++)
		if (cap_get_flag(caps, needed[i], CAP_EFFECTIVE, &on))
			on = CAP_CLEAR;
	if (on != CAP_SET)
		why = NEEDS_ROOT " (with CAP_SETUID, CAP_SETGID, CAP_SETPCAP)";
	else if (v->cap_cr &&
		 (cap_get_flag(caps, cr, CAP_PERMITTED, &on) || on != CAP_SET))
		why = "CAP_CHECKPOINT_RESTORE is not in root's permitted set here";
	cap_free(caps);
	return why;
}

/* What the child sends back. */
struct report {
	/* The credential switch failed: @what says how; nothing was read. */
	bool setup;
	/* The read's errno, 0 for success. */
	int err;
	/* The failed step, or what is wrong in a success, or "". */
	char what[200];
};

/* One case: how to read, and what it needs from the kernel. */
struct read_case {
	/* A file the read needs, or NULL. */
	const char *needs;
	/* Or a probe, run first as the caller: non-zero errno if absent. */
	int (*probe)(void);
	/* Why the case SKIPs when @needs or @probe says it is missing. */
	const char *missing;
	/* The read, in the child: errno (0: ok); @what as in struct report. */
	int (*read)(char *what, size_t len);
};

static void child(const struct read_creds *v, const struct read_case *rc,
		  int fd)
{
	struct report r;

	memset(&r, 0, sizeof(r));
	r.err = switch_creds(v, r.what, sizeof(r.what));
	if (r.err)
		r.setup = true;
	else
		r.err = rc->read(r.what, sizeof(r.what));
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	_exit(0);
}

static void check_read(struct __test_metadata *_metadata,
		       const struct read_creds *v,
		       const struct read_case *rc, int expected)
{
	char want[64], seen[280];
	const char *why = unsupported(v);
	struct report r;
	int fds[2], status, err;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	if (rc->needs && access(rc->needs, F_OK))
		SKIP(return, "%s", rc->missing);
	if (rc->probe) {
		err = rc->probe();
		if (err)
			SKIP(return, "%s: %s", rc->missing, strerror(err));
	}

	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(fds[0]);
		child(v, rc, fds[1]);
	}
	close(fds[1]);
	memset(&r, 0, sizeof(r));
	while (got < sizeof(r)) {
		n = read(fds[0], (char *)&r + got, sizeof(r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fds[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(sizeof(r), got) {
		TH_LOG("the child sent no report (wait status %#x)", status);
	}
	ASSERT_FALSE(r.setup) {
		TH_LOG("credentials not switched: %s: %s", r.what,
		       errname(r.err) ? errname(r.err) : strerror(r.err));
	}

	outcome(want, sizeof(want), expected, NULL);
	outcome(seen, sizeof(seen), r.err, r.err ? NULL : r.what);
	printf("# %s.%s.%s: expected %s, observed %s\n",
	       _metadata->fixture->name, v->name, _metadata->name, want, seen);
	fflush(stdout);
	ASSERT_STREQ(want, seen) {
		if (r.err)
			TH_LOG("failed at %s: %s", r.what, strerror(r.err));
	}
}

static int read_ns_last_pid(char *what, size_t len)
{
	char text[32];
	long last, max;
	int err;

	err = read_text(NS_LAST_PID, text, sizeof(text));
	if (err)
		return failed(what, len, "read " NS_LAST_PID, err);
	if (!parse_long(text, &last))
		return wrong(what, len, "\"%s\" is not a number", text);
	max = read_number(PID_MAX);
	if (max < 0)
		return wrong(what, len, "no number in " PID_MAX);
	if (last < 0 || last > max)
		return wrong(what, len, "%ld not in [0, %ld]", last, max);
	return 0;
}

/* An ipc *_next_id: -1 (the default: none chosen) or an id to come. */
static int read_next_id(const char *path, char *what, size_t len)
{
	char text[32];
	long id;
	int err;

	err = read_text(path, text, sizeof(text));
	if (err)
		return failed(what, len, path, err);
	if (!parse_long(text, &id))
		return wrong(what, len, "\"%s\" is not a number", text);
	if (id < -1 || id > INT_MAX)
		return wrong(what, len, "%ld not in [-1, INT_MAX]", id);
	return 0;
}

static int read_msg_next_id(char *what, size_t len)
{
	return read_next_id(MSG_NEXT_ID, what, len);
}

static int read_sem_next_id(char *what, size_t len)
{
	return read_next_id(SEM_NEXT_ID, what, len);
}

static int read_shm_next_id(char *what, size_t len)
{
	return read_next_id(SHM_NEXT_ID, what, len);
}

/* A map_files entry's name: "<start>-<end>" in hexadecimal, start < end. */
static bool is_range(const char *name)
{
	unsigned long start, end;
	int pos = 0;

	if (!isxdigit((unsigned char)name[0]))
		return false;
	if (sscanf(name, "%lx-%lx%n", &start, &end, &pos) != 2)
		return false;
	return !name[pos] && start < end;
}

static int read_map_files_dir(char *what, size_t len)
{
	int entries = 0, ranges = 0, err;
	struct dirent *de;
	DIR *dir;

	dir = opendir(MAP_FILES);
	if (!dir)
		return failed(what, len, "opendir " MAP_FILES, errno);
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			break;
		entries++;
		if (is_range(de->d_name))
			ranges++;
	}
	err = errno;
	closedir(dir);
	if (err)
		return failed(what, len, "readdir " MAP_FILES, err);
	if (!ranges)
		return wrong(what, len, "none of %d entries is named <start>-<end>",
			     entries);
	return 0;
}

/* An absolute path in the link at @path: "/..." (or "/... (deleted)"). */
static int readlink_absolute(const char *path, char *what, size_t len)
{
	char target[PATH_MAX];
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return failed(what, len, path, errno);
	target[n] = '\0';
	if (target[0] != '/')
		return wrong(what, len, "%s reads \"%.100s\", not a path", path,
			     target);
	return 0;
}

/*
 * readlink() of the map_files entry of this program's own code, found in
 * /proc/self/maps (not by listing map_files: that is the other case).
 */
static int read_map_files_link(char *what, size_t len)
{
	unsigned long here = (unsigned long)read_map_files_link;
	unsigned long start, end;
	char line[512], path[64];
	bool found = false;
	FILE *maps;

	maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return failed(what, len, "fopen /proc/self/maps", errno);
	while (!found && fgets(line, sizeof(line), maps))
		found = sscanf(line, "%lx-%lx", &start, &end) == 2 &&
			start <= here && here < end;
	fclose(maps);
	if (!found)
		return wrong(what, len, "no mapping of this code in /proc/self/maps");
	snprintf(path, sizeof(path), MAP_FILES "/%lx-%lx", start, end);
	return readlink_absolute(path, what, len);
}

/* Whether this system has ptys at all: tried as the caller, first. */
static int probe_pty(void)
{
	int master, err = 0;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0)
		return errno;
	errno = 0;
	if (grantpt(master) || unlockpt(master) || !ptsname(master))
		err = errno ? errno : ENOTTY;
	close(master);
	return err;
}

/* The locked termios of a new pty slave: nothing is locked on it. */
static int read_lock_termios(char *what, size_t len)
{
	union {
		struct termios t;
		unsigned char raw[256];	/* more than any kernel copies out */
	} lk;
	int master, slave, err = 0;
	char *name;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0)
		return failed(what, len, "posix_openpt", errno);
	if (grantpt(master) || unlockpt(master)) {
		err = failed(what, len, "grantpt/unlockpt", errno);
		goto out_master;
	}
	name = ptsname(master);
	if (!name) {
		err = failed(what, len, "ptsname", errno);
		goto out_master;
	}
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		err = failed(what, len, "open of the pty slave", errno);
		goto out_master;
	}
	memset(&lk, 0xff, sizeof(lk));
	if (ioctl(slave, TIOCGLCKTRMIOS, &lk))
		err = failed(what, len, "ioctl TIOCGLCKTRMIOS", errno);
	else if (lk.t.c_iflag || lk.t.c_oflag || lk.t.c_cflag || lk.t.c_lflag)
		wrong(what, len, "locked flags %#x %#x %#x %#x on a new pty, not 0",
		      lk.t.c_iflag, lk.t.c_oflag, lk.t.c_cflag, lk.t.c_lflag);
	close(slave);
out_master:
	close(master);
	return err;
}

static int read_mm_map_size(char *what, size_t len)
{
	unsigned int size = 0;

	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size,
		  0UL, 0UL))
		return failed(what, len, "prctl PR_SET_MM_MAP_SIZE", errno);
	if (size != sizeof(struct prctl_mm_map))
		return wrong(what, len, "size %u, not sizeof(struct prctl_mm_map) %zu",
			     size, sizeof(struct prctl_mm_map));
	return 0;
}

static int read_exe_link(char *what, size_t len)
{
	return readlink_absolute("/proc/self/exe", what, len);
}

static const struct read_case ns_last_pid_read = {
	.needs = NS_LAST_PID,
	.missing = "no " NS_LAST_PID " " NO_CR_CONFIG,
	.read = read_ns_last_pid,
};

static const struct read_case msg_next_id_read = {
	.needs = MSG_NEXT_ID,
	.missing = "no " MSG_NEXT_ID " " NO_NEXT_ID,
	.read = read_msg_next_id,
};

static const struct read_case sem_next_id_read = {
	.needs = SEM_NEXT_ID,
	.missing = "no " SEM_NEXT_ID " " NO_NEXT_ID,
	.read = read_sem_next_id,
};

static const struct read_case shm_next_id_read = {
	.needs = SHM_NEXT_ID,
	.missing = "no " SHM_NEXT_ID " " NO_NEXT_ID,
	.read = read_shm_next_id,
};

static const struct read_case map_files_readdir = {
	.needs = MAP_FILES,
	.missing = "no " MAP_FILES " (Linux before 4.3)",
	.read = read_map_files_dir,
};

static const struct read_case map_files_readlink = {
	.needs = MAP_FILES,
	.missing = "no " MAP_FILES " (Linux before 4.3)",
	.read = read_map_files_link,
};

static const struct read_case lock_termios_get = {
	.probe = probe_pty,
	.missing = "no pty (CONFIG_UNIX98_PTYS, devpts on /dev/pts)",
	.read = read_lock_termios,
};

/* PR_SET_MM_MAP{,_SIZE} exist with CONFIG_CHECKPOINT_RESTORE only. */
static const struct read_case mm_map_size = {
	.needs = NS_LAST_PID,
	.missing = "no PR_SET_MM_MAP_SIZE " NO_CR_CONFIG ": no " NS_LAST_PID,
	.read = read_mm_map_size,
};

static const struct read_case exe_readlink = {
	.needs = "/proc/self/exe",
	.missing = "no /proc/self/exe (no procfs on /proc)",
	.read = read_exe_link,
};

TEST_F(read_side, ns_last_pid_read)
{
	check_read(_metadata, &variant->creds, &ns_last_pid_read,
		   variant->expected_ns_last_pid_read);
}

TEST_F(read_side, msg_next_id_read)
{
	check_read(_metadata, &variant->creds, &msg_next_id_read,
		   variant->expected_msg_next_id_read);
}

TEST_F(read_side, sem_next_id_read)
{
	check_read(_metadata, &variant->creds, &sem_next_id_read,
		   variant->expected_sem_next_id_read);
}

TEST_F(read_side, shm_next_id_read)
{
	check_read(_metadata, &variant->creds, &shm_next_id_read,
		   variant->expected_shm_next_id_read);
}

TEST_F(read_side, map_files_readdir)
{
	check_read(_metadata, &variant->creds, &map_files_readdir,
		   variant->expected_map_files_readdir);
}

TEST_F(read_side, map_files_readlink)
{
	check_read(_metadata, &variant->creds, &map_files_readlink,
		   variant->expected_map_files_readlink);
}

TEST_F(read_side, lock_termios_get)
{
	check_read(_metadata, &variant->creds, &lock_termios_get,
		   variant->expected_lock_termios_get);
}

TEST_F(read_side, mm_map_size)
{
	check_read(_metadata, &variant->creds, &mm_map_size,
		   variant->expected_mm_map_size);
}

TEST_F(read_side, exe_readlink)
{
	check_read(_metadata, &variant->creds, &exe_readlink,
		   variant->expected_exe_readlink);
}

TEST_HARNESS_MAIN
