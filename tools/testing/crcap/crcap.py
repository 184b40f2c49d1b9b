#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""crcap: from a kernel source tree to a verified kernel, in one command.

The entry point is scripts/crcap; this is its implementation, split as
tools/testing/kunit is:

  crcap_tree.py     kernel trees: unpack, overlay, series, round trip
  crcap_kernel.py   configure and build UML kernels, selftests, tools
  crcap_guest.py    boot UML guests, judge them from outside
  crcap_suites.py   what runs where; results into tests
  crcap_parser.py   TAP/KTAP into a tree of tests, plans checked
  crcap_report.py   the tree as KTAP (kunit.py parse reads it), JSON, summary
  crcap_mutants.py  mutant kernels in linked copies (and the edits in mutants)
  crcap_qemu.py     Debian's own kernels under QEMU, Debian's policy enforcing
  crcap_util.py     processes, signals, the build lock
  crcap_tool_test.py  tests of all of the above, on recorded outputs
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import crcap_bench		# noqa: E402
import crcap_criu		# noqa: E402
import crcap_guest as G		# noqa: E402
import crcap_kernel as K	# noqa: E402
import crcap_mutants as M	# noqa: E402
import crcap_qemu as Q	# noqa: E402
import crcap_parser as P	# noqa: E402
import crcap_report as R	# noqa: E402
import crcap_submission as SUB	# noqa: E402
import crcap_suites as S	# noqa: E402
import crcap_tables		# noqa: E402
import crcap_tree as T		# noqa: E402
import crcap_util as util	# noqa: E402
from crcap_parser import Status, Test	# noqa: E402
from crcap_util import Error, say	# noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
	os.path.dirname(os.path.abspath(__file__)))))

DEBIAN_PACKAGES = [
	'bc', 'bison', 'build-essential', 'cpio', 'flex', 'kmod', 'libcap-dev',
	'libcap2-bin', 'libelf-dev', 'libselinux1-dev', 'libssl-dev', 'patch',
	'perl', 'rsync', 'xz-utils', 'checkpolicy', 'gnuplot-nox', 'secilc',
	'semodule-utils', 'setools', 'selinux-policy-default', 'selinux-policy-dev',
	'linux-source-6.12', 'linux-source-6.1', 'util-linux', 'python3', 'clang',
	# the guests that boot Debian's own kernels
	'qemu-system-x86', 'busybox-static', 'policycoreutils',
	# CRIU, built from ../shared/vendor for the end-to-end cases
	*crcap_criu.BUILD_PACKAGES,
]


