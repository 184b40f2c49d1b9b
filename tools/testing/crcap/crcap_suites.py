# SPDX-License-Identifier: GPL-2.0
"""The suites crcap runs, where they run, and how each becomes a Test.

Test ids are stable: <where>.<suite>.<program>.<case>, where <where> is
"host" (whatever kernel the host runs; its release is in the report's
header, not in ids) or "uml-<kernel>" (6.12, 6.1, tree-<name>).

A suite that must run in a place (SELinux enforcing and KUnit in a UML
guest) fails when it did not run there, instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import crcap_criu
import crcap_refpolicy
import crcap_guest as G
import crcap_kernel as K
import crcap_parser as P
import crcap_util as util
from crcap_parser import Status, Test
from crcap_tree import Kernel, Project

CRCHECK_TEST = 'tools/checkpoint_restore/crcheck_test.sh'
KUNIT_BEGIN = 'crcap: external KUnit module: begin'
KUNIT_END = 'crcap: external KUnit module: end'
PROGRAM_TIMEOUT = 300
# Programs that are suites of their own rather than part of "kselftest".
SELINUX_PROGRAM = 'selinux_test'
# What each guest item costs in UML (seconds in a UML 6.12 guest, four
# guests at once, measured 2026-12-02), until a run of this kernel measured
# its own (results/guest-costs-<kernel>.json): the balance of a cold run.
COST_GUESS = {'selinux': 6.7, 'userns_owner_test': 6.0, 'crcheck': 3.9,
	      'set_tid_test': 3.1, 'prctl_mm_map_test': 1.9, 'ns_last_pid_test': 1.6,
	      'map_files_test': 1.1, 'tty_ipc_test': 0.8, 'no_overgrant_test': 0.8,
	      'exec_caps_test': 0.8, 'read_side_test': 0.5, 'kunit_module': 0.1}


def programs(kernel: Kernel, target: str = 'checkpoint_restore') -> List[str]:
	"""The installed kselftest programs of TARGET, in install order."""
	lst = os.path.join(kernel.kselftest, 'kselftest-list.txt')
	try:
		with open(lst) as f:
			names = [ln.strip().split(':', 1)[1] for ln in f
				 if ln.startswith(target + ':')]
	except OSError:
		raise util.Error(f'no kselftest install at {kernel.kselftest}: '
				 'run "scripts/crcap build"')
	return names


# ------------------------------------------------------------------ guest

@dataclass(frozen=True)
class Suite:
	"""A suite the guests run: where, and whether it must have run there."""
	name: str
	places: Tuple[str, ...]
	required: str = ''	# what must run (a suite that did not run fails)


# What runs where.  Places: "uml" (the kernels crcap builds), "mutant"
# (each mutant kernel: everything "uml" runs), "no_capability" (the
# mutant without the series: everything but KUnit, whose module is built
# for the series and whose built-in suite the series adds; loading the
# module there asks ns_capable() for a capability that kernel does not
# have, which is a BUG()), "submission" (the kernel
# built from the series as git am leaves it), "qemu" (Debian's kernels:
# crcap-debian-job.sh, which runs Debian's policy instead of the test
# policy, and no KUnit: Debian builds none).
SUITES = (
	Suite('kselftest', ('uml', 'mutant', 'no_capability', 'submission', 'qemu')),
	Suite('crcheck', ('uml', 'mutant', 'no_capability', 'qemu')),
	Suite('selinux', ('uml', 'mutant', 'no_capability'), 'SELinux enforcing (selinux_test)'),
	Suite('kunit', ('uml', 'mutant'),
	      'KUnit (CONFIG_KUNIT, security/checkpoint_restore/.kunitconfig)'),
	Suite('clone3', ('uml', 'mutant', 'no_capability', 'submission', 'qemu')),
)
# The places of a GuestPlan.
PLACES = ('uml', 'mutant', 'no_capability', 'submission')


def runs_at(place: str) -> List[str]:
	return [s.name for s in SUITES if place in s.places]


class GuestPlan:
	"""The suites of one kernel at one place, split into one job per guest."""

	def __init__(self, project: Project, kernel: Kernel, build: str,
		     shards: int, place: str = 'uml'):
		if place not in PLACES:
			raise util.Error(f'no guest plan for {place!r}: one of {", ".join(PLACES)}')
		self.project = project
		self.kernel = kernel
		self.build = build
		self.place = place
		self.suites = runs_at(place)
		self.progs = [p for p in programs(kernel) if p != SELINUX_PROGRAM] \
			if 'kselftest' in self.suites else []
		items = list(self.progs)
		self.clone3 = programs(kernel, 'clone3') if 'clone3' in self.suites else []
		items += [f'clone3/{p}' for p in self.clone3]
		items += [it for suite, it in (('crcheck', 'crcheck'), ('selinux', 'selinux'),
					       ('kunit', 'kunit_module')) if suite in self.suites]
		costs = _load_costs(build, kernel.name)
		self.cost = lambda it: costs.get(it, COST_GUESS.get(it, 0.2))
		# SELinux flips global state: it goes last in its guest.
		self.shards = [s for s in G.balance(items, self.cost, shards,
						    last=('selinux',)) if s]

	def job(self, items: List[str], results: str) -> str:
		k = self.kernel
		kst = os.path.join(k.kselftest, 'checkpoint_restore')
		tools = os.path.join(self.build, 'tools')
		guest = os.path.join(self.build, 'guest')
		q = shlex.quote
		lines = [
			'# Written by tools/testing/crcap (crcap_suites.GuestPlan); run with',
			'# the functions of tools/testing/crcap/crcap-job.sh.',
			f'cd {q(kst)} || exit 1',
		]
		for it in items:
			if it in self.progs:
				lines.append(f'crcap_item kselftest.{it} timeout --signal KILL '
					     f'{PROGRAM_TIMEOUT} ./{it}')
			elif it.startswith('clone3/'):
				prog = it.split('/', 1)[1]
				lines.append(f'crcap_item clone3.{prog} sh -c \'cd "$1" && exec timeout --signal KILL '
					     f'{PROGRAM_TIMEOUT} "./$2"\' - {q(k.kselftest)}/clone3 {q(prog)}')
			elif it == 'crcheck':
				lines.append(f'crcap_item crcheck {q(guest)}/crcheck_test.sh {q(tools)}/crcheck')
			elif it == 'kunit_module':
				ko = K.extmod_ko(k)
				lines += [
					f'echo "{KUNIT_BEGIN}" >/dev/kmsg',
					f'crcap_item kunit_module sh -c \'insmod "$1" && rmmod checkpoint_restore_kunit\' - {q(ko)}',
					f'echo "{KUNIT_END}" >/dev/kmsg',
				]
			elif it == 'selinux':
				sel = k.selinux
				lines += [
					'if [ -e /sys/fs/selinux/load ]; then',
					f'	crcap_item selinux.load_mdp sh -c \'cat "$1" >/sys/fs/selinux/load\' - {q(sel)}/mdp.bin',
					'	if crcap_item selinux.load_test_policy sh -c \'cat "$1" >/sys/fs/selinux/load'
					f' && echo 1 >/sys/fs/selinux/enforce\' - {q(sel)}/crcap_test.bin; then',
					'		crcap_item selinux.selinux_test timeout --signal KILL '
					f'{PROGRAM_TIMEOUT} ./{SELINUX_PROGRAM}',
					f'		crcap_item selinux.crcheck {q(guest)}/crcheck_test.sh {q(tools)}/crcheck selinux',
					'		echo 0 >/sys/fs/selinux/enforce',
					'	fi',
					'else',
					'	crcap_item selinux.absent echo "no /sys/fs/selinux: the kernel has no SELinux"',
					'fi',
				]
		lines.append('exit 0')
		return '\n'.join(lines) + '\n'


def install_guest_files(project: Project, build: str) -> None:
	"""What guests run from the checkout, copied into the build directory
	(the one host path a guest needs)."""
	d = os.path.join(build, 'guest')
	os.makedirs(d, exist_ok=True)
	src = os.path.join(project.top, CRCHECK_TEST)
	dst = os.path.join(d, 'crcheck_test.sh')
	with open(src, 'rb') as a, open(dst + '.tmp', 'wb') as b:
		b.write(a.read())
	os.chmod(dst + '.tmp', 0o755)
	os.replace(dst + '.tmp', dst)


def _costs_path(build: str, kernel: str) -> str:
	return os.path.join(build, 'results', f'guest-costs-{kernel}.json')


def _load_costs(build: str, kernel: str) -> Dict[str, float]:
	try:
		with open(_costs_path(build, kernel)) as f:
			return json.load(f)
	except (OSError, ValueError):
		return {}


def save_costs(build: str, kernel: str, runs: List[G.GuestRun]) -> None:
	"""Remembers what each guest item took in KERNEL, to balance the next run."""
	costs = _load_costs(build, kernel)
	for run in runs:
		sel = 0.0
		for name in os.listdir(run.results):
			if not name.endswith('.ms'):
				continue
			try:
				sec = int((run.read(name) or [''])[0]) / 1000.0
			except ValueError:
				continue
			item = name[:-3]
			if item.startswith('info.'):
				continue
			if item.startswith('selinux.'):
				sel += sec
			elif item.startswith('clone3.'):	# planned as clone3/<program>
				costs['clone3/' + item[len('clone3.'):]] = sec
			else:
				costs[item.replace('kselftest.', '', 1)] = sec
		if sel:
			costs['selinux'] = sel
	path = _costs_path(build, kernel)
	with open(path + '.tmp', 'w') as f:
		json.dump(costs, f, indent=1, sort_keys=True)
	os.replace(path + '.tmp', path)


def _find(runs: List[G.GuestRun], name: str) -> Optional[G.GuestRun]:
	for r in runs:
		if os.path.exists(r.path(name)):
			return r
	return None


def _program(runs: List[G.GuestRun], item: str, name: str) -> Test:
	"""ITEM from whichever guest ran it; CRASHED when none reported it."""
	run = next((r for r in runs if item in r.blocks), None)
	if run is None:
		return Test(name, Status.CRASHED, 'did not run: its guest stopped before it')
	return run.program(item, name)


def _required(suite: Test, why: str) -> Test:
	"""A suite that must run here: all skipped or empty is a failure."""
	suite.finish()
	if suite.status == Status.SKIP or not suite.subtests:
		reason = suite.reason or 'no test ran'
		suite.add(Test('ran', Status.FAIL, f'{why} must run here, but: {reason}'))
	return suite.finish()


def guest_suites(plan: GuestPlan, runs: List[G.GuestRun], where: str) -> Dict[str, Test]:
	"""The Tests of PLAN's guests (RUNS, one per shard), by suite name, in
	SUITES' order; "guest" last: the judge's verdict on each guest."""
	out: Dict[str, Test] = {}
	for name in plan.suites:
		if name == 'kselftest':
			t = Test(f'{where}.kselftest', subtests=[
				_program(runs, f'kselftest.{p}', p) for p in plan.progs])
		elif name == 'crcheck':
			t = Test(f'{where}.crcheck', subtests=[_program(runs, 'crcheck', 'crcheck_test')])
		elif name == 'selinux':
			t = _selinux_suite(runs, where)
		elif name == 'kunit':
			t = _kunit_suite(plan, runs, where)
		else:
			t = Test(f'{where}.clone3', subtests=[
				_program(runs, f'clone3.{p}', p) for p in plan.clone3])
		out[name] = t.finish()
	out['guest'] = G.health(runs, where)
	return out


def _selinux_suite(runs: List[G.GuestRun], where: str) -> Test:
	s = Test(f'{where}.selinux')
	absent = _find(runs, 'selinux.absent.out')
	if absent is not None:
		s.log += absent.read('selinux.absent.out') or []
		return _required(s, 'SELinux (CONFIG_SECURITY_SELINUX, policy/test/config)')
	for item, name, what in (
		('selinux.load_mdp', 'load_mdp_policy',
		 "the mdp policy generated from this tree's classmap.h loads"),
		('selinux.load_test_policy', 'load_test_policy_enforcing',
		 'policy/test/crcap_test.cil loads, enforcing')):
		run = _find(runs, item + '.exit')
		if run is None:
			s.add(Test(name, Status.CRASHED, 'did not run'))
			continue
		ex = (run.read(item + '.exit') or ['?'])[0]
		s.add(Test(name, Status.PASS if ex == '0' else Status.FAIL,
			   '' if ex == '0' else f'{what}: failed (exit {ex})',
			   log=run.read(item + '.out') or []))
	if _find(runs, 'selinux.selinux_test.exit') or s.subtests[-1].status == Status.PASS:
		s.add(_program(runs, 'selinux.selinux_test', SELINUX_PROGRAM))
		s.add(_program(runs, 'selinux.crcheck', 'crcheck_in_domains'))
	return _required(s, 'SELinux enforcing (selinux_test)')


def _kunit_suite(plan: GuestPlan, runs: List[G.GuestRun], where: str) -> Test:
	s = Test(f'{where}.kunit')
	# Built in: every guest runs it at boot; the first guest's log is read.
	log = runs[0].kernel_log() if runs else []
	builtin = P.ktap_from_kernel_log(log, before=KUNIT_BEGIN)
	b = P.parse_tap(builtin, 'builtin') if builtin else \
		Test('builtin', Status.FAIL, 'no KTAP in the kernel log: KUnit did not run at boot')
	s.add(b)
	run = _find(runs, 'kunit_module.exit')
	if run is None:
		s.add(Test('module', Status.CRASHED, 'the module was never loaded'))
	else:
		mod = P.ktap_from_kernel_log(run.kernel_log(), after=KUNIT_BEGIN, before=KUNIT_END)
		ex = (run.read('kunit_module.exit') or ['?'])[0]
		if mod:
			m = P.parse_tap(mod, 'module')
		else:
			m = Test('module', Status.FAIL,
				 f'no KTAP after insmod (exit {ex}): '
				 + ' '.join(run.read('kunit_module.out') or [])[:200])
		if ex != '0' and mod:
			m.add(Test('insmod_rmmod', Status.FAIL, f'insmod/rmmod exited {ex}'))
		s.add(m.finish())
	return _required(s, 'KUnit (CONFIG_KUNIT, security/checkpoint_restore/.kunitconfig)')


# ------------------------------------------------------------------ host

def host_programs(kernel: Kernel, results: str) -> List[Test]:
	"""The kselftest programs on the running kernel, two at a time."""
	os.makedirs(results, exist_ok=True)

	def one(prog, target='checkpoint_restore'):
		kst = os.path.join(kernel.kselftest, target)
		out = os.path.join(results, prog + '.out')
		with open(out, 'w'):
			pass
		p = util.run(G.host_timeout_cmd(PROGRAM_TIMEOUT) + [f'./{prog}'], cwd=kst,
			     log=out, check=False)
		rc = p.returncode
		if rc in (137, -9):	# timeout KILLs its own group, itself included
			rc = 128 + 9
		with open(out, errors='replace') as f:
			return P.parse_program(prog, f.read().splitlines(), rc)

	progs = programs(kernel)
	c3 = programs(kernel, 'clone3')
	tests = G.parallel([lambda p=p: one(p) for p in progs] +
			   [lambda p=p: one(p, 'clone3') for p in c3], 2)
	ks = Test('host.kselftest', subtests=[t for t in tests[:len(progs)]
					      if t.name != SELINUX_PROGRAM])
	se = Test('host.selinux', subtests=[t for t in tests[:len(progs)]
					    if t.name == SELINUX_PROGRAM])
	cl = Test('host.clone3', subtests=tests[len(progs):])
	return [ks.finish(), se.finish(), cl.finish()]


AS_USER = 'nobody'


def host_as_user(kernel: Kernel, results: str) -> Test:
	"""The suite run by an unprivileged user must skip every case, saying
	it needs root, and fail none.  The programs run from a copy in a 0755
	directory of their own: the tree may sit where the user cannot go."""
	out = Test('host.kselftest_as_user')
	work = tempfile.mkdtemp(prefix='crcap-as-user.')
	try:
		os.chmod(work, 0o755)
		dst = os.path.join(work, 'checkpoint_restore')
		shutil.copytree(os.path.join(kernel.kselftest, 'checkpoint_restore'), dst)
		for prog in programs(kernel):
			log = os.path.join(results, prog + '.as_user.out')
			with open(log, 'w'):
				pass
			p = util.run(G.host_timeout_cmd(PROGRAM_TIMEOUT) +
				     ['runuser', '-u', AS_USER, '--', f'./{prog}'],
				     cwd=dst, log=log, check=False)
			with open(log, errors='replace') as f:
				t = P.parse_program(prog, f.read().splitlines(), p.returncode)
			leaves = [x for _, x in t.leaves()]
			bad = [x.name for x in leaves if x.status != Status.SKIP]
			unsaid = [x.name for x in leaves if x.status == Status.SKIP and
				  'needs root' not in x.reason and 'SELinux' not in x.reason]
			if t.status.failed or bad or unsaid or not leaves:
				why = (f'{len(bad)} cases did not skip ({", ".join(bad[:3])})' if bad else
				       f'{len(unsaid)} skip without saying why ({", ".join(unsaid[:3])})'
				       if unsaid else t.reason or 'no cases')
				out.add(Test(prog, Status.FAIL, why))
			else:
				r = Test(prog, Status.PASS)
				r.log.append(f'{len(leaves)} cases skip as {AS_USER}: {leaves[0].reason}')
				out.add(r)
	finally:
		shutil.rmtree(work, ignore_errors=True)
	return out.finish()


def host_run_tests(kernel: Kernel, results: str) -> Test:
	"""The suite the way a maintainer runs it: make ... run_tests, through
	the kselftest runner, from an output directory of its own."""
	out = os.path.join(results, 'run_tests.out')
	with open(out, 'w'):
		pass
	obj = os.path.join(kernel.build, f'kselftest-run_tests-{kernel.name}')
	p = util.run(G.host_timeout_cmd(900) + [
		'make', '-s', '-C', os.path.join(kernel.src, 'tools/testing/selftests'),
		'TARGETS=checkpoint_restore', f'O={obj}', 'run_tests'], log=out, check=False)
	with open(out, errors='replace') as f:
		lines = f.read().splitlines()
	# The build's own lines come first; the runner's TAP starts at its header.
	start = next((i for i, l in enumerate(lines) if l.startswith('TAP version')), 0)
	t = P.parse_program('make_run_tests', lines[start:], p.returncode)
	return Test('host.run_tests', subtests=[t]).finish()


def host_crcheck(project: Project, build: str, results: str) -> Test:
	out = os.path.join(results, 'crcheck.out')
	with open(out, 'w'):
		pass
	p = util.run(G.host_timeout_cmd(300) + [os.path.join(project.top, CRCHECK_TEST),
						os.path.join(build, 'tools', 'crcheck')],
		     log=out, check=False)
	with open(out, errors='replace') as f:
		t = P.parse_program('crcheck_test', f.read().splitlines(), p.returncode)
	return Test('host.crcheck', subtests=[t]).finish()


def _criu_program(project: Project, build: str, jobs: int, results: str, suite: str,
		  script: str, args, limit: float) -> Tuple[Test, str, List[str]]:
	"""SUITE: tools/checkpoint_restore/SCRIPT CRIU TOOLS ARGS(criu) as
	root, under a KILL timeout of LIMIT, its KTAP parsed; the suite, where
	criu came from and the output's lines."""
	s = Test(suite)
	try:
		criu, where = crcap_criu.find(project.top, build, jobs)
	except util.Error as e:
		s.add(Test('criu_build', Status.FAIL, str(e).splitlines()[0]))
		return s, '', []
	if not criu:
		s.add(Test(script.split('.')[0], Status.SKIP, where))
		return s, where, []
	os.makedirs(results, exist_ok=True)
	out = os.path.join(results, script.replace('.py', '.out'))
	with open(out, 'w'):
		pass
	p = util.run(G.host_timeout_cmd(limit) + [
		os.path.join(project.top, 'tools/checkpoint_restore', script),
		criu, os.path.join(build, 'tools'), *args(criu)], log=out, check=False)
	with open(out, errors='replace') as f:
		lines = f.read().splitlines()
	s.add(P.parse_program(script.split('.')[0], lines, p.returncode))
	return s, where, lines


