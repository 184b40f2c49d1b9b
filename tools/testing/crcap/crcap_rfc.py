# SPDX-License-Identifier: GPL-2.0
"""The RFC series: x86_64 kernels built from source, with and without it.

security/checkpoint_restore/rfc/ holds what non-root checkpoint/restore
still lacks, as an RFC series beside the wiring series: never applied to
a tree by default.  This module builds the kernels that measure it, from
the prepared 6.12 tree (Debian's source with the wiring series, the
project's suite overlaid):

  base       the tree as it is
  +NNNN      one kernel patch of the RFC on top of it
  rfc        every patch of the RFC
  mutant-X   the RFC and one mutant of tools/testing/crcap/mutants/rfc/

They share one source copy (.build/rfc-6.12/src) and one object
directory: the copy is brought back to the prepared tree by content
(rsync --checksum: what it rewrites gets a new mtime, so make rebuilds
what the patches touched and nothing else), then the wanted patches are
applied.  The configuration is x86_64_defconfig with QEMU_CONFIG and the
suite's config merged in: the guest loads no modules.  Each image is kept
under a key of its inputs.

The kernels boot as the census's guests do (crcap_qemu.zdtm_initrd(),
crcap_census.run_root()): a kernel crcap built has no package and no
modules.  "scripts/crcap rfc" runs the suite on each, and zdtm in the
census's host modes, and judges the census delta against what
rfc/census writes down: no test that passes on base may fail with the
RFC, and each test the RFC is written to unblock must pass with it (and
with the patch it names alone).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import crcap_census as CEN
import crcap_guest as G
import crcap_kernel as K
import crcap_mutants as M
import crcap_qemu as Q
import crcap_tree as T
import crcap_util as util
from crcap_parser import Status, Test
from crcap_util import Error, say

RFC_DIR = T.RFC_DIR
RFC_SERIES = f'{RFC_DIR}/series'
# What the census is expected to show of the RFC (see read_expected()).
RFC_CENSUS = f'{RFC_DIR}/census'
QEMU_CONFIG = 'tools/testing/crcap/qemu-x86_64.config'
SUITE_CONFIG = 'tools/testing/selftests/checkpoint_restore/config'
MUTANTS = 'tools/testing/crcap/mutants-rfc'
RFC_JOB = 'tools/testing/crcap/crcap-rfc-job.sh'
# The RFC's KUnit tests: the tree's own kunit.py, on UML, with this.
KUNITCONFIG = 'tools/testing/crcap/rfc.kunitconfig'
KUNIT_TIMEOUT = 2400	# a UML build on two cores, and the run
SERIES_NAME = '6.12'	# the tree the RFC applies to
# The census modes the RFC is measured in (the host modes, in guests).
MODES = ('caps', 'userns')
GUEST_TIMEOUT = 300	# the suite's guest
# The container path (far goal): workloads_test.py's runc_path in a guest
# of base and of the RFC, judged against workloads/runc-path's lines for
# a stock kernel and for one with the RFC.
CONTAINER_JOB = 'tools/testing/crcap/crcap-container-job.sh'
CONTAINER_FILES = ('workloads_test.py', 'criu_test.py', 'workloads/expected',
		   'workloads/runc-path')
# runc and its default profile; tar and gzip, which criu runs to dump and
# restore a tmpfs (runc mounts one at the container's /dev).
CONTAINER_PROGRAMS = ('/usr/sbin/runc', '/usr/share/containers/seccomp.json', '/usr/bin/tar',
		      '/usr/bin/gzip')
CONTAINER_TIMEOUT = 1200
# The census "scripts/crcap rfc" runs on each kernel ("--full": every
# test, ~30 min a mode and kernel in two TCG guests): per mode, the tests
# rfc/census says the RFC changes, and tests of the same kind it must not
# change.
IN_RFC = {
	'userns': ('env00', 'maps00', 'memfd02', 'memfd06', 'unlink_mmap00', 'unlink_mmap01',
		   'aio00', 'sk-unix01', 'maps_file_prot', 'unlink_mmap02'),
	# every unix socket test (0002), and controls
	'caps': ('env00', 'maps00', 'unlink_mmap00', 'deleted_unix_sock',
		 'fifo_upon_unix_socket00', 'fifo_upon_unix_socket01', 'scm00', 'scm01', 'scm02',
		 'scm03', 'scm03-seqpacket', 'scm04', 'scm05', 'scm09', 'sk-unix-dgram-ghost',
		 'sk-unix-listen01', 'sk-unix-listen02', 'sk-unix-listen03', 'sk-unix-listen04',
		 'sk-unix-rel', 'sk-unix-rel-seqpacket', 'sk-unix-rel-ghost', 'sk-unix-unconn',
		 'sk-unix-unconn-seqpacket', 'sk-unix01', 'sk-unix01-seqpacket', 'sock_filter00',
		 'sock_filter01', 'socket_queues', 'socket_queues_seqpacket', 'sockets00',
		 'sockets00-seqpacket', 'sockets01', 'sockets01-seqpacket', 'sockets02',
		 'sockets02-seqpacket', 'sockets03', 'sockets03-seqpacket', 'unbound_sock'),
}


@dataclass
class Build:
	"""One kernel of the RFC's: its label and the patches it carries."""
	label: str
	patches: List[str]
	vmlinuz: str = ''
	kselftest: str = ''
	mutant: Optional[M.Mutant] = None	# its edits made after the patches

	def kernel(self) -> Q.DebianKernel:
		"""As the guests boot a kernel: no package, no modules."""
		return Q.DebianKernel(f'crcap-{SERIES_NAME}-{self.label}', '', self.label,
				      self.vmlinuz, SERIES_NAME)


