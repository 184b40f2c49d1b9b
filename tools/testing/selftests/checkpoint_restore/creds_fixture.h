/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The credential sets every operation runs under, as ten variants of the
 * fixture the including program names first:
 *
 *	#define CR_FIXTURE set_tid
 *	#include "creds_fixture.h"
 *
 * Each test of that fixture then runs once per credential set, with
 * variant->creds describing it (struct cr_creds, common.h), in a private
 * mount namespace with a fresh /tmp that holds the helper copies the
 * exec'ing variants need.
 */

#ifndef CR_FIXTURE
#error "define CR_FIXTURE (the fixture's name) before including creds_fixture.h"
#endif

/* The harness pastes its arguments: these expand CR_FIXTURE first. */
#define CR_FIXTURE_(f) FIXTURE(f)
#define CR_FIXTURE_VARIANT_(f) FIXTURE_VARIANT(f)
#define CR_VARIANT_(f, v) FIXTURE_VARIANT_ADD(f, v)
#define CR_SETUP_(f) FIXTURE_SETUP(f)
#define CR_TEARDOWN_(f) FIXTURE_TEARDOWN(f)

CR_FIXTURE_(CR_FIXTURE) {
};

CR_FIXTURE_VARIANT_(CR_FIXTURE) {
	struct cr_creds creds;
};

/* uid 65534, capabilities set directly (capset). */
CR_VARIANT_(CR_FIXTURE, nobody_no_caps) {
	.creds = { .name = "nobody_no_caps", .how = CR_DIRECT },
};

CR_VARIANT_(CR_FIXTURE, nobody_cap_cr) {
	.creds = { .name = "nobody_cap_cr", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true },
};

CR_VARIANT_(CR_FIXTURE, nobody_cap_sys_admin) {
	.creds = { .name = "nobody_cap_sys_admin", .how = CR_DIRECT,
		   .perm_sys_admin = true, .eff_sys_admin = true },
};

CR_VARIANT_(CR_FIXTURE, nobody_cap_cr_and_sys_admin) {
	.creds = { .name = "nobody_cap_cr_and_sys_admin", .how = CR_DIRECT,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
};

/* Permitted but not effective: the capability does not count. */
CR_VARIANT_(CR_FIXTURE, nobody_cap_cr_permitted_only) {
	.creds = { .name = "nobody_cap_cr_permitted_only", .how = CR_DIRECT,
		   .perm_cr = true },
};

/* uid 65534 exec'ing a copy of cr_helper with cap_checkpoint_restore+ep. */
CR_VARIANT_(CR_FIXTURE, nobody_file_cap_cr) {
	.creds = { .name = "nobody_file_cap_cr", .how = CR_FILE_CAP },
};

/* uid 65534 with the capability ambient, exec'ing a plain cr_helper. */
CR_VARIANT_(CR_FIXTURE, nobody_ambient_cap_cr) {
	.creds = { .name = "nobody_ambient_cap_cr", .how = CR_AMBIENT },
};

/* Root of a user namespace of its own, made by uid 65534. */
CR_VARIANT_(CR_FIXTURE, userns_root) {
	.creds = { .name = "userns_root", .how = CR_USERNS,
		   .perm_cr = true, .eff_cr = true,
		   .perm_sys_admin = true, .eff_sys_admin = true },
};

CR_VARIANT_(CR_FIXTURE, userns_cap_cr_only) {
	.creds = { .name = "userns_cap_cr_only", .how = CR_USERNS,
		   .perm_cr = true, .eff_cr = true },
};

CR_VARIANT_(CR_FIXTURE, userns_no_caps) {
	.creds = { .name = "userns_no_caps", .how = CR_USERNS },
};

CR_SETUP_(CR_FIXTURE)
{
	cr_private_tmp(_metadata, &variant->creds);
}

CR_TEARDOWN_(CR_FIXTURE)
{
}
