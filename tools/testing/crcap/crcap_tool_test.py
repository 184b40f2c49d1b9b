#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of crcap itself, on outputs recorded from real runs (test_data/).

	python3 tools/testing/crcap/crcap_tool_test.py [-v] [--tap]

--tap prints KTAP (how "scripts/crcap test" runs it).
"""

import gzip
import io
import json
import os
import re
import shutil
import shlex
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import crcap as C		# noqa: E402
import crcap_criu as CR		# noqa: E402
import crcap_census as CEN	# noqa: E402
import crcap_guest as G		# noqa: E402
import crcap_kernel as K	# noqa: E402
import crcap_lint as L		# noqa: E402
import crcap_mutants as M	# noqa: E402
import crcap_qemu as Q		# noqa: E402
import crcap_refpolicy as RP	# noqa: E402
import crcap_tables as TB	# noqa: E402
import crcap_parser as P	# noqa: E402
import crcap_report as R	# noqa: E402
import crcap_rfc as RFC		# noqa: E402
import crcap_stages as ST	# noqa: E402
import crcap_submission as SUB	# noqa: E402
import crcap_suites as S	# noqa: E402
import crcap_tree as T		# noqa: E402
import crcap_util as util	# noqa: E402
from crcap_parser import Status, Test	# noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def data(name):
	with open(os.path.join(HERE, 'test_data', name)) as f:
		return f.read().splitlines()


def kunit_py():
	"""The kernel's own kunit.py from an unpacked tree, or None."""
	build = os.environ.get('CRCAP_BUILD') or os.path.join(TOP, '.build')
	for k in ('6.12', '6.1'):
		p = os.path.join(build, f'linux-source-{k}', 'tools/testing/kunit/kunit.py')
		if os.path.exists(p):
			return p
	return None


class ParserTest(unittest.TestCase):

	def test_kselftest_program_all_pass(self):
		t = P.parse_program('map_files_test', data('kselftest_map_files.log'), 0)
		self.assertEqual((20, 0, 0), tuple(vars(t.counts()).values()))
		self.assertEqual(Status.PASS, t.status)
		self.assertEqual('map_files.nobody_no_caps.open_memfd_of_other_process',
				 t.subtests[0].name)

	def test_truncated_output_is_a_failure(self):
		# set_tid_test's plan says 155; the recording stops after 9.
		t = P.parse_program('set_tid_test', data('kselftest_truncated.log'), None)
		self.assertEqual(Status.FAIL, t.status)
		bad = {l.name: l for _, l in t.leaves() if l.status.failed}
		self.assertIn('plan', bad)
		self.assertIn('146 of 155 planned results missing', bad['plan'].reason)
		self.assertIn('exit_status', bad)	# and it never exited

	def test_crashed_program_is_a_failure(self):
		t = P.parse_program('ns_last_pid_test', data('kselftest_crashed.log'), 139)
		self.assertEqual(Status.FAIL, t.status)
		reasons = [l.reason for _, l in t.leaves() if l.status.failed]
		self.assertTrue(any('signal 11' in r for r in reasons), reasons)
		self.assertTrue(any('missing' in r for r in reasons), reasons)

	def test_all_skip_program_is_skipped_not_passed(self):
		t = P.parse_program('selinux_test', data('kselftest_all_skip.log'), 4)
		self.assertEqual(Status.SKIP, t.status)
		self.assertEqual((0, 0, 34), tuple(vars(t.counts()).values()))
		self.assertIn('SELinux is not enabled', t.reason)

	def test_plan_skip(self):
		t = P.parse_program('x_test', data('kselftest_plan_skip.log'), 4)
		self.assertEqual(Status.SKIP, t.status)
		self.assertEqual('needs root to build its namespaces', t.reason)

	def test_exit_status_contradicting_results_fails(self):
		t = P.parse_program('map_files_test', data('kselftest_map_files.log'), 1)
		self.assertEqual(Status.FAIL, t.status)
		self.assertEqual('exit_status', t.subtests[-1].name)

	def test_no_output_is_a_failure(self):
		t = P.parse_program('x_test', [], 0)
		self.assertEqual(Status.FAIL, t.status)

	def test_more_results_than_planned_fails(self):
		t = P.parse_tap(['TAP version 13', '1..1', 'ok 1 a', 'ok 2 b'], 'x')
		self.assertEqual(Status.FAIL, t.status)

	def test_empty_group_is_not_a_pass(self):
		g = Test('suite', subtests=[Test('programs')])
		self.assertEqual(Status.FAIL, g.finish().status)
		self.assertIn('empty group', g.subtests[0].reason)
		self.assertEqual(1, g.counts().failed)

	def test_plan_at_the_end(self):
		t = P.parse_program('crcheck_test', data('crcheck_test.log'), 0)
		self.assertEqual(Status.PASS, t.status)
		self.assertEqual(10, t.counts().passed)

	def test_xfail_passes_and_xpass_fails(self):
		t = P.parse_tap(['TAP version 13', '1..2', 'ok 1 a # XFAIL known',
				 'ok 2 b # XPASS oops'], 'x')
		self.assertEqual([Status.PASS, Status.FAIL], [s.status for s in t.subtests])

	def test_kunit_nested_from_kernel_log(self):
		ktap = P.ktap_from_kernel_log(data('uml_6.12_kernel.log'))
		t = P.parse_tap(ktap, 'builtin')
		self.assertEqual(Status.PASS, t.status)
		self.assertEqual(35, t.counts().passed)
		suite = t.subtests[0]
		self.assertEqual('capability_checkpoint_restore', suite.name)
		# Parameterised cases: a group with no plan, closed by its result.
		self.assertEqual(17, len(suite.subtests[1].subtests))

	def test_kunit_stream_stops_at_its_plan(self):
		ktap = P.ktap_from_kernel_log(data('uml_6.12_kernel.log'))
		self.assertTrue(ktap[-1].startswith('ok 1 capability_checkpoint_restore'))

	def test_kunit_crash_mid_suite(self):
		log = data('uml_6.12_kernel.log')
		cut = [ln for ln in log if 'init_ns_owner_of_child_ns' not in ln]
		end = next(i for i, l in enumerate(cut) if 'ok 12 child_ns_cap_sys_admin' in l)
		t = P.parse_tap(P.ktap_from_kernel_log(cut[:end]), 'builtin')
		self.assertEqual(Status.FAIL, t.status)

	def test_kunit_6_1_dash_results(self):
		lines = ['KTAP version 1', '1..1', '    # Subtest: s', '    1..2',
			 '    ok 1 - a', '    ok 2 - b # SKIP nope', 'ok 1 - s']
		t = P.parse_tap(lines, 'x')
		self.assertEqual((1, 0, 1), tuple(vars(t.counts()).values()))
		self.assertEqual('a', t.subtests[0].subtests[0].name)


class ReportTest(unittest.TestCase):

	def setUp(self):
		self.tmp = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, self.tmp, True)

	def suites(self):
		a = P.parse_program('map_files_test', data('kselftest_map_files.log'), 0)
		b = P.parse_program('selinux_test', data('kselftest_all_skip.log'), 4)
		c = P.parse_program('set_tid_test', data('kselftest_truncated.log'), None)
		k = P.parse_tap(P.ktap_from_kernel_log(data('uml_6.12_kernel.log')), 'builtin')
		# A workload's TAP names its one case as the workload is named.
		run = G.GuestRun('w', self.tmp, 'qemu')
		run.blocks, run.exit, _ = G.split_results(
			'=== crcap begin workload.mappings\nTAP version 13\nok 1 mappings\n1..1\n'
			'=== crcap end workload.mappings exit 0 ms 1\n'
			'=== crcap begin workload.mappings.avc\n=== crcap end workload.mappings.avc exit 0 ms 1\n'
			'=== crcap job exit 0\n')
		w = Q.workloads_verdicts(Q.DebianKernel('debian-x', 'p', 'v', '/v'), run, ['mappings'])
		return [Test('uml-6.12.kselftest', subtests=[a, c]).finish(),
			Test('host.selinux', subtests=[b]).finish(),
			Test('uml-6.12.kunit', subtests=[k]).finish(), w[0]]

	def ktap(self, suites):
		out = io.StringIO()
		R.write_ktap(out, suites, ['host_kernel: 6.18.0 # not an id'])
		return out.getvalue()

	def test_report_reparses_to_the_same_counts(self):
		suites = self.suites()
		again = P.parse_tap(self.ktap(suites).splitlines(), 'main')
		self.assertEqual(str(R.total(suites)), str(again.counts()))

	def test_all_skip_suite_is_ok_skip(self):
		text = self.ktap(self.suites())
		self.assertIn('ok 2 host.selinux # SKIP', text)

	def test_failing_cases_listed_before_the_last_line(self):
		lines = R.summary_lines(self.suites())
		self.assertRegex(lines[-1], r'^\d+ passed, \d+ failed, \d+ skipped$')
		self.assertIn('Failing cases (2):', lines)

	def test_json_ids_are_stable(self):
		j = R.to_json(self.suites(), {'host_kernel': '6.18.0'})
		ids = [t['id'] for t in j['tests']]
		self.assertIn('uml-6.12.kselftest.map_files_test.'
			      'map_files.nobody_no_caps.open_memfd_of_other_process', ids)
		self.assertFalse(any('6.18' in i for i in ids))
		self.assertEqual(len(ids), len(set(ids)))

	def test_names_cannot_break_ktap(self):
		t = Test('x', subtests=[Test('a # SKIP b', Status.FAIL, 'SKIP not really'),
					Test('Subtest: y', Status.PASS)]).finish()
		again = P.parse_tap(self.ktap([t]).splitlines(), 'main')
		self.assertEqual('0 passed, 1 failed, 0 skipped'.replace('0 passed', '1 passed'),
				 str(again.counts()))

	def test_kunit_py_parse_agrees(self):
		kunit = kunit_py()
		if not kunit:
			self.skipTest('no unpacked kernel tree with tools/testing/kunit/kunit.py '
				      '(scripts/crcap tree)')
		suites = self.suites()
		with tempfile.NamedTemporaryFile('w', suffix='.ktap') as f:
			f.write(self.ktap(suites))
			f.flush()
			out = subprocess.run([sys.executable, kunit, 'parse', f.name],
					     capture_output=True, text=True).stdout
		c = R.total(suites)
		self.assertIn(f'Ran {c.total} tests: passed: {c.passed}, failed: {c.failed}, '
			      f'skipped: {c.skipped}', out)
		self.assertNotIn('errors', out.split('Testing complete')[-1])


class TreeTest(unittest.TestCase):

	def setUp(self):
		self.d = tempfile.mkdtemp()
		self.top = os.path.join(self.d, 'project')
		self.user = os.path.join(self.d, 'linux')
		for p, text in {
			'project/security/checkpoint_restore/patches/series': '0001-a.patch\n',
			'project/security/checkpoint_restore/patches/0001-a.patch': textwrap.dedent('''\
				--- a/kernel/a.c
				+++ b/kernel/a.c
				@@ -1,3 +1,3 @@
				 one
				-two
				+TWO
				 three
				'''),
			'project/security/new.c': 'new\n',
			'project/tools/testing/selftests/x/y.c': 'y\n',
			'linux/Makefile': 'all:\n',
			'linux/kernel/a.c': 'one\ntwo\nthree\n',
		}.items():
			path = os.path.join(self.d, p)
			os.makedirs(os.path.dirname(path), exist_ok=True)
			with open(path, 'w') as f:
				f.write(text)
		util.quiet = True
		self.build = os.path.join(self.d, 'build')
		os.makedirs(self.build)

	def tearDown(self):
		shutil.rmtree(self.d)

	def prepare(self):
		k = T.kernel_for(self.user, self.build)
		T.Tree(T.Project(self.top), k).prepare()
		return k

	def test_users_tree_is_never_written(self):
		k = self.prepare()
		with open(os.path.join(k.src, 'kernel/a.c')) as f:
			self.assertEqual('one\nTWO\nthree\n', f.read())
		with open(os.path.join(self.user, 'kernel/a.c')) as f:
			self.assertEqual('one\ntwo\nthree\n', f.read())
		self.assertFalse(os.path.exists(os.path.join(self.user, 'security/new.c')))

	def test_removed_project_file_leaves_the_overlay(self):
		k = self.prepare()
		self.assertTrue(os.path.exists(os.path.join(k.src, 'security/new.c')))
		os.unlink(os.path.join(self.top, 'security/new.c'))
		self.prepare()
		self.assertFalse(os.path.exists(os.path.join(k.src, 'security/new.c')))

	def test_patch_needing_fuzz_is_refused(self):
		with open(os.path.join(self.user, 'kernel/a.c'), 'w') as f:
			f.write('ONE\ntwo\nthree\n')	# context changed: fuzz 1 would take it
		with self.assertRaisesRegex(util.Error, 'does not apply .* without fuzz'):
			self.prepare()

	def test_linked_copy_patch_does_not_write_through(self):
		k = self.prepare()
		copy = os.path.join(self.d, 'copy')
		T.linked_copy(k.src, copy)
		T.unlink_before_patch(copy, ['kernel/a.c'])
		ok, _ = T._patch(copy, os.path.join(
			self.top, 'security/checkpoint_restore/patches/0001-a.patch'), '-R', '-s')
		self.assertTrue(ok)
		with open(os.path.join(k.src, 'kernel/a.c')) as f:
			self.assertEqual('one\nTWO\nthree\n', f.read())

	def add_uml_fix(self, old='four', new='FOUR'):
		d = os.path.join(self.top, T.UML_FIXES_DIR)
		os.makedirs(d, exist_ok=True)
		with open(os.path.join(d, '0001-um.patch'), 'w') as f:
			f.write(f'--- a/arch/um/b.c\n+++ b/arch/um/b.c\n@@ -1,2 +1,2 @@\n'
				f' x\n-{old}\n+{new}\n')
		os.makedirs(os.path.join(self.user, 'arch/um'), exist_ok=True)
		with open(os.path.join(self.user, 'arch/um/b.c'), 'w') as f:
			f.write('x\nfour\n')

	def test_uml_fixes_follow_the_series_and_stay_out_of_the_users_tree(self):
		self.add_uml_fix()
		k = self.prepare()
		self.prepare()	# again: already there, not applied twice
		with open(os.path.join(k.src, 'arch/um/b.c')) as f:
			self.assertEqual('x\nFOUR\n', f.read())
		with open(os.path.join(k.src, 'kernel/a.c')) as f:
			self.assertEqual('one\nTWO\nthree\n', f.read())
		with open(os.path.join(self.user, 'arch/um/b.c')) as f:
			self.assertEqual('x\nfour\n', f.read())

	def test_a_uml_fix_that_does_not_apply(self):
		self.add_uml_fix(old='five')
		k = self.prepare()	# a user's tree: left out, with a note
		with open(os.path.join(k.src, 'arch/um/b.c')) as f:
			self.assertEqual('x\nfour\n', f.read())
		with self.assertRaisesRegex(util.Error, 'UML fix 0001-um.patch does not apply'):
			T.apply_uml_fixes(k.src, T.Project(self.top).uml_fixes())