def series(top: str) -> List[str]:
	"""The RFC's patches, in order (paths relative to TOP)."""
	path = os.path.join(top, RFC_SERIES)
	if not os.path.exists(path):
		raise Error(f'no {RFC_SERIES}')
	names = [ln.strip() for ln in util.read_text(path).splitlines()
		 if ln.strip() and not ln.startswith('#')]
	for n in names:
		if not os.path.exists(os.path.join(top, RFC_DIR, n)):
			raise Error(f'{RFC_SERIES} names {n}, which is not there')
	return [f'{RFC_DIR}/{n}' for n in names]


def touches_kernel(top: str, patch: str) -> bool:
	"""Does PATCH change what the kernel does: anything outside tools/
	but KUnit tests (a *_kunit.c file, and the Kconfig and Makefile
	lines that build it, which name KUNIT or kunit)?"""
	text = util.read_text(os.path.join(top, patch))
	for part in re.split(r'^diff --git ', text, flags=re.M)[1:]:
		m = re.search(r'^\+\+\+ b/(\S+)', part, re.M)
		f = m.group(1) if m else part.split()[0][2:]
		if f.startswith('tools/') or f.endswith('_kunit.c'):
			continue
		if os.path.basename(f) in ('Kconfig', 'Makefile') and \
		   re.search(r'^\+.*(KUNIT|kunit)', part, re.M):
			continue
		return True
	return False


def mutants(top: str) -> List[Tuple[M.Mutant, List[str]]]:
	"""MUTANTS (crcap_mutants' stanzas), each with the cases its
	"# killed-by:" lines name."""
	text = util.read_text(os.path.join(top, MUTANTS))
	named: Dict[str, List[str]] = {}
	for stanza in re.split(r'\n\n+', text):
		head = [ln for ln in stanza.split('\n') if ln and not ln.startswith('#')]
		if head:
			named[head[0].split()[0]] = [c for ln in re.findall(
				r'^# killed-by:(.*)$', stanza, re.M) for c in ln.split()]
	return [(m, named.get(m.name, [])) for m in M.parse_edits(text, MUTANTS)]


def builds(top: str, per_patch: bool = True) -> List[Build]:
	"""base, each kernel patch alone (PER_PATCH), the whole RFC."""
	rfc = series(top)
	out = [Build('base', [])]
	kernel_patches = [p for p in rfc if touches_kernel(top, p)]
	if per_patch and len(kernel_patches) > 1:
		out += [Build('+' + os.path.basename(p)[:4], [p]) for p in kernel_patches]
	out.append(Build('rfc', rfc))
	return out


# ---- building ------------------------------------------------------------------

def _digest(top: str, paths: Sequence[str], extra: str = '') -> str:
	h = hashlib.sha256(extra.encode())
	for p in paths:
		h.update(p.encode())
		with open(os.path.join(top, p), 'rb') as f:
			h.update(f.read())
	return h.hexdigest()[:16]


def _sync(base_src: str, src: str) -> None:
	"""SRC becomes BASE_SRC again, by content: a file rsync rewrites gets
	a new mtime, so that make rebuilds what changed, and only that."""
	os.makedirs(src, exist_ok=True)
	util.run(['rsync', '-rlpD', '--checksum', '--delete', base_src + '/', src + '/'],
		 timeout=1200)


def _apply(top: str, src: str, patches: Sequence[str]) -> None:
	for p in patches:
		r = util.run(['patch', '-p1', '--batch', '--forward', '--no-backup-if-mismatch',
			      '-F0', '-i', os.path.join(top, p)], cwd=src, capture=True, check=False)
		if r.returncode:
			raise Error(f'{p} does not apply to the {SERIES_NAME} tree without fuzz:\n'
				    + r.stdout + r.stderr)


def _inputs(base_src: str, b: Build) -> str:
	"""What B's tree is made of besides its patch files: the prepared
	tree's series and overlay, and the edits of its mutant."""
	edits = ''.join(f'{e.path}\n{e.old}\n{e.new}' for e in b.mutant.edits) if b.mutant else ''
	return util.read_text(os.path.join(base_src, '.crcap-series')) + \
		util.read_text(os.path.join(base_src, '.crcap-overlay')) + edits


def _checkout(top: str, base_src: str, src: str, b: Build) -> None:
	"""SRC becomes B's tree: the prepared tree, B's patches, its mutant."""
	_sync(base_src, src)
	_apply(top, src, b.patches)
	if b.mutant:
		M.apply_edits(src, b.mutant)


