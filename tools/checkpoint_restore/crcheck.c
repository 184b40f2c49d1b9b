// SPDX-License-Identifier: GPL-2.0
/*
 * crcheck - does checkpoint/restore work here without root, and if not,
 * what to change.
 *
 * For every operation a checkpoint/restore tool needs, crcheck predicts
 * from the kernel, the credentials, the namespaces and the LSMs whether it
 * is allowed, then tries it for real where that cannot change anything
 * outside a short-lived child of its own:
 *
 *   set_tid      clone3() asking for PIDs that are taken (our own): EEXIST
 *                means the capability check passed, EPERM that it did not;
 *   ns_last_pid  predicted only: a write would move the host's PID counter;
 *   map_files    open() of one of our own /proc/self/map_files links;
 *   prctl_exe    PR_SET_MM_MAP with exe_fd in a child whose executable is
 *                still mapped: EBUSY after the check passed, EPERM before;
 *   lock_termios TIOCSLCKTRMIOS on a pseudo-terminal we just opened;
 *   ipc_next_id  open() of kernel.msg_next_id for writing, nothing written;
 *   ptrace       predicted only (attaching would stop somebody);
 *   capbset      predicted: a restorer gives the task back its bounding set
 *                with PR_CAPBSET_DROP, which needs CAP_SETPCAP; CRIU 4.2
 *                drops every capability the task lacked, so whenever the
 *                bounding set is not full (containers, some hosts), a
 *                restorer that drops only what the bounding set still has
 *                (--restorer-drops-present: CRIU with crcap's
 *                criu-patches/0001) needs it only for a task that had a
 *                smaller bounding set than the restorer;
 *   seccomp      predicted, with --pid: dumping a task under a seccomp
 *                filter needs PTRACE_O_SUSPEND_SECCOMP (CAP_SYS_ADMIN).
 *
 * Exit status: 0 when what --for needs works (all of it without --for),
 * 1 when not, 2 on usage errors.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/prctl.h>
#include <linux/types.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cr_proc.h"

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif
#ifndef PR_SET_MM_MAP
#define PR_SET_MM_MAP 14
#define PR_SET_MM_MAP_SIZE 15
#endif

enum op {
	OP_SET_TID, OP_NS_LAST_PID, OP_MAP_FILES, OP_PRCTL_EXE,
	OP_LOCK_TERMIOS, OP_IPC_NEXT_ID, OP_PTRACE, OP_CAPBSET, OP_SECCOMP, OP_NR
};

static const char *const op_name[OP_NR] = {
	"set_tid", "ns_last_pid", "map_files", "prctl_exe", "lock_termios",
	"ipc_next_id", "ptrace", "capbset", "seccomp",
};

static const char *const op_what[OP_NR] = {
	"clone3() set_tid: restore PIDs",
	"write ns_last_pid: restore PIDs (old way)",
	"open /proc/PID/map_files: dump mapped files",
	"PR_SET_MM_MAP exe_fd: restore /proc/self/exe",
	"TIOCSLCKTRMIOS: restore locked termios",
	"write kernel.msg_next_id: restore ipc ids",
	"ptrace other processes: dump",
	"PR_CAPBSET_DROP: restore the bounding set",
	"suspend the target's seccomp: dump",
};

/* What each use needs. */
static const bool needed_for_dump[OP_NR] = {
	[OP_MAP_FILES] = true, [OP_PTRACE] = true, [OP_SECCOMP] = true,
};

static const bool needed_for_restore[OP_NR] = {
	[OP_SET_TID] = true, [OP_PRCTL_EXE] = true, [OP_CAPBSET] = true,
};

enum tri { NO, YES, UNKNOWN };

struct verdict {
	enum tri predicted, tried;	/* tried: UNKNOWN when not tried */
	int tried_errno;
	char reason[512];
	char fix[512];
};

/* Everything crcheck found out. */
static struct facts {
	char release[65];
	int cap_last_cap;
	bool knows_cap;			/* capability 40 */
	bool clone3;
	bool config_cr;			/* CONFIG_CHECKPOINT_RESTORE */
	bool tty_gated, ipc_gated;	/* operation asks for the capability */
	bool eff_cr, eff_sa, perm_cr, amb_cr, bnd_cr, eff_ptrace, eff_setpcap;
	unsigned long securebits;
	bool no_new_privs;
	bool bnd_full;			/* bounding set has every capability */
	bool drops_present;		/* --restorer-drops-present */
	char bnd_missing[128];		/* the ones it lacks */
	char exec_fails[256];		/* why execve(--exec) would fail */
	bool nnp_ignores_file_caps;	/* --exec has file caps, ignored */
	bool clone3_blocked;		/* ENOSYS on a kernel that has it */
	int owned_levels;		/* PID ns levels our user ns owns */
	bool owned_levels_at_least;	/* ... that we can see from here */
	int set_tid_levels_tried;	/* -1: not tried */
	pid_t target;			/* --pid */
	int target_seccomp;		/* its Seccomp: field, -1 unknown */
	bool init_userns, init_pidns;
	/* Our user namespace owns these namespaces (NS_GET_USERNS). */
	enum tri owns_pidns, owns_pidns_children, owns_ipcns;
	int pidns_levels;
	bool proc_sys_ro;
	int yama;			/* -1: no Yama */
	char lsms[256];
	bool selinux, selinux_enforcing;
	char selinux_context[256];
	enum tri selinux_cr;		/* policy grants checkpoint_restore */
	bool apparmor, landlock;
	const char *exec_binary;	/* --exec: predict for this binary */
	char file_caps[256];
} f;

static bool read_line(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "re");
	bool ok;

	if (!fp)
		return false;
	ok = fgets(buf, size, fp);
	fclose(fp);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static int read_int(const char *path, int dflt)
{
	char buf[64];

	return read_line(path, buf, sizeof(buf)) ? atoi(buf) : dflt;
}