class CriuSeriesTest(unittest.TestCase):
	"""The project's CRIU patches: a tarball's tree gets them, in order,
	without fuzz, and its build is keyed on them."""

	def setUp(self):
		self.d = tempfile.mkdtemp()
		util.quiet = True
		self.top = os.path.join(self.d, 'project')
		self.pdir = os.path.join(self.top, CR.SERIES_DIR)
		os.makedirs(self.pdir)
		with open(os.path.join(self.pdir, '0001-a.patch'), 'w') as f:
			f.write('--- a/criu/a.c\n+++ b/criu/a.c\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n')
		with open(os.path.join(self.pdir, 'series'), 'w') as f:
			f.write('# the order\n0001-a.patch\n')
		src = os.path.join(self.d, 'criu-9.9')
		os.makedirs(os.path.join(src, 'criu'))
		with open(os.path.join(src, 'criu', 'a.c'), 'w') as f:
			f.write('one\ntwo\n')
		with open(os.path.join(src, 'Makefile'), 'w') as f:
			f.write('criu:\n\tcp /bin/true criu/criu\n')
		self.tarball = os.path.join(self.d, 'criu-9.9.tar.xz')
		util.run(['tar', '-C', self.d, '-cJf', self.tarball, 'criu-9.9'])
		self.build = os.path.join(self.d, 'build')
		os.makedirs(self.build)

	def tearDown(self):
		shutil.rmtree(self.d)

	def test_the_series_is_applied_and_keys_the_build(self):
		patches = CR.series(self.top)
		self.assertEqual(['0001-a.patch'], [os.path.basename(p) for p in patches])
		with_series = CR._build(self.tarball, self.build, 1, patches)
		without = CR._build(self.tarball, self.build, 1, ())
		self.assertNotEqual(with_series, without)
		for binary, text in ((with_series, 'one\nTWO\n'), (without, 'one\ntwo\n')):
			with open(os.path.join(os.path.dirname(binary), 'a.c')) as f:
				self.assertEqual(text, f.read())
		with mock.patch.dict(os.environ, {'CRCAP_CRIU_SERIES': 'none'}):
			self.assertEqual([], CR.series(self.top))

	def test_a_patch_that_does_not_apply_or_is_missing(self):
		with open(os.path.join(self.pdir, '0001-a.patch'), 'w') as f:
			f.write('--- a/criu/a.c\n+++ b/criu/a.c\n@@ -1,2 +1,2 @@\n one\n-three\n+3\n')
		with self.assertRaisesRegex(util.Error, '0001-a.patch does not apply without fuzz'):
			CR._build(self.tarball, self.build, 1, CR.series(self.top))
		with open(os.path.join(self.pdir, 'series'), 'a') as f:
			f.write('0002-gone.patch\n')
		with self.assertRaisesRegex(util.Error, 'names 0002-gone.patch'):
			CR.series(self.top)


class RefpolicyUpstreamTest(unittest.TestCase):
	"""The upstream door: policy/refpolicy/upstream against a snapshot of
	refpolicy, here a small git repository and a mocked make, selint and
	the rest."""

	WORKFLOW = textwrap.dedent("""\
		jobs:
		  selint:
		    steps:
		    - name: Run SELint
		      run: |
		        # disable C-005 for now
		        selint --source --recursive --summary --fail --disable C-005 policy
		  check_fc_files:
		    steps:
		    - run: python${{ inputs.python-version }} -t -t -E -W error testing/check_fc_files.py
		  codespell:
		    steps:
		    - run: codespell --skip Changelog --context 1 .
		""")

	def setUp(self):
		self.d = tempfile.mkdtemp()
		util.quiet = True
		self.top = os.path.join(self.d, 'project')
		os.makedirs(os.path.join(self.top, RP.PATCH_DIR))
		for f in RP.MODULE:
			shutil.copy2(os.path.join(TOP, 'policy/refpolicy', f),
				     os.path.join(self.top, 'policy/refpolicy', f))
		# A snapshot: refpolicy's layout, its lint workflow, a role.
		up = os.path.join(self.d, 'up')
		for path, text in (('Rules.modular', ''), ('build.conf', 'TYPE = standard\nNAME = r\n'),
				   ('policy/modules/apps/metadata.xml', '<summary>Apps</summary>\n'),
				   ('policy/modules/roles/staff.te', 'policy_module(staff)\n\nx\n'),
				   ('.github/workflows/lint-policy.yml', self.WORKFLOW)):
			os.makedirs(os.path.dirname(os.path.join(up, path)), exist_ok=True)
			with open(os.path.join(up, path), 'w') as f:
				f.write(text)
		g = ['git', *RP.GIT_ID, '-C', up]
		util.run(['git', 'init', '-q', up])
		util.run(g + ['add', '-A'])
		util.run(g + ['commit', '-q', '-m', 'base'])
		self.base = util.run(g + ['rev-parse', 'HEAD'], capture=True).stdout.strip()
		for f in RP.MODULE:
			shutil.copy2(os.path.join(self.top, 'policy/refpolicy', f),
				     os.path.join(up, RP.module_path(f)))
		with open(os.path.join(up, 'policy/modules/roles/staff.te'), 'a') as f:
			f.write('\noptional_policy(`\n\tcriu_role_template(staff, staff_t, '
				'staff_application_exec_domain, staff_r)\n\')\n')
		util.run(g + ['add', '-A'])
		util.run(g + ['commit', '-q', '-m', 'criu: new module'])
		util.run(g + ['format-patch', '-q', '-1', '-o', os.path.join(self.top, RP.PATCH_DIR)])
		util.run(g + ['reset', '-q', '--hard', 'HEAD~1'])
		self.snapshot = os.path.join(self.d, 'up.git')
		util.run(['git', 'clone', '-q', '--bare', up, self.snapshot])
		self.build = os.path.join(self.d, 'build')
		self.ran = []

	def tearDown(self):
		shutil.rmtree(self.d)

	def leaves(self, t):
		return {i.split('.', 1)[1]: (leaf.status, leaf.reason) for i, leaf in t.leaves()}

	def tool(self, cmd, cwd, env=None, timeout=0):
		"""make, selint, sesearch...: what a snapshot with the module gives."""
		self.ran.append(cmd)
		out, rc = '', 0
		if cmd.startswith('make bare'):
			with open(os.path.join(cwd, 'policy/modules.conf'), 'w') as f:
				f.write('criu = module\n')
		elif 'output_filename' in cmd:
			open(os.path.join(cwd, 'policy.33'), 'w').close()
			out = 'policy.33\n'
		elif cmd.startswith('selint') and '--fail' in cmd:	# refpolicy's own finding
			out, rc = 'policy/modules/roles/staff.te:   1: (C): Bad (C-001)\n', 1
		elif cmd.startswith('selint'):		# every check: one in the module
			out = ('Warning: X-004, enabled on command line, is not a valid check id.\n'
			       'policy/modules/apps/criu.te:   3: (S): Ordering (S-001)\n')
		elif cmd.startswith('sesearch'):
			out = '' if 'cannot' in cmd or ' -t sysadm_t' in cmd or ' -t staff_t' in cmd \
			      or '-c capability ' in cmd else 'allow x y:z p;\n'
		elif cmd == 'make html':
			os.makedirs(os.path.join(cwd, 'doc/html'))
			with open(os.path.join(cwd, 'doc/html/apps_criu.html'), 'w') as f:
				f.write('criu_role_template')
		return rc, out, 0.0

	def run_step(self, env):
		with mock.patch.dict(os.environ, env), mock.patch.object(RP, '_tool', self.tool), \
		     mock.patch.object(RP.shutil, 'which', lambda name: '/usr/bin/' + name):
			return RP.upstream(self.top, self.build)

	def test_without_a_snapshot_the_step_skips_and_names_what_is_missing(self):
		env = {k: v for k, v in os.environ.items() if k != RP.ENV}
		with mock.patch.dict(os.environ, env, clear=True):
			t = RP.upstream(self.top, self.build)
		got = self.leaves(t)
		self.assertEqual(Status.SKIP, got['snapshot'][0])
		self.assertIn('CRCAP_REFPOLICY is not set', got['snapshot'][1])
		self.assertIn(os.path.join(self.d, 'shared/vendor/refpolicy'), got['snapshot'][1])
		self.assertEqual(Status.PASS, got['patch_carries_the_module'][0])
		self.assertFalse(t.status.failed)

	def test_a_path_that_is_no_snapshot_fails(self):
		got = self.leaves(self.run_step({RP.ENV: self.d}))
		self.assertEqual(Status.FAIL, got['snapshot'][0])
		self.assertIn('neither a refpolicy tree', got['snapshot'][1])

	def test_the_snapshot_patched_built_and_linted_as_its_ci_does(self):
		got = self.leaves(self.run_step({RP.ENV: self.snapshot}))
		self.assertEqual((Status.PASS, ''), got['snapshot'][:1] + ('',))
		for name in ('patches_apply', 'make_conf', 'check_fc_files', 'codespell', 'make_policy',
			     'modules_conf_has_criu', 'make_validate', 'sechecker', 'make_xml',
			     'make_html', 'criu_in_policy.staff_t_enters_staff_criu_t',
			     'criu_in_policy.staff_criu_t_cannot_ptrace_sysadm_t'):
			self.assertEqual(Status.PASS, got[name][0], name)
		# refpolicy's own finding is not the module's; one in criu.te is.
		self.assertEqual(Status.PASS, got['selint_ci_command'][0])
		self.assertEqual(Status.FAIL, got['selint_every_check'][0])
		self.assertIn('criu.te:   3', got['selint_every_check'][1])
		# The CI's command lines, as its workflow has them.
		self.assertIn('python3 -t -t -E -W error testing/check_fc_files.py', self.ran)
		self.assertIn('selint --source --recursive --summary --fail --disable C-005 policy',
			      self.ran)
		self.assertTrue(any(c.startswith('codespell --skip Changelog') for c in self.ran))
		with open(os.path.join(self.build, 'refpolicy-upstream/tree/build.conf')) as f:
			self.assertEqual('NAME = r\n', f.read())	# TYPE from the environment

	def test_a_tree_as_the_snapshot_and_a_patch_that_does_not_apply(self):
		tree = os.path.join(self.d, 'tree')
		util.run(['git', 'clone', '-q', self.snapshot, tree])
		got = self.leaves(self.run_step({RP.ENV: tree}))
		self.assertEqual(Status.PASS, got['patches_apply'][0])
		with open(os.path.join(tree, 'policy/modules/roles/staff.te'), 'w') as f:
			f.write('policy_module(staff)\n\ny\n')
		got = self.leaves(self.run_step({RP.ENV: tree}))
		self.assertEqual(Status.FAIL, got['patches_apply'][0])
		self.assertIn('does not apply', got['patches_apply'][1])
		self.assertNotIn('make_policy', got)

	def test_drift_and_style_of_the_module(self):
		self.assertEqual([], RP.drift(TOP))
		self.assertEqual([], RP.style(TOP))
		te = os.path.join(self.top, 'policy/refpolicy/criu.te')
		with open(te) as f:
			text = f.read()
		with open(te, 'w') as f:
			f.write(text.replace('policy_module(criu)', 'policy_module(criu, 1.0.0)')
				+ '# crcap: ablation marker\n')
		self.assertEqual(['criu.te'], RP.drift(self.top))
		bad = RP.style(self.top)
		self.assertIn('with a version', bad[0])
		self.assertIn('crcap: ablation marker', bad[1])
		got = self.leaves(self.run_step({RP.ENV: self.d}))
		self.assertIn('--refresh-patch', got['patch_carries_the_module'][1])

	def test_refresh_writes_the_module_into_the_patch(self):
		te = os.path.join(self.top, 'policy/refpolicy/criu.te')
		with open(te, 'a') as f:
			f.write('# one more line\n')
		self.assertEqual(['criu.te'], RP.drift(self.top))
		with mock.patch.dict(os.environ, {RP.ENV: self.snapshot}):
			RP.refresh(self.top, self.build)
		self.assertEqual([], RP.drift(self.top))
		self.assertEqual(['0001-criu-new-module.patch'],
				 [os.path.basename(p) for p in RP.patches(self.top)])
		self.assertTrue(C.parse_args(['refpolicy', '--refresh-patch']).refresh_patch)

	def test_added_lines_and_new_files_of_a_patch(self):
		patch = textwrap.dedent("""\
			diff --git a/a.te b/a.te
			new file mode 100644
			--- /dev/null
			+++ b/a.te
			@@ -0,0 +1,2 @@
			+one
			+two
			diff --git a/r.te b/r.te
			--- a/r.te
			+++ b/r.te
			@@ -10,3 +10,4 @@ x
			 ten
			-old
			+new
			+more
			 twelve
			--\x20
			2.39.5
			""")
		self.assertEqual({'a.te': {1, 2}, 'r.te': {11, 12}}, RP.added_lines(patch))
		self.assertEqual({'a.te': 'one\ntwo\n'}, RP.new_files(patch))

	def test_ci_command_missing_is_named(self):
		d = os.path.join(self.d, 'w/.github/workflows')
		os.makedirs(d)
		with open(os.path.join(d, 'lint-policy.yml'), 'w') as f:
			f.write(self.WORKFLOW)
		with self.assertRaisesRegex(util.Error, 'runs no command matching'):
			RP.ci_command(os.path.join(self.d, 'w'), 'lint-policy.yml', r'^sechecker ')
		with self.assertRaisesRegex(util.Error, 'has no .github/workflows/build.yml'):
			RP.ci_command(os.path.join(self.d, 'w'), 'build.yml', 'make')

	def test_a_lint_that_fails_without_a_finding_fails(self):
		t = RP.judge_findings('selint', 2, 'Fatal: parse error\n', RP.SELINT_LINE, {}, 'selint')
		self.assertEqual(Status.FAIL, t.status)
		self.assertIn('no finding', t.reason)
		t = RP.judge_findings('codespell', 65, './policy/a.te:3: teh ==> the\n',
				      RP.CODESPELL_LINE, {'policy/a.te': {3}}, 'codespell')
		self.assertEqual(Status.FAIL, t.status)


class UtilTest(unittest.TestCase):

	def test_second_lock_is_refused_with_one_sentence(self):
		d = tempfile.mkdtemp()
		try:
			p = subprocess.Popen([sys.executable, '-c', textwrap.dedent(f'''
				import sys, time; sys.path.insert(0, {HERE!r})
				import crcap_util as u; u.BuildLock({d!r}).acquire()
				print('locked', flush=True); time.sleep(30)''')],
				stdout=subprocess.PIPE, text=True)
			self.assertEqual('locked\n', p.stdout.readline())
			with self.assertRaisesRegex(util.Error, f'another crcap \\(pid {p.pid}\\)'):
				util.BuildLock(d).acquire()
			p.kill()
			p.wait()
		finally:
			shutil.rmtree(d)

	def test_signal_leaves_no_child_and_a_failing_status(self):
		code = textwrap.dedent(f'''
			import sys; sys.path.insert(0, {HERE!r})
			import crcap_util as u
			u.install_signal_handlers()
			try:
				u.run(['sh', '-c', 'sleep 300 & echo $! >&2; sleep 300'], check=False)
			except u.Interrupted as e:
				u.run_cleanups(); sys.exit(128 + e.signum)''')
		p = subprocess.Popen([sys.executable, '-c', code], stderr=subprocess.PIPE, text=True)
		grandchild = int(p.stderr.readline())
		time.sleep(0.3)
		p.send_signal(signal.SIGINT)
		self.assertEqual(130, p.wait(10))
		time.sleep(0.2)
		try:	# gone, or a zombie waiting for its new parent to reap it
			with open(f'/proc/{grandchild}/stat') as f:
				self.assertEqual('Z', f.read().rsplit(')', 1)[1].split()[0])
		except FileNotFoundError:
			pass

	def test_blank_in_build_path_is_one_clear_error(self):
		with self.assertRaisesRegex(util.Error, 'set CRCAP_BUILD to a path without'):
			G.check_path('/tmp/my build', 'the build directory')

	def test_balance_uses_both_shards(self):
		cost = {'a': 4, 'b': 3, 'c': 2, 'd': 2, 'selinux': 3}.get
		s = G.balance(['a', 'b', 'c', 'd', 'selinux'], cost, 2, last=('selinux',))
		loads = sorted(sum(cost(x) for x in shard) for shard in s)
		self.assertEqual([6, 8], loads)
		self.assertTrue(all(x[-1] == 'selinux' or 'selinux' not in x for x in s))


