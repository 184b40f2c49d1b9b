# SPDX-License-Identifier: GPL-2.0
"""The stages of a crcap run.  Each takes what it needs from a Request and
returns a Stage: the Tests it produced and what it took; crcap.py's
commands put stages in order, crcap_report.py reports what they returned.

What runs where is the table crcap_suites.SUITES, not flags: a guest's
plan (crcap_suites.GuestPlan) is made for a place ("uml", "mutant",
"submission", "qemu"), and its results come back by suite name.
"""

from __future__ import annotations

import os
import platform
import shutil
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import crcap_census as CEN
import crcap_criu
import crcap_guest as G
import crcap_kernel as K
import crcap_lint as L
import crcap_mutants as M
import crcap_qemu as Q
import crcap_submission as SUB
import crcap_suites as S
import crcap_tables
import crcap_tree as T
import crcap_util as util
from crcap_parser import Status, Test
from crcap_util import Error, say

UML_TIMEOUT = 600.0	# seconds a UML guest may take (--timeout overrides)
QEMU_SELFCHECK_HANG = 20.0	# a QEMU guest boots in ~3 s under TCG
UML_SELFCHECK_HANG = 4.0
# A kernel's suites are split over this many UML guests at once.  A UML
# guest keeps a core only about three quarters busy (it waits while the
# host creates, stops and switches its processes), so more guests than
# cores overlap those waits.  Boot -> all results of UML 6.12 here (2
# cores, "test --quick"): 2 guests 17.6 s, 3 guests 11.6 s, 4 guests 8.0 s;
# then the SELinux cases, which run in one guest, are the longest part.
UML_SHARDS = 4
# Mutant guests at once: two keep both cores busy, a third fills the
# time the SELinux cases spend waiting for audit records that must not come
# (four or fewer, as "test" has, all at once: no round of one).
MUTANT_GUESTS = 3

# How often each workload runs (medians and spread), in "census" and in
# "test".
WORKLOAD_RUNS = 5
WORKLOAD_RUNS_IN_TEST = 3

DEBIAN_PACKAGES = [
	'bc', 'bison', 'build-essential', 'cpio', 'flex', 'kmod', 'libcap-dev',
	'libcap2-bin', 'libelf-dev', 'libselinux1-dev', 'libssl-dev', 'patch',
	'perl', 'rsync', 'xz-utils', 'checkpolicy', 'gnuplot-nox', 'secilc',
	'semodule-utils', 'setools', 'selinux-policy-default', 'selinux-policy-dev',
	'linux-source-6.12', 'linux-source-6.1', 'util-linux', 'python3', 'clang',
	'ccache',
	# lint: what the project ships, checked with Debian's linters; CRIU's
	# series with CRIU's own (clang-format for its "make indent", codespell)
	'shellcheck', 'python3-flake8', 'clang-format', 'codespell',
	# the guests that boot Debian's own kernels
	'qemu-system-x86', 'busybox-static', 'policycoreutils',
	# CRIU, built from ../shared/vendor for the end-to-end cases
	*crcap_criu.BUILD_PACKAGES,
	# the census: zdtm, and the kernel's refusals traced; what its root
	# guest carries of the host
	*CEN.PACKAGES, *Q.ZDTM_PACKAGES,
	# its workloads: a JVM from source; the container engines that refuse,
	# and the container path's seccomp profile and tar (criu's tmpfs
	# dumps); in the SELinux guests, a locale archive (localedef) and
	# procps' pkill
	'openjdk-17-jdk-headless', 'runc', 'podman', 'golang-github-containers-common', 'tar',
	'gzip', 'locales', 'procps',
]


@dataclass
class Request:
	"""What a command was asked to do (from the command line)."""
	command: str = 'test'
	kernel: str = '6.12'
	quick: bool = False
	timeout: Optional[float] = None		# every guest's; None: each kind's own
	json: Optional[str] = None
	raw: bool = False
	output: Optional[str] = None
	cmd: List[str] = field(default_factory=list)
	modes: List[str] = field(default_factory=list)	# census: the modes (all)
	record: Optional[str] = None	# census: write what it saw as expected lines
	tests: List[str] = field(default_factory=list)	# census: only these zdtm tests
	refresh_patch: bool = False	# refpolicy: write policy/refpolicy/upstream again
	rfc: bool = False		# format-patch: the RFC series too
	guest_kernel: Optional[str] = None	# census: in guests of this kernel
	full: bool = False		# rfc: the census delta on every test