static bool version_at_least(int major, int minor)
{
	int ma = 0, mi = 0;

	if (sscanf(f.release, "%d.%d", &ma, &mi) < 1)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

static bool cap_in(cap_t caps, cap_flag_t set, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	return caps && !cap_get_flag(caps, cap, set, &v) && v == CAP_SET;
}

typedef __u64 capmask;

static capmask mask_of(cap_t caps, cap_flag_t set)
{
	capmask m = 0;

	for (int c = 0; c <= f.cap_last_cap && c < 64; c++)
		if (cap_in(caps, set, c))
			m |= 1ULL << c;
	return m;
}

static capmask bounding_mask(void)
{
	capmask m = 0;

	for (int c = 0; c <= f.cap_last_cap && c < 64; c++)
		if (cap_get_bound(c) == 1)
			m |= 1ULL << c;
	return m;
}

static capmask ambient_mask(void)
{
	capmask m = 0;

	for (int c = 0; c <= f.cap_last_cap && c < 64; c++)
		if (cap_get_ambient(c) == 1)
			m |= 1ULL << c;
	return m;
}

/* "cap_a,cap_b" for the capabilities in @m. */
static void mask_names(capmask m, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int c = 0; c < 64 && n < size; c++) {
		char *name;

		if (!(m & (1ULL << c)))
			continue;
		name = cap_to_name(c);
		n += snprintf(buf + n, size - n, "%s%s", n ? "," : "", name ? name : "?");
		cap_free(name);
	}
}

#define BIT(c) (1ULL << (c))

/*
 * What capabilities would the process have after execve(@binary)?
 * capabilities(7): P'(amb) = file caps or setuid ? 0 : P(amb),
 * P'(perm) = (P(inh) & F(inh)) | (F(perm) & P(bnd)) | P'(amb),
 * P'(eff) = F(eff) ? P'(perm) : P'(amb).  Root (a real or effective uid
 * of 0 after the exec, without SECBIT_NOROOT) counts as a file with every
 * capability, effective when the effective uid is 0.  A file whose
 * effective bit is set and whose permitted capabilities the bounding and
 * inheritable sets cannot all give makes execve() fail with EPERM.  Under
 * no_new_privs, nothing is gained beyond the permitted set we have.
 */
static void predict_exec(const char *binary, cap_t cur)
{
	cap_t fc = cap_get_file(binary);
	capmask fp = mask_of(fc, CAP_PERMITTED), fi = mask_of(fc, CAP_INHERITABLE);
	capmask pi = mask_of(cur, CAP_INHERITABLE), pp = mask_of(cur, CAP_PERMITTED);
	capmask bnd = bounding_mask(), amb = ambient_mask(), np, ne;
	bool fe = false, setuid_root = false;
	uid_t euid = geteuid();
	struct stat st;

	if (!stat(binary, &st) && (st.st_mode & S_ISUID) && st.st_uid == 0 &&
	    !f.no_new_privs)
		setuid_root = true;
	if (fc) {
		char *text = cap_to_text(fc, NULL);

		snprintf(f.file_caps, sizeof(f.file_caps), "%s", text ? text : "?");
		cap_free(text);
		for (int c = 0; c <= f.cap_last_cap && c < 64; c++)
			fe |= cap_in(fc, CAP_EFFECTIVE, c);
	} else {
		snprintf(f.file_caps, sizeof(f.file_caps), "none");
	}
	if (fc || setuid_root)
		amb = 0;
	if ((setuid_root || euid == 0 || getuid() == 0) &&
	    !(f.securebits & (1 << 0) /* SECBIT_NOROOT */)) {
		fp = ~0ULL;
		fi = ~0ULL;
		fe = setuid_root || euid == 0;
		if (setuid_root)
			snprintf(f.file_caps + strlen(f.file_caps),
				 sizeof(f.file_caps) - strlen(f.file_caps), " (setuid root)");
	} else if (fe && (fp & ~((bnd) | (pi & fi)))) {
		char names[128];

		mask_names(fp & ~(bnd | (pi & fi)), names, sizeof(names));
		snprintf(f.exec_fails, sizeof(f.exec_fails),
			 "execve(%s) fails with EPERM: its file capabilities include %s, which the bounding set lacks",
			 binary, names);
	}
	np = (pi & fi) | (fp & bnd) | amb;
	ne = fe ? np : amb;
	if (f.no_new_privs) {
		f.nnp_ignores_file_caps = fc && (np & ~pp);
		np &= pp | amb;
		ne &= pp | amb;
	}
	f.perm_cr = np & BIT(CAP_CHECKPOINT_RESTORE);
	f.eff_cr = ne & BIT(CAP_CHECKPOINT_RESTORE);
	f.eff_sa = ne & BIT(CAP_SYS_ADMIN);
	f.eff_ptrace = ne & BIT(CAP_SYS_PTRACE);
	f.eff_setpcap = ne & BIT(CAP_SETPCAP);
	if (*f.exec_fails) {
		f.eff_cr = false;
		f.eff_sa = false;
		f.eff_ptrace = false;
		f.eff_setpcap = false;
		f.perm_cr = false;
	}
	cap_free(fc);
}