class ConfigTest(unittest.TestCase):

	def test_option_that_did_not_take_is_named(self):
		frag = 'CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n'
		cfg = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\n'
		self.assertEqual(['CONFIG_B=y (got n)', 'CONFIG_C=n (got y)'],
				 K.config_problems(frag, cfg))


class GuestTest(unittest.TestCase):
	"""The job protocol both backends speak, and the one judge."""

	STREAM = textwrap.dedent('''\
		SeaBIOS noise
		=== crcap begin info.kernel
		6.1.0-56-amd64 Linux version 6.1.0-56-amd64
		=== crcap end info.kernel exit 0 ms 0
		=== crcap begin selinux.criu_enforcing.avc
		[   24.1] audit: type=1400 avc:  denied  { sigkill } for  pid=3009 comm="sh" \
		scontext=user_u:user_r:user_t:s0 tcontext=user_u:user_r:criu_t:s0 tclass=process
		=== crcap end selinux.criu_enforcing.avc exit 0 ms 12
		=== crcap begin kselftest.checkpoint_restore.set_tid_test
		TAP version 13
		1..2
		ok 1 a
		''')

	def test_blocks_and_a_cut_off_one(self):
		blocks, job_exit, outside = G.split_results(self.STREAM)
		self.assertEqual(['SeaBIOS noise'], outside)
		self.assertEqual(0, blocks['info.kernel'].exit)
		self.assertEqual(12, blocks['selinux.criu_enforcing.avc'].ms)
		# The guest died inside this one: no exit status, no job exit.
		self.assertIsNone(blocks['kselftest.checkpoint_restore.set_tid_test'].exit)
		self.assertIsNone(job_exit)

	def test_denials(self):
		blocks, _, _ = G.split_results(self.STREAM)
		self.assertEqual([('user_t', 'criu_t', 'process', 'sigkill')],
				 Q.denials(blocks['selinux.criu_enforcing.avc'].lines))

	def judged(self, stream, rc=0, console=(), backend='qemu'):
		d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, d)
		run = G.GuestRun('g', d, backend)
		run.blocks, run.exit, outside = G.split_results(stream)
		G.materialize(run, outside)
		G.judge(run, rc, 30, list(console))
		return run

	def test_the_judge_is_the_same_for_both_backends(self):
		for backend in ('uml', 'qemu'):
			run = self.judged(self.STREAM, backend=backend)
			self.assertIn('stopped before its job finished', run.failure)
			t = run.program('kselftest.checkpoint_restore.set_tid_test', 'set_tid_test')
			self.assertEqual(Status.FAIL, t.finish().status)	# cut off
			self.assertEqual(Status.CRASHED, run.program('crcheck', 'crcheck_test').status)

	def test_kernel_log_read_in_full(self):
		log = ('=== crcap job exit 0\n=== crcap begin kernel.log\n'
		       '[    0.1] Linux version 6.1\n'
		       '[    9.9] UBSAN: shift-out-of-bounds in kernel/pid.c:1\n'
		       '=== crcap end kernel.log exit 0 ms 0\n')
		run = self.judged(log)
		self.assertEqual('', run.failure)
		self.assertEqual(['UBSAN: shift-out-of-bounds in kernel/pid.c:1'], run.problems)
		self.assertEqual(Status.FAIL, G.health([run], 'x').status)
		# A panic only the console saw counts as well.
		run = self.judged('=== crcap job exit 0\n', console=['[ 1.0] Kernel panic - not syncing'])
		self.assertTrue(run.problems)

	def test_a_host_whose_xstate_uml_cannot_hold_is_named(self):
		# A host with AMX: init dies at its first return to user space.
		run = self.judged('', rc=0, backend='uml', console=[
			'userspace - ptrace set fp regs failed, errno = 14',
			'Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b'])
		self.assertIn('stopped before its job finished', run.failure)
		self.assertIn('XSAVE area is larger than the buffer UML leaves', run.failure)

	def test_timeout_is_a_failure(self):
		run = self.judged('', rc=137)
		self.assertIn('did not finish within 30s', run.failure)

	def test_a_non_zero_job_fails_the_guest(self):
		run = self.judged('=== crcap job exit 3\n')
		self.assertEqual(3, run.exit)
		bad = [t for _, t in G.health([run], 'x').leaves() if t.status.failed]
		self.assertIn('exited with 3', bad[0].reason)

	def test_an_appended_archive_leaves_the_root_alone(self):
		d = tempfile.mkdtemp()	# 0700, as a private temporary directory is
		self.addCleanup(shutil.rmtree, d)
		os.makedirs(os.path.join(d, 'crcap'))
		with open(os.path.join(d, 'crcap/job'), 'w') as f:
			f.write('exit 0\n')
		names = util.run(['cpio', '-t', '--quiet'], input=gzip.decompress(G.cpio_gz(d)),
				 capture=True, text=False).stdout.decode().split()
		self.assertEqual(['crcap', 'crcap/job'], sorted(names))

	def test_materialized_files(self):
		run = self.judged(self.STREAM)
		self.assertEqual(['12'], run.read('selinux.criu_enforcing.avc.ms'))
		self.assertEqual(['0'], run.read('info.kernel.exit'))

	def test_newest_debian_package_of_each_series(self):
		listing = ('linux-image-6.1.0-9-amd64 - Linux\nlinux-image-6.1.0-56-amd64 - Linux\n'
			   'linux-image-6.1.0-56-amd64-dbg - x\n'
			   'linux-image-6.12.99+deb12-cloud-amd64 - c\n'
			   'linux-image-6.12.117+deb12-amd64 - L\n'
			   'linux-image-6.12.117+deb12-amd64-unsigned - L\n')
		self.assertEqual('linux-image-6.1.0-56-amd64',
				 Q.newest_package('6.1', 'amd64', listing))
		self.assertEqual('linux-image-6.12.117+deb12-amd64',
				 Q.newest_package('6.12', 'amd64', listing))
		self.assertEqual('linux-image-6.12.99+deb12-cloud-amd64',
				 Q.newest_package('6.12', 'cloud-amd64', listing))
		with self.assertRaises(util.Error):
			Q.newest_package('6.12', 'rt-amd64', listing)

	def test_drop_rule_takes_out_one_permission(self):
		text = ("policy_module(x)\ntype t;\n\n# Local policy\n#\n\n"
			"allow t self:process { fork signal };\nallow t u:file read;\n"
			"kernel_read_system_state(t)\n"
			"template(`x_role',`\n\ttype $1_t;\n\t# Local policy\n"
			"\tallow $1_t $2:process { ptrace sigkill getattr };\n')\n")
		self.assertEqual(['t.self.process.fork', 't.self.process.signal', 't.u.file.read',
				  'kernel_read_system_state.t', 'ROLE_t.USER.process.ptrace',
				  'ROLE_t.USER.process.sigkill', 'ROLE_t.USER.process.getattr'],
				 [n for _, n, _ in Q._units(text)])
		out = Q.drop_rule(text, 't.self.process.fork')
		self.assertIn('allow t self:process signal;\n', out)
		self.assertNotIn('fork', out)
		self.assertNotIn('u:file', Q.drop_rule(text, 't.u.file.read'))
		self.assertNotIn('kernel_read', Q.drop_rule(text, 'kernel_read_system_state.t'))
		out = Q.drop_rule(text, 'ROLE_t.USER.process.sigkill')
		self.assertIn('\tallow $1_t $2:process { ptrace getattr };\n', out)
		self.assertTrue(out.endswith("')\n"))
		self.assertIn('type t;', out)	# declarations are never taken out
		with self.assertRaises(util.Error):
			Q.drop_rule(text, 'c')

	def test_the_module_ablation_has_no_markers(self):
		for f in Q.RULE_FILES:
			text = util.read_text(os.path.join(TOP, 'policy/refpolicy', f))
			self.assertNotIn('# rule:', text)
		names = [n for _, n in Q.rule_units(TOP)]
		self.assertIn('criu_domain.self.capability2.checkpoint_restore', names)
		self.assertIn('USER.self.capability2.checkpoint_restore', names)
		every = [n for f in Q.RULE_FILES for _, n, _ in Q._units(
			util.read_text(os.path.join(TOP, 'policy/refpolicy', f)))]
		for name in Q.NOT_ABLATED:
			self.assertNotIn(name, names)
			self.assertIn(name, every)	# a rule of the module, not a stale name

	def test_the_jvms_rules_are_ablated_with_the_jvm_as_their_case(self):
		names = [n for _, n in Q.rule_units(TOP)]
		java = [n for n in names if Q.JAVA_RULE.search(n)]
		# criu.te's own, after the tunable block, and the template's
		self.assertIn('criu_domain.java_tmpfs_t.file.map', java)
		self.assertIn('ROLE_criu_t.java_t.process.ptrace', java)
		self.assertNotIn('ROLE_criu_t.USER.process.ptrace', java)
		self.assertFalse(set(java) & set(Q.IN_TEST_RULES))
		job = Q.ablation_job(('mappings', 'jvm'), 10, {java[0]: Q.JAVA_RULE_WORKLOADS})
		val = re.search(r"^CRCAP_ABLATION_WORKLOADS=('[^']*')$", job, re.M).group(1)
		self.assertEqual([java[0], 'jvm:' + ','.join(Q.WORKLOAD_TUNABLES['jvm'])],
				 shlex.split(val)[0].split())
		self.assertIn("CRCAP_ABLATION_WORKLOADS=''\n", Q.ablation_job(('mappings',), 10))
		# After a template, nothing more; after a block of a .te, the rest.
		te = '# Local policy\nallow a b:c d;\n\')\nallow e f:g h;\n'
		self.assertEqual(['a.b.c.d', 'e.f.g.h'], [n for _, n, _ in Q._units(te)])
		tmpl = 'template(`t\',`\n# Local policy\nallow a b:c d;\n\')\nallow e f:g h;\n'
		self.assertEqual(['a.b.c.d'], [n for _, n, _ in Q._units(tmpl)])
		# A rule of two classes cannot be taken apart: refused, never
		# silently left in every ablated policy.
		with self.assertRaisesRegex(Q.Error, 'line 3: not a rule the ablation reads'):
			Q._units('# Local policy\nallow a b:c d;\nallow a b:{ c e } d;\n')
		frame = ("# Local policy\noptional_policy(`\n\tgen_require(`\n\t\ttype t, u;\n"
			 "\t')\n\ttunable_policy(`x',`\n\t\tallow a b:c d;\n\t')\n')\n")
		self.assertEqual(['a.b.c.d'], [n for _, n, _ in Q._units(frame)])

	def test_ablation_a_workload_may_be_the_case_that_needs_a_rule(self):
		def block(bid, lines=(), rc=0):
			return [f'=== crcap begin {bid}', *lines, f'=== crcap end {bid} exit {rc} ms 1']
		ok = ['1..1', 'ok 1 x']
		avc = ['avc:  denied  { read } for pid=1 scontext=u:r:user_criu_t:s0 '
		       'tcontext=u:r:locale_t:s0 tclass=file permissive=0']
		base = block('ablation_base', ok) + block('ablation_base.avc')
		for w in ('mappings', 'openmp'):
			w = f'ablation_base.workload.{w}'
			base += block(w, ok) + block(f'{w}.avc')
		rules = block('ablation.a', ['# outcome: dump_failed x'], 1) + block('ablation.a.avc')
		rules += block('ablation.b', ok) + block('ablation.b.avc')	# the target misses b
		m = 'ablation.b.workload.mappings'
		rules += block(m, ok) + block(f'{m}.avc', avc)
		rules += block('ablation.c', ok) + block('ablation.c.avc')	# and c: no case
		rules += block('ablation.c.workload.mappings', ok) + block('ablation.c.workload.mappings.avc')
		rules += block('ablation.c.workload.openmp', ok) + block('ablation.c.workload.openmp.avc')

		def verdicts(stream):
			run = G.GuestRun('a', tempfile.mkdtemp(), 'qemu')
			self.addCleanup(shutil.rmtree, run.results)
			run.blocks, run.exit, _ = G.split_results('\n'.join(stream + ['=== crcap job exit 0']))
			t = Q.ablation_verdicts(run, [('criu.te', 'a'), ('criu.te', 'b'), ('criu.te', 'c')],
						('mappings', 'openmp'))
			return {n.split('.')[-1]: x for n, x in t.leaves() if not n.startswith('x.guest')}
		got = verdicts(base + rules)
		self.assertEqual(Status.PASS, got['module_passes_unablated'].status)
		self.assertEqual(Status.PASS, got['a'].status)
		self.assertIn('the enforcing case fails (dump_failed x)', got['a'].log[0])
		self.assertEqual(Status.PASS, got['b'].status)
		self.assertIn('workload mappings denied', got['b'].log[0])
		self.assertEqual(Status.FAIL, got['c'].status)
		self.assertIn('in 3 cases', got['c'].reason)
		# A workload that fails with the module as it is proves nothing.
		w = 'ablation_base.workload.openmp'
		broken = [x.replace(f'{w} exit 0', f'{w} exit 1') for x in base]
		got = verdicts(broken + rules)
		self.assertEqual(Status.FAIL, got['module_passes_unablated'].status)
		self.assertNotIn('a', got)

	def test_the_recipe_is_the_documents(self):
		rec = Q.recipe(TOP)
		self.assertEqual('local_criu', rec.module[0])
		self.assertIn('criu_role_template(user, user_t', rec.module[1])
		root = '\n'.join(rec.root)
		for step in ('semodule -i criu.pp local_criu.pp', 'restorecon -v /usr/local/sbin/criu',
			     'setcap cap_checkpoint_restore+ep /usr/local/sbin/criu',
			     f'semanage login -a -s user_u {Q.RECIPE_USER}',
			     f'restorecon -RF /home/{Q.RECIPE_USER}'):
			self.assertIn(step, root)
		self.assertTrue(all('/usr/local/sbin/criu' in x for x in rec.user if 'criu ' in x))
		self.assertTrue(all('--unprivileged' in x for x in rec.user if 'criu ' in x))
		# Three blocks, no fewer: a recipe missing one is an error.
		text = 'T\n-\n\na::\n\n    policy_module(m)\n\nb::\n\n  x\n  y\n\nz\n'
		self.assertEqual(['policy_module(m)\n', 'x\ny\n'], Q.literal_blocks(text))
		d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, d)
		os.makedirs(os.path.join(d, os.path.dirname(Q.RECIPE_DOC)))
		with open(os.path.join(d, Q.RECIPE_DOC), 'w') as f:
			f.write(f'{Q.RECIPE_SECTION}\n----\n\n' + text[5:])
		with self.assertRaises(util.Error):
			Q.recipe(d)

	def test_criu_goes_where_its_make_install_puts_it(self):
		d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, d)
		os.makedirs(os.path.join(d, 'criu'))
		with open(os.path.join(d, 'Makefile.install'), 'w') as f:
			f.write('PREFIX\t\t?= /opt/x\nSBINDIR\t\t?= $(PREFIX)/sbin\n')
		self.assertEqual('/opt/x/sbin/criu', Q.criu_install_path(os.path.join(d, 'criu/criu')))
		with self.assertRaises(util.Error):
			Q.criu_install_path('/usr/sbin/criu')	# not a build tree

	def recipe_run(self, blocks):
		run = G.GuestRun('r', tempfile.mkdtemp(), 'qemu')
		self.addCleanup(shutil.rmtree, run.results)
		run.blocks, run.exit, _ = G.split_results('\n'.join(blocks + ['=== crcap job exit 0']))
		k = Q.DebianKernel('debian-x', 'linux-image-x', 'v', '/v')
		return {n: t for n, t in Q.recipe_verdicts(k, run, Q.recipe(TOP))[0].leaves()}

	def test_recipe_verdicts(self):
		def block(bid, lines=(), rc=0):
			return [f'=== crcap begin {bid}', *lines, f'=== crcap end {bid} exit {rc} ms 1']
		got = self.recipe_run(FakeWorld.recipe_blocks(block))
		self.assertFalse([n for n, t in got.items() if t.status != Status.PASS])
		step = next(t for n, t in got.items() if n.endswith('step_2_semodule_i'))
		self.assertEqual(['# semodule -i criu.pp local_criu.pp (41.5 s)'], step.log)
		# A step that fails: it fails, and those after it never ran.
		got = self.recipe_run(FakeWorld.recipe_blocks(block, failing_step=2))
		bad = {n.split('.')[-1]: t.status for n, t in got.items() if t.status != Status.PASS}
		self.assertEqual(Status.FAIL, bad.pop('step_2_semodule_i'))
		self.assertEqual({Status.CRASHED}, set(bad.values()))
		# A denial as the user, or a login that stays unconfined_t, fails.
		blocks = FakeWorld.recipe_blocks(block)
		i = blocks.index('=== crcap begin recipe.user.avc')
		blocks.insert(i + 1, 'avc:  denied  { read } for pid=1 scontext=u:r:user_criu_t:s0 '
			      'tcontext=u:r:user_home_t:s0 tclass=file permissive=0')
		blocks[blocks.index(Q.USER_CONTEXT)] = Q.UNCONFINED
		bad = sorted(n.split('.')[-1] for n, t in self.recipe_run(blocks).items()
			     if t.status != Status.PASS)
		self.assertEqual(['user_logs_in_again_as_user_t', 'user_steps_log_no_denial'], bad)