def host_criu(project: Project, build: str, jobs: int, results: str) -> Test:
	"""A real CRIU, run by an unprivileged user on the host kernel:
	tools/checkpoint_restore/criu_test.py (dump and restore, crcheck
	judged by what criu does)."""
	s, where, _ = _criu_program(
		project, build, jobs, results, 'host.criu', 'criu_test.py',
		lambda criu: ['--restorer-drops-present']
		if crcap_criu.restorer_drops_present(criu) else [], 600)
	if where:
		s.log.append(f'criu: {where}')
	return s.finish()


def host_workloads(project: Project, build: str, jobs: int, results: str,
		   runs: int) -> Test:
	"""Real workloads (a JVM, an OpenMP job, a bash job on its terminal, a
	rootless container) checkpointed and restored by a user on the host:
	tools/checkpoint_restore/workloads_test.py, RUNS of each, criu with
	cap_checkpoint_restore alone when it has CRIU's series (the one
	capability is all its restore needs); its figures in workloads.json
	beside the output."""
	s, _, lines = _criu_program(
		project, build, jobs, results, 'host.workloads', 'workloads_test.py',
		lambda criu: ['--runs', str(runs),
			      '--json', os.path.join(results, 'workloads.json'),
			      *(['--caps', 'cap_checkpoint_restore']
				if crcap_criu.restorer_drops_present(criu) else [])],
		300 + 120 * runs)
	s.log += [ln[len('# bench: '):] for ln in lines if ln.startswith('# bench: ')]
	return s.finish()