static void gather_creds(void)
{
	cap_t caps = cap_get_proc();

	f.eff_cr = cap_in(caps, CAP_EFFECTIVE, CAP_CHECKPOINT_RESTORE);
	f.perm_cr = cap_in(caps, CAP_PERMITTED, CAP_CHECKPOINT_RESTORE);
	f.eff_sa = cap_in(caps, CAP_EFFECTIVE, CAP_SYS_ADMIN);
	f.eff_ptrace = cap_in(caps, CAP_EFFECTIVE, CAP_SYS_PTRACE);
	f.eff_setpcap = cap_in(caps, CAP_EFFECTIVE, CAP_SETPCAP);
	{
		capmask all = f.cap_last_cap >= 0 && f.cap_last_cap < 63 ?
			      (1ULL << (f.cap_last_cap + 1)) - 1 : ~0ULL;
		capmask bnd = bounding_mask();

		f.bnd_full = bnd == all;
		mask_names(all & ~bnd, f.bnd_missing, sizeof(f.bnd_missing));
	}
	f.amb_cr = f.knows_cap &&
		   cap_get_ambient(CAP_CHECKPOINT_RESTORE) == 1;
	f.bnd_cr = f.knows_cap && cap_get_bound(CAP_CHECKPOINT_RESTORE) == 1;
	f.securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	f.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	if (f.exec_binary)
		predict_exec(f.exec_binary, caps);
	cap_free(caps);
}

/* Ask the loaded policy itself, through selinuxfs. */
static enum tri selinux_allows(const char *cls, const char *perm)
{
	char path[256], req[640], resp[256], *end;
	unsigned int allowed, index, bit;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/fs/selinux/class/%s/index", cls);
	index = read_int(path, 0);
	snprintf(path, sizeof(path), "/sys/fs/selinux/class/%s/perms/%s", cls, perm);
	bit = read_int(path, 0);
	if (!index || !bit)
		return UNKNOWN;	/* the policy does not declare it */
	fd = open("/sys/fs/selinux/access", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return UNKNOWN;
	n = snprintf(req, sizeof(req), "%s %s %u", f.selinux_context,
		     f.selinux_context, index);
	if (write(fd, req, n) != n) {
		close(fd);
		return UNKNOWN;
	}
	n = read(fd, resp, sizeof(resp) - 1);
	close(fd);
	if (n <= 0)
		return UNKNOWN;
	resp[n] = '\0';
	allowed = strtoul(resp, &end, 16);
	if (end == resp)
		return UNKNOWN;
	return (allowed & (1u << (bit - 1))) ? YES : NO;
}

#ifndef NS_GET_USERNS
#define NS_GET_USERNS _IO(0xb7, 0x1)
#endif

/* Is the namespace at @path owned by the user namespace we are in? */
static enum tri owned_by_our_userns(const char *path)
{
	struct stat owner, ours;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ufd;
	enum tri ret = UNKNOWN;

	if (fd < 0)
		return UNKNOWN;
	ufd = ioctl(fd, NS_GET_USERNS);
	if (ufd >= 0) {
		if (!fstat(ufd, &owner) && !stat("/proc/self/ns/user", &ours))
			ret = owner.st_ino == ours.st_ino && owner.st_dev == ours.st_dev ?
			      YES : NO;
		close(ufd);
	} else if (errno == EPERM) {
		ret = NO;	/* owned by an ancestor we cannot see */
	}
	close(fd);
	return ret;
}

#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(0xb7, 0x2)
#endif

/*
 * How many PID namespace levels, from the one our children get outwards,
 * our user namespace owns: the levels set_tid can reach from here.
 */
static int owned_pidns_levels(void)
{
	struct stat ours, owner;
	int fd = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC), n = 0;

	if (fd < 0 || stat("/proc/self/ns/user", &ours))
		return fd < 0 ? 0 : (close(fd), 0);
	for (;;) {
		int ufd = ioctl(fd, NS_GET_USERNS), parent;

		if (ufd < 0)
			break;
		if (fstat(ufd, &owner) || owner.st_ino != ours.st_ino ||
		    owner.st_dev != ours.st_dev) {
			close(ufd);
			break;
		}
		close(ufd);
		n++;
		parent = ioctl(fd, NS_GET_PARENT);
		if (parent < 0 && errno == EPERM)
			f.owned_levels_at_least = true;	/* outside our PID ns: unseen */
		close(fd);
		fd = parent;
		if (fd < 0)
			break;
	}
	if (fd >= 0)
		close(fd);
	return n;
}

static void gather(void)
{
	struct utsname u;
	struct statvfs sv;
	char buf[512];
	int levels;
	FILE *fp;

	uname(&u);
	snprintf(f.release, sizeof(f.release), "%s", u.release);
	f.cap_last_cap = read_int("/proc/sys/kernel/cap_last_cap", -1);
	f.knows_cap = f.cap_last_cap >= CAP_CHECKPOINT_RESTORE;
	{
		__u64 args[11] = { 0, 0, 0, 0, (__u64)-1 };

		/* An invalid exit signal: refused before anything is made. */
		f.clone3 = syscall(__NR_clone3, args, 88) < 0 && errno != ENOSYS;
		f.clone3_blocked = !f.clone3 && version_at_least(5, 3);
	}
	{
		unsigned int size = 0;

		f.config_cr = !access("/proc/sys/kernel/ns_last_pid", F_OK) ||
			      !prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0);
	}
	f.tty_gated = f.knows_cap && version_at_least(6, 8);
	f.ipc_gated = f.config_cr && version_at_least(5, 16) &&
		      !access("/proc/sys/kernel/msg_next_id", F_OK);

	gather_creds();

	if (read_line("/proc/self/uid_map", buf, sizeof(buf))) {
		unsigned long a, b, c;

		f.init_userns = sscanf(buf, "%lu %lu %lu", &a, &b, &c) == 3 &&
				a == 0 && b == 0 && c == 4294967295UL;
	}
	levels = cr_nspid(0, NULL, 0);
	if (levels < 0)
		levels = 0;
	f.pidns_levels = levels;
	f.owns_pidns = owned_by_our_userns("/proc/self/ns/pid");
	f.owns_pidns_children = owned_by_our_userns("/proc/self/ns/pid_for_children");
	f.owns_ipcns = owned_by_our_userns("/proc/self/ns/ipc");
	f.owned_levels = owned_pidns_levels();
	f.init_pidns = levels == 1;
	f.proc_sys_ro = !statvfs("/proc/sys/kernel", &sv) && (sv.f_flag & ST_RDONLY);
	f.yama = read_int("/proc/sys/kernel/yama/ptrace_scope", -1);

	if (!read_line("/sys/kernel/security/lsm", f.lsms, sizeof(f.lsms)))
		snprintf(f.lsms, sizeof(f.lsms), "unknown (securityfs not mounted)");
	f.target_seccomp = -1;
	if (f.target > 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/status", (int)f.target);
		fp = fopen(path, "re");
		while (fp && fgets(buf, sizeof(buf), fp))
			if (!strncmp(buf, "Seccomp:", 8))
				f.target_seccomp = atoi(buf + 8);
		if (fp)
			fclose(fp);
	}
	f.selinux = !access("/sys/fs/selinux/enforce", F_OK);
	f.selinux_enforcing = f.selinux && read_int("/sys/fs/selinux/enforce", 0) == 1;
	f.selinux_cr = UNKNOWN;
	if (f.selinux && read_line("/proc/self/attr/current", f.selinux_context,
				   sizeof(f.selinux_context)))
		f.selinux_cr = selinux_allows(f.init_userns ? "capability2" : "cap2_userns",
					      "checkpoint_restore");
	f.apparmor = strstr(f.lsms, "apparmor") || !access("/sys/kernel/security/apparmor", F_OK);
	f.landlock = strstr(f.lsms, "landlock");
}