class LintTest(unittest.TestCase):
	"""Each linter crcap lint runs can fail: a file made to break it."""

	def setUp(self):
		self.d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, self.d)

	def write(self, name, text):
		path = os.path.join(self.d, name)
		with open(path, 'w') as f:
			f.write(text)
		return path

	@unittest.skipUnless(os.path.exists(L.FLAKE8[0]) and
			     util.run(L.FLAKE8 + ['--version'], capture=True, check=False).returncode == 0,
			     'no Debian flake8 (python3-flake8)')
	def test_flake8_fails_on_an_unused_import(self):
		bad = self.write('bad.py', 'import os\n')
		self.assertEqual(Status.FAIL, L.flake8(bad, 'x').status)
		good = self.write('good.py', 'def f():\n\treturn 1\n')	# tabs are fine
		self.assertEqual(Status.PASS, L.flake8(good, 'x').status)

	@unittest.skipUnless(shutil.which('shellcheck'), 'no shellcheck (Debian package shellcheck)')
	def test_shellcheck_fails_on_an_unquoted_variable(self):
		bad = self.write('bad.sh', '#!/bin/sh\nrm $1\n')
		self.assertEqual(Status.FAIL, L.shellcheck(bad, 'x').status)
		self.assertTrue(L.is_shell(bad))
		self.assertEqual(Status.PASS, L.shellcheck(self.write('ok.sh', '#!/bin/sh\nrm "$1"\n'),
							   'x').status)

	@unittest.skipUnless(CR.vendored(TOP) and shutil.which('git-clang-format-14'),
			     'no CRIU tarball in ../shared/vendor, or no clang-format-14')
	def test_criu_series_fails_on_indent_lint_and_spelling(self):
		"""A CRIU patch CRIU's clang-format would change, one that breaks
		CRIU's make lint, one with a misspelling: each named."""
		tarball = CR.vendored(TOP)
		src = os.path.join(self.d, 'criu')
		os.makedirs(src)
		util.run(['tar', '-C', src, '-xf', tarball, '--strip-components=1'])
		git = ['git', *L.GIT_ID]
		for cmd in (['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'base'],
			    ['tag', 'base']):
			util.run([*git, *cmd], cwd=src, capture=True)
		patches = {}
		for name, line, fails in (
				('indent', 'int  crcap_x ;', 'criu_0001'),
				('lint', 'void crcap_x(void)\n{\n\tpr_err("no newline");\n}',
				 'criu_make_lint'),
				('spelling', '/* we recieve it */', 'criu_codespell_of_what_the_series_changes')):
			util.run([*git, 'checkout', '-q', '-B', name, 'base'], cwd=src, capture=True)
			with open(os.path.join(src, 'criu', 'mem.c'), 'a') as f:
				f.write(line + '\n')
			util.run([*git, 'commit', '-q', '-am', f'mem: {name}'], cwd=src, capture=True)
			patches[name] = (util.run([*git, 'format-patch', '-1', '-o',
						   os.path.join(self.d, name)], cwd=src,
						  capture=True).stdout.strip(), fails)
		for name, (patch, fails) in patches.items():
			t = L.criu_series(TOP, [patch], tarball)
			bad = {tid.split('.')[-1] for tid, leaf in t.leaves() if leaf.status == Status.FAIL}
			self.assertEqual({fails}, bad, name)

	def test_checkpatch_fails_on_a_style_error(self):
		tree = next((os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(k))))
			     for k in [kunit_py()] if k), None)
		if not tree:
			self.skipTest('no unpacked kernel tree with scripts/checkpatch.pl')
		k = mock.Mock(src=tree)
		spdx = '// SPDX-License-Identifier: GPL-2.0\n'
		bad = self.write('bad.c', spdx + 'int f(void) {\n\treturn 0;\n}\n')
		self.assertEqual(Status.FAIL, L.checkpatch(k, bad, 'x').status)
		good = self.write('good.c', spdx + 'int f(void)\n{\n\treturn 0;\n}\n')
		self.assertEqual(Status.PASS, L.checkpatch(k, good, 'x').status)


class MutantSpecTest(unittest.TestCase):
	def test_stanzas(self):
		ms = M.parse_edits('# c\n\nm1 kernel/pid.c\nwhat\n-a\n+b\n \n\nm2 x.c\nw\n-c\n')
		self.assertEqual(['m1', 'm2'], [m.name for m in ms])
		self.assertEqual(('a\n\n', 'b\n\n'), (ms[0].edits[0].old, ms[0].edits[0].new))

	def test_malformed(self):
		with self.assertRaises(util.Error):
			M.parse_edits('m1 kernel/pid.c\nwhat\n+b\n')

	def test_the_project_file_parses(self):
		self.assertTrue(M.parse_edits(util.read_text(os.path.join(TOP, M.MUTANTS))))


class SubsetTest(unittest.TestCase):
	"""The fixed subsets "test" runs name what exists: a renamed mutant or
	rule must not shrink the subset silently."""

	def test_mutants_in_test_exist(self):
		with open(os.path.join(TOP, M.MUTANTS)) as f:
			edits = {m.name for m in M.parse_edits(f.read())}
		for name in M.IN_TEST:
			self.assertTrue(name in edits or re.match(r'^without_00\d\d$', name), name)

	def test_rules_in_test_exist(self):
		self.assertEqual(len(Q.IN_TEST_RULES), len(Q.rule_units(TOP, Q.IN_TEST_RULES)))
		with self.assertRaisesRegex(util.Error, 'no rule no_such_rule'):
			Q.rule_units(TOP, ['no_such_rule'])

	def test_kernels_in_test_exist(self):
		for series, flavour in Q.IN_TEST_KERNELS:
			self.assertIn(series, Q.SERIES)
			self.assertIn(flavour, Q.FLAVOURS)


class CensusTest(unittest.TestCase):
	"""The census's reading of zdtm, and its judge, on zdtm's own output."""

	TAP = textwrap.dedent('''\
		TAP version 13
		1..3
		ok 1 - zdtm/static/env00
		ok 2 - zdtm/static/seccomp_strict # SKIP no seccomp_suspend feature
		not ok 3 - zdtm/static/socket-tcp # flavor h
		---
		"output": |
		  b'(00.013936) \tRunning iptables [iptables  -t filter -I INPUT -j DROP]'
		  b'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: \
		Permission denied (you must be root)'
		  b'(00.017629) Error (criu/util.c:657): exited, status=4'
		  b'(00.017641) Error (criu/netfilter.c:105): Iptables configuration failed'
		  b'(00.017858) Error (criu/cr-dump.c:2128): Dumping FAILED.'
		  ################ Test zdtm/static/socket-tcp FAIL at CRIU dump #################
		...
		''')

	def test_the_ablations_census_cases_are_rules_and_tests_it_has(self):
		blocks, cases = CEN.ablation_plan(TOP)
		self.assertEqual(sorted(CEN.ABLATION_CASES), sorted(n for _, n in blocks))
		exp = CEN.expected(TOP)
		for rule, tests in cases.items():
			self.assertTrue(tests, rule)
			for t in tests:	# a test the census runs, passing as caps runs it
				self.assertEqual('pass', exp[('caps', t)].outcome, f'{rule}: {t}')
		for rule in CEN.IN_TEST_ABLATION:
			self.assertIn(rule, CEN.ABLATION_CASES)
		with self.assertRaises(util.Error):
			CEN.ablation_plan(TOP, ['no_such_rule'])

	def test_the_ablations_census_job_loads_each_rules_policy(self):
		job = Q.zdtm_job(['-t', 'zdtm/static/env00'], 100, 'cap_a', False, 'enforcing',
				 [('r.one', 130, ['-t', 'zdtm/static/pty04', '--rootless']),
				  ('r.two', 140, ['-t', 'zdtm/static/env00'])])
		val = re.search(r"^CRCAP_ZDTM_ABLATE=('[^']*')$", job, re.M | re.S).group(1)
		self.assertEqual(['r.one 130 -t zdtm/static/pty04 --rootless',
				  'r.two 140 -t zdtm/static/env00'], shlex.split(val)[0].splitlines())
		self.assertIn("CRCAP_ZDTM_ABLATE=''\n", Q.zdtm_job([], 1))

	def test_the_ablations_census_verdicts(self):
		def block(bid, lines=(), rc=0):
			return [f'=== crcap begin {bid}', *lines, f'=== crcap end {bid} exit {rc} ms 1']

		def tap(*results):
			return ['TAP version 13', f'1..{len(results)}'] + [
				f'{"ok" if ok else "not ok"} {n} - zdtm/static/{t}'
				for n, (t, ok) in enumerate(results, 1)]
		avc = ['1 avc:  denied  { setattr } for comm="criu" scontext=u:r:user_criu_t:s0 '
		       'tcontext=u:r:devpts_t:s0 tclass=chr_file permissive=0']
		base = block('zdtm.report', tap(('pty04', True), ('env00', True))) + block('zdtm.avc')
		rules = block('zdtm.ablate.a.report', tap(('pty04', False)))
		rules += block('zdtm.ablate.a.avc')
		rules += block('zdtm.ablate.b.report', tap(('pty04', True))) + block('zdtm.ablate.b.avc', avc)
		rules += block('zdtm.ablate.c.report', tap(('env00', True))) + block('zdtm.ablate.c.avc')
		cases = {'a': ('pty04',), 'b': ('pty04',), 'c': ('env00',), 'd': ('env00',)}
		blocks = [('criu.te', x) for x in 'abcd']

		def verdicts(stream):
			run = G.GuestRun('a', tempfile.mkdtemp(), 'qemu')
			self.addCleanup(shutil.rmtree, run.results)
			run.blocks, run.exit, _ = G.split_results('\n'.join(stream + ['=== crcap job exit 0']))
			t = CEN.ablation_verdicts(run, blocks, cases)
			return {n.split('.')[-1]: x for n, x in t.leaves() if '.guest' not in n}
		got = verdicts(base + rules)
		self.assertEqual(Status.PASS, got['module_passes_unablated'].status)
		self.assertEqual(Status.PASS, got['a'].status)	# a test fails without it
		self.assertIn('without it, pty04: fail', got['a'].log[0])
		self.assertEqual(Status.PASS, got['b'].status)	# a denial without it
		self.assertIn('devpts_t chr_file setattr', got['b'].log[0])
		self.assertEqual(Status.FAIL, got['c'].status)	# no census case
		self.assertIn('no census case', got['c'].reason)
		self.assertEqual(Status.CRASHED, got['d'].status)
		# A case that fails, or logs a denial, with the module as it is.
		for broken in (block('zdtm.report', tap(('pty04', False), ('env00', True)))
			       + block('zdtm.avc'),
			       block('zdtm.report', tap(('pty04', True), ('env00', True)))
			       + block('zdtm.avc', avc)):
			got = verdicts(broken + rules)
			self.assertEqual(Status.FAIL, got['module_passes_unablated'].status)
			self.assertNotIn('a', got)

	def test_tap_outcomes_and_the_error_that_says_why(self):
		got = CEN.parse_tap(self.TAP)
		self.assertEqual(['pass', 'skip', 'fail'], [got[t].outcome for t in
							    ('env00', 'seccomp_strict', 'socket-tcp')])
		self.assertEqual('no seccomp_suspend feature', got['seccomp_strict'].detail)
		d = got['socket-tcp'].detail
		self.assertTrue(d.startswith('FAIL at CRIU dump: criu/netfilter.c:105: Iptables '
					     'configuration failed'), d)	# not "exited, status=4"
		self.assertIn('you must be root', d)

	def write(self, text):
		d = tempfile.mkdtemp(prefix='crcap-census-test.')
		self.addCleanup(shutil.rmtree, d)
		os.makedirs(os.path.join(d, os.path.dirname(CEN.EXPECTED)))
		with open(os.path.join(d, CEN.EXPECTED), 'w') as f:
			f.write(textwrap.dedent(text))
		return d

	def test_expected_lines_must_be_whole(self):
		for text, why in (('caps env00 passes\n', 'unknown outcome'),
				  ('caps socket-tcp fail\n', 'needs a cause'),
				  ('caps socket-tcp fail iptables\n', 'needs a cause'),
				  ('root2 env00 pass\n', 'unknown mode'),
				  ('caps env00 pass\ncaps env00 pass\n', 'twice')):
			with self.assertRaisesRegex(util.Error, why):
				CEN.expected(self.write(text))
		e = CEN.expected(self.write('# c\ncaps  socket-tcp  fail  kernel: CAP_NET_ADMIN x\n'))
		self.assertEqual(('fail', 'kernel: CAP_NET_ADMIN x'),
				 (e[('caps', 'socket-tcp')].outcome, e[('caps', 'socket-tcp')].cause))

	def test_host_lines_expect_what_this_host_gives(self):
		top = self.write('''\
			caps maps09 pass host: needs huge pages (a pool)
			caps loginuid pass host: needs an unset loginuid (none set)
			caps x fail test: needs privilege itself
			''')
		for pool, loginuid, want in ((20, '4294967295\n', ('pass', 'pass')),
					     (0, '1000\n', ('fail', 'skip'))):
			with mock.patch.object(CEN, '_meminfo', return_value=pool), \
			     mock.patch.object(util, 'read_text', return_value=loginuid):
				e = CEN.expected(top)
			self.assertEqual(want, (e[('caps', 'maps09')].outcome,
						e[('caps', 'loginuid')].outcome))
			self.assertEqual('fail', e[('caps', 'x')].outcome)
		with self.assertRaisesRegex(util.Error, 'needs one of'):
			CEN.expected(self.write('caps y pass host: needs a unicorn\n'))

	def test_judge_names_a_regression_and_a_fix(self):
		top = self.write('''\
			caps env00 pass
			caps socket-tcp fail criu: iptables
			caps maps00 pass
			caps sk-port pass flaky: a port a test beside it holds
			''')
		c = CEN.Census('k', results={'caps': {
			'env00': CEN.Outcome('fail', 'x'), 'socket-tcp': CEN.Outcome('pass'),
			'maps00': CEN.Outcome('pass'), 'new00': CEN.Outcome('pass'),
			'sk-port': CEN.Outcome('fail')}})
		t = CEN.judge(top, c)
		res = {tid.split('.')[-1]: (leaf.status, leaf.reason) for tid, leaf in t.leaves()}
		self.assertEqual(Status.PASS, res['maps00'][0])
		self.assertEqual(Status.PASS, res['sk-port'][0])	# flaky: either outcome
		self.assertRegex(res['env00'][1], r'^regressed: expected pass')
		self.assertRegex(res['socket-tcp'][1], r'^fixed: expected fail \(criu: iptables\)')
		self.assertRegex(res['new00'][1], 'no line in')
		self.assertEqual(Status.FAIL, t.status)

	def test_candidates_flavor_manual_and_left_out(self):
		d = tempfile.mkdtemp(prefix='crcap-census-tree.')
		self.addCleanup(shutil.rmtree, d)
		st = os.path.join(d, 'test', 'zdtm', 'static')
		os.makedirs(st)
		for name, desc in (('env00', ''), ('uns_only', "{'flavor': 'ns uns'}"),
				   ('manual', "{'flags': 'noauto'}"), ('cgroup00', ''),
				   ('x.checkskip', ''), ('expr', "{'flavor': 'h'} if os else {}")):
			p = os.path.join(st, name)
			with open(p, 'w') as f:
				f.write('#!/bin/true\n')
			os.chmod(p, 0o755)
			with open(p + '.desc', 'w') as f:
				f.write(desc)
		tests, left = CEN.candidates(d, [('cgroup*', 'host cgroups')])
		self.assertEqual(['env00', 'expr'], tests)
		self.assertEqual({'cgroup00': 'host cgroups'}, left)

	def test_the_kernel_refusals_read_from_bpftrace(self):
		text = textwrap.dedent('''\
			@refused[iptables, 12,
			    cap_capable+131
			    security_capable+59
			    netlink_ns_capable+66
			    nfnetlink_rcv+80
			]: 2
			@refused[criu, 21,
			    cap_capable+131
			    security_vm_enough_memory_mm+54
			]: 9
			''')
		self.assertEqual([('iptables', 'CAP_NET_ADMIN', 'nfnetlink_rcv', 2)],
				 CEN._refusals(text))

	def test_root_chunks_and_plan(self):
		tests = [f't{i}' for i in range(85)]
		parts = CEN.chunks(tests, 40)
		self.assertEqual([29, 29, 27], [len(p) for p in parts])
		self.assertEqual(tests, [t for p in parts for t in p])
		self.assertEqual([['a']], CEN.chunks(['a'], 40))
		exp = {('root', 't3'): CEN.Expect('pass'), ('caps', 't4'): CEN.Expect('pass')}
		self.assertEqual(['t3'], CEN.root_plan(tests, exp))	# those written down
		self.assertEqual(tests, CEN.root_plan(tests, {}))	# none yet: every one
		self.assertTrue(CEN.MODES['root'].guest)
		self.assertNotIn('root', CEN.HOST_MODES)

	def test_a_root_guest_without_a_report_fails_its_tests(self):
		run = G.GuestRun('root-00', '/r', 'qemu', failure='the guest did not finish')
		k = Q.DebianKernel('debian-x', 'linux-image-x', '1', '/v', '6.12')
		with mock.patch.object(Q, 'zdtm_initrd', lambda *a: '/i'), \
		     mock.patch.object(G.GuestOperations, 'boot', lambda *a, **kw: run):
			got, runs = CEN.run_root('/top', '/b', k, '/t', ['env00'], '/o')
		self.assertEqual('fail', got['env00'].outcome)
		self.assertIn('no result in the guest (the guest did not finish', got['env00'].detail)
		self.assertEqual([run], runs)

	def test_the_subsets_and_samples_are_tests_with_expectations(self):
		exp = CEN.expected(TOP)
		for mode, tests in list(CEN.IN_TEST.items()) + list(CEN.SAMPLES.items()):
			self.assertIn(mode, CEN.MODES)
			for t in tests:
				self.assertIn((mode, t), exp, f'{mode} {t}: no line in {CEN.EXPECTED}')
		with self.assertRaisesRegex(util.Error, 'unknown mode'):
			CEN.modes_of(['root2'])

	def test_a_guest_in_a_host_mode_runs_zdtm_as_the_census_user(self):
		jobs = []
		run = G.GuestRun('x', '/r', 'qemu', failure='the guest did not finish')
		k = Q.DebianKernel('crcap-6.12-rfc', '', 'rfc', '/v', '6.12')

		def boot(_self, res, job, **kw):
			jobs.append(job)
			return run
		with mock.patch.object(Q, 'zdtm_initrd', lambda *a: '/i'), \
		     mock.patch.object(G.GuestOperations, 'boot', boot):
			CEN.run_root('/top', '/b', k, '/t', ['env00'], '/o', mode=CEN.MODES['userns'])
			CEN.run_root('/top', '/b', k, '/t', ['env00'], '/o')
		user, root = jobs
		self.assertIn("CRCAP_ZDTM_CAPS=cap_checkpoint_restore,cap_setpcap\n", user)
		self.assertIn('CRCAP_ZDTM_USERNS=1\n', user)
		self.assertIn('--rootless', user)
		self.assertIn("CRCAP_ZDTM_CAPS=''\n", root)
		self.assertNotIn('--rootless', root)


