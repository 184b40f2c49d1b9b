// SPDX-License-Identifier: GPL-2.0
/*
 * SELinux mediation of CAP_CHECKPOINT_RESTORE: a task that holds the
 * capability still needs capability2 { checkpoint_restore } (initial user
 * namespace) or cap2_userns { checkpoint_restore } (any other) from the
 * policy.  Needs SELinux enforcing with a policy that defines the test
 * domains crcap_allowed_t, crcap_denied_t, crcap_permissive_t and
 * crcap_nosysadmin_t (u:r:<domain>, entered through attr/exec); where no
 * such policy is loaded every case SKIPs.  The tests change no global
 * state they do not put back: the printk rate limit is restored after
 * each case, and enforcing mode is left on as it was found.
 *
 * Each case execs into a test domain, runs one operation, and reads the
 * kernel log written since just before it for the AVC it must (or must
 * not) cause.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define SELINUXFS "/sys/fs/selinux"

/* What the kernel log must show for one case. */
enum avc_want {
	AVC_NONE,		/* no checkpoint_restore denial */
	AVC_DENIED,		/* a denial, permissive=0 */
	AVC_PERMISSIVE,		/* a denial, permissive=1 */
};

struct avc_seen {
	int denials;		/* "{ checkpoint_restore }" denials */
	int permissive;		/* ... of which with permissive=1 */
	int sys_admin;		/* "{ sys_admin }" denials */
	char tclass[32];	/* tclass= of the first one */
	char line[512];
};

/* A kernel log reader positioned at the end: only what comes later. */
static int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Collect the AVC records after the mark.  Audit records reach the log
 * from a kernel thread, so keep reading until @want_any is met or
 * @timeout_ms passed.
 */
static void kmsg_collect(int fd, const char *domain, bool want_any,
			 int timeout_ms, struct avc_seen *seen)
{
	char rec[2048];
	struct timespec t0, t;

	memset(seen, 0, sizeof(*seen));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n > 0) {
			char *p;

			rec[n] = '\0';
			if (!strstr(rec, "avc:") || !strstr(rec, domain))
				continue;
			if (strstr(rec, "{ sys_admin }"))
				seen->sys_admin++;
			if (!strstr(rec, "{ checkpoint_restore }"))
				continue;
			if (!seen->denials++) {
				snprintf(seen->line, sizeof(seen->line), "%.500s", rec);
				p = strstr(rec, "tclass=");
				if (p)
					sscanf(p + 7, "%31s", seen->tclass);
			}
			if (strstr(rec, "permissive=1"))
				seen->permissive++;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((want_any && seen->denials) ||
		    (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			break;
		poll(NULL, 0, 20);
	}
}

/*
 * A permissive denial is cached as granted and logged only once: flush the
 * AVC (leaving and re-entering enforcing mode resets it) so that every
 * case sees its own record.
 */
static int selinux_flush_avc(void)
{
	int fd = open(SELINUXFS "/enforce", O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, "0", 1) != 1 || write(fd, "1", 1) != 1)
		ret = -1;
	close(fd);
	return ret;
}