def _check(name: str, cmd, cwd: Optional[str] = None, why: str = '') -> Test:
	"""A leaf from a shell command: passes when it exits 0."""
	p = util.run(['sh', '-c', cmd] if isinstance(cmd, str) else cmd, cwd=cwd,
		     capture=True, check=False)
	ok = p.returncode == 0
	log = p.stdout.splitlines()[-20:]
	return Test(name, Status.PASS if ok else Status.FAIL,
		    '' if ok else (why or f'exit {p.returncode}'), log=log)


def classmap(project: Project, kernel: Kernel) -> Test:
	"""SELinux from the tree's classmap.h: genheaders' bits, mdp's policy
	(written from the class map) has the permission and compiles, the
	crcap test policy compiles.  Leaves mdp.bin and crcap_test.bin."""
	sel = kernel.selinux
	os.makedirs(sel, exist_ok=True)
	s = Test(f'{kernel.name}.classmap')
	avp = os.path.join(kernel.obj, 'security/selinux/av_permissions.h')
	for cls in ('CAPABILITY2', 'CAP2_USERNS'):
		s.add(_check(f'genheaders_{cls.lower()}_bit_8',
			     ['grep', '-Eq', f'^#define {cls}__CHECKPOINT_RESTORE +0x00000100U', avp],
			     why=f'{cls}__CHECKPOINT_RESTORE is not bit 8 in {avp}'))
	mdp = os.path.join(kernel.obj, 'scripts/selinux/mdp/mdp')
	pc = os.path.join(sel, 'policy.conf')
	s.add(_check('mdp_builds',
		     f'make -s -C {shlex.quote(kernel.src)} O={shlex.quote(kernel.obj)} ARCH=um scripts '
		     f'&& {shlex.quote(mdp)} {shlex.quote(pc)} '
		     f'{shlex.quote(os.path.join(sel, "file_contexts"))}'))
	s.add(Test('mdp_policy_has_permission', _policy_has_perm(pc),
		   'capability2 or cap2_userns lacks checkpoint_restore in the mdp policy'))
	s.add(_mdp_compile(sel))
	s.add(_check('test_policy_compiles',
		     ['secilc', '-o', os.path.join(sel, 'crcap_test.bin'), '-f', '/dev/null',
		      os.path.join(project.top, 'policy/test/crcap_test.cil')]))
	return s.finish()