/* ------------------------------------------------------------ predict */

/* Does the capability (CR or SYS_ADMIN) pass, as far as SELinux goes? */
static bool lsm_allows(void)
{
	if (!f.selinux_enforcing || f.selinux_cr != NO)
		return true;
	return false;
}

/* @v is predicted to be refused: @why, and what to change: @howto. */
static void refuse(struct verdict *v, const char *why, const char *howto)
{
	v->predicted = NO;
	snprintf(v->reason, sizeof(v->reason), "%s", why);
	snprintf(v->fix, sizeof(v->fix), "%s", howto);
}

/* Why map_files and TIOCSLCKTRMIOS are refused in a child user namespace. */
#define NEEDS_INIT_USERNS "needs the capability in the initial user namespace; we are in a child user namespace"

static void predict(struct verdict *v)
{
	bool cap = f.eff_cr || f.eff_sa;
	char setcap[512], nocap[512];

	snprintf(setcap, sizeof(setcap),
		 "setcap %s+eip <tool> (in a container: --cap-add=CHECKPOINT_RESTORE%s)",
		 f.bnd_full || f.drops_present ? "cap_checkpoint_restore" :
		 "cap_checkpoint_restore,cap_setpcap",
		 f.bnd_full || f.drops_present ? "" : " --cap-add=SETPCAP");
	if (f.init_userns)
		snprintf(setcap + strlen(setcap), sizeof(setcap) - strlen(setcap),
			 "; or, with no capability at all: unshare -Urpf --mount-proc <tool> (a user and PID namespace of your own: all but map_files and TIOCSLCKTRMIOS)");
	if (f.nnp_ignores_file_caps)
		snprintf(nocap, sizeof(nocap),
			 "no_new_privs is set: execve(%s) ignores its file capabilities (%s)",
			 f.exec_binary, f.file_caps);
	else
		snprintf(nocap, sizeof(nocap),
			 "no CAP_CHECKPOINT_RESTORE (nor CAP_SYS_ADMIN) in the effective set%s%s",
			 f.exec_binary ? " after execve; file capabilities: " : "",
			 f.exec_binary ? f.file_caps : "");

	for (int i = 0; i < OP_NR; i++) {
		v[i].predicted = YES;
		v[i].tried = UNKNOWN;
	}

	/*
	 * The capability in the namespaces that own our PID/IPC namespaces:
	 * outside the initial user namespace we cannot tell who owns them,
	 * and a user namespace's root cannot reach the initial ones.
	 */
	for (int o = 0; o < OP_PTRACE; o++) {
		if (!f.knows_cap && !f.eff_sa)
			refuse(&v[o],
			       "kernel does not know CAP_CHECKPOINT_RESTORE (before 5.9) and no CAP_SYS_ADMIN",
			       "Linux 5.9 or later, or CAP_SYS_ADMIN");
		else if (!cap && f.perm_cr)
			refuse(&v[o], "CAP_CHECKPOINT_RESTORE is permitted but not effective",
			       "raise it into the effective set (cap_set_proc) or use a file capability with +e");
		else if (!cap && f.nnp_ignores_file_caps)
			refuse(&v[o], nocap,
			       "run the tool from a process without no_new_privs (it is inherited: a seccomp sandbox or NoNewPrivileges=yes sets it)");
		else if (!cap)
			refuse(&v[o], nocap, setcap);
		else if (!lsm_allows())
			refuse(&v[o], "SELinux denies checkpoint_restore to this domain",
			       "SELinux: give the domain criu_checkpoint_restore_capable() (policy/refpolicy) or allow capability2/cap2_userns checkpoint_restore");
	}
	if (!f.init_userns) {
		refuse(&v[OP_MAP_FILES], NEEDS_INIT_USERNS,
		       "needs the initial user namespace: run the dumper outside the container with CAP_CHECKPOINT_RESTORE");
		refuse(&v[OP_LOCK_TERMIOS], NEEDS_INIT_USERNS, "needs the initial user namespace");
		if (f.owns_pidns_children != YES)
			refuse(&v[OP_SET_TID],
			       "our PID namespace belongs to another user namespace: our capabilities do not reach it",
			       "unshare(CLONE_NEWPID) in this user namespace, then clone3() set_tid there");
		if (f.owns_pidns != YES)
			refuse(&v[OP_NS_LAST_PID],
			       "our PID namespace belongs to another user namespace: our capabilities do not reach it",
			       "a PID namespace of this user namespace's own, or clone3() set_tid there");
		if (f.owns_ipcns != YES && f.ipc_gated)
			refuse(&v[OP_IPC_NEXT_ID],
			       "our IPC namespace belongs to another user namespace: the files open read-only",
			       "unshare(CLONE_NEWIPC) in this user namespace");
	}
	if (!f.clone3 && f.clone3_blocked)
		refuse(&v[OP_SET_TID],
		       "clone3() answers ENOSYS on a kernel that has it: a seccomp filter blocks it (container runtimes' default profiles do)",
		       "allow clone3 in the seccomp profile; or ns_last_pid");
	else if (!f.clone3)
		refuse(&v[OP_SET_TID],
		       "kernel has no clone3() (before 5.3) or set_tid (before 5.5)",
		       "Linux 5.5 or later; or ns_last_pid");
	if (!f.config_cr) {
		refuse(&v[OP_NS_LAST_PID], "kernel built without CONFIG_CHECKPOINT_RESTORE",
		       "a kernel with CONFIG_CHECKPOINT_RESTORE=y");
		refuse(&v[OP_PRCTL_EXE], "kernel built without CONFIG_CHECKPOINT_RESTORE",
		       "a kernel with CONFIG_CHECKPOINT_RESTORE=y");
		refuse(&v[OP_IPC_NEXT_ID], "kernel built without CONFIG_CHECKPOINT_RESTORE",
		       "a kernel with CONFIG_CHECKPOINT_RESTORE=y");
	}
	if (v[OP_NS_LAST_PID].predicted == YES && f.proc_sys_ro)
		refuse(&v[OP_NS_LAST_PID], "/proc/sys is read-only (typical in containers)",
		       "use clone3() set_tid instead of ns_last_pid");
	/*
	 * Before 6.8 only stable backports (6.1.y has one) accept the
	 * capability here: the version cannot tell, the try does.
	 */
	if (!f.tty_gated && !f.eff_sa && v[OP_LOCK_TERMIOS].predicted == YES) {
		v[OP_LOCK_TERMIOS].predicted = UNKNOWN;
		snprintf(v[OP_LOCK_TERMIOS].reason, sizeof(v[OP_LOCK_TERMIOS].reason),
			 "kernel before 6.8: CAP_CHECKPOINT_RESTORE counts only with the stable backport");
		snprintf(v[OP_LOCK_TERMIOS].fix, sizeof(v[OP_LOCK_TERMIOS].fix),
			 "Linux 6.8 or later, or CAP_SYS_ADMIN");
	}
	if (!f.ipc_gated && !f.eff_sa && v[OP_IPC_NEXT_ID].predicted == YES)
		refuse(&v[OP_IPC_NEXT_ID],
		       "kernel before 5.16: *_next_id are writable by root only",
		       "Linux 5.16 or later");
	/* ptrace: CAP_SYS_PTRACE, or Yama allowing it, for the same user. */
	if (!f.eff_ptrace && f.yama >= 1)
		refuse(&v[OP_PTRACE], f.yama == 3 ? "Yama ptrace_scope=3: no attaching at all" :
		       "Yama ptrace_scope>=1 and no CAP_SYS_PTRACE: only descendants can be attached",
		       "setcap cap_sys_ptrace+ep <tool>, or sysctl kernel.yama.ptrace_scope=0");
	/*
	 * CRIU gives a restored task its bounding set back, dropping what the
	 * task lacked: PR_CAPBSET_DROP asks for CAP_SETPCAP first, also for a
	 * capability already out of the set (a restorer that skips those
	 * needs it only for a task whose bounding set was smaller than ours).
	 */
	if (!f.bnd_full && !f.drops_present && !f.eff_setpcap && !f.eff_sa) {
		char why[384];

		snprintf(why, sizeof(why),
			 "the bounding set lacks %s: a restore gives the task back its bounding set with PR_CAPBSET_DROP, which needs CAP_SETPCAP (criu: \"Unable to drop capability\"; only a warning for a task with no_new_privs)",
			 f.bnd_missing);
		refuse(&v[OP_CAPBSET], why, setcap);
	}
	if (f.target_seccomp == 2 && !(f.eff_sa && f.init_userns)) {
		char why[384];

		snprintf(why, sizeof(why),
			 "pid %d runs under a seccomp filter: dumping it needs PTRACE_O_SUSPEND_SECCOMP, i.e. CAP_SYS_ADMIN in the initial user namespace (CAP_CHECKPOINT_RESTORE does not cover it)",
			 (int)f.target);
		refuse(&v[OP_SECCOMP], why,
		       "dump it without a seccomp filter, or with CAP_SYS_ADMIN");
	}
	if (*f.exec_fails)
		for (int i = 0; i < OP_NR; i++)
			refuse(&v[i], f.exec_fails,
			       "setcap only capabilities the bounding set has (capsh --print shows it)");
	if (f.exec_binary)
		for (int i = 0; i < OP_NR; i++)
			if (!*v[i].reason)
				snprintf(v[i].reason, sizeof(v[i].reason),
					 "after execve(%s), file capabilities: %s",
					 f.exec_binary, f.file_caps);
}

