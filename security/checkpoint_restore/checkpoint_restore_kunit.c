// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for checkpoint_restore_ns_capable() and
 * checkpoint_restore_ns_capable_noaudit().
 *
 * Each case runs the helper with a credential built for it: a given
 * effective set (nothing, CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN, both),
 * living in the initial user namespace or in a child of it, asked about
 * the initial namespace or about the child.  The child namespace is a
 * stand-in that the capability code walks like a real one (parent, level,
 * owner); it is never handed to anything else.
 */

#include <kunit/test.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#define CR_TEST_OWNER 4242

enum cr_test_ns { CR_INIT_NS, CR_CHILD_NS };

struct cr_test_case {
	const char *desc;
	bool cap_cr, cap_sys_admin;
	/* Where the credential lives, and which namespace is asked about. */
	enum cr_test_ns cred_ns, target_ns;
	/* The credential's euid owns the child namespace. */
	bool owner;
	bool expected;
};

static const struct cr_test_case cr_test_cases[] = {
	/* In the initial user namespace, about itself. */
	{ "init_ns_no_caps", false, false, CR_INIT_NS, CR_INIT_NS, false, false },
	{ "init_ns_cap_checkpoint_restore", true, false, CR_INIT_NS, CR_INIT_NS, false, true },
	{ "init_ns_cap_sys_admin", false, true, CR_INIT_NS, CR_INIT_NS, false, true },
	{ "init_ns_both_caps", true, true, CR_INIT_NS, CR_INIT_NS, false, true },
	/* Initial namespace capabilities reach into a child namespace. */
	{ "init_caps_for_child_ns_no_caps", false, false, CR_INIT_NS, CR_CHILD_NS, false, false },
	{ "init_caps_for_child_ns_cap_checkpoint_restore",
	  true, false, CR_INIT_NS, CR_CHILD_NS, false, true },
	{ "init_caps_for_child_ns_cap_sys_admin",
	  false, true, CR_INIT_NS, CR_CHILD_NS, false, true },
	{ "init_caps_for_child_ns_both_caps", true, true, CR_INIT_NS, CR_CHILD_NS, false, true },
	/* The owner of a child namespace has every capability in it. */
	{ "init_ns_owner_of_child_ns", false, false, CR_INIT_NS, CR_CHILD_NS, true, true },
	/* Capabilities held in a child namespace count there ... */
	{ "child_ns_no_caps", false, false, CR_CHILD_NS, CR_CHILD_NS, false, false },
	{ "child_ns_cap_checkpoint_restore", true, false, CR_CHILD_NS, CR_CHILD_NS, false, true },
	{ "child_ns_cap_sys_admin", false, true, CR_CHILD_NS, CR_CHILD_NS, false, true },
	{ "child_ns_both_caps", true, true, CR_CHILD_NS, CR_CHILD_NS, false, true },
	/* ... and never for the initial namespace. */
	{ "child_caps_for_init_ns_no_caps", false, false, CR_CHILD_NS, CR_INIT_NS, false, false },
	{ "child_caps_for_init_ns_cap_checkpoint_restore",
	  true, false, CR_CHILD_NS, CR_INIT_NS, false, false },
	{ "child_caps_for_init_ns_cap_sys_admin",
	  false, true, CR_CHILD_NS, CR_INIT_NS, false, false },
	{ "child_caps_for_init_ns_both_caps", true, true, CR_CHILD_NS, CR_INIT_NS, false, false },
};

static void cr_test_case_desc(const struct cr_test_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cr_test, cr_test_cases, cr_test_case_desc);

/* A child of the initial user namespace, as the capability code sees it. */
static struct user_namespace *cr_test_child_ns(struct kunit *test)
{
	struct user_namespace *ns;

	ns = kunit_kzalloc(test, sizeof(*ns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ns);
	ns->parent = &init_user_ns;
	ns->level = init_user_ns.level + 1;
	ns->owner = KUIDT_INIT(CR_TEST_OWNER);
	ns->group = KGIDT_INIT(CR_TEST_OWNER);
	return ns;
}

/*
 * Run @helper on the case's target namespace with the case's credential
 * installed as current's.
 */
static bool cr_test_run(struct kunit *test,
			bool (*helper)(struct user_namespace *ns))
{
	const struct cr_test_case *t = test->param_value;
	struct user_namespace *child = cr_test_child_ns(test);
	struct user_namespace *saved_ns;
	const struct cred *old;
	struct cred *new;
	bool ret;

	new = prepare_creds();
	KUNIT_ASSERT_NOT_NULL(test, new);
	cap_clear(new->cap_effective);
	if (t->cap_cr)
		cap_raise(new->cap_effective, CAP_CHECKPOINT_RESTORE);
	if (t->cap_sys_admin)
		cap_raise(new->cap_effective, CAP_SYS_ADMIN);
	new->cap_permitted = new->cap_effective;
	new->euid = t->owner ? KUIDT_INIT(CR_TEST_OWNER) : KUIDT_INIT(CR_TEST_OWNER + 1);
	/* prepare_creds() holds a reference on this one: put it back later. */
	saved_ns = new->user_ns;
	if (t->cred_ns == CR_CHILD_NS)
		new->user_ns = child;

	old = override_creds(new);
	ret = helper(t->target_ns == CR_CHILD_NS ? child : &init_user_ns);
	revert_creds(old);

	new->user_ns = saved_ns;
	put_cred(new);
	return ret;
}

static void checkpoint_restore_ns_capable_test(struct kunit *test)
{
	const struct cr_test_case *t = test->param_value;

	KUNIT_EXPECT_EQ_MSG(test, t->expected,
			    cr_test_run(test, checkpoint_restore_ns_capable),
			    "checkpoint_restore_ns_capable() for %s", t->desc);
}

static void checkpoint_restore_ns_capable_noaudit_test(struct kunit *test)
{
	const struct cr_test_case *t = test->param_value;

	KUNIT_EXPECT_EQ_MSG(test, t->expected,
			    cr_test_run(test, checkpoint_restore_ns_capable_noaudit),
			    "checkpoint_restore_ns_capable_noaudit() for %s", t->desc);
}

/* The capability is a real one: numbered 40, the last, valid. */
static void checkpoint_restore_cap_number_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 40, CAP_CHECKPOINT_RESTORE);
	KUNIT_EXPECT_GE(test, CAP_LAST_CAP, CAP_CHECKPOINT_RESTORE);
	KUNIT_EXPECT_TRUE(test, cap_valid(CAP_CHECKPOINT_RESTORE));
}

static struct kunit_case checkpoint_restore_capability_test_cases[] = {
	KUNIT_CASE(checkpoint_restore_cap_number_test),
	KUNIT_CASE_PARAM(checkpoint_restore_ns_capable_test, cr_test_gen_params),
	KUNIT_CASE_PARAM(checkpoint_restore_ns_capable_noaudit_test,
			 cr_test_gen_params),
	{}
};

static struct kunit_suite checkpoint_restore_capability_test_suite = {
	.name = "capability_checkpoint_restore",
	.test_cases = checkpoint_restore_capability_test_cases,
};

kunit_test_suite(checkpoint_restore_capability_test_suite);

MODULE_DESCRIPTION("KUnit tests for checkpoint_restore_ns_capable()");
MODULE_LICENSE("GPL");