static bool selinux_enforcing(void)
{
	char c = 0;
	int fd = open(SELINUXFS "/enforce", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1';
}

/* Is the test policy loaded: does the kernel know our domain? */
static bool selinux_knows(const char *domain)
{
	char ctx[128];
	int fd, len;
	bool ok;

	len = snprintf(ctx, sizeof(ctx), "u:r:%s", domain);
	fd = open(SELINUXFS "/context", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = write(fd, ctx, len) == len;
	close(fd);
	return ok;
}

/* Why the SELinux cases cannot run here, or NULL when they can. */
static const char *selinux_missing(const char *domain)
{
	if (access(SELINUXFS "/enforce", F_OK))
		return "SELinux is not enabled (CONFIG_SECURITY_SELINUX, selinux=1)";
	if (!selinux_knows(domain))
		return "no policy with the test domains (crcap_*_t) is loaded";
	if (!selinux_enforcing())
		return "SELinux is not enforcing";
	return NULL;
}

FIXTURE(selinux) {
	char ratelimit[16];	/* printk_ratelimit as found, "" if unread */
};

#define PRINTK_RATELIMIT "/proc/sys/kernel/printk_ratelimit"

static int write_string(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

FIXTURE_VARIANT(selinux) {
	struct cr_creds creds;
	/* What the operation gets, and what the log must show. */
	bool allowed;
	enum avc_want avc;
	const char *tclass;
	/* The domain is denied sys_admin as well: logged too. */
	bool sys_admin_denial;
};

/* CAP_CHECKPOINT_RESTORE only, in a domain allowed to use it. */
FIXTURE_VARIANT_ADD(selinux, allowed_domain) {
	.creds = { .name = "allowed_domain", .how = CR_AMBIENT,
		   .domain = "crcap_allowed_t" },
	.allowed = true, .avc = AVC_NONE,
};

/* CAP_CHECKPOINT_RESTORE only, in a domain denied it: EPERM and an AVC. */
FIXTURE_VARIANT_ADD(selinux, denied_domain) {
	.creds = { .name = "denied_domain", .how = CR_AMBIENT,
		   .domain = "crcap_denied_t" },
	.allowed = false, .avc = AVC_DENIED, .tclass = "capability2",
};

/* The same in a permissive domain: allowed, and logged as permissive. */
FIXTURE_VARIANT_ADD(selinux, permissive_domain) {
	.creds = { .name = "permissive_domain", .how = CR_AMBIENT,
		   .domain = "crcap_permissive_t" },
	.allowed = true, .avc = AVC_PERMISSIVE, .tclass = "capability2",
};

/*
 * Holding CAP_SYS_ADMIN too, in a domain that allows sys_admin: the
 * fallback lets the operation through, yet checkpoint_restore was asked
 * first and its denial is logged.
 */
FIXTURE_VARIANT_ADD(selinux, denied_domain_sys_admin_fallback) {
	.creds = { .name = "denied_domain_sys_admin_fallback",
		   .how = CR_AMBIENT, .perm_sys_admin = true,
		   .domain = "crcap_denied_t" },
	.allowed = true, .avc = AVC_DENIED, .tclass = "capability2",
};

/* Both capabilities, neither allowed by the policy: EPERM, both logged. */
FIXTURE_VARIANT_ADD(selinux, denied_domain_no_sys_admin) {
	.creds = { .name = "denied_domain_no_sys_admin", .how = CR_AMBIENT,
		   .perm_sys_admin = true, .domain = "crcap_nosysadmin_t" },
	.allowed = false, .avc = AVC_DENIED, .tclass = "capability2",
	.sys_admin_denial = true,
};

FIXTURE_SETUP(selinux)
{
	const char *missing = selinux_missing(variant->creds.domain);
	int fd;
	ssize_t n;

	self->ratelimit[0] = '\0';
	if (missing)
		SKIP(return, "%s", missing);
	/* One record per denial: no printk rate limit while the case runs. */
	fd = open(PRINTK_RATELIMIT, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, self->ratelimit, sizeof(self->ratelimit) - 1);
		self->ratelimit[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (self->ratelimit[0] && write_string(PRINTK_RATELIMIT, "0"))
		TH_LOG("cannot lift the printk rate limit");
	if (variant->avc == AVC_PERMISSIVE)
		ASSERT_EQ(0, selinux_flush_avc());
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(selinux)
{
	if (self->ratelimit[0] && write_string(PRINTK_RATELIMIT, self->ratelimit))
		TH_LOG("cannot restore the printk rate limit");
}

/*
 * Run @op in the variant's domain; @audited is false for the operations
 * that ask through the _noaudit helper (never logged).
 */
static void check_mediated(struct __test_metadata *_metadata,
			   const FIXTURE_VARIANT(selinux) * v,
			   const struct cr_world *w, struct cr_op *op,
			   int refusal, bool audited)
{
	int expected = v->allowed ? 0 : refusal;
	enum avc_want avc = audited ? v->avc : AVC_NONE;
	const char *missing = selinux_missing(v->creds.domain);
	struct avc_seen seen;
	struct cr_result res;
	int fd;

	/* Older harnesses run the body after a SKIP in the setup. */
	if (missing)
		SKIP(return, "%s", missing);
	if (cr_unsupported(&v->creds))
		SKIP(return, "%s", cr_unsupported(&v->creds));
	fd = kmsg_mark();
	ASSERT_LE(0, fd);
	res = cr_run(w, &v->creds, op);
	kmsg_collect(fd, v->creds.domain, avc != AVC_NONE,
		     avc != AVC_NONE ? 2000 : 300, &seen);
	close(fd);

	cr_expect(&v->creds, expected, &res, NULL);
	if (res.err != expected)
		return;
	if (avc == AVC_NONE) {
		ASSERT_EQ(0, seen.denials) {
			TH_LOG("unexpected AVC: %s", seen.line);
		}
		return;
	}
	ASSERT_LT(0, seen.denials) {
		TH_LOG("no AVC for checkpoint_restore from %s in the kernel log",
		       v->creds.domain);
	}
	ASSERT_STREQ(v->tclass, seen.tclass) {
		TH_LOG("AVC: %s", seen.line);
	}
	ASSERT_EQ(avc == AVC_PERMISSIVE ? seen.denials : 0, seen.permissive) {
		TH_LOG("AVC: %s", seen.line);
	}
	if (v->sys_admin_denial)
		ASSERT_LT(0, seen.sys_admin);
}

TEST_F(selinux, set_tid)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 100 } } };

	check_mediated(_metadata, variant, &w, &op, EPERM, true);
}

TEST_F(selinux, ns_last_pid)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_NS_LAST_PID_WRITE,
			    .ns_last_pid = { .value = 499 } };

	check_mediated(_metadata, variant, &w, &op, EPERM, true);
}