def configure(top: str, src: str, obj: str) -> None:
	"""x86_64_defconfig, then QEMU_CONFIG and the suite's config; an
	option they ask for that .config lacks is an error."""
	frags = [QEMU_CONFIG, SUITE_CONFIG]
	key = _digest(top, frags)
	stamp = os.path.join(obj, '.crcap-config-sum')
	if os.path.exists(stamp) and util.read_text(stamp) == key:
		return
	os.makedirs(obj, exist_ok=True)
	make = ['make', '-s', '-C', src, f'O={obj}', 'ARCH=x86_64']
	util.run([*make, 'x86_64_defconfig'])
	util.run([os.path.join(src, 'scripts/kconfig/merge_config.sh'), '-m', '-O', obj,
		  os.path.join(obj, '.config'), *[os.path.join(top, f) for f in frags]],
		 capture=True)
	util.run([*make, 'olddefconfig'])
	have = util.read_text(os.path.join(obj, '.config'))
	bad = []
	for f in frags:
		for line in util.read_text(os.path.join(top, f)).splitlines():
			m = re.match(r'^(CONFIG_\w+)=(.*)$', line) or \
				re.match(r'^# (CONFIG_\w+) is not set()', line)
			if not m:
				continue
			want = m.group(2) or 'n'
			got = re.search(rf'^{m.group(1)}=(.*)$', have, re.M)
			if (got.group(1) if got else 'n') != want:
				bad.append(f'{m.group(1)}={want} ({f})')
	if bad:
		raise Error('the x86_64 configuration lacks ' + ', '.join(bad))
	with open(stamp, 'w') as f:
		f.write(key)


def build(top: str, build_dir: str, base_src: str, b: Build, jobs: int,
	  with_selftests: bool = False) -> Build:
	"""The bzImage of B (kept under a key of its inputs), and, if asked,
	the suite built from B's tree."""
	d = os.path.join(build_dir, f'rfc-{SERIES_NAME}')
	src, obj = os.path.join(d, 'src'), os.path.join(d, 'obj')
	key = _digest(top, [QEMU_CONFIG, SUITE_CONFIG, *b.patches], _inputs(base_src, b))
	b.vmlinuz = os.path.join(d, f'bzImage-{b.label}')
	b.kselftest = os.path.join(d, f'kselftest-{b.label}')
	suite = sorted(os.path.relpath(os.path.join(dp, f), top) for dp, _, fs in
		       os.walk(os.path.join(top, 'tools/testing/selftests/checkpoint_restore'))
		       for f in fs)
	tests_key = _digest(top, suite, key)
	need_kernel = not Q.kept(b.vmlinuz, key)
	need_tests = with_selftests and not Q.kept(b.kselftest, tests_key)
	if not need_kernel and not need_tests:
		return b
	t = time.monotonic()
	_checkout(top, base_src, src, b)
	if need_kernel:
		configure(top, src, obj)
		log = os.path.join(d, f'build-{b.label}.log')
		say(f'rfc: building {b.label} ({len(b.patches)} patches; log {log})')
		util.run(['make', '-C', src, f'O={obj}', 'ARCH=x86_64', f'-j{jobs}', 'bzImage'],
			 log=log, timeout=5400)
		shutil.copyfile(os.path.join(obj, 'arch/x86/boot/bzImage'), b.vmlinuz)
		Q.keep(b.vmlinuz, key)
	if need_tests:
		log = os.path.join(d, f'kselftest-{b.label}.log')
		kobj = os.path.join(d, f'kselftest-obj-{b.label}')
		shutil.rmtree(b.kselftest, ignore_errors=True)
		util.run(['make', '-C', os.path.join(src, 'tools/testing/selftests'),
			  'TARGETS=checkpoint_restore', f'O={kobj}', f'INSTALL_PATH={b.kselftest}',
			  'install'], log=log, timeout=1800)
		broken = [ln for ln in util.read_text(log).splitlines()
			  if re.search(r'\*\*\* \[|: error: ', ln)]
		if broken:
			raise Error(f'rfc {b.label}: the suite does not build ({log}):\n  '
				    + '\n  '.join(broken[:10]))
		Q.keep(b.kselftest, tests_key)
	say(f'rfc: {b.label} built in {time.monotonic() - t:.0f} s')
	return b


# ---- KUnit: the tree's kunit.py on UML ----------------------------------------

