// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/map_files/: reading a link needs only ptrace read access,
 * following it (open) needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the
 * initial user namespace.  This is how a dumper reaches the contents of a
 * memfd or a deleted file that is mapped by the process it checkpoints.
 */

#include "common.h"

#include <sys/mman.h>

enum {
	OP_MAP_FILES,	/* arg0: enum map_kind */
};

enum map_kind {
	MAP_MEMFD,
	MAP_DELETED_FILE,
};

#define MAGIC "crcap map_files contents"

static int map_something(enum map_kind kind, void **addr)
{
	char path[] = CR_DIR "/cr_map_XXXXXX";
	int fd;

	if (kind == MAP_MEMFD) {
		fd = memfd_create("crcap", MFD_CLOEXEC);
	} else {
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0 || ftruncate(fd, 4096))
		return -1;
	*addr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (*addr == MAP_FAILED)
		return -1;
	memcpy(*addr, MAGIC, sizeof(MAGIC));
	return 0;
}

/*
 * Map a file, fork a process that keeps the mapping, and go through its
 * map_files entry: val[0] = readlink's errno, val[1] = 1 if the link names
 * a deleted object, val[2] = 1 if open() gave the mapped contents.
 */
static int op_map_files(const struct cr_op *op, struct cr_result *res)
{
	char path[128], link[256], buf[sizeof(MAGIC)];
	int sync[2], fd;
	long proc_pid;
	void *addr;
	pid_t target;
	ssize_t n;

	if (map_something(op->arg[0], &addr))
		return cr_fail(res, "mapping a file");
	if (pipe2(sync, O_CLOEXEC))
		return cr_fail(res, "pipe");
	target = fork();
	if (target < 0)
		return cr_fail(res, "fork");
	if (target == 0) {
		/*
		 * Without capabilities of our own, so that ptrace read access
		 * (the caller's effective set covers our permitted set) never
		 * stands in the way: only the link-following check may refuse.
		 */
		cr_set_caps(false, false, false, false, false);
		/* Our PID as the /proc mount sees it. */
		n = readlink("/proc/self", link, sizeof(link) - 1);
		proc_pid = n > 0 ? (link[n] = '\0', atol(link)) : -1;
		if (write(sync[1], &proc_pid, sizeof(proc_pid)) < 0)
			_exit(1);
		cr_die_with_parent();
		for (;;)
			pause();
	}
	close(sync[1]);
	if (read(sync[0], &proc_pid, sizeof(proc_pid)) != sizeof(proc_pid) ||
	    proc_pid < 1) {
		errno = ESRCH;
		cr_fail(res, "learning the target's PID");
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%ld/map_files/%lx-%lx", proc_pid,
		 (unsigned long)addr, (unsigned long)addr + 4096);

	n = readlink(path, link, sizeof(link) - 1);
	res->val[0] = n < 0 ? errno : 0;
	if (n > 0) {
		link[n] = '\0';
		res->val[1] = strstr(link, "(deleted)") != NULL;
	}

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cr_fail(res, "open(/proc/PID/map_files/...)");
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	res->val[2] = n == sizeof(buf) && !memcmp(buf, MAGIC, sizeof(buf));
	close(fd);
out:
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	return res->err;
}

static int cr_dispatch(const struct cr_op *op, struct cr_result *res)
{
	switch (op->id) {
	case OP_MAP_FILES:
		return op_map_files(op, res);
	}
	errno = EINVAL;
	return cr_fail(res, "unknown operation");
}

static void check_map_files(struct __test_metadata *_metadata,
			    const struct cr_creds *creds, enum map_kind kind)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_MAP_FILES, .arg = { kind } };
	struct cr_result res;

	CR_SKIP_UNLESS_SUPPORTED(creds);
	res = cr_run(&w, creds, &op,
		     cr_creds_allowed(creds, CR_SCOPE_INIT_USERNS) ? 0 : EPERM);
	ASSERT_EQ(0, res.val[0]) {
		TH_LOG("readlink of map_files needs no capability, got %s",
		       strerror(res.val[0]));
	}
	ASSERT_EQ(1, res.val[1]) {
		TH_LOG("the link does not name a deleted object");
	}
	if (cr_creds_allowed(creds, CR_SCOPE_INIT_USERNS)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("%s: %s", res.what, strerror(res.err));
		}
		ASSERT_EQ(1, res.val[2]) {
			TH_LOG("opening the link did not give the mapped contents");
		}
	} else {
		ASSERT_EQ(EPERM, res.err) {
			TH_LOG("%s: %s, expected EPERM (the capability counts only in the initial user namespace)",
			       res.what, res.err ? strerror(res.err) : "success");
		}
	}
}

CR_CREDS_FIXTURE(map_files);

TEST_F(map_files, open_memfd_of_other_process)
{
	check_map_files(_metadata, &variant->creds, MAP_MEMFD);
}

TEST_F(map_files, open_deleted_file_of_other_process)
{
	check_map_files(_metadata, &variant->creds, MAP_DELETED_FILE);
}

TEST_HARNESS_MAIN