class Crcap:
	def __init__(self, args: argparse.Namespace):
		self.args = args
		self.project = T.Project(TOP)
		self.build = os.path.abspath(os.environ.get('CRCAP_BUILD') or
					     os.path.join(TOP, '.build'))
		self.jobs = int(os.environ.get('CRCAP_JOBS') or os.cpu_count() or 2)
		self.guests = G.Guests(TOP, self.build, float(args.timeout))
		self.results = os.path.join(self.build, 'results')

	# ---------------------------------------------------------- basics

	def kernel(self, spec: Optional[str] = None) -> T.Kernel:
		return T.kernel_for(spec or self.args.kernel, self.build)

	def start(self, need_root: str = '') -> None:
		G.check_path(self.build, 'the build directory')
		if need_root and os.geteuid() != 0:
			raise Error(f'{need_root} needs root; run it as root '
				    '(sudo scripts/crcap ...)')
		util.BuildLock(self.build).acquire()
		os.makedirs(self.results, exist_ok=True)

	def deps(self, install: bool = True, quiet: bool = False) -> None:
		missing = []
		for p in DEBIAN_PACKAGES:
			q = subprocess.run(['dpkg-query', '-W', '-f=${Status}', p],
					   capture_output=True, text=True)
			if 'install ok installed' not in q.stdout:
				missing.append(p)
		if not missing:
			if not quiet:
				say(f'deps: all {len(DEBIAN_PACKAGES)} packages present')
			return
		if not install:
			raise Error(f'missing packages: {" ".join(missing)}; run "scripts/crcap deps"')
		if os.geteuid() != 0:
			raise Error(f'installing {" ".join(missing)} needs root: '
				    'run "sudo scripts/crcap deps"')
		say(f'deps: installing {" ".join(missing)}')
		os.makedirs(self.build, exist_ok=True)
		log = os.path.join(self.build, 'apt.log')
		env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
		util.run(['apt-get', 'update', '-qq'], log=log, env=env)
		util.run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', *missing],
			 log=log, env=env)

	def prepare(self, kernel: T.Kernel) -> None:
		T.Tree(self.project, kernel).prepare()

	def build_all(self, kernel: T.Kernel) -> None:
		"""Tree, kernel, selftests, external module, tools, SELinux files."""
		t = time.monotonic()
		self.prepare(kernel)
		K.build_linux(self.project, kernel, self.jobs)
		K.build_selftests(kernel)
		K.build_extmod(self.project, kernel)
		K.build_tools(self.project, self.build)
		self.guests.install_init()
		S.install_guest_files(self.project, self.build)
		say(f'build {kernel.name}: ready in {util.elapsed(t)}')

	# ---------------------------------------------------------- guests

	def guest_tests(self, kernel: T.Kernel, where: str, linux: Optional[str] = None,
			kselftest_only: bool = False, shards: int = 2,
			tag: str = '', with_clone3: bool = False) -> List[Test]:
		plan = S.GuestPlan(self.project, kernel, self.build, shards, kselftest_only,
				   with_clone3)
		base = os.path.join(self.results, f'{where}{tag}')
		names = 'abcdefgh'
		tasks = []
		for i, items in enumerate(plan.shards):
			res = f'{base}-{names[i]}'
			tasks.append(lambda res=res, items=items, n=names[i]:
				     self.guests.boot(linux or kernel.linux, res,
						      plan.job(items, res), name=n))
		t = time.monotonic()
		runs = G.parallel(tasks, len(tasks))
		secs = time.monotonic() - t
		if not kselftest_only:
			S.save_costs(self.build, kernel.name, runs)
		suites = S.guest_suites(plan, runs, where)
		suites[-1].log.append(f'{len(runs)} guests in parallel, boot to all '
				      f'results in {secs:.1f}s')
		self.timings[f'{where}{tag} guests'] = secs
		return suites

	# ---------------------------------------------------------- commands

	def cmd_deps(self) -> int:
		self.deps()
		return 0

	def cmd_tree(self) -> int:
		self.start()
		k = self.kernel()
		self.prepare(k)
		say(f'tree {k.name}: {k.src} ready')
		return 0

	def cmd_build(self) -> int:
		self.start()
		self.build_all(self.kernel())
		return 0

	def cmd_boot(self) -> int:
		self.start()
		if not self.args.cmd:
			raise Error('usage: scripts/crcap boot [--kernel K] [--timeout S] -- CMD...')
		k = self.kernel()
		self.guests.install_init()
		res = os.path.join(self.results, f'boot-{k.name}')
		job = 'cd /\n' + ' '.join(shlex.quote(a) for a in self.args.cmd) + '\n'
		run = self.guests.boot(k.linux, res, job)
		sys.stdout.write('\n'.join(run.read('job.out') or []) + '\n')
		if run.failure or run.problems:
			say(f'boot: FAILED: {run.failure or "; ".join(run.problems[:3])}')
			say(f'boot: kernel log: {res}/kernel.log')
			return 1
		say(f'boot: command exited with {run.exit} in {run.seconds:.1f}s '
		    f'(kernel log: {res}/kernel.log)')
		return run.exit or 0

	def cmd_selfcheck(self) -> int:
		self.start()
		self.guests.install_init()
		t = self.selfcheck(self.kernel())
		return self.finish([t])

	def cmd_roundtrip(self) -> int:
		self.start()
		return self.finish([T.roundtrip(self.project, self.kernel())])

	def cmd_refpolicy(self) -> int:
		self.start()
		return self.finish([S.refpolicy(self.project, self.build)])

	def cmd_lint(self) -> int:
		self.start()
		k = self.kernel()
		self.prepare(k)
		return self.finish([S.lint(self.project, k)])

	def cmd_mutants(self) -> int:
		self.start(need_root='crcap mutants (the guests run the suite as root)')
		k = self.kernel()
		self.build_all(k)
		base = self.guest_tests(k, f'uml-{k.name}', kselftest_only=True)
		suite, lines = self.mutants(k, base[0])
		print('\n'.join(lines))
		return self.finish([suite])

	def cmd_format_patch(self) -> int:
		self.start()
		k = self.kernel()
		self.prepare(k)
		out = os.path.abspath(self.args.output or os.path.join(self.build, f'submission-{k.name}'))
		suite, tree = SUB.check(self.project, k, out)
		for f in sorted(os.listdir(out)) if os.path.isdir(out) else []:
			print(os.path.join(out, f))
		if tree:
			say(f'format-patch: git am onto the pristine {k.name} tree: {tree}')
		return self.finish([suite])

	def submission(self, k: T.Kernel) -> List[Test]:
		"""The series as a maintainer gets it, checked: checkpatch, git am
		onto the pristine tree, a kernel built from that tree as it is
		passing the suite and the tree's clone3 tests."""
		suite, tree = SUB.check(self.project, k, os.path.join(self.build, f'submission-{k.name}'))
		if not tree:
			return [suite]
		am = SUB.am_kernel(k)
		t = time.monotonic()
		try:
			K.build_linux(self.project, am, self.jobs)
			K.build_selftests(am)
			suite.add(Test('builds', Status.PASS))
		except Error as e:
			suite.add(Test('builds', Status.FAIL, str(e).splitlines()[0]))
			return [suite.finish()]
		self.timings[f'build {am.name}'] = time.monotonic() - t
		guest = self.guest_tests(am, f'uml-{am.name}', kselftest_only=True, with_clone3=True)
		return [suite.finish()] + guest

	def cmd_test(self) -> int:
		return self.test(with_tables=False)

	def cmd_run(self) -> int:
		return self.test(with_tables=True)

	def cmd_pidbench(self) -> int:
		self.start()
		k = self.kernel()
		out = K.build_tools(self.project, self.build)
		self.guests.install_init()
		pb = os.path.join(out, 'pidbench')
		print(f'== host {platform.release()}, {os.cpu_count()} cores: pidbench '
		      + ' '.join(self.args.cmd), flush=True)
		util.run([pb, *self.args.cmd], stdin=None, check=False)
		print(f'\n== UML {k.name} guest (one virtual CPU): pidbench '
		      + ' '.join(self.args.cmd), flush=True)
		run = self.guests.boot(k.linux, os.path.join(self.results, f'pidbench-{k.name}'),
				       ' '.join(shlex.quote(a) for a in [pb, *self.args.cmd]) + '\n')
		print('\n'.join(run.read('job.out') or []))
		return 1 if run.failure else 0

	def cmd_bench(self) -> int:
		self.start(need_root='crcap bench (it runs the suites)')
		return crcap_bench.bench(self)

	# ---------------------------------------------------------- test

	def selfcheck(self, kernel: T.Kernel) -> Test:
		"""Broken guests must be reported: each boots a guest that goes
		wrong in one way, all at once."""
		cases = [
			('exit_status_3_is_reported', 'exit 3\n', 30,
			 lambda r: r.exit == 3 and not r.failure),
			('sigsegv_is_reported', 'kill -SEGV $$\n', 30,
			 lambda r: r.exit == 139 and not r.failure),
			('kernel_warning_fails_the_run',
			 'echo "WARNING: CPU: 0 PID: 1 at crcap selfcheck" >/dev/kmsg\n', 30,
			 lambda r: any('crcap selfcheck' in p for p in r.problems)),
			('hang_is_killed_at_the_timeout', 'sleep 600\n', 4,
			 lambda r: 'did not finish' in r.failure),
		]
		tasks = [lambda c=c: (c, self.guests.boot(kernel.linux, os.path.join(
			self.results, f'selfcheck-{c[0]}'), c[1], timeout=c[2])) for c in cases]
		s = Test('selfcheck')
		for c, run in G.parallel(tasks, 2):
			ok = c[3](run)
			s.add(Test(c[0], Status.PASS if ok else Status.FAIL,
				   '' if ok else f'exit {run.exit}, failure "{run.failure}", '
				   f'kernel problems {run.problems[:1]}'))
		return s.finish()

	def mutants(self, kernel: T.Kernel, base: Test):
		ms = M.mutants(self.project, kernel)
		# The one that rebuilds nearly everything first, the rest beside it.
		heavy = [m for m in ms if M.heavy(m)]
		light = [m for m in ms if not M.heavy(m)]
		t = time.monotonic()
		G.parallel([lambda: [M.build(self.project, kernel, m, self.jobs) for m in heavy],
			    lambda: [M.build(self.project, kernel, m, 1) for m in light]], 2)
		self.timings[f'mutants {kernel.name}: builds'] = time.monotonic() - t
		t = time.monotonic()
		runs = G.parallel([lambda m=m: (m, self.guest_tests(
			kernel, f'uml-{kernel.name}', linux=m.linux, kselftest_only=True,
			shards=1, tag=f'.{m.name}')) for m in ms], 2)
		self.timings[f'mutants {kernel.name}: guests'] = time.monotonic() - t
		suite = Test(f'{kernel.name}.mutants')
		res = {}
		for m, suites in runs:
			v = M.verdict(m, base, suites[0], suites[-1])
			res[m.name] = suite.add(v)
		lines = M.table(kernel, ms, res)
		suite.log += lines
		return suite.finish(), lines

	def host_tests(self, kernel: T.Kernel) -> List[Test]:
		res = os.path.join(self.results, 'host')
		out = S.host_programs(kernel, res)
		out.append(S.host_run_tests(kernel, res))
		out.append(S.host_as_user(kernel, res))
		out.append(S.host_crcheck(self.project, self.build, res))
		out.append(S.host_criu(self.project, self.build, self.jobs, res))
		return out

	def test(self, with_tables: bool) -> int:
		self.start(need_root='crcap test (the suites switch credentials and '
			   'build namespaces as root)')
		self.timings = {}
		t0 = time.monotonic()
		self.deps(quiet=True)	# .ci/run calls "deps" itself
		main = self.kernel()
		kernels = [main]
		if not self.args.quick and main.name == '6.12':
			kernels.append(self.kernel('6.1'))
		suites: List[Test] = []
		tables: List[str] = []
		for i, k in enumerate(kernels):
			try:
				suites += self.test_kernel(k, first=(i == 0), tables=tables)
			except Error as e:
				# The rest still runs; this kernel's suites did not.
				say(f'{k.name}: {e}')
				suites.append(Test(f'{k.name}.build', subtests=[
					Test('tree_and_build', Status.FAIL, str(e).splitlines()[0],
					     log=str(e).splitlines()[1:])]).finish())
		if not self.args.quick and len(kernels) > 1:
			td = time.monotonic()
			suites += self.debian_tests(kernels[1])
			self.timings['Debian kernel guests'] = time.monotonic() - td
		self.timings['total'] = time.monotonic() - t0
		if with_tables:
			tables += self.outcome_tables()
		return self.finish(suites, tables)

	def debian_tests(self, k61: T.Kernel) -> List[Test]:
		"""Debian's own 6.1 kernels under QEMU: the selftests built from
		Debian's 6.1 tree, crcheck, and criu under Debian's reference policy
		with the criu module, enforcing (crcap_qemu.py)."""
		try:
			ks = Q.debian_kernels(self.build)
			say('debian: ' + ', '.join(f'{k.package} {k.version}' for k in ks))
			criu, how = crcap_criu.find(TOP, self.build, self.jobs)
			if not criu:
				raise Error(f'no criu for the Debian-kernel guests: {how}')
			pols = {'criu': Q.build_policy(TOP, self.build, 'criu'),
				'without_capability2': Q.build_policy(
					TOP, self.build, 'without_capability2', True)}
			root = Q.make_root(TOP, os.path.join(self.build, 'debian-root'), k61.kselftest,
					   os.path.join(self.build, 'tools'), criu, pols)
			initrd = os.path.join(self.build, 'debian-initrd.gz')
			root.cpio(initrd)
		except Error as e:
			return [Test('debian.setup', subtests=[
				Test('guest_root', Status.FAIL, str(e).splitlines()[0])]).finish()]
		# One after the other: TCG is CPU-bound, and each guest's boot to
		# all results is a figure of its own.
		runs = [(k, Q.boot(k, initrd, os.path.join(self.results, k.name))) for k in ks]
		out: List[Test] = []
		for k, (console, results, secs, rc) in runs:
			say(f'{k.name}: guest done in {secs:.1f} s (exit {rc})')
			out += Q.verdicts(k, console, results, secs, rc)
		out.append(self.policy_ablation(ks[0], criu, pols['criu']))
		return out

	def policy_ablation(self, k, criu: str, base: str) -> Test:
		"""The criu module without each of its rule blocks, enforcing, in
		one guest of Debian's kernel: each must be missed."""
		blocks = Q.rule_blocks(TOP)
		t = time.monotonic()
		try:
			pols = {'criu': base}
			built = G.parallel([lambda b=b: (b, Q.build_policy(
				TOP, self.build, f'ablate-{b[1]}', drop=b)) for b in blocks], 2)
			for b, d in built:
				pols[f'ablate-{b[1]}'] = d
			root = Q.make_root(TOP, os.path.join(self.build, 'debian-ablation-root'), None,
					   os.path.join(self.build, 'tools'), criu, pols)
			initrd = os.path.join(self.build, 'debian-ablation-initrd.gz')
			root.cpio(initrd)
		except Error as e:
			return Test('debian.policy_ablation', subtests=[
				Test('setup', Status.FAIL, str(e).splitlines()[0])]).finish()
		_, results, secs, rc = Q.boot(k, initrd, os.path.join(self.results, 'debian-ablation'),
					      ' crcap.ablation', limit=60 + 20 * len(blocks))
		say(f'policy ablation: {len(blocks)} rule blocks in {time.monotonic() - t:.0f} s')
		return Q.ablation_verdicts(k, results, blocks, rc)

	def test_kernel(self, k: T.Kernel, first: bool, tables: List[str]) -> List[Test]:
		"""Every suite of one kernel; the host's and the project's with the
		first."""
		suites: List[Test] = []
		tk = time.monotonic()
		self.build_all(k)
		self.timings[f'build {k.name}'] = time.monotonic() - tk
		if first:	# after the tree: one of its tests reads kunit.py
			suites.append(S.tool_tests(self.project))
		suites.append(S.classmap(self.project, k))
		if first:
			th = time.monotonic()
			suites += self.host_tests(k)
			self.timings['host suites'] = time.monotonic() - th
		guest = self.guest_tests(k, f'uml-{k.name}')
		suites += guest
		if k.debian:
			suites.append(self.named(T.roundtrip(self.project, k), f'{k.name}.roundtrip'))
		if first and not self.args.quick:
			m, lines = self.mutants(k, guest[0])
			suites.append(m)
			tables += lines
			if k.debian:
				suites += self.submission(k)
		if first:
			suites.append(S.refpolicy(self.project, self.build))
			suites.append(S.lint(self.project, k))
			suites.append(self.selfcheck(k))
		return suites

	@staticmethod
	def named(t: Test, name: str) -> Test:
		t.name = name
		return t

	def outcome_tables(self) -> List[str]:
		"""Per kernel: each program's cases as a matrix case x variant."""
		return crcap_tables.tables(self.results)

	# ---------------------------------------------------------- report

	def environment(self) -> dict:
		env = {'host_kernel': platform.release(), 'cpus': os.cpu_count(),
		       'date': time.strftime('%Y-%m-%dT%H:%M:%S%z')}
		try:
			env['commit'] = subprocess.run(['git', '-C', TOP, 'rev-parse', 'HEAD'],
						       capture_output=True, text=True).stdout.strip()
		except OSError:
			pass
		for spec in T.DEBIAN_KERNELS:
			k = self.kernel(spec)
			mk = os.path.join(k.src, 'Makefile')
			if os.path.exists(mk):
				v = {}
				for line in open(mk):
					m = re.match(r'^(VERSION|PATCHLEVEL|SUBLEVEL) = (\d+)', line)
					if m:
						v[m.group(1)] = m.group(2)
				env[f'uml-{spec}'] = '.'.join(v.get(x, '?') for x in
							      ('VERSION', 'PATCHLEVEL', 'SUBLEVEL'))
		return env

	def finish(self, suites: List[Test], tables: Optional[List[str]] = None) -> int:
		"""Writes the report (KTAP, JSON), has kunit.py parse check it, and
		prints the summary; the last line is "N passed, N failed, N skipped"."""
		env = self.environment()
		header = [f'{k}: {v}' for k, v in env.items()]
		timings = getattr(self, 'timings', {})
		header += [f'time {k}: {v:.1f}s' for k, v in timings.items()]
		ktap = os.path.join(self.results, 'report.ktap')
		agree = Test('kunit_parse_agrees', Status.PASS)
		suites = suites + [Test('report', subtests=[agree])]
		for _ in range(2):
			suites[-1].finish()
			with open(ktap, 'w') as f:
				R.write_ktap(f, suites, header)
			problem = kunit_parse_disagrees(self, ktap, R.total(suites))
			if not problem:
				break
			agree.status, agree.reason = Status.FAIL, problem
		if self.args.json:
			R.write_json(self.args.json, suites, env)
		R.write_json(os.path.join(self.results, 'report.json'), suites, env)
		if tables:
			print('\n'.join(tables))
			print()
		if self.args.raw:
			sys.stdout.write(open(ktap).read())
		print(f'KTAP: {ktap}')
		print('\n'.join(R.summary_lines(suites)), flush=True)
		return 1 if R.total(suites).failed else 0