def kunit(top: str, build_dir: str, base_src: str, b: Build, jobs: int) -> Test:
	"""The RFC's KUnit tests on B's tree, as the tree's own kunit.py runs
	and reports them ("run --arch=um --kunitconfig KUNITCONFIG --json"),
	kept under a key of their inputs: one subtest per case, named
	kunit.SUITE.CASE."""
	d = os.path.join(build_dir, f'rfc-{SERIES_NAME}')
	src = os.path.join(d, 'src')
	key = _digest(top, [KUNITCONFIG, *b.patches], _inputs(base_src, b))
	out = os.path.join(d, f'kunit-{b.label}.json')
	log = os.path.join(d, f'kunit-{b.label}.log')
	t = Test(f'{b.kernel().name}.kunit')
	if not Q.kept(out, key):
		start = time.monotonic()
		_checkout(top, base_src, src, b)
		if os.path.exists(out):
			os.unlink(out)
		say(f'rfc: KUnit of {b.label} (kunit.py on UML; log {log})')
		p = util.run([os.path.join(src, 'tools/testing/kunit/kunit.py'), 'run', '--arch=um',
			      f'--build_dir={os.path.join(d, "kunit-obj")}',
			      f'--kunitconfig={os.path.join(top, KUNITCONFIG)}', f'--jobs={jobs}',
			      f'--json={out}'], cwd=src, log=log, check=False,
			     timeout=KUNIT_TIMEOUT)
		# 0: every case passed; 1: one failed (kunit.py wrote them).
		if p.returncode not in (0, 1) or not os.path.exists(out):
			t.add(Test('run', Status.FAIL, f'kunit.py exited {p.returncode} with no '
				   f'results (log: {log})', log=util.read_text(log).splitlines()[-10:]))
			return t.finish()
		Q.keep(out, key)
		say(f'rfc: KUnit of {b.label} in {time.monotonic() - start:.0f} s')
	return kunit_verdicts(t, util.read_text(out))


def kunit_verdicts(t: Test, text: str) -> Test:
	"""T with a subtest per case of kunit.py's JSON (TEXT): PASS, SKIP, or
	FAIL (a failure, or ERROR: the case crashed); no case is a failure."""
	import json
	status = {'PASS': Status.PASS, 'SKIP': Status.SKIP}

	def walk(group: dict, path: List[str]) -> None:
		for case in group.get('test_cases', ()):
			st = status.get(case['status'], Status.FAIL)
			t.add(Test('.'.join([*path, case['name']]), st,
				   '' if st != Status.FAIL else f'kunit.py: {case["status"]}'))
		for sub in group.get('sub_groups', ()):
			walk(sub, [*path, sub['name']])
	walk(json.loads(text), [])
	if not t.subtests:
		t.add(Test('cases', Status.FAIL, 'kunit.py reported no case'))
	return t.finish()


# ---- the suite in a guest ------------------------------------------------------

def selftest_initrd(top: str, build_dir: str, tree: str, b: Build) -> str:
	"""The census guests' root with B's suite appended."""
	root = Q.zdtm_initrd(top, build_dir, tree, b.kernel())
	d = os.path.join(build_dir, f'rfc-{SERIES_NAME}')
	ks = os.path.join(d, f'kselftest-{b.label}.gz')
	tmp = os.path.join(d, 'kselftest-root')
	shutil.rmtree(tmp, ignore_errors=True)
	bin_dir = os.path.join(tmp, Q.GUEST_DIR.lstrip('/'), 'bin')
	shutil.copytree(b.kselftest, os.path.join(bin_dir, 'kselftest'), symlinks=True)
	shutil.copyfile(os.path.join(top, RFC_JOB), os.path.join(bin_dir, 'crcap-rfc-job.sh'))
	with open(ks, 'wb') as f:
		f.write(G.cpio_gz(tmp))
	shutil.rmtree(tmp)
	out = os.path.join(d, f'initrd-{b.label}.gz')
	Q.concat([root, ks], out)
	return out


def run_selftests(top: str, build_dir: str, tree: str, b: Build, results: str) -> G.GuestRun:
	initrd = selftest_initrd(top, build_dir, tree, b)
	job = f'. {Q.GUEST_DIR}/bin/crcap-rfc-job.sh\n'
	return G.Qemu(b.vmlinuz, initrd, GUEST_TIMEOUT, mem='2048', smp=2).boot(
		os.path.join(results, f'rfc-suite-{b.label}'), job, name=f'rfc-suite-{b.label}')


def container_initrd(top: str, build_dir: str, tree: str, b: Build, tools: str) -> str:
	"""The census guests' root with Debian's runc and seccomp profile,
	workloads_test.py and its files, TOOLS' omp_job and shm_counter, and
	CONTAINER_JOB appended."""
	root = Q.zdtm_initrd(top, build_dir, tree, b.kernel())
	d = os.path.join(build_dir, f'rfc-{SERIES_NAME}')
	tmp = os.path.join(d, 'container-root')
	r = Q.Root(tmp)
	for f in CONTAINER_PROGRAMS:
		if not os.path.exists(f):
			raise Error(f'rfc: no {f} (scripts/crcap deps: runc, '
				    'golang-github-containers-common, tar, gzip)')
		r.add(f)
	for f in CONTAINER_FILES:
		r.add(os.path.join(top, 'tools/checkpoint_restore', f), f'{Q.GUEST_DIR}/workloads/{f}')
	for t in ('omp_job', 'shm_counter'):
		r.add(os.path.join(tools, t), f'{Q.GUEST_DIR}/bin/{t}')
	r.add(os.path.join(top, CONTAINER_JOB), f'{Q.GUEST_DIR}/bin/crcap-container-job.sh', 0o644)
	r.add_libs()
	part = os.path.join(d, 'container-root.gz')
	r.cpio(part)
	shutil.rmtree(tmp)
	out = os.path.join(d, f'initrd-container-{b.label}.gz')
	Q.concat([root, part], out)
	return out