def _policy_has_perm(path: str) -> Status:
	try:
		text = open(path).read()
	except OSError:
		return Status.FAIL
	found = set()
	for cls in ('capability2', 'cap2_userns'):
		m = re.search(r'^class ' + cls + r'\s*\n\{(.*?)^\}', text, re.M | re.S)
		if m and 'checkpoint_restore' in m.group(1):
			found.add(cls)
	return Status.PASS if len(found) == 2 else Status.FAIL


def _mdp_compile(sel: str) -> Test:
	"""checkpolicy the mdp policy.  A newer kernel's mdp may name policy
	capabilities this checkpolicy does not know: those are dropped (they
	are not what is tested) and the log says so."""
	conf = open(os.path.join(sel, 'policy.conf')).read() \
		if os.path.exists(os.path.join(sel, 'policy.conf')) else ''
	log = []
	for _ in range(8):
		path = os.path.join(sel, 'policy-compiled.conf')
		with open(path, 'w') as f:
			f.write(conf)
		p = util.run(['checkpolicy', '-U', 'allow', '-o', os.path.join(sel, 'mdp.bin'),
			      path], capture=True, check=False)
		if p.returncode == 0:
			return Test('mdp_policy_compiles', Status.PASS, log=log)
		m = re.search(r'invalid policy capability name (\w+)', p.stdout + p.stderr)
		if not m:
			return Test('mdp_policy_compiles', Status.FAIL, 'checkpolicy failed',
				    log=(p.stdout + p.stderr).splitlines()[-10:])
		log.append(f'dropped policycap {m.group(1)}, unknown to this checkpolicy')
		conf = re.sub(r'^policycap ' + m.group(1) + r';\n', '', conf, flags=re.M)
	return Test('mdp_policy_compiles', Status.FAIL, 'too many unknown policy capabilities')