/* ------------------------------------------------------------ try */

/*
 * Run @fn in a child.  @fn returns 0 (allowed), a count, or -errno; the
 * child exits with the count or the errno, and in_child() returns that
 * exit status, or -errno when there was no child (fork() failed) or it
 * did not exit (-EINTR).
 */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(abs(fn()));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status);
}

/* Our PIDs, innermost level first; returns how many levels (32 at most). */
static int own_pids(pid_t *tids)
{
	pid_t ns[32];
	int n = cr_nspid(0, ns, 32);

	if (n < 0)
		n = 0;
	if (n > 32)
		n = 32;
	for (int i = 0; i < n; i++)
		tids[i] = ns[n - 1 - i];
	return n;
}

/*
 * clone3() with set_tid over the @k innermost levels: free PIDs below
 * level @k, our own (taken) PID at it.  The kernel checks the capability
 * level by level from the innermost, and allocates as it goes: EEXIST
 * says that every one of the @k levels let us choose, EPERM that one of
 * them did not.  The free PIDs it allocated are released with the error:
 * no task is created.  (A free PID is one our own namespace does not
 * use; in a middle level it is a guess.)
 */
static int try_set_tid_depth(int k)
{
	pid_t own[32], tids[32];
	int n = own_pids(own), pid_max = read_int("/proc/sys/kernel/pid_max", 32768);
	__u64 args[11] = { 0, 0, 0, 0, SIGCHLD };
	pid_t cand = pid_max - 1;

	if (!n || k > n)
		return -ENOENT;
	for (int i = 0; i < k - 1; i++) {
		while (cand > 300 && (kill(cand, 0) == 0 || errno != ESRCH))
			cand--;
		tids[i] = cand--;
	}
	tids[k - 1] = own[k - 1];
	args[8] = (uintptr_t)tids;
	args[9] = k;
	if (syscall(__NR_clone3, args, 88) == 0)
		_exit(0);	/* cannot happen: the last PID is taken */
	return errno == EEXIST ? 0 : -errno;
}