def kunit_parse_disagrees(c: Crcap, ktap: str, counts: P.Counts) -> str:
	"""'' when the kernel's own KTAP parser reads the report with no error
	and the same counts; else what it says."""
	kunit = None
	for spec in (c.args.kernel, '6.12', '6.1'):
		try:
			k = c.kernel(spec)
		except Error:
			continue
		cand = os.path.join(k.src, 'tools/testing/kunit/kunit.py')
		if os.path.exists(cand):
			kunit = cand
			break
	if not kunit:
		return 'no tools/testing/kunit/kunit.py in any tree to check the report with'
	p = subprocess.run(['python3', kunit, 'parse', ktap], capture_output=True, text=True)
	out = re.sub(r'\x1b\[[0-9;]*m', '', p.stdout + p.stderr)
	m = re.search(r'Testing complete\. Ran (\d+) tests: (.*)', out)
	if not m:
		return 'kunit.py parse printed no summary: ' + out.strip()[-200:]
	got = dict((k.strip(), int(v)) for k, v in
		   re.findall(r'(\w+): (\d+)', m.group(2)))
	want = {'passed': counts.passed, 'failed': counts.failed, 'skipped': counts.skipped}
	gotn = {'passed': got.get('passed', 0),
		'failed': got.get('failed', 0) + got.get('crashed', 0),
		'skipped': got.get('skipped', 0)}
	if got.get('errors', 0) or gotn != want:
		return (f'kunit.py parse says "Ran {m.group(1)} tests: {m.group(2).strip()}", '
			f'crcap counts {counts}')
	return ''


