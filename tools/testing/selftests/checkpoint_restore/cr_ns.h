/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world an operation runs in (cr_ns.c): built as root in a child of
 * the test, from fresh namespaces only, before the switch to the
 * variant's credentials:
 *
 *   1. As root, build a throw-away world for the operation: fresh PID
 *      namespaces (optionally owned by a user namespace made by root), a
 *      fresh IPC and UTS namespace, and a private mount namespace with a
 *      tmpfs on /tmp.  Nothing outside these namespaces is changed.
 *   2. Switch to the credentials of the fixture variant (uid 65534 with a
 *      given capability set, a file capability, an ambient capability, or
 *      root of a new user namespace).
 *   3. Run one operation and report its errno (and what it observed) back
 *      through a pipe; or, when 1 or 2 failed, which step and why.
 */

#ifndef _SELFTESTS_CHECKPOINT_RESTORE_CR_NS_H
#define _SELFTESTS_CHECKPOINT_RESTORE_CR_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "cr_creds.h"
#include "ops.h"

#define CR_DIR "/tmp"
#define CR_PLAIN_EXE CR_DIR "/cr_plain"
#define CR_FILECAP_EXE CR_DIR "/cr_filecap"
#define CR_FILECAP_P_EXE CR_DIR "/cr_filecap_p"
#define CR_HELPER "cr_helper"
#define CR_NEEDS_ROOT \
	"needs root: the tests build their namespaces and switch credentials as root"

/* The helper program, installed beside the test: an fd to copy it from. */
int cr_open_helper(void);

/*
 * Copy the helper (@in, from cr_open_helper()) to @path, mode 0755, with
 * the file capabilities @text: the file capability and ambient variants
 * exec it to run their operation.
 */
int cr_copy_helper(int in, const char *path, const char *text);

void cr_die_with_parent(void);

/* A pidfd for ourselves: children that must not outlive us poll it. */
int cr_self_pidfd(void);

/*
 * In a child that only has to exist: sleep until the process behind
 * @pidfd (taken by the parent before fork()) is gone, then exit.  Unlike
 * PR_SET_PDEATHSIG alone, this cannot miss a parent that died before the
 * child got to run; an orphan would keep the test's output pipe open.
 * Never returns.
 */
void cr_sleep_while_alive(int pidfd);

/* Who owns a namespace of a user-namespace layout (struct cr_world). */
enum cr_owner {
	CR_OWNER_NONE,
	/* The initial user namespace: root made the namespace. */
	CR_OWNER_INIT,
	/*
	 * The caller's user namespace: a child of the initial one made by
	 * uid 65534, which CR_WORLD_USERNS variants enter as its root.
	 */
	CR_OWNER_CALLER,
	/*
	 * A sibling of it made by uid 65533: nobody the tests run as is
	 * privileged there but through the initial user namespace.
	 */
	CR_OWNER_OTHER,
};

#define CR_LEVELS 3
#define CR_OTHER_UID 65533

/* The world a test builds as root before switching credentials. */
struct cr_world {
	/* Fresh PID namespaces nested below the test's own (1 to 3). */
	int pidns_depth;
	/*
	 * The innermost PID namespace is owned by a user namespace that
	 * root created (a child of the initial one).
	 */
	bool pidns_in_child_userns;
	/*
	 * A user-namespace layout instead: the owner of each PID namespace
	 * level, outermost first.  The operation runs in the innermost one
	 * (PID 2 there, after its init), in an IPC namespace owned by
	 * @ipc_owner (or the initial user namespace).
	 */
	enum cr_owner owner[CR_LEVELS];
	enum cr_owner ipc_owner;
	/*
	 * One more PID namespace, below the innermost, owned by
	 * @setns_owner: not entered, its fd left for the operation to
	 * setns() into (cr_layout.setns_pidns_fd).
	 */
	enum cr_owner setns_owner;
	/*
	 * The innermost level's init has exited: the operation runs one
	 * level up, with its children due in the dead namespace.
	 */
	bool innermost_init_dead;
	/*
	 * A process of uid 65533 mapping a memfd, for the map_files
	 * operation to look at: its PID and the mapping's address become
	 * the operation's target_pid and target_addr.
	 */
	bool other_uid_target;
};

/* What the world left the operation's process. */
struct cr_layout {
	int caller_userns_fd;
	int setns_pidns_fd;
	long target_pid;
	unsigned long target_addr;
};

extern struct cr_layout cr_layout;

/*
 * A user namespace made by @owner (its creator: privileged in it from the
 * parent namespace), mapping root there to @owner.  Returns an fd for it,
 * or -1 (cr_setup_error() says why).  The process holding it lives as
 * long as the one behind @pfd.
 */
int cr_make_userns(uid_t owner, int pfd);

/*
 * A namespace of type @nstype owned by @userns_fd (-1: the initial user
 * namespace); a PID namespace is a child of the one our children are born
 * into and gets an init that lives as long as the process behind @pfd, or
 * has already exited if @dead.  Returns an fd for it, or -1
 * (cr_setup_error() says why).
 */
int cr_make_ns(int nstype, int userns_fd, bool dead, int pfd);

/* Why the last setup step of this process failed: "step: reason". */
const char *cr_setup_error(void);

/* How the operation's process exits when it could not report. */
#define CR_EXIT_NO_REPORT 2	/* writing the result failed */
#define CR_EXIT_LEVEL_DIED 3	/* a PID namespace level's process was killed */

/*
 * In the child the test forked: build @w, switch to @c and run @op in it,
 * then write the struct cr_result to @fd (with setup_failed set, and the
 * step and its reason in what, if the world or the credentials could not
 * be set up) and exit: it never returns.
 */
void cr_run_in_world(const struct cr_world *w, const struct cr_creds *c,
		     const struct cr_op *op, int fd);

/*
 * Why the variant @creds cannot run here, or NULL: on a kernel without
 * capability 40 the variants that use it SKIP; the others still run (and
 * see the kernel's older behaviour).
 */
const char *cr_unsupported(const struct cr_creds *creds);

#endif /* _SELFTESTS_CHECKPOINT_RESTORE_CR_NS_H */