def run_container(top: str, build_dir: str, tree: str, b: Build, tools: str,
		  results: str) -> G.GuestRun:
	"""runc_path in a guest of B, judged as a kernel with the RFC when B
	carries its patches."""
	initrd = container_initrd(top, build_dir, tree, b, tools)
	job = f'CRCAP_KERNEL={"rfc" if b.patches else "stock"}\n' \
	      f'. {Q.GUEST_DIR}/bin/crcap-container-job.sh\n'
	return G.Qemu(b.vmlinuz, initrd, CONTAINER_TIMEOUT, mem='2048', smp=2).boot(
		os.path.join(results, f'rfc-container-{b.label}'), job, name=f'rfc-container-{b.label}')


def container_verdict(b: Build, run: G.GuestRun) -> Test:
	"""crcap-6.12-<label>.container_path: runc_path as workloads_test.py
	judged it, and the guest's health."""
	t = Test(f'{b.kernel().name}.container_path')
	# Not "runc_path", its one case's name: kunit.py parse would take that
	# case's line for the program's own.
	t.add(run.program('workload.runc_path', 'workloads_test'))
	t.add(G.health([run], f'rfc.container.{b.label}'))
	return t.finish()


def suite_verdicts(b: Build, run: G.GuestRun) -> Test:
	"""The suite's programs as subtests of crcap-6.12-<label>.kselftest."""
	ks = Test(f'{b.kernel().name}.kselftest')
	for name in run.blocks:
		if name.startswith('kselftest.checkpoint_restore.'):
			ks.add(run.program(name, name.split('.', 2)[2]))
	if not ks.subtests:
		ks.add(Test('programs', Status.CRASHED if run.failure else Status.FAIL,
			    'no program reported' + (f' ({run.failure})' if run.failure else '')))
	return ks.finish()


def mutant_verdict(m: M.Mutant, want: List[str], rfc: Test, got: Test,
		   health: Test, rfc_kunit: Optional[Test] = None,
		   got_kunit: Optional[Test] = None) -> Test:
	"""crcap_mutants.verdict() (killed when a case that passes on the RFC
	kernel fails on M's: the suite's, and KUnit's where M's KUnit ran),
	and every case WANT names (M's killed-by lines) is among those that
	killed it."""
	def same(name: str, t: Test) -> Test:	# one name on both kernels
		return Test(name, t.status, t.reason, t.subtests)
	base = {'kselftest': same('kselftest', rfc)}
	after = {'kselftest': same('kselftest', got), 'guest': health}
	if rfc_kunit is not None and got_kunit is not None:
		base['kunit'] = same('kunit', rfc_kunit)
		after['kunit'] = same('kunit', got_kunit)
	t = M.verdict(m, base, after)
	if t.status != Status.PASS:
		return t
	if not want:
		return Test(m.name, Status.FAIL, f'{MUTANTS} names no case that kills it')
	missed = [w for w in want if not any(k.endswith(w) for k in m.killed_by)]
	if missed:
		return Test(m.name, Status.FAIL, 'not killed by ' + ', '.join(missed)
			    + f' (killed by {", ".join(m.killed_by[:4])})')
	t.log.append('named: ' + ', '.join(want))
	return t


# ---- the census delta --------------------------------------------------------------

@dataclass
class Gain:
	"""A line of rfc/census: in MODE, TEST goes from BEFORE (on base) to
	AFTER with the RFC, because of PATCH (the NNNN of the kernel patch
	that does it alone)."""
	mode: str
	test: str
	before: str
	after: str
	patch: str
	why: str = ''


def read_expected(top: str) -> List[Gain]:
	"""rfc/census: "mode test before after NNNN why..." per line."""
	path = os.path.join(top, RFC_CENSUS)
	if not os.path.exists(path):
		return []
	out = []
	for ln in util.read_text(path).splitlines():
		if not ln.strip() or ln.startswith('#'):
			continue
		f = ln.split(None, 5)
		if len(f) < 5 or f[2] not in CEN.OUTCOMES or f[3] not in CEN.OUTCOMES:
			raise Error(f'{RFC_CENSUS}: not "mode test before after NNNN why": {ln}')
		out.append(Gain(f[0], f[1], f[2], f[3], f[4], f[5] if len(f) > 5 else ''))
	return out


@dataclass
class Delta:
	"""What the census saw per build label, mode and test."""
	results: Dict[str, Dict[str, Dict[str, CEN.Outcome]]] = field(default_factory=dict)
	seconds: Dict[str, float] = field(default_factory=dict)
	guests: List[G.GuestRun] = field(default_factory=list)