COMMANDS = {
	'deps': 'install the Debian packages crcap needs (root)',
	'tree': 'unpack Debian\'s source (or link your tree), overlay the project, apply the series',
	'build': 'tree + UML kernel + selftests + external module + tools',
	'boot': 'boot the UML guest with CMD as its job: "boot -- CMD..."',
	'test': 'every suite; report in .build/results/report.ktap; exit 1 on a failure',
	'run': 'test, plus the tables: observed outcome per case and variant, mutants',
	'selfcheck': 'broken guests (exit 3, SIGSEGV, kernel WARNING, hang) must be reported',
	'roundtrip': 'the series reversed on the distribution\'s files and re-applied',
	'mutants': 'kernels without each wiring patch must fail named cases',
	'refpolicy': 'build policy/refpolicy, link it into Debian\'s base, sesearch',
	'lint': 'checkpatch.pl --strict on the series, MAINTAINERS coverage',
	'bench': 'build, boot and test times, beside the previous design\'s',
	'pidbench': 'tools/checkpoint_restore/pidbench on the host and in the guest: "pidbench -- ARGS"',
	'format-patch': 'the submission as a numbered series with a cover letter (-o DIR), checked',
}


def parse_args(argv: List[str]) -> argparse.Namespace:
	p = argparse.ArgumentParser(
		prog='scripts/crcap',
		description='From a kernel source tree to a verified kernel.',
		formatter_class=argparse.RawDescriptionHelpFormatter,
		epilog='commands:\n' + '\n'.join(f'  {k:<10} {v}' for k, v in COMMANDS.items())
		+ '\n\nK is 6.12 (default), 6.1 or the path of a kernel tree (a linked copy is\n'
		'built; your tree is never written).  Build output goes to .build/ in the\n'
		'checkout, or to $CRCAP_BUILD.')
	p.add_argument('command', choices=sorted(COMMANDS), metavar='command')
	p.add_argument('--kernel', default='6.12', metavar='K')
	p.add_argument('--quick', action='store_true', help='one kernel, no mutants')
	p.add_argument('--timeout', default=os.environ.get('CRCAP_TIMEOUT', '600'),
		       help='seconds a guest may take (default 600)')
	p.add_argument('--json', metavar='FILE', help='also write the results as JSON')
	p.add_argument('--raw', action='store_true', help='print the whole KTAP report')
	p.add_argument('-o', '--output', metavar='DIR', help='format-patch: where the series goes')
	rest: List[str] = []
	if '--' in argv:
		i = argv.index('--')
		argv, rest = argv[:i], argv[i + 1:]
	args, extra = p.parse_known_args(argv)
	if extra and args.command in ('boot', 'pidbench') and not rest:
		rest, extra = extra, []
	if extra or (rest and args.command not in ('boot', 'pidbench')):
		p.error(f'unexpected arguments for {args.command}: {" ".join(extra + rest)}')
	args.cmd = rest
	return args


def main(argv: List[str]) -> int:
	args = parse_args(argv)
	util.install_signal_handlers()
	c = Crcap(args)
	try:
		return getattr(c, 'cmd_' + args.command.replace('-', '_'))()
	except Error as e:
		print(f'crcap: error: {e}', file=sys.stderr)
		return 1
	except util.Interrupted as e:
		print(f'\ncrcap: interrupted by signal {e.signum}: stopped every guest '
		      'and build it had started', file=sys.stderr)
		return 128 + e.signum
	finally:
		util.run_cleanups()


if __name__ == '__main__':
	sys.exit(main(sys.argv[1:]))