static int try_set_tid(void)
{
	return try_set_tid_depth(1);
}

/* How many levels, from the innermost, set_tid reaches: exit status. */
static int try_set_tid_levels(void)
{
	pid_t own[32];
	int n = own_pids(own), k;

	for (k = 1; k <= n; k++)
		if (try_set_tid_depth(k))
			break;
	return k - 1;
}

static int try_map_files(void)
{
	char line[512], path[128];
	unsigned long a, b;
	FILE *fp = fopen("/proc/self/maps", "re");
	int fd, err = -ENOENT;

	while (fp && fgets(line, sizeof(line), fp)) {
		if (!strchr(line, '/') || sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", a, b);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		err = fd < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		break;
	}
	if (fp)
		fclose(fp);
	return err;
}

static int try_prctl_exe(void)
{
	struct prctl_mm_map map = {};
	char buf[2048], *p, *tok, *save;
	unsigned long long v[52] = {};
	int fd, i;
	ssize_t n;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	for (tok = strtok_r(p + 1, " ", &save), i = 3; tok && i <= 51;
	     tok = strtok_r(NULL, " ", &save), i++)
		v[i] = strtoull(tok, NULL, 10);
	map.start_code = v[26];
	map.end_code = v[27];
	map.start_stack = v[28];
	map.start_data = v[45];
	map.end_data = v[46];
	map.start_brk = v[47];
	map.arg_start = v[48];
	map.arg_end = v[49];
	map.env_start = v[50];
	map.env_end = v[51];
	map.brk = syscall(SYS_brk, 0);
	/* Our own executable, still mapped: EBUSY right after the check. */
	map.exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof(map), 0) == 0)
		return 0;
	return errno == EBUSY ? 0 : -errno;
}

static int try_lock_termios(void)
{
	struct termios lock = {};
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -ENODEV;
	if (ioctl(fd, TIOCSLCKTRMIOS, &lock))
		return -errno;
	return 0;
}

static int try_ipc_next_id(void)
{
	int fd = open("/proc/sys/kernel/msg_next_id", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);	/* opened for writing: allowed; nothing written */
	return 0;
}

static void try_all(struct verdict *v)
{
	static int (*const fn[OP_NR])(void) = {
		[OP_SET_TID] = try_set_tid,
		[OP_MAP_FILES] = try_map_files,
		[OP_PRCTL_EXE] = try_prctl_exe,
		[OP_LOCK_TERMIOS] = try_lock_termios,
		[OP_IPC_NEXT_ID] = try_ipc_next_id,
	};

	f.set_tid_levels_tried = -1;
	if (f.exec_binary)
		return;	/* the credentials in question are not ours */
	/* Where in_child() could not run the trial, its errno stands in. */
	if (f.clone3)
		f.set_tid_levels_tried = abs(in_child(try_set_tid_levels));
	for (int i = 0; i < OP_NR; i++) {
		if (!fn[i])
			continue;
		if (i == OP_SET_TID && !f.clone3)
			continue;
		if (i == OP_IPC_NEXT_ID && access("/proc/sys/kernel/msg_next_id", F_OK))
			continue;
		v[i].tried_errno = abs(in_child(fn[i]));
		v[i].tried = v[i].tried_errno ? NO : YES;
		if (v[i].tried == NO && v[i].tried_errno == EROFS && v[i].predicted != NO) {
			snprintf(v[i].reason, sizeof(v[i].reason),
				 "/proc/sys is mounted read-only (typical in containers)");
			snprintf(v[i].fix, sizeof(v[i].fix),
				 "a writable /proc/sys, or an IPC namespace of the restorer's own");
		}
	}
}

/* ------------------------------------------------------------ report */

static const char *tri_name(enum tri t)
{
	return t == YES ? "works" : t == NO ? "refused" : "-";
}