def judge_delta(top: str, d: Delta, gains: List[Gain]) -> Test:
	"""rfc.census: per mode, no test that passes on base fails with the
	RFC; each written gain is seen, with the RFC and with its patch
	alone (where that kernel ran); a change nobody wrote down is news."""
	suite = Test('rfc.census')
	base, rfc = d.results.get('base', {}), d.results.get('rfc', {})
	written = {(g.mode, g.test): g for g in gains}
	# What census/expected calls flaky may go either way on any kernel.
	flaky = {k for k, e in CEN.expected(top).items() if CEN.cause_kind(e.cause) == 'flaky'}
	for mode in sorted(set(base) & set(rfc)):
		lost, news = [], []
		for t, o in sorted(base[mode].items()):
			after = rfc[mode].get(t)
			if after is None:
				continue
			if o.outcome == after.outcome:
				continue
			if (mode, t) in flaky:
				suite.add(Test(f'{mode}.{t}', Status.PASS,
					       log=[f'{o.outcome} -> {after.outcome}: flaky '
						    f'({CEN.EXPECTED})']))
			elif o.outcome == 'pass':
				lost.append(f'{t} ({after.detail[:80]})')
			elif (mode, t) not in written:
				news.append(f'{t}: {o.outcome} -> {after.outcome}')
		suite.add(Test(f'{mode}.no_test_that_passed_fails',
			       Status.FAIL if lost else Status.PASS,
			       '; '.join(lost[:8]), log=lost))
		suite.add(Test(f'{mode}.no_change_unwritten', Status.FAIL if news else Status.PASS,
			       f'{len(news)} changes not in {RFC_CENSUS}: ' + '; '.join(news[:6])
			       if news else '', log=news))
	for g in gains:
		got = []
		for label, want in (('base', g.before), ('rfc', g.after),
				    (f'+{g.patch}', g.after)):
			o = d.results.get(label, {}).get(g.mode, {}).get(g.test)
			if o is not None and o.outcome != want:
				got.append(f'{label}: {o.outcome}, not {want}')
		ran = any(g.test in d.results.get(lb, {}).get(g.mode, {}) for lb in ('base', 'rfc'))
		if not ran:
			continue
		suite.add(Test(f'{g.mode}.{g.test}', Status.FAIL if got else Status.PASS,
			       '; '.join(got)))
	if not suite.subtests:
		suite.add(Test('ran', Status.FAIL, 'no mode ran on both base and the RFC'))
	return suite.finish()


def delta_table(d: Delta, labels: Sequence[str]) -> List[str]:
	"""Pass/fail/skip per mode and kernel, then each test that changes."""
	out = ['| mode | ' + ' | '.join(labels) + ' |', '|---|' + '---|' * len(labels)]
	modes = sorted({m for lb in labels for m in d.results.get(lb, {})})
	for m in modes:
		cells = []
		for lb in labels:
			r = d.results.get(lb, {}).get(m)
			if not r:
				cells.append('-')
				continue
			n = {o: sum(1 for x in r.values() if x.outcome == o) for o in CEN.OUTCOMES}
			cells.append(f'{n["pass"]}/{n["fail"]}/{n["skip"]}')
		out.append(f'| {m} | ' + ' | '.join(cells) + ' |')
	changed = []
	for m in modes:
		tests = sorted({t for lb in labels for t in d.results.get(lb, {}).get(m, {})})
		for t in tests:
			row = [d.results.get(lb, {}).get(m, {}).get(t) for lb in labels]
			seen = {o.outcome for o in row if o}
			if len(seen) > 1:
				changed.append(f'| {m} {t} | ' + ' | '.join(
					o.outcome if o else '-' for o in row) + ' |')
	if changed:
		out += ['', '| changed | ' + ' | '.join(labels) + ' |',
			'|---|' + '---|' * len(labels), *changed]
	return out


def census_key(b: Build, tree: str, mode: str) -> str:
	"""What a census of B names: its kernel (the image's key), the CRIU
	tree (keyed on CRIU's series) and the mode."""
	kernel = util.read_text(b.vmlinuz + '.key') if os.path.exists(b.vmlinuz + '.key') else ''
	h = hashlib.sha256('\n'.join([kernel, os.path.realpath(tree), mode]).encode())
	return h.hexdigest()[:16]


def kept_census(out: str, b: Build, mode: str, key: str,
		tests: Sequence[str]) -> Optional[Dict[str, CEN.Outcome]]:
	"""TESTS of a census of B in MODE that this run or an earlier one
	made under KEY (a whole census costs half an hour a kernel and mode:
	a subset of it is taken from it), or None."""
	import json
	path = os.path.join(out, f'census-{b.label}-{mode}.json')
	if not os.path.exists(path):
		return None
	with open(path) as f:
		doc = json.load(f)
	if doc.get('key') != key or any(t not in doc['tests'] for t in tests):
		return None
	return {t: CEN.Outcome(doc['tests'][t]['outcome'], doc['tests'][t]['detail'])
		for t in tests}


def keep_census(out: str, b: Build, mode: str, key: str,
		got: Dict[str, CEN.Outcome]) -> None:
	"""GOT, kept under KEY, with what an earlier census under the same
	key saw of other tests (a subset run leaves the whole one whole)."""
	import json
	path = os.path.join(out, f'census-{b.label}-{mode}.json')
	if os.path.exists(path):
		with open(path) as f:
			doc = json.load(f)
		if doc.get('key') == key:
			got = {**{t: CEN.Outcome(o['outcome'], o['detail'])
				  for t, o in doc['tests'].items()}, **got}
	with open(path + '.tmp', 'w') as f:
		json.dump({'key': key, 'kernel': b.kernel().name, 'mode': mode, 'tests': {
			t: {'outcome': o.outcome, 'detail': o.detail} for t, o in got.items()}},
			f, indent=1, sort_keys=True)
	os.replace(path + '.tmp', path)