def refpolicy(project: Project, build: str) -> Test:
	"""policy/refpolicy builds with Debian's selinux-policy-dev, links into
	Debian's base policy with criu given to user_r, staff_r and sysadm_r
	(test/crcap_criu_roles.te), and sesearch shows what it grants: each
	role's criu reaches its own user domain and no other."""
	d = os.path.join(build, 'refpolicy')
	shutil.rmtree(d, ignore_errors=True)
	os.makedirs(d)
	for f in ('criu.te', 'criu.if', 'criu.fc', 'test/crcap_criu_roles.te'):
		shutil.copy2(os.path.join(project.top, 'policy/refpolicy', f), d)
	s = Test('refpolicy')
	pkgs = '/usr/share/selinux/default'
	pol = 'policy.bin'
	s.add(_check('builds_with_devel_makefile',
		     'make -f /usr/share/selinux/devel/Makefile criu.pp crcap_criu_roles.pp', cwd=d))
	s.add(_check('links_into_debian_base',
		     ' && '.join(f'bunzip2 -c {pkgs}/{m}.pp.bz2 >{m}.pp'
				 for m in ('base', 'staff', 'unprivuser', 'java'))
		     + ' && semodule_link -o linked.lnk base.pp staff.pp unprivuser.pp java.pp criu.pp '
		     f'crcap_criu_roles.pp && semodule_expand linked.lnk {pol}', cwd=d))

	def grants(name: str, query: str, want: bool = True) -> None:
		s.add(_check(name, ('' if want else '! ') + f'sesearch -A {query} {pol} | grep -q .',
			     cwd=d))

	for role in ('user', 'staff', 'sysadm'):
		grants(f'{role}_criu_t_has_capability2_checkpoint_restore',
		       f'-s {role}_criu_t -t {role}_criu_t -c capability2 -p checkpoint_restore')
		grants(f'{role}_criu_t_ptraces_{role}_t',
		       f'-s {role}_criu_t -t {role}_t -c process -p ptrace')
	# No role's criu reaches the processes of another role's user domain:
	# a staff_r criu cannot ptrace sysadm_t (a way from staff_r to
	# sysadm_r), a user_r criu cannot touch staff_t or sysadm_t.
	for src, dst in (('staff', 'sysadm'), ('user', 'staff'), ('user', 'sysadm'),
			 ('sysadm', 'user')):
		for perm in ('ptrace', 'dyntransition', 'signal', 'sigkill', 'getattr'):
			grants(f'{src}_criu_t_cannot_{perm}_{dst}_t',
			       f'-s {src}_criu_t -t {dst}_t -c process -p {perm}', False)
		grants(f'{src}_criu_t_cannot_read_proc_of_{dst}_t',
		       f'-s {src}_criu_t -t {dst}_t -c file -p read', False)
	# Another user's processes in the same domain: only DAC keeps them
	# apart, and criu gets no capability that overrides it.
	grants('criu_has_no_capability', '-s criu_domain -c capability', False)
	grants('criu_has_no_cap_userns', '-s criu_domain -c cap_userns', False)
	# Nor in a user namespace: its user domains cannot make one.
	grants('criu_has_no_cap2_userns', '-s criu_domain -c cap2_userns', False)
	for role in ('user', 'staff', 'sysadm'):
		grants(f'{role}_criu_t_has_no_capability', f'-s {role}_criu_t -c capability', False)
	grants('grants_no_sys_admin', '-s criu_domain -p sys_admin', False)
	# The user domain: the permission (the restorer clones threads in
	# it), never the capability; criu_exec_t enters only criu.
	grants('user_t_has_capability2_checkpoint_restore',
	       '-s user_t -t user_t -c capability2 -p checkpoint_restore')
	grants('user_t_has_no_cap2_userns_checkpoint_restore',
	       '-s user_t -c cap2_userns -p checkpoint_restore', False)
	grants('entrypoint_is_criu_exec_t',
	       '-s user_criu_t -t criu_exec_t -c file -p entrypoint')
	# The user's home: written only under the tunable an admin turns on
	# (a conditional rule ends "[ BOOLEAN ]:True").
	home = f'sesearch -A -s criu_domain -t user_home_t -c file -p write {pol}'
	s.add(_check('criu_cannot_write_user_home', f'! {home} | grep -v " \\]:" | grep -q .',
		     cwd=d))
	s.add(_check('criu_writes_user_home_only_with_criu_restore_user_home_files',
		     f'{home} | grep -q "criu_restore_user_home_files \\]:True"', cwd=d))
	# java_t, every role's JVM: reached only under the tunable, and what
	# the JVM gets of it (the parasite run from its memfd, its
	# capability sets given back) too.
	for name, query in (('criu_ptraces_java_t', '-s user_criu_t -t java_t -c process -p ptrace'),
			    ('criu_dyntransitions_java_t',
			     '-s user_criu_t -t java_t -c process -p dyntransition'),
			    ('criu_writes_java_tmpfs_t', '-s criu_domain -t java_tmpfs_t -c file -p write'),
			    ('java_t_executes_java_tmpfs_t',
			     '-s java_t -t java_tmpfs_t -c file -p execute'),
			    ('java_t_sets_its_capabilities', '-s java_t -t java_t -c process -p setcap')):
		java = f'sesearch -A {query} {pol}'
		s.add(_check(f'{name}_only_with_criu_checkpoint_java',
			     f'{java} | grep -q "criu_checkpoint_java \\]:True" && '
			     f'! {java} | grep -v " \\]:" | grep -q .', cwd=d))
	# The module alone (segenxml reads the test module's template calls
	# as files to open).
	s.add(_check('interface_docs_without_segenxml_warnings',
		     'rm -rf xml && mkdir xml && cp criu.te criu.if criu.fc xml && cd xml && '
		     'make -f /usr/share/selinux/devel/Makefile xml >xml.log 2>&1 && '
		     '! grep -i -e warning -e error xml.log', cwd=d))
	# The module in upstream refpolicy, with its CI's checks (skipped
	# without a snapshot: $CRCAP_REFPOLICY).
	s.add(crcap_refpolicy.upstream(project.top, build))
	return s.finish()


def tool_tests(project: Project) -> Test:
	"""The tool's own tests (tools/testing/crcap/crcap_tool_test.py)."""
	d = os.path.join(project.top, 'tools/testing/crcap')
	p = subprocess.run(['python3', 'crcap_tool_test.py', '--tap'], cwd=d,
			   capture_output=True, text=True)
	t = P.parse_program('crcap_tool_test', p.stdout.splitlines(), p.returncode)
	return Test('crcap_tool', subtests=[t]).finish()