static enum tri final(const struct verdict *v)
{
	return v->tried != UNKNOWN ? v->tried : v->predicted;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/*
 * How many PID namespace levels could we choose PIDs in: every level with
 * the capability in the initial user namespace, else the levels, from the
 * innermost outwards, that our user namespace owns.
 */
static int set_tid_levels_predicted(void)
{
	if (!f.clone3 || !(f.eff_cr || f.eff_sa) || !lsm_allows())
		return 0;
	if (f.init_userns)
		return f.pidns_levels;
	return f.owned_levels < f.pidns_levels ? f.owned_levels : f.pidns_levels;
}

/* The trial where there was one: it asks the kernel, level by level. */
static int set_tid_levels(void)
{
	return f.set_tid_levels_tried >= 0 ? f.set_tid_levels_tried :
	       set_tid_levels_predicted();
}

static void report_json(const struct verdict *v)
{
	printf("{\"kernel\": ");
	json_str(f.release);
	printf(", \"cap_last_cap\": %d, \"knows_cap_checkpoint_restore\": %s, ",
	       f.cap_last_cap, f.knows_cap ? "true" : "false");
	printf("\"clone3\": %s, \"config_checkpoint_restore\": %s,\n",
	       f.clone3 ? "true" : "false", f.config_cr ? "true" : "false");
	printf(" \"credentials\": {\"effective_checkpoint_restore\": %s, ",
	       f.eff_cr ? "true" : "false");
	printf("\"permitted_checkpoint_restore\": %s, \"ambient_checkpoint_restore\": %s, ",
	       f.perm_cr ? "true" : "false", f.amb_cr ? "true" : "false");
	printf("\"bounding_checkpoint_restore\": %s, \"effective_sys_admin\": %s, ",
	       f.bnd_cr ? "true" : "false", f.eff_sa ? "true" : "false");
	printf("\"effective_sys_ptrace\": %s, \"effective_setpcap\": %s, \"securebits\": %lu, ",
	       f.eff_ptrace ? "true" : "false", f.eff_setpcap ? "true" : "false", f.securebits);
	printf("\"no_new_privs\": %s, \"bounding_full\": %s, \"bounding_missing\": ",
	       f.no_new_privs ? "true" : "false", f.bnd_full ? "true" : "false");
	json_str(f.bnd_missing);
	if (f.exec_binary) {
		printf(", \"exec\": ");
		json_str(f.exec_binary);
		printf(", \"file_caps\": ");
		json_str(f.file_caps);
		printf(", \"exec_fails\": ");
		json_str(f.exec_fails);
		printf(", \"no_new_privs_ignores_file_caps\": %s",
		       f.nnp_ignores_file_caps ? "true" : "false");
	}
	if (f.target > 0)
		printf(", \"target\": {\"pid\": %d, \"seccomp\": %d}", (int)f.target,
		       f.target_seccomp);
	printf("},\n \"context\": {\"initial_user_ns\": %s, \"initial_pid_ns\": %s, ",
	       f.init_userns ? "true" : "false", f.init_pidns ? "true" : "false");
	printf("\"pid_ns_levels\": %d, \"proc_sys_read_only\": %s, \"yama_ptrace_scope\": %d, ",
	       f.pidns_levels, f.proc_sys_ro ? "true" : "false", f.yama);
	printf("\"clone3_blocked\": %s},\n", f.clone3_blocked ? "true" : "false");
	printf(" \"lsm\": {\"list\": ");
	json_str(f.lsms);
	printf(", \"selinux\": %s, \"selinux_enforcing\": %s, \"selinux_context\": ",
	       f.selinux ? "true" : "false", f.selinux_enforcing ? "true" : "false");
	json_str(f.selinux_context);
	printf(", \"selinux_checkpoint_restore\": \"%s\", \"apparmor\": %s, \"landlock\": %s},\n",
	       f.selinux_cr == YES ? "allowed" : f.selinux_cr == NO ? "denied" : "unknown",
	       f.apparmor ? "true" : "false", f.landlock ? "true" : "false");
	printf(" \"set_tid_levels\": %d, \"set_tid_levels_predicted\": %d, ",
	       set_tid_levels(), set_tid_levels_predicted());
	printf("\"set_tid_levels_predicted_is_lower_bound\": %s, \"set_tid_levels_tried\": %d,\n",
	       !f.init_userns && f.owned_levels_at_least ? "true" : "false",
	       f.set_tid_levels_tried);
	printf(" \"operations\": {");
	for (int i = 0; i < OP_NR; i++) {
		printf("%s\n  \"%s\": {\"verdict\": \"%s\", ",
		       i ? "," : "", op_name[i], tri_name(final(&v[i])));
		printf("\"predicted\": \"%s\", \"tried\": \"%s\"", tri_name(v[i].predicted),
		       v[i].tried == UNKNOWN ? "not tried" : tri_name(v[i].tried));
		if (v[i].tried == NO)
			printf(", \"errno\": \"%s\"", strerrorname_np(v[i].tried_errno) ?: "?");
		printf(", \"reason\": ");
		json_str(v[i].reason);
		printf(", \"fix\": ");
		json_str(v[i].fix);
		printf("}");
	}
	printf("\n }}\n");
}

static void report_table(const struct verdict *v)
{
	bool tty = isatty(STDOUT_FILENO);
	const char *green = tty ? "\033[32m" : "", *red = tty ? "\033[31m" : "",
		   *off = tty ? "\033[0m" : "";

	printf("kernel %s: capability 40 %s, clone3 %s, CONFIG_CHECKPOINT_RESTORE %s\n",
	       f.release, f.knows_cap ? "known" : "UNKNOWN", f.clone3 ? "yes" : "no",
	       f.config_cr ? "yes" : "no");
	printf("credentials%s%s: ",
	       f.exec_binary ? " after execve of " : "", f.exec_binary ? f.exec_binary : "");
	printf("CAP_CHECKPOINT_RESTORE effective %s, permitted %s, ambient %s, bounding %s; ",
	       f.eff_cr ? "yes" : "no", f.perm_cr ? "yes" : "no", f.amb_cr ? "yes" : "no",
	       f.bnd_cr ? "yes" : "no");
	printf("CAP_SYS_ADMIN %s; CAP_SYS_PTRACE %s; no_new_privs %s\n", f.eff_sa ? "yes" : "no",
	       f.eff_ptrace ? "yes" : "no", f.no_new_privs ? "yes" : "no");
	printf("context: %s user namespace, %s PID namespace (%d level%s), /proc/sys %s, Yama %s\n",
	       f.init_userns ? "initial" : "child", f.init_pidns ? "initial" : "child",
	       f.pidns_levels, f.pidns_levels > 1 ? "s" : "",
	       f.proc_sys_ro ? "read-only" : "writable",
	       f.yama < 0 ? "absent" : f.yama == 0 ? "ptrace_scope=0" :
	       f.yama == 1 ? "ptrace_scope=1" : f.yama == 2 ? "ptrace_scope=2" : "ptrace_scope=3");
	printf("LSM: %s; SELinux %s%s%s%s\n\n", f.lsms,
	       !f.selinux ? "off" : f.selinux_enforcing ? "enforcing" : "permissive",
	       f.selinux ? ", checkpoint_restore " : "",
	       !f.selinux ? "" : f.selinux_cr == YES ? "allowed" :
	       f.selinux_cr == NO ? "DENIED" : "not in the policy",
	       f.apparmor ? "; AppArmor present" : "");
	printf("set_tid can choose PIDs in %d of %d PID namespace level%s", set_tid_levels(),
	       f.pidns_levels, f.pidns_levels > 1 ? "s" : "");
	if (f.set_tid_levels_tried >= 0) {
		int p = set_tid_levels_predicted();
		bool lower = !f.init_userns && f.owned_levels_at_least;

		printf(" (tried level by level; predicted %s%d%s)", lower ? "at least " : "", p,
		       lower ? ": the owners of outer levels cannot be seen from inside" :
		       p != f.set_tid_levels_tried ? ", NOT as tried" : "");
	}
	printf("\n\n");
	printf("%-13s %-46s %-8s %-10s %s\n",
	       "operation", "what for", "verdict", "tried", "why / fix");
	for (int i = 0; i < OP_NR; i++) {
		enum tri fin = final(&v[i]);

		printf("%-13s %-46s %s%-8s%s %-10s %s\n", op_name[i], op_what[i],
		       fin == YES ? green : red, tri_name(fin), off,
		       v[i].tried == UNKNOWN ? "predicted" :
		       v[i].tried == YES ? "ok" : (strerrorname_np(v[i].tried_errno) ?: "?"),
		       fin == YES ? "" : v[i].reason);
		if (fin != YES && *v[i].fix)
			printf("%-13s %-46s %-8s %-10s fix: %s\n", "", "", "", "", v[i].fix);
		if (v[i].tried != UNKNOWN && v[i].predicted != UNKNOWN &&
		    v[i].tried != v[i].predicted)
			printf("%-13s %-46s %-8s %-10s note: the prediction was \"%s\"\n",
			       "", "", "", "", tri_name(v[i].predicted));
	}
}

static void print_usage(FILE *fp)
{
	fprintf(fp, "usage: crcheck [--for dump|restore] [--exec BINARY] [--pid PID] [--json]\n"
		    "               [--restorer-drops-present]\n");
}

static void print_help(void)
{
	print_usage(stdout);
	printf("\n"
	       "Does checkpoint/restore work here without root, and if not, what to change?\n"
	       "For each operation a C/R tool needs: the verdict, predicted from the kernel,\n"
	       "the credentials, the namespaces and the LSMs, and tried for real where that\n"
	       "changes nothing outside a short-lived child of crcheck's own.\n\n"
	       "  --for dump|restore  judge only what a dump (or a restore) needs; the exit\n"
	       "                      status says whether all of that works\n"
	       "  --exec BINARY       predict for BINARY as run from here: its file\n"
	       "                      capabilities, setuid root, root, no_new_privs, the\n"
	       "                      bounding set (e.g. --exec $(command -v criu))\n"
	       "  --pid PID           the task to dump: a seccomp filter on it needs\n"
	       "                      CAP_SYS_ADMIN to be dumped\n"
	       "  --json              machine-readable (fields: crcheck.rst)\n"
	       "  --restorer-drops-present\n"
	       "                      the restorer drops from the bounding set only what\n"
	       "                      it still has (CRIU with crcap's criu-patches/0001):\n"
	       "                      no CAP_SETPCAP for a task dumped on this host\n"
	       "  -h, --help          this text\n\n"
	       "Exit status: 0 works, 1 does not, 2 usage error.  Manual: crcheck.rst.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "exec", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "pid", required_argument, NULL, 'p' },
		{ "restorer-drops-present", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct verdict v[OP_NR] = {};
	const bool *need = NULL;
	bool json = false, ok = true;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "dump")) {
				need = needed_for_dump;
			} else if (!strcmp(optarg, "restore")) {
				need = needed_for_restore;
			} else {
				fprintf(stderr,
					"crcheck: --for %s: unknown use (dump or restore)\n",
					optarg);
				print_usage(stderr);
				return 2;
			}
			break;
		case 'p':
			f.target = atoi(optarg);
			if (f.target <= 0 || (kill(f.target, 0) && errno == ESRCH)) {
				fprintf(stderr, "crcheck: --pid %s: no such process\n", optarg);
				return 2;
			}
			break;
		case 'e':
			f.exec_binary = optarg;
			if (access(optarg, X_OK)) {
				fprintf(stderr, "crcheck: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			f.drops_present = true;
			break;
		case 'h':
			print_help();
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		print_usage(stderr);
		return 2;
	}
	gather();
	predict(v);
	try_all(v);
	if (json)
		report_json(v);
	else
		report_table(v);
	for (int i = 0; i < OP_NR; i++)
		if ((!need || need[i]) && final(&v[i]) != YES)
			ok = false;
	return ok ? 0 : 1;
}