TEST_F(selinux, map_files)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_MAP_FILES,
			    .map_files = { .kind = MAP_MEMFD,
					   .target = MAP_TARGET_CHILD } };

	check_mediated(_metadata, variant, &w, &op, EPERM, true);
}

TEST_F(selinux, prctl_mm_map_exe)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_MAP,
			    .set_mm_map = { .exe = EXE_NEW } };

	check_mediated(_metadata, variant, &w, &op, EPERM, true);
}

TEST_F(selinux, tiocslcktrmios)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_LOCK_TERMIOS };

	if (!cr_kernel_at_least(6, 8))
		SKIP(return, "before 6.8 TIOCSLCKTRMIOS may not ask for CAP_CHECKPOINT_RESTORE");
	check_mediated(_metadata, variant, &w, &op, EPERM, true);
}

/* The ipc check is the _noaudit helper: refused or not, nothing logged. */
TEST_F(selinux, msg_next_id_never_audited)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_IPC_NEXT_ID,
			    .next_id = { .kind = IPC_MSG, .id = 4711 } };

	check_mediated(_metadata, variant, &w, &op, EACCES, false);
}

/*
 * Root of a child user namespace: the permission is asked of class
 * cap2_userns.  PR_SET_MM_MAP exe_fd and set_tid in the namespace's own PID
 * namespace are the operations its capabilities reach.
 */
FIXTURE(selinux_userns) {};

FIXTURE_VARIANT(selinux_userns) {
	struct cr_creds creds;
	bool allowed;
};

FIXTURE_VARIANT_ADD(selinux_userns, allowed_domain) {
	.creds = { .name = "userns_allowed_domain", .how = CR_USERNS,
		   .own_pidns = true, .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true,
		   .domain = "crcap_allowed_t" },
	.allowed = true,
};

FIXTURE_VARIANT_ADD(selinux_userns, denied_domain_no_sys_admin) {
	.creds = { .name = "userns_denied_domain_no_sys_admin",
		   .how = CR_USERNS, .own_pidns = true,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true,
		   .domain = "crcap_nosysadmin_t" },
	.allowed = false,
};

FIXTURE_SETUP(selinux_userns)
{
	const char *missing = selinux_missing(variant->creds.domain);

	if (missing)
		SKIP(return, "%s", missing);
	cr_private_tmp(_metadata, &variant->creds);
}

FIXTURE_TEARDOWN(selinux_userns) {}

static void check_userns(struct __test_metadata *_metadata,
			 const FIXTURE_VARIANT(selinux_userns) * v,
			 struct cr_op *op)
{
	const struct cr_world w = { .pidns_depth = 1 };
	const char *missing = selinux_missing(v->creds.domain);
	struct avc_seen seen;
	struct cr_result res;
	int fd;

	if (missing)
		SKIP(return, "%s", missing);
	if (cr_unsupported(&v->creds))
		SKIP(return, "%s", cr_unsupported(&v->creds));
	fd = kmsg_mark();
	ASSERT_LE(0, fd);
	res = cr_run(&w, &v->creds, op);
	kmsg_collect(fd, v->creds.domain, !v->allowed, v->allowed ? 300 : 2000,
		     &seen);
	close(fd);
	cr_expect(&v->creds, v->allowed ? 0 : EPERM, &res, NULL);
	if (res.err != (v->allowed ? 0 : EPERM))
		return;
	if (v->allowed) {
		ASSERT_EQ(0, seen.denials) {
			TH_LOG("unexpected AVC: %s", seen.line);
		}
	} else {
		ASSERT_LT(0, seen.denials);
		ASSERT_STREQ("cap2_userns", seen.tclass) {
			TH_LOG("AVC: %s", seen.line);
		}
	}
}

TEST_F(selinux_userns, prctl_mm_map_exe)
{
	struct cr_op op = { .id = OP_SET_MM_MAP,
			    .set_mm_map = { .exe = EXE_NEW } };

	check_userns(_metadata, variant, &op);
}

TEST_F(selinux_userns, set_tid_in_own_pidns)
{
	struct cr_op op = { .id = OP_SET_TID,
			    .set_tid = { .size = 1, .pids = { 321 } } };

	check_userns(_metadata, variant, &op);
}

TEST_HARNESS_MAIN