@dataclass
class Stage:
	"""What one stage returns: its suites and its timings (seconds)."""
	tests: List[Test] = field(default_factory=list)
	timings: Dict[str, float] = field(default_factory=dict)
	lines: List[str] = field(default_factory=list)	# tables for people

	def add(self, other: 'Stage') -> 'Stage':
		self.tests += other.tests
		self.timings.update(other.timings)
		self.lines += other.lines
		return self


def timed(name: str, fn: Callable[[], List[Test]]) -> Stage:
	t = time.monotonic()
	tests = fn()
	return Stage(tests, {name: time.monotonic() - t})


@dataclass
class GuestResult:
	"""A guest plan's suites by name (kselftest, crcheck, selinux, kunit,
	clone3, guest), and how long the guests took."""
	suites: Dict[str, Test]
	seconds: float

	def stage(self, name: str) -> Stage:
		return Stage(list(self.suites.values()), {name: self.seconds})


class Stages:
	"""The steps of a run, on one build directory."""

	def __init__(self, top: str, req: Request, build: Optional[str] = None):
		self.top = top
		self.req = req
		self.project = T.Project(top)
		self.build = os.path.abspath(build or os.environ.get('CRCAP_BUILD') or
					     os.path.join(top, '.build'))
		self.jobs = int(os.environ.get('CRCAP_JOBS') or os.cpu_count() or 2)
		self.results = os.path.join(self.build, 'results')

	# ---------------------------------------------------------- basics

	def kernel(self, spec: Optional[str] = None) -> T.Kernel:
		return T.kernel_for(spec or self.req.kernel, self.build)

	def uml(self, linux: str) -> G.Uml:
		return G.Uml(self.top, self.build, linux, self.req.timeout or UML_TIMEOUT)

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
			q = util.run(['dpkg-query', '-W', '-f=${Status}', p], capture=True,
				     check=False)
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

	def build_all(self, kernel: T.Kernel) -> Stage:
		"""Tree, kernel, selftests, external module, tools, SELinux files."""
		t = time.monotonic()
		self.prepare(kernel)
		K.build_linux(self.project, kernel, self.jobs)
		K.build_selftests(kernel)
		K.build_extmod(self.project, kernel)
		K.build_tools(self.project, self.build)
		G.install_uml_init(self.top, self.build)
		S.install_guest_files(self.project, self.build)
		say(f'build {kernel.name}: ready in {util.elapsed(t)}')
		return Stage(timings={f'build {kernel.name}': time.monotonic() - t})

	# ---------------------------------------------------------- UML guests

	def guests(self, kernel: T.Kernel, where: str, place: str = 'uml',
		   linux: Optional[str] = None, shards: int = 0, tag: str = '') -> GuestResult:
		"""The suites SUITES runs at PLACE, in SHARDS UML guests at once
		(UML_SHARDS unless given)."""
		plan = S.GuestPlan(self.project, kernel, self.build, shards or UML_SHARDS, place)
		base = os.path.join(self.results, f'{where}{tag}')
		tasks = []
		for i, items in enumerate(plan.shards):
			res = f'{base}-{"abcdefgh"[i]}'
			tasks.append(lambda res=res, items=items, n='abcdefgh'[i]:
				     self.uml(linux or kernel.linux).boot(
					     res, plan.job(items, res), name=n))
		t = time.monotonic()
		runs = G.parallel(tasks, len(tasks))
		secs = time.monotonic() - t
		if place == 'uml':
			S.save_costs(self.build, kernel.name, runs)
		suites = S.guest_suites(plan, runs, where)
		suites['guest'].log.append(f'{len(runs)} guests in parallel, boot to all '
					   f'results in {secs:.1f}s')
		return GuestResult(suites, secs)

	# ---------------------------------------------------------- host

	def host(self, kernel: T.Kernel) -> Stage:
		def run() -> List[Test]:
			res = os.path.join(self.results, 'host')
			out = S.host_programs(kernel, res)
			out.append(S.host_run_tests(kernel, res))
			out.append(S.host_as_user(kernel, res))
			out.append(S.host_crcheck(self.project, self.build, res))
			out.append(S.host_criu(self.project, self.build, self.jobs, res))
			return out
		return timed('host suites', run)

	# ---------------------------------------------------------- the judge

	def selfcheck(self, kernel: T.Kernel, qemu: bool = True) -> Stage:
		"""The judge proven on every backend: each failure kind reported."""
		t = time.monotonic()
		G.install_uml_init(self.top, self.build)
		out = [G.selfcheck('uml', self.uml(kernel.linux), self.results,
				   self.req.timeout or UML_SELFCHECK_HANG)]
		if qemu:
			try:
				k = Q.debian_kernels(self.build, ('6.1',))[0]
				initrd = os.path.join(self.build, 'selfcheck-initrd.gz')
				Q.busybox_root(self.top, os.path.join(self.build, 'selfcheck-root')).cpio(initrd)
				g = G.Qemu(k.vmlinuz, initrd, UML_TIMEOUT, mem='256', smp=1)
				out.append(G.selfcheck('qemu', g, self.results,
						       self.req.timeout or QEMU_SELFCHECK_HANG))
			except Error as e:
				out.append(Test('selfcheck.qemu', subtests=[
					Test('setup', Status.FAIL, str(e).splitlines()[0])]).finish())
		return Stage(out, {'selfcheck': time.monotonic() - t})

	# ---------------------------------------------------------- mutants

	def mutants(self, kernel: T.Kernel, base: GuestResult,
		    only: Optional[Sequence[str]] = None) -> Stage:
		"""Every mutant kernel (or those named ONLY) runs what the kernel's
		guests run; each must be killed by named cases (or degrade,
		without the series)."""
		ms = M.mutants(self.project, kernel, only)
		heavy = [m for m in ms if M.heavy(m)]
		light = [m for m in ms if not M.heavy(m)]
		st = Stage()
		t = time.monotonic()
		# Two lanes: the heavy ones with every core beside the light ones
		# with one; without a heavy one, the light ones in two lanes.
		lanes = [(heavy, self.jobs), (light, 1)] if heavy else \
			[(light[0::2], 1), (light[1::2], 1)]
		G.parallel([lambda ms=ms, j=j: [M.build(self.project, kernel, m, j) for m in ms]
			    for ms, j in lanes], 2)
		st.timings[f'mutants {kernel.name}: builds'] = time.monotonic() - t
		t = time.monotonic()
		where = f'uml-{kernel.name}'
		runs = G.parallel([lambda m=m: (m, self.guests(
			kernel, where, place='no_capability' if m.no_capability else 'mutant',
			linux=m.linux, shards=1, tag=f'.{m.name}'))
			for m in ms], len(ms) if len(ms) <= 4 else MUTANT_GUESTS)
		st.timings[f'mutants {kernel.name}: guests'] = time.monotonic() - t
		suite = Test(f'{kernel.name}.mutants')
		res = {}
		for m, got in runs:
			res[m.name] = suite.add(M.verdict(m, base.suites, got.suites))
		lines = M.table(kernel, ms, res)
		suite.log += lines
		st.tests.append(suite.finish())
		st.lines += lines
		return st

	# ---------------------------------------------------------- Debian's kernels

	def debian(self, kernels: List[T.Kernel], blocks: Optional[Sequence[str]] = None,
		   flavours: Optional[Sequence[Tuple[str, str]]] = None,
		   workloads: Sequence[str] = Q.GUEST_WORKLOADS, recipe: bool = True) -> Stage:
		"""Debian's own 6.1 and 6.12 kernels (every flavour, or the
		(series, flavour) pairs FLAVOURS) under QEMU: the selftests built
		from Debian's tree of the same series, crcheck, and criu under
		Debian's reference policy with the criu module, enforcing
		(crcap_qemu.py), then the policy ablation (of the rules BLOCKS, or
		of every rule) beside the WORKLOADS users checkpoint, enforcing,
		in a guest of each kernel Q.WORKLOAD_SERIES names, and (RECIPE)
		the document's recipe in a guest of the first of them."""
		st = Stage()
		t0 = time.monotonic()
		trees = {k.name: k for k in kernels}
		try:
			ks = [k for k in Q.debian_kernels(self.build, tuple(trees), flavours)
			      if k.series in trees]
			say('debian: ' + ', '.join(f'{k.package} {k.version}' for k in ks))
			criu, how = crcap_criu.find(self.top, self.build, self.jobs)
			if not criu:
				raise Error(f'no criu for the Debian-kernel guests: {how}')
			pols = {'criu': Q.build_policy(self.top, self.build, 'criu'),
				'without_capability2': Q.build_policy(
					self.top, self.build, 'without_capability2', True)}
			tools = os.path.join(self.build, 'tools')
			kselftests = [t.kselftest for t in trees.values()]
			base = os.path.join(self.build, 'debian-root.gz')
			key = Q.root_key(self.top, [criu, tools, *pols.values(), *kselftests], True)
			if not Q.kept(base, key):	# kept, keyed on its inputs
				Q.make_root(self.top, os.path.join(self.build, 'debian-root'),
					    kselftests, tools, criu, pols).cpio(base)
				Q.keep(base, key)
			initrds = {}
			for name, tk in trees.items():
				ks_gz = os.path.join(self.build, f'debian-kselftest-{name}.gz')
				ks_key = Q.root_key(self.top, [tk.kselftest], True)
				if not Q.kept(ks_gz, ks_key):
					Q.kselftest_archive(tk.kselftest, os.path.join(
						self.build, f'debian-kselftest-{name}'), ks_gz)
					Q.keep(ks_gz, ks_key)
				initrds[name] = os.path.join(self.build, f'debian-initrd-{name}.gz')
				Q.concat([base, ks_gz], initrds[name])
		except Error as e:
			st.tests.append(Test('debian.setup', subtests=[
				Test('guest_root', Status.FAIL, str(e).splitlines()[0])]).finish())
			return st

		# Two at a time: a guest is one TCG thread (crcap_qemu.guest), so
		# a pair keeps both cores busy.
		def boot(k: Q.DebianKernel) -> G.GuestRun:
			run = Q.guest(k, initrds[k.series], self.req.timeout).boot(
				os.path.join(self.results, k.name), Q.JOB, name=k.name)
			say(f'{k.name}: guest done in {run.seconds:.1f} s '
			    f'({run.failure or f"exit {run.exit}"})')
			return run
		for k, run in zip(ks, G.parallel([lambda k=k: boot(k) for k in ks], 2)):
			st.tests += Q.verdicts(k, run)
			st.timings[f'{k.name} guest'] = run.seconds
		st.timings['Debian kernel guests'] = time.monotonic() - t0
		# Two guests at a time again: the ablation beside the workloads.
		wk = [k for k in ks if k.series in Q.WORKLOAD_SERIES] if workloads else []
		try:
			initrds = {k.name: self.workloads_initrd(base, k) for k in wk}
		except Error as e:
			st.tests.append(Test('debian.workloads', subtests=[
				Test('guest_root', Status.FAIL, str(e).splitlines()[0])]).finish())
			wk = []
		try:
			rinitrd = self.recipe_initrd(base, criu) if recipe and wk else ''
		except Error as e:
			st.tests.append(Test('debian.recipe', subtests=[
				Test('guest_root', Status.FAIL, str(e).splitlines()[0])]).finish())
			rinitrd = ''
		# The census's cases of the ablation: with the rules ablated here
		# (IN_TEST_RULES in "test"), those of CEN.IN_TEST_ABLATION.
		cab = None if blocks is None else CEN.IN_TEST_ABLATION
		for got in G.parallel([lambda: self.policy_ablation(ks[0], criu, pols['criu'], blocks),
				       *[lambda k=k: self.census_ablation(k, cab) for k in wk[:1]],
				       *[lambda k=k: self.debian_workloads(k, initrds[k.name], workloads)
					 for k in wk],
				       *[lambda k=k: self.debian_recipe(k, rinitrd, criu)
					 for k in (wk[:1] if rinitrd else [])]], 2):
			st.add(got)
		return st

	def recipe_initrd(self, base: str, criu: str) -> str:
		"""The Debian root BASE with the recipe's machine (kept)."""
		part = os.path.join(self.build, 'debian-recipe.gz')
		key = Q.root_key(self.top, Q.recipe_inputs(self.top, criu), True)
		if not Q.kept(part, key):
			d = os.path.join(self.build, 'debian-recipe-root')
			Q.recipe_root(self.top, d, self.build, criu).cpio(part)
			shutil.rmtree(d, ignore_errors=True)
			Q.keep(part, key)
		initrd = os.path.join(self.build, 'debian-recipe-initrd.gz')
		Q.concat([base, part], initrd)
		return initrd

	def debian_recipe(self, k: Q.DebianKernel, initrd: str, criu: str) -> Stage:
		"""The recipe of Q.RECIPE_DOC, step by step, in a guest of Debian's
		kernel K: the machine as installed, root's commands in root's
		login, the user's in its next login (Q.recipe_verdicts)."""
		t = time.monotonic()
		g = Q.guest(k, initrd, self.req.timeout or Q.RECIPE_LIMIT)
		g.mem = '3072'
		run = g.boot(os.path.join(self.results, f'{k.name}-recipe'),
			     Q.recipe_job(Q.criu_install_path(criu)), name=f'{k.name}-recipe')
		say(f'{k.name}: recipe guest done in {run.seconds:.1f} s '
		    f'({run.failure or f"exit {run.exit}"})')
		return Stage(Q.recipe_verdicts(k, run, Q.recipe(self.top)),
			     {f'{k.name} recipe': time.monotonic() - t})

	def workloads_part(self, java: bool = True) -> str:
		"""What the workloads need, as an archive to append to a Debian
		root (kept); without JAVA, no JVM."""
		name = 'debian-workloads' + ('' if java else '-nojava')
		part = os.path.join(self.build, f'{name}.gz')
		key = Q.root_key(self.top, [os.path.join(self.top, Q.WORKLOADS_DIR), os.path.join(
			self.build, 'tools', 'omp_job'), *([Q.JAVA_HOME] if java else [])], java)
		if not Q.kept(part, key):
			d = os.path.join(self.build, f'{name}-root')
			Q.workloads_root(self.top, d, self.build, java).cpio(part)
			shutil.rmtree(d, ignore_errors=True)
			Q.keep(part, key)
		return part

	def diag_modules_part(self, k: Q.DebianKernel) -> str:
		"""The socket diagnostics modules of K (Q.DIAG_MODULES), as an
		archive to append to a root (kept)."""
		part = os.path.join(self.build, f'debian-diag-modules-{k.name}.gz')
		key = f'{k.package} {k.vmlinuz} {Q.DIAG_MODULES} {Q.DIAG_MODULES_DIR}'
		if not Q.kept(part, key):
			d = os.path.join(self.build, f'debian-diag-modules-{k.name}-root')
			Q.diag_modules_root(k, d).cpio(part)
			shutil.rmtree(d, ignore_errors=True)
			Q.keep(part, key)
		return part

	def workloads_initrd(self, base: str, k: Q.DebianKernel) -> str:
		"""The Debian root BASE with what the workloads need, for Debian's
		kernel K (kept)."""
		initrd = os.path.join(self.build, f'debian-workloads-initrd-{k.name}.gz')
		Q.concat([base, self.workloads_part(), self.diag_modules_part(k)], initrd)
		return initrd

	def debian_workloads(self, k: Q.DebianKernel, initrd: str, names: Sequence[str]) -> Stage:
		"""The workloads users checkpoint (workloads_test.py NAMES), in a
		guest of Debian's kernel K with Debian's policy and the criu
		module enforcing, as the user in user_t: each must do what
		workloads/expected says and log no denial."""
		t = time.monotonic()
		limit = Q.WORKLOAD_LIMIT
		g = Q.guest(k, initrd, self.req.timeout or 120 + 4 * limit * len(names))
		g.mem = '3072'
		run = g.boot(os.path.join(self.results, f'{k.name}-workloads'),
			     Q.workloads_job(names, limit), name=f'{k.name}-workloads')
		say(f'{k.name}: workloads guest done in {run.seconds:.1f} s '
		    f'({run.failure or f"exit {run.exit}"})')
		return Stage(Q.workloads_verdicts(k, run, names),
			     {f'{k.name} workloads': time.monotonic() - t})

	def policy_ablation(self, k: Q.DebianKernel, criu: str, base: str,
			    only: Optional[Sequence[str]] = None) -> Stage:
		"""The criu module without each of its rules (or those named ONLY),
		enforcing, in one guest of Debian's kernel: each must be missed."""
		# The rules the census's tests are the cases of are the census
		# ablation's (census_ablation()).
		blocks = [b for b in Q.rule_units(self.top, only)
			  if only is not None or b[1] not in CEN.ABLATION_CASES]
		# The cases: the enforcing case, then the workloads when it
		# misses the rule.
		names = Q.ABLATION_WORKLOADS if only is None else Q.IN_TEST_ABLATION_WORKLOADS
		# The JVM's rules: the JVM is their one workload (the last of
		# all: the others never wait for it).
		own = {n: Q.JAVA_RULE_WORKLOADS for _, n in blocks if Q.JAVA_RULE.search(n)}
		if own:
			names = (*names, *[w for w in Q.JAVA_RULE_WORKLOADS if w not in names])
		t = time.monotonic()
		try:
			pols = {'criu': base}
			built = G.parallel([lambda b=b: (b, Q.build_policy(
				self.top, self.build, f'ablate-{b[1]}', drop=b)) for b in blocks], 2)
			for b, d in built:
				pols[f'ablate-{b[1]}'] = d
			tools = os.path.join(self.build, 'tools')
			root = os.path.join(self.build, 'debian-ablation-root.gz')
			key = Q.root_key(self.top, [criu, tools, *pols.values()], True)
			if not Q.kept(root, key):
				Q.make_root(self.top, os.path.join(self.build, 'debian-ablation-root'),
					    [], tools, criu, pols).cpio(root)
				Q.keep(root, key)
			initrd = os.path.join(self.build, 'debian-ablation-initrd.gz')
			Q.concat([root, self.workloads_part(java='jvm' in names),
				  *([self.diag_modules_part(k)] if 'jvm' in names else [])], initrd)
		except Error as e:
			return Stage([Test('debian.policy_ablation', subtests=[
				Test('setup', Status.FAIL, str(e).splitlines()[0])]).finish()])
		limit = Q.WORKLOAD_LIMIT
		g = Q.guest(k, initrd, self.req.timeout or
			    120 + 4 * limit * len(names) + 80 * len(blocks))
		g.mem = '3072'
		run = g.boot(os.path.join(self.results, 'debian-ablation'),
			     Q.ablation_job(names, limit, own), name=k.name)
		say(f'policy ablation: {len(blocks)} rules in {time.monotonic() - t:.0f} s')
		return Stage([Q.ablation_verdicts(run, blocks, names)],
			     {'policy ablation': time.monotonic() - t})

	def census_ablation(self, k: Q.DebianKernel, rules: Optional[Sequence[str]]) -> Stage:
		"""The rules of the criu module that only the census's tests
		need (CEN.ABLATION_CASES, or RULES of them), each taken out in
		turn, in a guest of Debian's kernel K (CEN.policy_ablation)."""
		t = time.monotonic()
		try:
			test, run = CEN.policy_ablation(self.top, self.build, self.jobs, k,
							os.path.join(self.results, 'census'), rules)
		except Error as e:
			return Stage([Test('census.policy_ablation', subtests=[
				Test('setup', Status.FAIL, str(e).splitlines()[0])]).finish()])
		say(f'census policy ablation: guest done in {run.seconds:.1f} s '
		    f'({run.failure or f"exit {run.exit}"})')
		return Stage([test], {'census policy ablation': time.monotonic() - t})

	# ---------------------------------------------------------- the series

	def submission(self, k: T.Kernel) -> Stage:
		"""The series as a maintainer gets it, checked: checkpatch, git am
		onto the pristine tree, a kernel built from that tree as it is
		passing the suite and the tree's clone3 tests."""
		suite, tree = SUB.check(self.project, k, os.path.join(self.build, f'submission-{k.name}'))
		if not tree:
			return Stage([suite])
		am = SUB.am_kernel(k)
		t = time.monotonic()
		try:
			# Built where the tree's own kernel was, from the am'd files:
			# the files git am wrote are newer than every object, so make
			# rebuilds them and what depends on them; the rest is the
			# same bytes the tree's kernel was built from.
			M.build_at_kernel_paths(self.project, k, am.src, am.obj, self.jobs,
						f'{am.name} (the series as git am leaves it)')
			K.build_selftests(am)
			suite.add(Test('builds', Status.PASS))
		except Error as e:
			suite.add(Test('builds', Status.FAIL, str(e).splitlines()[0]))
			return Stage([suite.finish()])
		st = Stage(timings={f'build {am.name}': time.monotonic() - t})
		st.tests.append(suite.finish())
		return st.add(self.guests(am, f'uml-{am.name}', place='submission')
			      .stage(f'uml-{am.name} guests'))

	# ---------------------------------------------------------- the census

	def census(self, modes: Sequence[str], only: Optional[Dict[str, Sequence[str]]] = None,
		   workloads: bool = True) -> Stage:
		"""zdtm without root on the host, and as root in guests (ONLY:
		just those tests per mode), judged against census/expected;
		tables, JSON and PNG beside the report; then the real workloads
		(unless not WORKLOADS, or no host mode runs)."""
		t = time.monotonic()
		out = os.path.join(self.results, 'census')
		runs = WORKLOAD_RUNS_IN_TEST if only else WORKLOAD_RUNS
		if not workloads or all(CEN.MODES[m].guest for m in modes):
			runs = 0
		try:
			c = CEN.run(self.top, self.build, self.jobs, out, modes, only)
		except Error as e:
			return Stage([Test('census', subtests=[Test(
				'zdtm', Status.FAIL, str(e).splitlines()[0],
				log=str(e).splitlines()[1:])]).finish()],
				{'census': time.monotonic() - t}).add(self.workloads(runs))
		st = Stage(CEN.judged(self.top, c), {'census': time.monotonic() - t})
		if c.guests:	# the root guests, judged as every guest is
			st.tests.append(G.health(c.guests, f'census.{c.guest_kernel}'))
		st.add(self.workloads(runs))
		st.timings.update({f'census {m}': s for m, s in c.seconds.items()})
		CEN.write_json(self.top, c, os.path.join(out, 'census.json'))
		png = CEN.write_png(self.top, c, os.path.join(out, 'census.png'))
		st.lines += CEN.table(self.top, c)
		st.lines.append(f'census: {os.path.join(out, "census.json")}'
				+ (f', {png}' if png else ''))
		if self.req.record:
			with open(self.req.record, 'w') as f:
				f.write('\n'.join(CEN.draft_expected(c, CEN.expected(self.top))) + '\n')
			st.lines.append(f'census: what it saw, as expected lines: {self.req.record}')
		return st

	def workloads(self, runs: int) -> Stage:
		"""Real workloads without root on the host, RUNS times each (the
		tools built: build_all has run, or "census" built them)."""
		if not runs:
			return Stage()
		res = os.path.join(self.results, 'census')
		st = timed('workloads', lambda: [S.host_workloads(self.project, self.build,
								   self.jobs, res, runs)])
		for t in st.tests:
			st.lines += [f'workload {ln}' for ln in t.log]
		return st

	# ---------------------------------------------------------- whole runs

	def kernel_stage(self, k: T.Kernel, first: bool, whole: bool = True) -> Stage:
		"""Every suite of one kernel; the host's and the project's with the
		first.  Not WHOLE (the main job): the kernel's own suites only --
		no mutants, submission, policy build, lint or self-check."""
		st = self.build_all(k)
		if first:	# after the tree: one of its tests reads kunit.py
			st.add(timed('tool tests', lambda: [S.tool_tests(self.project)]))
		st.tests.append(S.classmap(self.project, k))
		if first:
			st.add(self.host(k))
		guest = self.guests(k, f'uml-{k.name}')
		st.add(guest.stage(f'uml-{k.name} guests'))
		if k.debian:
			st.tests.append(named(T.roundtrip(self.project, k), f'{k.name}.roundtrip'))
		if not (first and whole):
			return st
		if not self.req.quick:
			st.add(self.mutants(k, guest, M.IN_TEST))
			if k.debian:
				st.add(self.submission(k))
		st.add(timed('refpolicy', lambda: [S.refpolicy(self.project, self.build)]))
		st.add(timed('lint', lambda: [L.lint(self.project, k)]))
		st.add(self.selfcheck(k, qemu=not self.req.quick))
		return st

	def kernels(self) -> List[T.Kernel]:
		"""The kernel asked for, and 6.1 beside the default 6.12 (not
		--quick)."""
		main = self.kernel()
		if not self.req.quick and main.name == '6.12':
			return [main, self.kernel('6.1')]
		return [main]

	def each_kernel(self, kernels: List[T.Kernel], whole: bool, first: bool = True) -> Stage:
		"""FIRST: the first of KERNELS is the first of the run."""
		st = Stage()
		for i, k in enumerate(kernels):
			try:
				st.add(self.kernel_stage(k, first=first and i == 0, whole=whole))
			except Error as e:
				# The rest still runs; this kernel's suites did not.
				say(f'{k.name}: {e}')
				st.tests.append(Test(f'{k.name}.build', subtests=[
					Test('tree_and_build', Status.FAIL, str(e).splitlines()[0],
					     log=str(e).splitlines()[1:])]).finish())
		return st

	def test(self) -> Stage:
		"""Everything "scripts/crcap test" runs: of the mutants, Debian's
		kernels, the policy ablation and the census, the fixed subsets
		M.IN_TEST, Q.IN_TEST_KERNELS, Q.IN_TEST_RULES and CEN.IN_TEST
		("scripts/crcap mutants", "debian" and "census" run them whole).
		The census's tests mostly wait (zdtm polls for its tests' exit), so
		they run beside the second kernel's build and guests."""
		t0 = time.monotonic()
		self.deps(quiet=True)	# .ci/run calls "deps" itself
		kernels = self.kernels()
		st = self.each_kernel(kernels[:1], whole=True)	# CRIU is built here
		census = None
		if not self.req.quick:
			census = CEN.background(lambda: self.census(CEN.HOST_MODES, CEN.IN_TEST))
		st.add(self.each_kernel(kernels[1:], whole=True, first=False))
		if census:
			st.add(census.join())
		if not self.req.quick and len(kernels) > 1:
			st.add(self.debian([k for k in kernels if k.debian], Q.IN_TEST_RULES,
					   Q.IN_TEST_KERNELS, Q.IN_TEST_WORKLOADS))
		st.timings['total'] = time.monotonic() - t0
		return st

	def main_job(self) -> Stage:
		""""scripts/crcap run": one kernel (Debian's 6.12 source, UML) from
		source to verified -- built, its suites on the host and in its
		guests, the series' round trip -- and the tables."""
		t0 = time.monotonic()
		self.deps(quiet=True)
		k = self.kernel()
		st = self.each_kernel([k], whole=False)
		st.timings['total'] = time.monotonic() - t0
		st.lines += crcap_tables.tables(self.results, [f'uml-{k.name}'])
		return st

	# ---------------------------------------------------------- report

	def environment(self) -> dict:
		env = {'host_kernel': platform.release(), 'cpus': os.cpu_count(),
		       'date': time.strftime('%Y-%m-%dT%H:%M:%S%z')}
		p = util.run(['git', '-C', self.top, 'rev-parse', 'HEAD'], capture=True, check=False)
		if p.returncode == 0:
			env['commit'] = p.stdout.strip()
		for spec in T.DEBIAN_KERNELS:
			mk = os.path.join(self.kernel(spec).src, 'Makefile')
			if os.path.exists(mk):
				v = dict(re.findall(r'^(VERSION|PATCHLEVEL|SUBLEVEL) = (\d+)',
						    util.read_text(mk), re.M))
				env[f'uml-{spec}'] = '.'.join(v.get(x, '?') for x in
							      ('VERSION', 'PATCHLEVEL', 'SUBLEVEL'))
		return env

	def kunit_py(self) -> Optional[str]:
		"""The kernel's own kunit.py, from the first unpacked tree."""
		for spec in (self.req.kernel, '6.12', '6.1'):
			try:
				k = self.kernel(spec)
			except Error:
				continue
			cand = os.path.join(k.src, 'tools/testing/kunit/kunit.py')
			if os.path.exists(cand):
				return cand
		return None


def named(t: Test, name: str) -> Test:
	t.name = name
	return t