class RuncPathTest(unittest.TestCase):
	"""workloads_test.py's container path: its steps as written down,
	the seccomp profile as runc is given it, and the verdict of a guest."""

	@classmethod
	def setUpClass(cls):
		sys.path.insert(0, os.path.join(TOP, 'tools/checkpoint_restore'))
		import workloads_test
		cls.W = workloads_test

	def test_the_steps_differ_only_where_the_rfc_does(self):
		stock = self.W.read_runc_path('stock')
		rfc = self.W.read_runc_path('rfc')
		self.assertEqual(len(stock), len(rfc))
		self.assertEqual([lv for lv, _, _ in stock], [lv for lv, _, _ in rfc])
		differ = [(a, b) for a, b in zip(stock, rfc) if a != b]
		self.assertEqual(['no-seccomp', 'own-userns'], differ[0][0][0][-2:])
		self.assertEqual(('restored', ''), rfc[-1][1:])
		for a, b in differ:	# without the RFC, map_files stops them
			self.assertEqual('dump', a[1])
			self.assertIn('map_files', a[2])
			self.assertNotIn('map_files', b[2])
		# The second is the workload runc's expected failure (its
		# image directory made first, as the host's work directories are).
		self.assertEqual((['image-dir'], 'dump'), stock[1][:2])
		self.assertIn(stock[1][2], self.W.read_expected()['runc'][1])

	def test_a_line_it_cannot_read_stops_it(self):
		d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, d)
		for bad in ('any - dump', 'some - dump x', 'any nolever dump x',
			    'any - restored but-why', 'any - nowhere x'):
			path = os.path.join(d, 'runc-path')
			with open(path, 'w') as f:
				f.write(bad + '\n')
			with self.assertRaises(SystemExit, msg=bad):
				self.W.read_runc_path('stock', path)

	def test_the_profile_is_podmans_for_the_containers_capabilities(self):
		d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, d)
		path = os.path.join(d, 'seccomp.json')
		with open(path, 'w') as f:
			json.dump({'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,
				   'archMap': [{'architecture': 'SCMP_ARCH_X86_64',
						'subArchitectures': ['SCMP_ARCH_X86']},
					       {'architecture': 'SCMP_ARCH_AARCH64'}],
				   'syscalls': [
					   {'names': ['read'], 'action': 'SCMP_ACT_ALLOW'},
					   {'names': ['arm_only'], 'action': 'SCMP_ACT_ALLOW',
					    'includes': {'arches': ['arm64']}},
					   {'names': ['mount'], 'action': 'SCMP_ACT_ALLOW',
					    'includes': {'caps': ['CAP_SYS_ADMIN']}},
					   {'names': ['mount'], 'action': 'SCMP_ACT_ERRNO',
					    'errnoRet': 1, 'excludes': {'caps': ['CAP_SYS_ADMIN']}},
					   {'names': ['future'], 'action': 'SCMP_ACT_ALLOW',
					    'includes': {'minKernel': '99.0'}}]}, f)
		got = self.W.oci_seccomp(path, ['CAP_KILL'])
		self.assertEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], got['architectures'])
		self.assertEqual(38, got['defaultErrnoRet'])
		self.assertEqual([{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'},
				  {'names': ['mount'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}],
				 got['syscalls'])
		admin = self.W.oci_seccomp(path, ['CAP_SYS_ADMIN'])
		self.assertIn({'names': ['mount'], 'action': 'SCMP_ACT_ALLOW'}, admin['syscalls'])

	def test_a_guest_that_never_ran_it_fails(self):
		b = RFC.Build('rfc', ['x'], vmlinuz='/nonexistent')
		run = G.GuestRun('rfc-container-rfc', '/nonexistent', 'qemu', None, 'killed')
		self.assertNotEqual(Status.PASS, RFC.container_verdict(b, run).status)
		ok = G.GuestRun('rfc-container-rfc', '/nonexistent', 'qemu', 0, blocks={
			'workload.runc_path': G.Block(['TAP version 13', 'ok 1 runc_path', '1..1'], 0, 10)})
		self.assertEqual(Status.PASS, RFC.container_verdict(b, ok).status)
		bad = G.GuestRun('rfc-container-rfc', '/nonexistent', 'qemu', 0, blocks={
			'workload.runc_path': G.Block(['TAP version 13', 'not ok 1 runc_path', '1..1'],
						      1, 10)})
		self.assertEqual(Status.FAIL, RFC.container_verdict(b, bad).status)


class RfcTest(unittest.TestCase):
	"""The RFC series' files, and the judge of its census delta."""

	def test_the_series_is_there_and_never_in_the_wiring_series(self):
		rfc = RFC.series(TOP)
		self.assertTrue(rfc)
		wiring = util.read_text(os.path.join(TOP, T.SERIES_DIR, 'series'))
		for p in rfc:
			self.assertNotIn(os.path.basename(p), wiring)
			self.assertIn('Signed-off-by: crcap <crcap@crcap.invalid>',
				      util.read_text(os.path.join(TOP, p)))
		labels = [b.label for b in RFC.builds(TOP)]
		self.assertEqual('base', labels[0])
		self.assertEqual('rfc', labels[-1])
		self.assertIn('+0001', labels)
		self.assertEqual(['base', 'rfc'], [b.label for b in RFC.builds(TOP, per_patch=False)])

	def test_a_patch_of_kunit_tests_alone_changes_no_kernel(self):
		d = tempfile.mkdtemp()
		self.addCleanup(shutil.rmtree, d)

		def patch(name, *parts):
			with open(os.path.join(d, name), 'w') as f:
				for path, line in parts:
					f.write(f'diff --git a/{path} b/{path}\n--- a/{path}\n'
						f'+++ b/{path}\n@@ -1 +1,2 @@\n x\n+{line}\n')
			return name
		kunit = patch('k', ('mm/Kconfig', 'config MEMFD_KUNIT_TEST'),
			      ('mm/Makefile', 'obj-$(CONFIG_MEMFD_KUNIT_TEST) += memfd_kunit.o'),
			      ('mm/memfd_kunit.c', '#include <kunit/test.h>'))
		self.assertFalse(RFC.touches_kernel(d, kunit))
		self.assertFalse(RFC.touches_kernel(d, patch('t', ('tools/x.c', 'int x;'))))
		self.assertTrue(RFC.touches_kernel(d, patch('c', ('mm/Kconfig', 'config MEMFD_X'))))
		self.assertTrue(RFC.touches_kernel(d, patch('m', ('mm/memfd_kunit.c', 'x'),
							      ('mm/memfd.c', 'return true;'))))
		rfc = {os.path.basename(p)[:4]: RFC.touches_kernel(TOP, p) for p in RFC.series(TOP)}
		self.assertEqual({'0001': True, '0002': True, '0003': False, '0004': False,
				  '0005': False}, rfc)

	def test_kunit_cases_are_read_from_kunit_py_json(self):
		text = json.dumps({'name': 'KUnit Test Group', 'test_cases': [], 'sub_groups': [
			{'name': 'memfd', 'sub_groups': [], 'test_cases': [
				{'name': 'a', 'status': 'PASS'}, {'name': 'b', 'status': 'SKIP'},
				{'name': 'c', 'status': 'FAIL'}, {'name': 'd', 'status': 'ERROR'}]}]})
		t = RFC.kunit_verdicts(Test('k.kunit'), text)
		self.assertEqual({'memfd.a': Status.PASS, 'memfd.b': Status.SKIP,
				  'memfd.c': Status.FAIL, 'memfd.d': Status.FAIL},
				 {s.name: s.status for s in t.subtests})
		self.assertEqual(Status.FAIL, t.status)
		empty = RFC.kunit_verdicts(Test('k.kunit'), json.dumps({'name': 'g'}))
		self.assertEqual(Status.FAIL, empty.status)	# no case: kunit.py ran nothing

	def test_a_mutant_may_be_killed_by_kunit(self):
		m = M.Mutant('x', 'widens it', [])
		health = Test('guest', subtests=[Test('boots', Status.PASS)]).finish()
		ks = Test('k.kselftest', subtests=[Test('a_test', subtests=[
			Test('case1', Status.PASS)])]).finish()

		def ku(st):
			return Test('k.kunit', subtests=[Test('memfd.anon', st)]).finish()
		want = ['kunit.memfd.anon']
		self.assertEqual(Status.PASS, RFC.mutant_verdict(
			m, want, ks, ks, health, ku(Status.PASS), ku(Status.FAIL)).status)
		self.assertEqual(Status.FAIL, RFC.mutant_verdict(	# KUnit passes: survived
			m, want, ks, ks, health, ku(Status.PASS), ku(Status.PASS)).status)
		self.assertEqual(Status.FAIL, RFC.mutant_verdict(	# KUnit not run
			m, want, ks, ks, health).status)

	def test_every_mutant_names_the_cases_that_kill_it(self):
		ms = RFC.mutants(TOP)
		self.assertTrue(ms)
		for m, want in ms:
			self.assertTrue(want, f'{m.name}: no "# killed-by:" line')
			self.assertNotIn('TODO', want, m.name)

	@staticmethod
	def delta(base, rfc):
		d = RFC.Delta()
		d.results['base'] = {'userns': {t: CEN.Outcome(o) for t, o in base.items()}}
		d.results['rfc'] = {'userns': {t: CEN.Outcome(o) for t, o in rfc.items()}}
		return d

	def test_a_test_that_passed_on_base_and_fails_with_the_rfc_fails_the_delta(self):
		d = self.delta({'env00': 'pass', 'memfd02': 'fail'}, {'env00': 'fail', 'memfd02': 'pass'})
		gains = [RFC.Gain('userns', 'memfd02', 'fail', 'pass', '0001')]
		got = {t.name: t for t in RFC.judge_delta(TOP, d, gains).subtests}
		self.assertEqual(Status.FAIL, got['userns.no_test_that_passed_fails'].status)
		self.assertIn('env00', got['userns.no_test_that_passed_fails'].reason)
		self.assertEqual(Status.PASS, got['userns.memfd02'].status)

	def test_a_change_nobody_wrote_down_is_news_and_a_written_gain_must_be_seen(self):
		d = self.delta({'env00': 'pass', 'memfd02': 'fail', 'aio00': 'fail'},
			       {'env00': 'pass', 'memfd02': 'fail', 'aio00': 'pass'})
		gains = [RFC.Gain('userns', 'memfd02', 'fail', 'pass', '0001')]
		got = {t.name: t for t in RFC.judge_delta(TOP, d, gains).subtests}
		self.assertEqual(Status.PASS, got['userns.no_test_that_passed_fails'].status)
		self.assertEqual(Status.FAIL, got['userns.no_change_unwritten'].status)
		self.assertIn('aio00: fail -> pass', got['userns.no_change_unwritten'].reason)
		self.assertEqual(Status.FAIL, got['userns.memfd02'].status)
		# The patch it names, alone, must show it too.
		d = self.delta({'memfd02': 'fail'}, {'memfd02': 'pass'})
		d.results['+0001'] = {'userns': {'memfd02': CEN.Outcome('fail')}}
		got = {t.name: t for t in RFC.judge_delta(TOP, d, gains).subtests}
		self.assertEqual(Status.FAIL, got['userns.memfd02'].status)
		self.assertIn('+0001: fail, not pass', got['userns.memfd02'].reason)

	def test_a_flaky_test_may_change_either_way(self):
		flaky = next(t for (m, t), e in CEN.expected(TOP).items()
			     if m == 'userns' and CEN.cause_kind(e.cause) == 'flaky')
		d = self.delta({flaky: 'pass'}, {flaky: 'fail'})
		got = {t.name: t for t in RFC.judge_delta(TOP, d, []).subtests}
		self.assertEqual(Status.PASS, got['userns.no_test_that_passed_fails'].status)
		self.assertEqual(Status.PASS, got[f'userns.{flaky}'].status)

	def test_the_written_census_lines_parse(self):
		for g in RFC.read_expected(TOP):
			self.assertIn(g.mode, CEN.MODES)
			self.assertTrue(os.path.exists(os.path.join(TOP, RFC.RFC_DIR)))
			self.assertTrue(any(os.path.basename(p).startswith(g.patch)
					    for p in RFC.series(TOP)), g)

	def test_a_census_is_kept_and_a_subset_of_it_taken_again(self):
		d = tempfile.mkdtemp(prefix='crcap-rfc-test.')
		self.addCleanup(shutil.rmtree, d)
		b = RFC.Build('base', [], vmlinuz=os.path.join(d, 'bzImage-base'))
		key = RFC.census_key(b, d, 'userns')
		RFC.keep_census(d, b, 'userns', key, {'env00': CEN.Outcome('pass'),
						     'maps00': CEN.Outcome('fail', 'why')})
		got = RFC.kept_census(d, b, 'userns', key, ['maps00'])
		self.assertEqual({'maps00': ('fail', 'why')},
				 {t: (o.outcome, o.detail) for t, o in got.items()})
		self.assertIsNone(RFC.kept_census(d, b, 'userns', key, ['aio00']))
		self.assertIsNone(RFC.kept_census(d, b, 'userns', 'other', ['maps00']))
		# a subset census later leaves the whole one whole
		RFC.keep_census(d, b, 'userns', key, {'aio00': CEN.Outcome('pass')})
		self.assertEqual(3, len(RFC.kept_census(d, b, 'userns', key,
							 ['env00', 'maps00', 'aio00'])))

	def test_a_mutant_is_killed_only_when_every_case_it_names_fails(self):
		m = M.Mutant('x', 'widens it', [])

		def suite(case2):
			return Test('k.kselftest', subtests=[Test('a_test', subtests=[
				Test('case1', Status.PASS), Test('case2', case2)])]).finish()
		health = Test('guest', subtests=[Test('boots', Status.PASS)]).finish()
		rfc = suite(Status.PASS)
		got = Test('k.kselftest', subtests=[Test('a_test', subtests=[
			Test('case1', Status.FAIL), Test('case2', Status.PASS)])]).finish()
		self.assertEqual(Status.FAIL, RFC.mutant_verdict(
			m, ['a_test.case1', 'a_test.case2'], rfc, got, health).status)
		self.assertEqual(Status.PASS, RFC.mutant_verdict(
			m, ['a_test.case1'], rfc, got, health).status)
		self.assertEqual(Status.FAIL, RFC.mutant_verdict(
			m, ['a_test.case1'], rfc, rfc, health).status)	# nothing fails: survived
		self.assertEqual(Status.FAIL, RFC.mutant_verdict(m, [], rfc, got, health).status)


class MutantVerdictTest(unittest.TestCase):
	"""What kills a mutant, and what the kernel without the series must do."""

	@staticmethod
	def suites(ks, c3='pass'):
		st = {'pass': Status.PASS, 'fail': Status.FAIL, 'skip': Status.SKIP}
		return {'kselftest': Test('uml.kselftest', subtests=[Test('a', st[ks])]).finish(),
			'clone3': Test('uml.clone3', subtests=[Test('c', st[c3])]).finish(),
			'guest': Test('uml.guest', subtests=[Test('finished', Status.PASS)]).finish()}

	def test_a_case_that_fails_only_on_the_mutant_kills_it(self):
		m = M.Mutant('m', 'w', [])
		self.assertEqual(Status.PASS, M.verdict(m, self.suites('pass'), self.suites('fail')).status)
		self.assertEqual(['uml.kselftest.a'], m.killed_by)
		self.assertEqual(Status.FAIL, M.verdict(m, self.suites('pass'), self.suites('pass')).status)

	def test_without_the_series_the_suite_skips_and_the_trees_tests_are_reported(self):
		m = M.Mutant('without_series', 'w', [], no_capability=True)
		# The tree's clone3_cap_checkpoint_restore fails there: upstream's, not judged.
		self.assertEqual(Status.PASS, M.verdict(m, self.suites('pass'),
							self.suites('skip', c3='fail')).status)
		self.assertEqual(Status.FAIL, M.verdict(m, self.suites('pass'),
							self.suites('fail')).status)


class TablesTest(unittest.TestCase):
	def test_whole_outcome(self):
		rows = [('f.v1.t', 'ok', 'ok'), ('f.v2.t', 'ok', 'ok but PID 7, not 5')]
		out = '\n'.join(TB.table('x', rows))
		self.assertIn('ok~!=ok', out)
		self.assertIn('2 cases, 1 as expected, 1 differ', out)


class FakeWorld:
	"""Everything outside crcap, mocked at its edges, as kunit_tool_test's
	KUnitMainTest mocks the kernel tree: no child process runs (util.run
	records and answers), no tree is unpacked or built, and every guest
	"boots" by answering its job the way the protocol says (a block per
	crcap_item, the job's exit, the kernel log).  What runs for real is
	crcap: the commands, the stages, the plans, the judge, the report."""

	KTAP = ['KTAP version 1', '1..1', '    KTAP version 1',
		'    # Subtest: capability_checkpoint_restore', '    1..1',
		'    ok 1 helper_in_init_ns', 'ok 1 capability_checkpoint_restore']
	TAP = ['TAP version 13', '1..1', 'ok 1 case # expected ok, observed ok']
	# The tests the census's enforcing guests fail, and the denial each
	# logs there (zdtm.avc: "COUNT avc: ...").
	SELINUX_DENIED = {
		'maps00': '      3 avc:  denied  { read } for  comm="criu" name="maps00" '
			  'scontext=user_u:user_r:user_criu_t:s0 '
			  'tcontext=user_u:object_r:user_home_t:s0 tclass=file permissive=0',
		'pty00': '      1 avc:  denied  { setattr } for  comm="criu" name="ptmx" '
			 'scontext=user_u:user_r:user_criu_t:s0 '
			 'tcontext=system_u:object_r:ptmx_t:s0 tclass=chr_file permissive=0',
	}

	def __init__(self, case: unittest.TestCase):
		self.case = case
		self.d = tempfile.mkdtemp(prefix='crcap-main.')
		case.addCleanup(shutil.rmtree, self.d)
		self.build = os.path.join(self.d, 'build')
		self.commands = []
		self.boots = []
		for k in ('6.12', '6.1', 'am-6.12'):
			ks = os.path.join(self.build, f'kselftest-{k}')
			os.makedirs(ks)
			with open(os.path.join(ks, 'kselftest-list.txt'), 'w') as f:
				f.write('checkpoint_restore:set_tid_test\ncheckpoint_restore:selinux_test\n'
					'clone3:clone3_set_tid\n')
		patches = [
			mock.patch.object(util, 'run', self.run),
			mock.patch.object(os, 'geteuid', return_value=0),
			mock.patch.object(T.Tree, 'prepare', lambda self: None),
			mock.patch.object(T, 'roundtrip', lambda p, k: self.suite('roundtrip')),
			mock.patch.object(K, 'build_linux', lambda *a, **kw: None),
			mock.patch.object(K, 'build_selftests', lambda *a, **kw: None),
			mock.patch.object(K, 'build_extmod', lambda *a, **kw: None),
			mock.patch.object(K, 'build_tools', lambda p, b: os.path.join(b, 'tools') + '/'),
			mock.patch.object(G.GuestOperations, 'boot',
					  lambda guest, *a, **kw: self.boot(guest, *a, **kw)),
			mock.patch.object(R, 'kunit_parse_disagrees', lambda *a: ''),
			mock.patch.object(ST.crcap_criu, 'find', lambda *a: ('/usr/sbin/criu', 'mock')),
			mock.patch.object(S, 'tool_tests', lambda p: self.suite('crcap_tool')),
			mock.patch.object(S, 'classmap', lambda p, k: self.suite(f'{k.name}.classmap')),
			mock.patch.object(S, 'refpolicy', lambda p, b: self.suite('refpolicy')),
			mock.patch.object(L, 'lint', lambda p, k: self.suite('lint')),
			mock.patch.object(S, 'host_programs', lambda k, r: [self.suite('host.kselftest')]),
			mock.patch.object(S, 'host_run_tests', lambda k, r: self.suite('host.run_tests')),
			mock.patch.object(S, 'host_as_user', lambda k, r: self.suite('host.as_user')),
			mock.patch.object(S, 'host_crcheck', lambda p, b, r: self.suite('host.crcheck')),
			mock.patch.object(S, 'host_criu', lambda p, b, j, r: self.suite('host.criu')),
			mock.patch.object(S, 'host_workloads',
					  lambda p, b, j, r, n: self.suite('host.workloads')),
			mock.patch.object(M, 'mutants', self.mutants),
			mock.patch.object(M, 'build', lambda *a: True),
			mock.patch.object(M, 'build_at_kernel_paths', lambda *a: None),
			mock.patch.object(SUB, 'check', lambda p, k, out: (self.suite(f'{k.name}.submission'),
									   os.path.join(self.build, 'am'))),
			mock.patch.object(Q, 'debian_kernels', self.debian_kernels),
			mock.patch.object(Q, 'build_policy', lambda *a, **kw: self.d),
			mock.patch.object(Q, 'make_root', lambda *a, **kw: mock.Mock()),
			mock.patch.object(Q, 'workloads_root', lambda *a, **kw: mock.Mock()),
			mock.patch.object(Q, 'diag_modules_root', lambda *a, **kw: mock.Mock()),
			mock.patch.object(Q, 'recipe_root', lambda *a, **kw: mock.Mock()),
			mock.patch.object(Q, 'criu_install_path', lambda criu: '/usr/local/sbin/criu'),
			mock.patch.object(Q, 'busybox_root', lambda *a, **kw: mock.Mock()),
			mock.patch.object(Q, 'kselftest_archive', lambda *a: None),
			mock.patch.object(Q, 'policies_archive', lambda d, p: d + '.gz'),
			mock.patch.object(Q, 'concat', lambda *a: None),
			mock.patch.object(Q, 'root_key', lambda *a: 'k'),
			mock.patch.object(Q, 'kept', lambda *a: False),
			mock.patch.object(Q, 'keep', lambda *a: None),
			mock.patch.object(Q, 'rule_units', lambda top, only=None: [('criu.te', 'ptrace')]),
			mock.patch.object(CEN, 'ablation_plan', lambda top, rules=None: (
				[('criu.if', 'signal')], {'signal': ('stopped03',)})),
			mock.patch.object(CEN, 'prepare', lambda *a: self.zdtm_tree()),
			mock.patch.object(Q, 'zdtm_initrd', lambda *a: os.path.join(self.build, 'z.gz')),
			mock.patch.object(RFC, 'build', self.rfc_build),
			mock.patch.object(RFC, 'kunit', self.rfc_kunit),
			mock.patch.object(RFC, 'selftest_initrd', lambda *a: os.path.join(self.build,
											  'r.gz')),
			mock.patch.object(RFC, 'container_initrd', lambda *a: os.path.join(self.build,
											   'c.gz')),
			mock.patch.object(SUB, 'check_rfc', lambda p, k, out: self.suite(
				f'{k.name}.rfc_submission')),
			mock.patch.object(CEN.pwd, 'getpwnam', lambda n: mock.Mock(
				pw_uid=os.getuid(), pw_gid=os.getgid())),
		]
		self.caps = ''
		self.zdtm_guests = []	# the zdtm arguments of each root guest
		self.root_says = {}	# test: outcome, over census/expected's root line
		self.rfc_builds = []	# (label, patches, mutant) of each RFC kernel built
		self.rfc_kunits = []	# the label of each tree kunit.py ran on
		for p in patches:
			p.start()
			case.addCleanup(p.stop)

	def suite(self, name):
		return Test(name, subtests=[Test('case', Status.PASS)]).finish()

	def run(self, cmd, **kw):
		self.commands.append(list(cmd))
		out = ''
		if cmd[0] == 'dpkg-query':
			out = 'install ok installed'
		elif cmd[0] == 'apt-cache':
			out = 'linux-image-6.1.0-9-amd64 - x\n'
		elif cmd[0] == 'setcap':
			self.caps = cmd[1]
		elif cmd[0] == 'pgrep':	# the census user has no process left
			return subprocess.CompletedProcess(list(cmd), 1, '', '')
		elif 'runuser' in cmd:
			self.zdtm(cmd)
		return subprocess.CompletedProcess(list(cmd), 0, out, '')

	def rfc_build(self, top, build, base_src, b, jobs, with_selftests=False):
		self.rfc_builds.append((b.label, list(b.patches), b.mutant.name if b.mutant else ''))
		b.vmlinuz = os.path.join(build, f'bzImage-{b.label}')
		b.kselftest = os.path.join(build, f'kselftest-{b.label}')
		return b

	def zdtm_tree(self):
		"""A CRIU tree with zdtm's static tests: those the census runs."""
		st = os.path.join(self.d, 'criu', 'test', 'zdtm', 'static')
		if not os.path.isdir(st):
			os.makedirs(st)
			for t in {t for ts in list(CEN.IN_TEST.values()) + list(CEN.SAMPLES.values())
				  + list(RFC.IN_RFC.values()) for t in ts} | \
				 {t for m, t in CEN.expected(TOP) if m == 'root'}:
				with open(os.path.join(st, t), 'w') as f:
					f.write('')
				os.chmod(os.path.join(st, t), 0o755)
		return os.path.join(self.d, 'criu')

	def zdtm(self, cmd):
		"""zdtm's report: what census/expected says of each test."""
		args = [a for c in cmd for a in (shlex.split(c) if './zdtm.py' in c else [c])]
		mode = 'userns' if 'unshare' in args else \
			next(m for m in CEN.HOST_MODES if CEN.MODES[m].caps + '+eip' == self.caps and
			     not CEN.MODES[m].userns)
		exp = CEN.expected(TOP)
		tests = [args[i + 1].split('/')[-1] for i, a in enumerate(args) if a == '-t']
		lines = ['TAP version 13', f'1..{len(tests)}']
		for n, t in enumerate(tests, 1):
			e = exp.get((mode, t), CEN.Expect('pass'))
			lines.append({'pass': f'ok {n} - zdtm/static/{t}',
				      'skip': f'ok {n} - zdtm/static/{t} # SKIP why',
				      'fail': f'not ok {n} - zdtm/static/{t} # flavor h'}[e.outcome])
		with open(os.path.join(args[args.index('--report') + 1], 'criu-testreport.tap'),
			  'w') as f:
			f.write('\n'.join(lines) + '\n')

	def zdtm_guest(self, job, results=''):
		"""The census guests' blocks: zdtm's report as census/expected's
		root lines say (or ROOT_SAYS), all of it from inside the guest; in
		a host mode, as its lines say, and on a kernel of the RFC's (its
		label leads the results' name), as rfc/census says."""
		var = dict(re.findall(r'^(CRCAP_ZDTM_\w+)=(.*)$', job, re.M))
		args = shlex.split(shlex.split(var['CRCAP_ZDTM_ARGS'])[0])
		self.zdtm_guests.append(args)
		exp = CEN.expected(TOP)
		mode = 'root'
		if shlex.split(var.get('CRCAP_ZDTM_CAPS', "''"))[0:1] not in ([], ['']):
			mode = 'userns' if var.get('CRCAP_ZDTM_USERNS') == '1' else 'caps'
		label = os.path.basename(results).split('-')[0]
		gains = {(g.mode, g.test): g for g in RFC.read_expected(TOP)}
		tests = [args[i + 1].split('/')[-1] for i, a in enumerate(args) if a == '-t']
		tap = ['TAP version 13', f'1..{len(tests)}']
		for n, t in enumerate(tests, 1):
			g = gains.get((mode, t))
			if g:
				o = g.after if label in ('rfc', f'+{g.patch}') else g.before
			elif mode != 'root':
				o = exp.get((mode, t), CEN.Expect('pass')).outcome
			else:
				o = self.root_says.get(t) or exp.get(('root', t), CEN.Expect('pass')).outcome
			if '--nocr' in args:
				o = 'pass'
			if var.get('CRCAP_ZDTM_SELINUX') == 'enforcing' and t in self.SELINUX_DENIED:
				o = 'fail'	# what the SELinux census must single out
			tap += {'pass': [f'ok {n} - zdtm/static/{t}'],
				'skip': [f'ok {n} - zdtm/static/{t} # SKIP why'],
				'fail': [f'not ok {n} - zdtm/static/{t} # flavor h', '---',
					 '"output": |', "  b'(00.1) Error (criu/x.c:1): it broke'",
					 '...']}[o]
		avc = []
		denied = [d for t, d in self.SELINUX_DENIED.items() if t in tests]
		if var.get('CRCAP_ZDTM_SELINUX') and denied:
			avc = ['=== crcap begin zdtm.avc', *denied, '=== crcap end zdtm.avc exit 0 ms 1']
		# The policy ablation's census cases: each rule's tests fail without it.
		for line in shlex.split(var.get('CRCAP_ZDTM_ABLATE', "''"))[0].splitlines():
			rule, _, rest = line.split(' ', 2)
			tests = [a.split('/')[-1] for a in shlex.split(rest) if a.startswith('zdtm/')]
			avc += [f'=== crcap begin zdtm.ablate.{rule}.report', 'TAP version 13',
				f'1..{len(tests)}', *[f'not ok {n} - zdtm/static/{t}'
						      for n, t in enumerate(tests, 1)],
				f'=== crcap end zdtm.ablate.{rule}.report exit 0 ms 1']
		return (['=== crcap begin zdtm.setup', '=== crcap end zdtm.setup exit 0 ms 9',
			 '=== crcap begin zdtm.report', *tap, '=== crcap end zdtm.report exit 0 ms 1',
			 *avc, '=== crcap job exit 0', '=== crcap begin kernel.log', '[ 1.0] booted',
			 '=== crcap end kernel.log exit 0 ms 0'])

	def rfc_suite(self, results):
		"""The RFC suite's guest: every case its mutants name passes, but
		on a mutant's kernel (results rfc-suite-mutant-NAME), where the
		cases NAME's killed-by lines name fail."""
		ms = dict((m.name, want) for m, want in RFC.mutants(TOP))
		name = os.path.basename(results)[len('rfc-suite-mutant-'):]
		cases = sorted({c for want in ms.values() for c in want if not c.startswith('kunit.')})
		progs: dict = {}
		for c in cases:
			progs.setdefault(c.split('.')[0], []).append(c)
		out = []
		for prog, cs in sorted(progs.items()):
			tap = ['TAP version 13', f'1..{len(cs)}']
			for n, c in enumerate(cs, 1):
				ok = c not in ms.get(name, ())
				tap.append(f'{"ok" if ok else "not ok"} {n} {c}')
			bid = f'kselftest.checkpoint_restore.{prog}_test'
			out += [f'=== crcap begin {bid}', *tap, f'=== crcap end {bid} exit 0 ms 5']
		return out + ['=== crcap job exit 0', '=== crcap begin kernel.log', '[ 1.0] booted',
			      '=== crcap end kernel.log exit 0 ms 0']

	def rfc_kunit(self, top, build, base_src, b, jobs):
		"""kunit.py's cases, as RFC.kunit() reads them: those the
		mutants name pass, but on a mutant's tree those its killed-by
		lines name fail."""
		self.rfc_kunits.append(b.label)
		ms = dict((m.name, want) for m, want in RFC.mutants(TOP))
		fail = ms.get(b.mutant.name, ()) if b.mutant else ()
		cases = sorted({c for want in ms.values() for c in want if c.startswith('kunit.')})
		suites: dict = {}
		for c in cases:
			_, suite, case = c.split('.')
			suites.setdefault(suite, []).append({'name': case, 'status': (
				'FAIL' if c in fail else 'PASS')})
		return RFC.kunit_verdicts(Test(f'{b.kernel().name}.kunit'), json.dumps({
			'name': 'KUnit Test Group', 'test_cases': [], 'sub_groups': [
				{'name': n, 'sub_groups': [], 'test_cases': cs} for n, cs in suites.items()]}))

	def mutants(self, project, kernel, only=None):
		if only is not None:	# "test": the subset, each killed as 0002 is
			return [M.Mutant(n, 'a mutant', ['0002'], dir=os.path.join(self.build, n))
				for n in only]
		return [M.Mutant('without_0002', 'no set_tid wiring', ['0002'],
				 dir=os.path.join(self.build, 'm1')),
			M.Mutant('without_series', 'no capability 40', ['0001'], no_capability=True,
				 dir=os.path.join(self.build, 'm2'))]

	def debian_kernels(self, build, series=('6.1', '6.12'), only=None):
		return [Q.DebianKernel(f'debian-{s}-{f}', f'linux-image-{s}-{f}', '1',
				       os.path.join(build, 'vmlinuz'), s)
			for s in series for f in Q.FLAVOURS if only is None or (s, f) in only]

	def answer(self, job, mutant):
		"""The blocks a healthy guest reports for JOB (a mutant's kernel
		fails its set_tid cases, or skips them without capability 40)."""
		out = []
		for m in re.finditer(r'crcap_item (\S+)', job):
			bid = m.group(1).strip('"')
			lines = list(self.TAP)
			killed = re.search(r'\.[a-z][a-z_0-9]*$', os.path.basename(mutant)) and \
				not mutant.endswith('without_series')
			if killed and 'set_tid' in bid:
				lines[-1] = 'not ok 1 case'
			if mutant.endswith('without_series') and 'set_tid' in bid:
				lines[-1] = 'ok 1 case # SKIP needs capability 40'
			if bid == 'selinux.absent':
				continue
			if bid in ('kunit_module', 'selinux.load_mdp', 'selinux.load_test_policy'):
				lines = []
			out += [f'=== crcap begin {bid}', *lines, f'=== crcap end {bid} exit 0 ms 5']
		if 'crcap-debian-job' in job:
			out += self.debian_blocks(job, os.path.basename(mutant))
		klog = [f'[    0.5] {line}' for line in self.KTAP]
		klog += [f'[    1.0] {S.KUNIT_BEGIN}'] + [f'[    1.1] {line}' for line in self.KTAP]
		klog += [f'[    1.2] {S.KUNIT_END}']
		return out + ['=== crcap job exit 0', '=== crcap begin kernel.log', *klog,
			      '=== crcap end kernel.log exit 0 ms 0']

	def debian_blocks(self, job, where):
		def block(bid, lines=(), rc=0):
			return [f'=== crcap begin {bid}', *lines, f'=== crcap end {bid} exit {rc} ms 1']
		if 'ablation' in job:
			base = sum((block(f'ablation_base.workload.{w}', self.TAP)
				    + block(f'ablation_base.workload.{w}.avc') for w in Q.ABLATION_WORKLOADS), [])
			return block('ablation_base') + base + block('ablation.ptrace', ['# outcome: dump'], 1)
		if 'CRCAP_DEBIAN_MODE=recipe' in job:
			return self.recipe_blocks(block)
		if 'CRCAP_DEBIAN_MODE=workloads' in job:
			words = re.search(r"CRCAP_WORKLOADS='?([a-z_:/, ]*)", job).group(1).split()
			out = []
			for w in (w.split(':')[0] for w in words):
				if w.endswith('/off'):	# fails, denied what the tunable lifts
					w = w[:-len('/off')]
					_, (src, tgt, cls, perm) = Q.WORKLOAD_WITHOUT_TUNABLE[w]
					out += block(f'workload.{w}.off', ['not ok 1 x'], 1)
					out += block(f'workload.{w}.off.avc', [
						f'avc:  denied  {{ {perm} }} for pid=1 scontext=u:r:{src}:s0 '
						f'tcontext=u:r:{tgt}:s0 tclass={cls} permissive=0'])
				else:
					out += block(f'workload.{w}', self.TAP) + block(f'workload.{w}.avc')
			return out
		out = block('kselftest.checkpoint_restore.set_tid_test', self.TAP)
		out += block('kselftest.clone3.clone3_set_tid', self.TAP)
		out += block('crcheck', self.TAP)
		release = where[len('debian-'):] if where.startswith('debian-') else '?'
		out += block('info.kernel', [f'{release} Linux version'])
		for b in ('selinux.load_policy', 'selinux.label'):
			out += block(b)
		out += block('selinux.context', [Q.USER_CONTEXT])
		out += block('info.all_results', ['20.0']) + block('info.boot_seconds', ['2.5'])
		out += block('selinux.criu_enforcing', self.TAP)
		out += block('selinux.criu_without_capability2', self.TAP)
		avc = ('avc:  denied  { checkpoint_restore } for pid=1 scontext=u:r:user_criu_t:s0 '
		       'tcontext=u:r:user_criu_t:s0 tclass=capability2 permissive=0')
		out += block('selinux.criu_without_capability2.avc', [avc])
		out += block('selinux.criu_probe_refused', self.TAP)
		avc = ('avc:  denied  { name_connect } for pid=1 scontext=u:r:user_criu_t:s0 '
		       'tcontext=u:r:virt_migration_port_t:s0 tclass=tcp_socket permissive=0')
		return out + block('selinux.criu_probe_refused.avc', [avc])

	@staticmethod
	def recipe_blocks(block, failing_step=0):
		"""The recipe guest's blocks, every step passing (or, from
		FAILING_STEP on, the steps cut off after it failed)."""
		out = block('recipe.load_policy') + block('recipe.label')
		out += block('recipe.before.context', [Q.UNCONFINED])
		out += block('recipe.criu_label_before', ['system_u:object_r:bin_t:s0'])
		out += block('recipe.root.login', ['crcap-step-begin 2', 'crcap-step-end 2 0 41.5'])
		out += block('recipe.root.context', [Q.UNCONFINED])
		for n in range(1, len(Q.recipe(TOP).root) + 1):
			if failing_step and n > failing_step:
				break
			out += block(f'recipe.root.{n}', ['x'], 1 if n == failing_step else 0)
		out += block('recipe.criu_label', [Q.CRIU_EXEC]) + block('recipe.root.avc')
		out += block('recipe.user.context', [Q.USER_CONTEXT])
		out += block('recipe.roundtrip', ['TAP version 13', '1..1', 'ok 1 criu_roundtrip'])
		return out + block('recipe.user.avc')

	def boot(self, guest, results, job, name='guest', timeout=None):
		"""A guest that does what its job says: the protocol's blocks, and
		the selfcheck's failures (exit 3, SIGSEGV, WARNING, hang, a guest
		that powers off mid-way)."""
		self.boots.append((type(guest).__name__, results))
		os.makedirs(results, exist_ok=True)
		rc, console = 0, []
		mutant = results.rsplit('-', 1)[0] if guest.backend == 'uml' else results
		lines = self.answer(job, mutant)
		if 'crcap-zdtm-job' in job:
			lines = self.zdtm_guest(job, results)
		elif 'crcap-rfc-job' in job:
			lines = self.rfc_suite(results)
		elif 'crcap-container-job' in job:	# runc_path as its kernel's lines say
			kernel = re.search(r'CRCAP_KERNEL=(\w+)', job).group(1)
			lines = ['=== crcap begin workload.runc_path', 'TAP version 13',
				 f'# {kernel} kernel', '# step 1 (-): dump', 'ok 1 runc_path', '1..1',
				 '=== crcap end workload.runc_path exit 0 ms 9', '=== crcap job exit 0']
		elif job.startswith('exit 3'):
			lines = ['=== crcap job exit 3']
		elif job.startswith('kill -SEGV'):
			lines = ['=== crcap job exit 139']
		elif 'crcap selfcheck' in job:
			lines = ['=== crcap job exit 0', '=== crcap begin kernel.log',
				 job.split('"')[1], '=== crcap end kernel.log exit 0 ms 0']
		elif job.startswith('sleep 600'):
			lines, rc = [], 137
		elif 'crcap_poweroff' in job:
			lines = ['=== crcap begin first', '=== crcap end first exit 0 ms 1']
		run = G.GuestRun(name, results, guest.backend)
		run.blocks, run.exit, outside = G.split_results('\n'.join(lines) + '\n')
		G.materialize(run, outside)
		G.judge(run, rc, timeout or guest.timeout, console)
		return run


class MainTest(unittest.TestCase):
	"""Every command of scripts/crcap, run through C.main() in a mocked
	world: a command that crashes fails here, not in a user's hands."""

	def setUp(self):
		util.quiet = True
		self.world = FakeWorld(self)

	def main(self, *argv):
		out = io.StringIO()
		with mock.patch.object(sys, 'stdout', out), mock.patch.object(sys, 'stderr', out):
			rc = C.main(list(argv), top=TOP, build=self.world.build)
		return rc, out.getvalue()

	def assertReport(self, rc, out, failed=0):
		last = out.rstrip().splitlines()[-1]
		m = re.match(r'^(\d+) passed, (\d+) failed, (\d+) skipped$', last)
		self.assertTrue(m, f'no closing line: {out[-3000:]}')
		self.assertEqual(failed, int(m.group(2)), out[-3000:])
		self.assertEqual(1 if failed else 0, rc)

	def test_every_command_is_tested_here(self):
		tested = {n[len('test_'):].replace('_', '-') for n in dir(self) if n.startswith('test_')}
		self.assertEqual(set(), set(C.COMMANDS) - tested)

	def test_deps(self):
		self.assertEqual((0, ''), self.main('deps'))
		self.assertEqual('dpkg-query', self.world.commands[0][0])

	def test_tree(self):
		self.assertEqual(0, self.main('tree', '--kernel', '6.1')[0])

	def test_build(self):
		self.assertEqual(0, self.main('build')[0])

	def test_boot(self):
		rc, out = self.main('boot', '--timeout', '7', '--', 'true')
		self.assertEqual(0, rc, out)
		self.assertEqual('Uml', self.world.boots[0][0])
		rc, out = self.main('boot')	# no command: one sentence, exit 1
		self.assertEqual(1, rc)
		self.assertIn('usage: scripts/crcap boot', out)
		with self.assertRaises(SystemExit):
			C.parse_args(['tree', '--', 'true'])	# takes no command

	def test_test(self):
		rc, out = self.main('test', '--json', os.path.join(self.world.d, 'r.json'))
		self.assertReport(rc, out)
		kinds = {b[0] for b in self.world.boots}
		self.assertEqual({'Uml', 'Qemu'}, kinds)
		for name in ('uml-6.12.kselftest', 'uml-6.1.kunit', '6.12.mutants',
			     'debian-6.12-cloud-amd64.selinux', 'debian-6.1-amd64.crcheck',
			     'debian.policy_ablation', 'debian-6.12-cloud-amd64.workloads',
			     'debian-6.12-cloud-amd64.recipe', 'selfcheck.uml', 'selfcheck.qemu', 'uml-am-6.12.clone3',
			     'census.policy_ablation'):
			self.assertIn(name, out)
		self.assertNotIn('debian-6.12-amd64', out)	# of Debian's kernels, the subset
		with open(os.path.join(self.world.d, 'r.json')) as f:
			self.assertIn('"6.12.mutants"', f.read())
		# of the mutants, the fixed subset: each named, none other
		mutant_boots = {os.path.basename(b[1])[len('uml-6.12.'):-2] for b in self.world.boots
				if os.path.basename(b[1]).startswith('uml-6.12.')}
		self.assertEqual(set(M.IN_TEST), mutant_boots)

	def test_census(self):
		rc, out = self.main('census', '--mode', 'caps', '--record',
				    os.path.join(self.world.d, 'rec'))
		self.assertReport(rc, out, failed=0)
		self.assertIn('census on host-', out)
		self.assertIn('host.workloads', out)
		with open(os.path.join(self.world.d, 'rec')) as f:
			self.assertIn('env00', f.read())
		self.assertEqual(1, self.main('census', '--mode', 'nosuch')[0])

	def test_census_tests(self):
		# --test: those tests in each mode, judged, and no workloads
		rc, out = self.main('census', '--mode', 'caps', '--test', 'env00')
		self.assertReport(rc, out, failed=0)
		self.assertIn('census.host-', out)
		self.assertNotIn('host.workloads', out)
		self.assertEqual(1, self.main('census', '--test', 'nosuch')[0])

	def root_lines(self):
		"""census/expected with root lines for a few tests (those recorded
		win): what the root census runs and judges."""
		real = CEN.expected
		more = {('root', 'env00'): CEN.Expect('pass'), ('root', 'maps00'): CEN.Expect('pass'),
			('root', 'seccomp_strict'): CEN.Expect('skip', 'zdtm: skipped (why)')}
		p = mock.patch.object(CEN, 'expected', lambda top: {**more, **real(top)})
		p.start()
		self.addCleanup(p.stop)

	def test_census_kernel(self):
		# the host modes in guests of a kernel: reported, never on the host
		rc, out = self.main('census', '--kernel', 'crcap-6.12+rfc', '--mode', 'userns',
				    '--test', 'env00')
		self.assertReport(rc, out, failed=0)
		self.assertIn('census on crcap-6.12-rfc', out)
		self.assertEqual([('rfc', RFC.series(TOP), '')], self.world.rfc_builds)
		self.assertEqual([], [c for c in self.world.commands if any(
			'zdtm' in a or a in ('runuser', 'useradd', 'setcap') for a in c)])
		self.assertIn('--rootless', self.world.zdtm_guests[0])
		rc, out = self.main('census', '--kernel', 'debian-6.1', '--test', 'env00')
		self.assertReport(rc, out, failed=0)
		self.assertIn('census on debian-6.1-amd64', out)
		self.assertEqual(1, self.main('census', '--kernel', 'crcap-6.1')[0])
		self.assertEqual(1, self.main('census', '--kernel', 'crcap-6.12+0009')[0])

	def test_census_selinux(self):
		# permissive and enforcing in Debian's kernel; the test that
		# passes permissive only is run again alone, its denial named
		rc, out = self.main('census', '--kernel', 'debian-6.12', '--mode',
				    'caps_selinux_permissive', '--mode', 'caps_selinux',
				    '--test', 'env00', '--test', 'maps00', '--test', 'pty00')
		self.assertReport(rc, out, failed=0)
		self.assertIn('2 tests pass permissive and not enforcing:', out)
		# each alone in a guest of its own, with the denials of its guest
		self.assertIn('  maps00: alone, enforcing: fail\n'
			      '    3× user_criu_t user_home_t file { read } (criu)\n'
			      '  pty00: alone, enforcing: fail\n'
			      '    1× user_criu_t ptmx_t chr_file { setattr } (criu)\n', out)
		alone = [a for a in self.world.zdtm_guests if a.count('-t') == 1]
		self.assertEqual([['-t', 'zdtm/static/maps00'], ['-t', 'zdtm/static/pty00']],
				 sorted(a[:2] for a in alone))
		# never on the host, nor in a kernel built here
		self.assertEqual(1, self.main('census', '--mode', 'caps_selinux')[0])
		self.assertEqual(1, self.main('census', '--kernel', 'crcap-6.12', '--mode',
					      'caps_selinux')[0])

	def test_rfc(self):
		# base, each kernel patch alone, the RFC, each mutant; the suite on
		# the RFC and the mutants; the census delta as rfc/census writes it
		rc, out = self.main('rfc')
		self.assertReport(rc, out, failed=0)
		labels = [b[0] for b in self.world.rfc_builds]
		self.assertEqual(['base', '+0001', '+0002', 'rfc'], labels[:4])
		self.assertEqual({f'mutant-{m.name}' for m, _ in RFC.mutants(TOP)}, set(labels[4:]))
		self.assertIn('rfc.census', out)
		# the container path in a guest of each, judged by its kernel's lines
		self.assertIn('crcap-6.12-base.container_path', out)
		self.assertIn('crcap-6.12-rfc.container_path', out)
		self.assertIn('container path, base:\nstock kernel', out)
		self.assertIn('container path, rfc:\nrfc kernel', out)
		self.assertIn('KILLED', out)
		self.assertNotIn('SURVIVED', out)
		# KUnit on the RFC, and on each mutant a KUnit case is named for
		named = sorted(f'mutant-{m.name}' for m, want in RFC.mutants(TOP)
			       if any(w.startswith('kunit.') for w in want))
		self.assertTrue(named)
		self.assertEqual(['rfc', *named], [self.world.rfc_kunits[0],
						   *sorted(self.world.rfc_kunits[1:])])
		self.assertIn('kunit.memfd.memfd_kunit_anon_inode', out)
		# a mutant its cases do not kill fails the run
		real = self.world.rfc_suite
		with mock.patch.object(self.world, 'rfc_suite', lambda results: real(
				results.replace('mutant-', 'nothing-'))):
			rc, out = self.main('rfc', '--quick')
			self.assertReport(rc, out, failed=0)	# --quick: no mutants
			rc, out = self.main('rfc')
		self.assertEqual(1, rc)
		self.assertIn('SURVIVED', out)

	def test_census_root(self):
		# zdtm as root: in QEMU guests of Debian's kernel, never on the host
		self.root_lines()
		rc, out = self.main('census', '--mode', 'root', '--record',
				    os.path.join(self.world.d, 'rec'))
		self.assertReport(rc, out, failed=0)
		self.assertIn('census.debian-6.12-cloud-amd64 ', out)	# the verdicts, judged
		self.assertIn('census.debian-6.12-cloud-amd64.guest', out)	# the guests
		self.assertNotIn('census.host-', out)
		self.assertNotIn('host.workloads', out)
		self.assertEqual({'Qemu'}, {b[0] for b in self.world.boots})
		self.assertEqual([], [c for c in self.world.commands if any(
			'zdtm' in a or a in ('runuser', 'useradd', 'setcap') for a in c)])
		self.assertTrue(self.world.zdtm_guests)
		ran = [a for args in self.world.zdtm_guests for a in args]
		self.assertNotIn('--rootless', ran)
		written = sorted(t for m, t in CEN.expected(TOP) if m == 'root')
		self.assertEqual(written, sorted(ran[i + 1].split('/')[-1]
						 for i, a in enumerate(ran) if a == '-t'))
		for args in self.world.zdtm_guests:
			self.assertLessEqual(args.count('-t'), CEN.ROOT_CHUNK)
		with open(os.path.join(self.world.d, 'rec')) as f:
			self.assertEqual(len(written), sum(1 for ln in f if ln.startswith('root ')))

	def test_census_root_judged(self):
		# --test in the root guest; a verdict other than the written one is
		# named, and asked why in a guest again (--nocr), not on the host
		self.root_lines()
		self.world.root_says = {'env00': 'fail'}
		rc, out = self.main('census', '--mode', 'root', '--test', 'env00',
				    '--test', 'maps00')
		self.assertReport(rc, out, failed=1)
		self.assertIn('census.debian-6.12-cloud-amd64.root.env00: regressed: expected pass', out)
		self.assertEqual(2, len(self.world.zdtm_guests))
		self.assertIn('--nocr', self.world.zdtm_guests[1])
		self.assertEqual(['-t', 'zdtm/static/env00'], self.world.zdtm_guests[1][:2])
		self.assertFalse(any('zdtm' in a or a == 'runuser' for c in self.world.commands
				     for a in c))

	def test_run(self):
		rc, out = self.main('run')
		self.assertReport(rc, out)
		self.assertIn('== uml-6.12: observed outcome per test', out)
		self.assertEqual({'Uml'}, {b[0] for b in self.world.boots})
		places = {os.path.basename(b[1])[:-2] for b in self.world.boots}
		self.assertEqual({'uml-6.12'}, places)	# no 6.1, no mutant, no am kernel
		self.assertNotIn('lint', out)
		with self.assertRaises(SystemExit):
			C.parse_args(['run', '--quick'])	# "run" is one kernel already

	def test_debian(self):
		rc, out = self.main('debian')
		self.assertReport(rc, out)
		self.assertEqual({'Qemu'}, {b[0] for b in self.world.boots})
		for name in ('debian-6.1-amd64.kselftest', 'debian-6.1-cloud-amd64.kselftest',
			     'debian-6.12-amd64.crcheck', 'debian-6.12-cloud-amd64.crcheck',
			     'debian.policy_ablation', 'debian-6.12-amd64.workloads',
			     'debian-6.12-cloud-amd64.workloads', 'debian-6.12-amd64.recipe',
			     'census.policy_ablation'):
			self.assertIn(name, out)
		self.assertNotIn('debian-6.12-cloud-amd64.recipe', out)	# the first 6.12 only
		self.assertNotIn('debian-6.1-amd64.workloads', out)	# 6.1: no --shell-job
		with open(os.path.join(self.world.build, 'results', 'report.ktap')) as f:
			text = f.read()
		self.assertIn('ok 11 openmp_without_criu_restore_user_home_files_is_denied', text)
		self.assertIn('ok 12 jvm_without_criu_checkpoint_java_is_denied', text)

	def test_selfcheck(self):
		rc, out = self.main('selfcheck')
		self.assertReport(rc, out)
		self.assertIn('selfcheck.qemu', out)

	def test_roundtrip(self):
		self.assertReport(*self.main('roundtrip'))

	def test_mutants(self):
		rc, out = self.main('mutants')
		self.assertReport(rc, out)
		self.assertIn('without_0002', out)

	def test_mutant_that_survives_fails_the_run(self):
		with mock.patch.object(self.world, 'answer',
				       lambda job, m: FakeWorld.answer(self.world, job, 'x')):
			rc, out = self.main('mutants')
		self.assertReport(rc, out, failed=2)
		self.assertIn('survived', out)

	def test_refpolicy(self):
		self.assertReport(*self.main('refpolicy'))

	def test_lint(self):
		self.assertReport(*self.main('lint'))

	def test_bench(self):
		rc, out = self.main('bench')
		self.assertEqual(0, rc, out)
		self.assertIn('guest boot to all results', out)
		self.assertIn('"run" with nothing changed', out)

	def test_pidbench(self):
		rc, out = self.main('pidbench', '--', '-n', '10')
		self.assertEqual(0, rc, out)
		self.assertTrue(any('pidbench' in c[0] for c in self.world.commands))

	def test_format_patch_rfc(self):
		rc, out = self.main('format-patch', '--rfc')
		self.assertReport(rc, out, failed=0)
		self.assertIn('6.12.rfc_submission', out)

	def test_format_patch(self):
		self.assertReport(*self.main('format-patch', '-o', os.path.join(self.world.d, 's')))


class _TapResult(unittest.TextTestResult):
	"""Prints one KTAP result line per test (--tap)."""

	def __init__(self, *a, **kw):
		super().__init__(*a, **kw)
		self.n = 0

	def _line(self, test, text):
		self.n += 1
		print(f'{text} {self.n} {test.id().split(".", 1)[1]}'.rstrip(), flush=True)

	def addSuccess(self, test):
		self._line(test, 'ok')

	def addFailure(self, test, err):
		super().addFailure(test, err)
		for ln in self._exc_info_to_string(err, test).splitlines():
			print('# ' + ln)
		self._line(test, 'not ok')

	addError = addFailure

	def addSkip(self, test, reason):
		self.n += 1
		print(f'ok {self.n} {test.id().split(".", 1)[1]} # SKIP {reason}', flush=True)


def main():
	if '--tap' in sys.argv:
		sys.argv.remove('--tap')
		suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
		print('TAP version 13')
		print(f'1..{suite.countTestCases()}', flush=True)
		r = unittest.TextTestRunner(stream=io.StringIO(), resultclass=_TapResult).run(suite)
		sys.exit(0 if r.wasSuccessful() else 1)
	unittest.main()


if __name__ == '__main__':
	main()
