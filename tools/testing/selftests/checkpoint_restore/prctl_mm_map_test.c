// SPDX-License-Identifier: GPL-2.0
/*
 * prctl(PR_SET_MM, PR_SET_MM_MAP): replacing /proc/self/exe through
 * exe_fd needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the caller's own
 * user namespace, and a refusal is EPERM (it was EINVAL before 5.9).  The
 * rest of the map needs no capability; the per-field PR_SET_MM commands
 * still need CAP_SYS_RESOURCE, which CAP_CHECKPOINT_RESTORE does not give.
 */

#include "common.h"

#include <linux/prctl.h>
#include <sys/mman.h>

#define NEW_EXE "/bin/true"

enum {
	OP_SET_MM_MAP,		/* arg0: 1 to pass exe_fd of NEW_EXE */
	OP_SET_MM_FIELD,	/* PR_SET_MM_START_BRK, unchanged value */
};

/* Fill @map with the current values, as /proc/self/stat shows them. */
static int current_mm_map(struct prctl_mm_map *map)
{
	unsigned long long v[52] = {};
	char buf[2048], *p, *tok, *save;
	ssize_t n;
	int fd, i;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the command name, which may hold anything but ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (tok = strtok_r(p + 1, " ", &save), i = 3; tok && i <= 51;
	     tok = strtok_r(NULL, " ", &save), i++)
		v[i] = strtoull(tok, NULL, 10);
	if (i <= 51)
		return -1;
	memset(map, 0, sizeof(*map));
	map->start_code = v[26];
	map->end_code = v[27];
	map->start_stack = v[28];
	map->start_data = v[45];
	map->end_data = v[46];
	map->start_brk = v[47];
	map->arg_start = v[48];
	map->arg_end = v[49];
	map->env_start = v[50];
	map->env_end = v[51];
	map->brk = syscall(SYS_brk, 0);
	map->exe_fd = -1;
	return map->start_code && map->arg_start ? 0 : -1;
}

/*
 * The kernel refuses a new exe file while the old one is still mapped.
 * Replace every mapping of our executable by an anonymous copy with the
 * same contents and protection; mremap() swaps each in place in one step,
 * so the code keeps running from identical bytes.
 */
static int unmap_own_executable(void)
{
	struct { unsigned long start, end; int prot; } vma[32];
	char exe[512], line[1024];
	int n = 0;
	ssize_t len;
	FILE *f;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -1;
	exe[len] = '\0';
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	while (n < 32 && fgets(line, sizeof(line), f)) {
		char perms[8], path[512] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %511s", &vma[n].start,
			   &vma[n].end, perms, path) < 3 || strcmp(path, exe))
			continue;
		vma[n].prot = (perms[0] == 'r' ? PROT_READ : 0) |
			      (perms[1] == 'w' ? PROT_WRITE : 0) |
			      (perms[2] == 'x' ? PROT_EXEC : 0);
		n++;
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		size_t size = vma[i].end - vma[i].start;
		void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (copy == MAP_FAILED)
			return -1;
		if (vma[i].prot & PROT_READ)
			memcpy(copy, (void *)vma[i].start, size);
		if (mprotect(copy, size, vma[i].prot) ||
		    mremap(copy, size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)vma[i].start) == MAP_FAILED)
			return -1;
	}
	return n ? 0 : -1;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* val[0] = 1 if /proc/self/exe is NEW_EXE afterwards. */
static int op_set_mm_map(const struct cr_op *op, struct cr_result *res)
{
	struct prctl_mm_map map;
	int fd = -1;

	if (current_mm_map(&map))
		return cr_fail(res, "reading the current mm from /proc/self/stat");
	if (op->arg[0]) {
		fd = open(NEW_EXE, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cr_fail(res, "open(" NEW_EXE ")");
		if (unmap_own_executable())
			return cr_fail(res, "unmapping our own executable");
		map.exe_fd = fd;
	}
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof(map), 0))
		return cr_fail(res, "prctl(PR_SET_MM, PR_SET_MM_MAP)");
	res->val[0] = same_file("/proc/self/exe", NEW_EXE);
	return 0;
}

static int op_set_mm_field(const struct cr_op *op, struct cr_result *res)
{
	struct prctl_mm_map map;

	if (current_mm_map(&map))
		return cr_fail(res, "reading the current mm from /proc/self/stat");
	if (prctl(PR_SET_MM, PR_SET_MM_START_BRK, map.start_brk, 0, 0))
		return cr_fail(res, "prctl(PR_SET_MM, PR_SET_MM_START_BRK)");
	return 0;
}

static int cr_dispatch(const struct cr_op *op, struct cr_result *res)
{
	switch (op->id) {
	case OP_SET_MM_MAP:
		return op_set_mm_map(op, res);
	case OP_SET_MM_FIELD:
		return op_set_mm_field(op, res);
	}
	errno = EINVAL;
	return cr_fail(res, "unknown operation");
}

static bool have_set_mm_map(void)
{
	unsigned int size = 0;

	return !prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0);
}

CR_CREDS_FIXTURE(prctl_mm_map);

TEST_F(prctl_mm_map, exe_fd_replaces_proc_self_exe)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_MAP, .arg = { 1 } };
	struct cr_result res;

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	if (!have_set_mm_map())
		SKIP(return, "no PR_SET_MM_MAP (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op,
		     cr_creds_allowed(&variant->creds, CR_SCOPE_CALLER_USERNS) ?
		     0 : EPERM);
	if (cr_creds_allowed(&variant->creds, CR_SCOPE_CALLER_USERNS)) {
		ASSERT_EQ(0, res.err) {
			TH_LOG("%s: %s", res.what, strerror(res.err));
		}
		ASSERT_EQ(1, res.val[0]) {
			TH_LOG("/proc/self/exe is not " NEW_EXE " after the prctl");
		}
	} else {
		ASSERT_EQ(EPERM, res.err) {
			TH_LOG("%s: %s; a refused exe_fd must be EPERM, not EINVAL",
			       res.what, res.err ? strerror(res.err) : "success");
		}
	}
}

/*
 * Without exe_fd the same map is accepted from anybody: the EPERM above
 * comes from the capability check, not from a malformed map.
 */
TEST_F(prctl_mm_map, map_without_exe_fd_needs_no_capability)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_MAP, .arg = { 0 } };
	struct cr_result res;

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	if (!have_set_mm_map())
		SKIP(return, "no PR_SET_MM_MAP (missing CONFIG_CHECKPOINT_RESTORE?)");
	res = cr_run(&w, &variant->creds, &op, 0);
	ASSERT_EQ(0, res.err) {
		TH_LOG("%s: %s", res.what, strerror(res.err));
	}
}

/* No over-grant: the per-field commands still need CAP_SYS_RESOURCE. */
TEST_F(prctl_mm_map, set_mm_field_still_needs_cap_sys_resource)
{
	const struct cr_world w = { .pidns_depth = 1 };
	struct cr_op op = { .id = OP_SET_MM_FIELD };
	struct cr_result res;

	CR_SKIP_UNLESS_SUPPORTED(&variant->creds);
	res = cr_run(&w, &variant->creds, &op, EPERM);
	ASSERT_EQ(EPERM, res.err) {
		TH_LOG("PR_SET_MM_START_BRK without CAP_SYS_RESOURCE: %s",
		       res.err ? strerror(res.err) : "succeeded");
	}
}

TEST_HARNESS_MAIN