def census(top: str, build_dir: str, tree: str, b: Build, modes: Sequence[str],
	   tests: Sequence[str], out: str) -> Tuple[Dict[str, Dict[str, CEN.Outcome]],
						    List[G.GuestRun], Dict[str, float]]:
	"""zdtm on TESTS in each of MODES, in guests of B (one kept under the
	same key is taken again)."""
	got, runs, secs = {}, [], {}
	for m in modes:
		t = time.monotonic()
		key = census_key(b, tree, m)
		kept = kept_census(out, b, m, key, tests)
		if kept is not None:
			say(f'rfc census {b.label} {m}: {len(tests)} tests, kept ({key})')
			got[m], secs[m] = kept, 0.0
			continue
		say(f'rfc census {b.label} {m}: {len(tests)} tests')
		# Both cores busy even for a subset: a guest is one TCG thread.
		per = min(CEN.ROOT_CHUNK, -(-len(tests) // CEN.ROOT_GUESTS))
		res, r = CEN.run_root(top, build_dir, b.kernel(), tree, list(tests), out,
				      tag=f'{b.label}-{m}', mode=CEN.MODES[m], chunk=max(1, per))
		got[m], secs[m] = res, time.monotonic() - t
		runs += r
		if all(not x.failure for x in r):
			keep_census(out, b, m, key, res)
	return got, runs, secs


# ---- scripts/crcap rfc ---------------------------------------------------------------

def run(c, tests: Optional[Sequence[str]], modes: Sequence[str], quick: bool,
	full: bool = False):
	"""The RFC's kernels (base, each patch, the RFC, its mutants), the
	suite in a guest of each, and the census delta: TESTS (default:
	IN_RFC's, FULL: every census test) in MODES on base and the RFC, then
	the tests that changed on each single-patch kernel.  QUICK: base and
	the RFC, the suite and the census, no single-patch kernels and no
	mutants."""
	from crcap_stages import Stage
	t0 = time.monotonic()
	k = c.kernel(SERIES_NAME)
	c.prepare(k)
	tree = CEN.prepare(c.top, c.build, c.jobs)
	all_tests, _ = CEN.candidates(tree, CEN.excluded(c.top))
	plan = {m: list(tests or (all_tests if full else IN_RFC.get(m, ()))) for m in modes}
	unknown = sorted({t for want in plan.values() for t in want if t not in all_tests})
	if unknown:
		raise Error(f'rfc: not among the census tests: {", ".join(unknown)}')
	out = os.path.join(c.results, 'rfc')
	os.makedirs(out, exist_ok=True)
	st = Stage()
	bs = builds(c.top, per_patch=not quick)
	by = {b.label: b for b in bs}
	for b in bs:
		build(c.top, c.build, k.src, b, c.jobs, with_selftests=b.label in ('base', 'rfc'))
	st.timings['rfc kernels'] = time.monotonic() - t0
	# The suite: every case passes with the RFC; on base, the cases of
	# the RFC's grants fail (shown by the mutants, which are judged by name).
	t = time.monotonic()
	suite_runs = []
	for label in ('rfc',):
		run_ = run_selftests(c.top, c.build, tree, by[label], out)
		suite_runs.append(run_)
		st.tests.append(suite_verdicts(by[label], run_))
	rfc_suite = st.tests[-1]
	# KUnit: the tree's kunit.py on UML, with the RFC.
	rfc_kunit = kunit(c.top, c.build, k.src, by['rfc'], c.jobs)
	st.tests.append(rfc_kunit)
	if not quick:
		killed = Test('rfc.mutants')
		ms = mutants(c.top)
		for m, want in ms:
			mb = Build(f'mutant-{m.name}', series(c.top), mutant=m)
			build(c.top, c.build, k.src, mb, c.jobs, with_selftests=True)
			run_ = run_selftests(c.top, c.build, tree, mb, out)
			# KUnit too for a mutant a KUnit case is written to kill.
			mk = kunit(c.top, c.build, k.src, mb, c.jobs) \
				if any(w.startswith('kunit.') for w in want) else None
			killed.add(mutant_verdict(m, want, rfc_suite, suite_verdicts(mb, run_),
						  G.health([run_], f'rfc.{m.name}'), rfc_kunit, mk))
		if not killed.subtests:
			killed.add(Test('mutants', Status.FAIL, f'no mutant in {MUTANTS}'))
		st.tests.append(killed.finish())
		st.lines += M.table(k, [m for m, _ in ms], {t.name: t for t in killed.subtests})
	st.tests.append(G.health(suite_runs, 'rfc.suite'))
	st.timings['rfc suite'] = time.monotonic() - t
	# The far goal: a rootless runc container, step by step (base, rfc).
	t = time.monotonic()
	tools = K.build_tools(c.project, c.build)
	for label in ('base', 'rfc'):
		run_ = run_container(c.top, c.build, tree, by[label], tools, out)
		st.tests.append(container_verdict(by[label], run_))
		st.lines += [f'container path, {label}:', *[ln[2:] for ln in run_.blocks.get(
			'workload.runc_path', G.Block([], None, 0)).lines if ln.startswith('# ')]]
	st.timings['rfc container path'] = time.monotonic() - t
	# The census delta.
	d = Delta()
	for label in ('base', 'rfc'):
		for m in modes:
			got, runs, secs = census(c.top, c.build, tree, by[label], [m], plan[m], out)
			d.results.setdefault(label, {}).update(got)
			d.guests += runs
			d.seconds.update({f'{label} {m_}': s for m_, s in secs.items()})
	for b in bs:
		if b.label in ('base', 'rfc'):
			continue
		for m in modes:
			changed = [t for t in plan[m] if d.results['base'][m][t].outcome !=
				   d.results['rfc'][m][t].outcome]
			if changed:
				got, runs, secs = census(c.top, c.build, tree, b, [m], changed, out)
				d.results.setdefault(b.label, {}).update(got)
				d.guests += runs
				d.seconds.update({f'{b.label} {m}': s for m, s in secs.items()})
	st.tests.append(judge_delta(c.top, d, read_expected(c.top)))
	if d.guests:	# none when every census was kept
		st.tests.append(G.health(d.guests, 'rfc.census'))
	st.timings.update({f'rfc census {k_}': s for k_, s in d.seconds.items()})
	labels = [b.label for b in bs]
	st.lines += ['RFC census (' + ', '.join(f'{m}: {len(plan[m])} tests' for m in modes)
		     + f'), kernels built from Debian\'s {SERIES_NAME} source (pass/fail/skip):',
		     *delta_table(d, labels)]
	write_json(d, os.path.join(out, 'rfc.json'))
	st.lines.append(f'rfc: {os.path.join(out, "rfc.json")}')
	return st


def write_json(d: Delta, path: str) -> None:
	import json
	doc = {'kernels': {lb: {m: {t: {'outcome': o.outcome, 'detail': o.detail}
				    for t, o in r.items()} for m, r in res.items()}
			   for lb, res in d.results.items()},
	       'seconds': d.seconds}
	with open(path, 'w') as f:
		json.dump(doc, f, indent=1, sort_keys=True)


# ---- scripts/crcap census --kernel K -------------------------------------------

def guest_kernel(c, spec: str) -> Q.DebianKernel:
	"""K of "census --kernel K": Debian's newest of a series (and
	flavour), or a kernel built here from the 6.12 source, with the RFC
	or one of its patches."""
	m = re.fullmatch(r'debian-(6\.1|6\.12)(?:-(amd64|cloud-amd64))?', spec)
	if m:
		flavour = m.group(2) or ('cloud-amd64' if m.group(1) == '6.12' else 'amd64')
		return Q.debian_kernels(c.build, (m.group(1),), [(m.group(1), flavour)])[0]
	m = re.fullmatch(rf'crcap-{re.escape(SERIES_NAME)}(?:\+(rfc|\d{{4}}))?', spec)
	if not m:
		raise Error(f'census --kernel {spec}: not debian-6.12, debian-6.1[-FLAVOUR], '
			    f'crcap-{SERIES_NAME}, crcap-{SERIES_NAME}+rfc or crcap-{SERIES_NAME}+NNNN')
	k = c.kernel(SERIES_NAME)
	c.prepare(k)
	want = m.group(1)
	if not want:
		b = Build('base', [])
	elif want == 'rfc':
		b = Build('rfc', series(c.top))
	else:
		ps = [p for p in series(c.top) if os.path.basename(p).startswith(want)]
		if not ps:
			raise Error(f'census --kernel {spec}: no patch {want} in {RFC_SERIES}')
		b = Build('+' + want, ps)
	return build(c.top, c.build, k.src, b, c.jobs).kernel()


def census_on(c, spec: str, modes: Sequence[str], tests: Optional[Sequence[str]]):
	"""scripts/crcap census --kernel SPEC: the modes in guests of it; a
	table per mode, JSON, and where it differs from the host's
	expectations (reported: those are the host's)."""
	from crcap_stages import Stage
	t = time.monotonic()
	k = guest_kernel(c, spec)
	if not k.package and any(CEN.MODES[m].selinux for m in modes):
		raise Error(f'census --kernel {spec}: the SELinux modes run in Debian\'s kernels '
			    '(debian-6.12, debian-6.1), under Debian\'s policy')
	out = os.path.join(c.results, 'census', k.name)
	cen = CEN.run_in_guests(c.top, c.build, c.jobs, k, out, modes, tests or None)
	st = Stage([G.health(cen.guests, f'census.{k.name}')], {'census': time.monotonic() - t})
	st.timings.update({f'census {m}': s for m, s in cen.seconds.items()})
	CEN.write_json(c.top, cen, os.path.join(out, 'census.json'))
	st.lines += CEN.table(c.top, cen)
	diff = CEN.host_differences(c.top, cen)
	st.lines += [f'{len(diff)} outcomes differ from the host\'s expectations:', *diff]
	st.lines += CEN.selinux_lines(cen)
	st.lines.append(f'census: {os.path.join(out, "census.json")}')
	if c.req.record:
		with open(c.req.record, 'w') as f:
			f.write('\n'.join(CEN.draft_expected(cen, CEN.expected(c.top))) + '\n')
	return st
