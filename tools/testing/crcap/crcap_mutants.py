# SPDX-License-Identifier: GPL-2.0
"""Mutant kernels: the tree with a wiring patch taken out must fail named
cases; so must the tree with a check moved to another user namespace, or
without the CAP_SYS_ADMIN fallback (the edits listed in
tools/testing/crcap/mutants); with the whole series taken out (no capability 40), the
capability variants must skip and nothing may fail.

A mutant never touches the tree it comes from.  Its source is a hard-linked
copy of the tree in which only the files a patch changes get an inode of
their own; its object directory is a copy of the tree's.  The build runs
in a private mount namespace where the copies are bind-mounted over the
original paths, so make sees the original paths, finds every object up
to date but the mutated files', and rebuilds only those: seconds, not a
cold build.  Mutant kernels are kept, keyed by the kernel they derive
from and the patches they reverse; an unchanged tree reuses them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import crcap_kernel as K
import crcap_tree as T
import crcap_util as util
from crcap_parser import Status, Test
from crcap_tree import Kernel, Project
from crcap_util import Error


MUTANTS = 'tools/testing/crcap/mutants'
# What "scripts/crcap test" builds of them ("scripts/crcap mutants" builds
# every one): one of each kind, none that rebuilds most of the kernel -- a
# wiring patch taken out, a check asked of the wrong user namespace, the
# SELinux side, a read made to need the capability.  The whole set costs a
# cold run ~20 minutes of two cores.
IN_TEST = ('without_0004', 'set_tid_asks_caller', 'selinux_cap2_class_ignores_userns',
	   'ns_last_pid_reads_need_cap')


@dataclass
class Edit:
	path: str		# in the tree
	old: str		# lines that must occur exactly once
	new: str


@dataclass
class Mutant:
	name: str		# a stable test id: without_0002, without_series
	what: str		# for people
	reverse: List[str]	# patches of the series to reverse, in order
	no_capability: bool = False
	edits: List[Edit] = field(default_factory=list)
	dir: str = ''
	killed_by: List[str] = field(default_factory=list)

	@property
	def src(self) -> str:
		return os.path.join(self.dir, 'src')

	@property
	def obj(self) -> str:
		return os.path.join(self.dir, 'obj')

	@property
	def linux(self) -> str:
		return os.path.join(self.obj, 'linux')


def parse_edits(text: str, where: str = MUTANTS) -> List[Mutant]:
	"""The stanzas of the mutants file: NAME PATH, a description, then a
	block of ' ' / '-' / '+' lines that changes something and has lines
	to find (context or lines taken out).  A malformed stanza is an error."""
	out: List[Mutant] = []
	for n, stanza in enumerate(re.split(r'\n\n+', text)):
		lines = [ln for ln in stanza.split('\n') if ln and not ln.startswith('#')]
		if not lines:
			continue
		head = lines[0].split()
		block = lines[2:]
		if len(head) != 2 or len(lines) < 3 or any(ln[0] not in ' -+' for ln in block) \
		   or not any(ln[0] in '-+' for ln in block) or not any(ln[0] in ' -' for ln in block):
			raise Error(f'{where}: stanza {n + 1} ("{lines[0][:40]}") is not '
				    'NAME PATH / description / diff block')
		old = ''.join(ln[1:] + '\n' for ln in block if ln[0] in ' -')
		new = ''.join(ln[1:] + '\n' for ln in block if ln[0] in ' +')
		out.append(Mutant(head[0], lines[1], [], edits=[Edit(head[1], old, new)]))
	if len({m.name for m in out}) != len(out):
		raise Error(f'{where}: two mutants have the same name')
	return out


def apply_edits(src: str, m: Mutant) -> None:
	"""Make M's edits in the linked copy SRC (each file gets its own inode
	first: the tree's is never written)."""
	for e in m.edits:
		path = os.path.join(src, e.path)
		with open(path) as f:
			text = f.read()
		if text.count(e.old) != 1:
			raise Error(f'mutant {m.name}: the lines to change occur '
				    f'{text.count(e.old)} times in {e.path}, not once '
				    f'({MUTANTS} is out of date with the tree)')
		os.unlink(path)
		with open(path, 'w') as f:
			f.write(text.replace(e.old, e.new))


def mutants(project: Project, kernel: Kernel,
	    only: Optional[Sequence[str]] = None) -> List[Mutant]:
	"""One mutant per wiring patch the tree carries (but the first, which
	defines the capability), one per edit of the mutants file, and one
	without any of the series; with ONLY, those named (each must exist)."""
	tree = T.Tree(project, kernel)
	carried, applied = tree.apply_series()
	base = os.path.join(kernel.build, f'mutants-{kernel.name}')
	out = []
	for p in carried[1:]:
		num = os.path.basename(p)[:4]
		out.append(Mutant(f'without_{num}', f'{kernel.name} without {os.path.basename(p)}',
				  [p], dir=os.path.join(base, f'without_{num}')))
	spec = os.path.join(project.top, MUTANTS)
	if os.path.exists(spec):
		for m in parse_edits(util.read_text(spec)):
			m.what = f'{kernel.name}: {m.what}'
			m.dir = os.path.join(base, m.name)
			out.append(m)
	out.append(Mutant('without_series',
			  f'{kernel.name} without the series (no capability 40)',
			  list(reversed(carried + applied)), no_capability=True,
			  dir=os.path.join(base, 'without_series')))
	if only is None:
		return out
	missing = sorted(set(only) - {m.name for m in out})
	if missing:
		raise Error(f'no mutant {", ".join(missing)} of {kernel.name} '
			    f'(crcap_mutants.IN_TEST names one that {MUTANTS} lost?)')
	return [m for m in out if m.name in only]


def heavy(m: Mutant) -> bool:
	"""Does M rebuild most of the kernel (a header everybody includes)?"""
	return m.no_capability or any(e.path.startswith('include/') for e in m.edits)


def _key(project: Project, kernel: Kernel, m: Mutant) -> str:
	h = hashlib.sha256()
	h.update(K.file_digest(kernel.linux).encode())
	for p in m.reverse:
		h.update(p.encode())
		with open(project.patch_path(p), 'rb') as f:
			h.update(f.read())
	for e in m.edits:
		h.update(f'{e.path}\0{e.old}\0{e.new}\0'.encode())
	return h.hexdigest()


def wrap(kernel: Kernel, src: str, obj: str) -> List[str]:
	"""The mount namespace in which SRC and OBJ stand at KERNEL's paths."""
	userns = [] if os.geteuid() == 0 else ['--map-root-user']
	return ['unshare', '--mount', '--propagation', 'private', *userns, '--',
		'sh', '-c', 'mount --bind "$1" "$3" && mount --bind "$2" "$4" && '
		'shift 4 && exec "$@"', 'crcap-mutant',
		src, obj, kernel.src, kernel.obj]


def build_at_kernel_paths(project: Project, kernel: Kernel, src: str, obj: str,
			  jobs: int, what: str) -> None:
	"""Builds the tree SRC into OBJ where KERNEL's tree and objects stand
	(a private mount namespace), starting from a copy of KERNEL's objects
	the first time: make rebuilds what differs, by its own rules (files
	whose mtime is newer, and all that depends on them), nothing else."""
	stamp = os.path.join(obj, '.crcap-built-at-kernel-paths')
	if not os.path.exists(stamp):
		shutil.rmtree(obj, ignore_errors=True)
		util.run(['cp', '-a', kernel.obj, obj])
		for f in ('linux', 'vmlinux'):	# never boot a stale copy
			if os.path.exists(os.path.join(obj, f)):
				os.unlink(os.path.join(obj, f))
		open(stamp, 'w').close()
	K.build_linux(project, kernel, jobs, what=what, obj=obj, wrap=wrap(kernel, src, obj))


def build(project: Project, kernel: Kernel, m: Mutant, jobs: int) -> bool:
	"""Builds M unless the kept one is current.  True if it was built."""
	key = _key(project, kernel, m)
	stamp = os.path.join(m.dir, 'key')
	if os.path.exists(m.linux) and util.read_text(stamp).strip() == key:
		return False
	shutil.rmtree(m.dir, ignore_errors=True)
	os.makedirs(m.dir)
	T.linked_copy(kernel.src, m.src)
	util.run(['cp', '-a', kernel.obj, m.obj])
	for f in ('linux', 'vmlinux'):	# never boot a stale copy
		if os.path.exists(os.path.join(m.obj, f)):
			os.unlink(os.path.join(m.obj, f))
	for p in m.reverse:
		path = project.patch_path(p)
		T.unlink_before_patch(m.src, T.patch_files(path))
		ok, out = T._patch(m.src, path, '-R', '-s')
		if not ok:
			raise Error(f'mutant {m.name}: {p} does not reverse: {out.strip()[:300]}')
	apply_edits(m.src, m)
	K.build_linux(project, kernel, jobs, what=f'mutant {m.name}',
		      obj=m.obj, wrap=wrap(kernel, m.src, m.obj))
	with open(stamp, 'w') as f:
		f.write(key)
	return True


# Without the series there is no capability 40: the project's suite must
# degrade (its capability cases skip).  The others are only reported: they
# test what the series adds (the class map's permission under SELinux),
# or are the tree's own (clone3_cap_checkpoint_restore, like any upstream
# selftest of a feature, fails on a kernel without it).
DEGRADING = ('kselftest',)


def _leaves(suites: Dict[str, Test], only=None) -> Dict[str, Test]:
	return {tid: t for name, s in suites.items() if name != 'guest'
		and (only is None or name in only) for tid, t in s.leaves()}


def verdict(m: Mutant, base: Dict[str, Test], got: Dict[str, Test]) -> Test:
	"""M's leaf: killed when a case that passes on the real kernel fails on
	it, in any suite the guest runs; the kernel without the series must
	fail nothing of DEGRADING and skip more."""
	only = DEGRADING if m.no_capability else None
	before = {tid: t.status for tid, t in _leaves(base, only).items()}
	after = _leaves(got, only)
	health = got['guest']
	if health.status.failed:
		bad = [f'{tid}: {t.reason}' for tid, t in health.leaves() if t.status.failed]
		return Test(m.name, Status.FAIL, f'the guest failed: {"; ".join(bad)[:300]}')
	if m.no_capability:
		failed = [tid for tid, t in after.items() if t.status.failed]
		newly_skipped = [tid for tid, t in after.items()
				 if t.status == Status.SKIP and before.get(tid) == Status.PASS]
		if failed:
			return Test(m.name, Status.FAIL,
				    f'{len(failed)} cases fail without capability 40 '
				    f'(they must skip): {", ".join(failed[:3])}')
		if not newly_skipped:
			return Test(m.name, Status.FAIL, 'no case skipped: did the capability go?')
		t = Test(m.name, Status.PASS)
		t.log.append(f'{len(newly_skipped)} cases skip, none fails')
		m.killed_by = newly_skipped
		return t
	m.killed_by = sorted(tid for tid, t in after.items()
			     if t.status.failed and before.get(tid) == Status.PASS)
	if not m.killed_by:
		return Test(m.name, Status.FAIL, f'survived: no case fails on {m.what}')
	t = Test(m.name, Status.PASS)
	t.log.append(f'killed by {len(m.killed_by)} cases: {", ".join(m.killed_by[:4])}')
	return t


def table(kernel: Kernel, ms: List[Mutant], results: Dict[str, Test]) -> List[str]:
	out = [f'== mutants of {kernel.name}: what each changes, and the cases that caught it']
	for m in ms:
		t = results.get(m.name)
		st = 'KILLED' if t and t.status == Status.PASS else 'SURVIVED' if t else 'NOT RUN'
		if m.no_capability and t and t.status == Status.PASS:
			st = 'DEGRADES'
		kind = 'edit' if m.edits else 'patch'
		out.append(f'{m.name:<28} {kind:<5} {st:<9} {len(m.killed_by):4} cases  '
			   f'{", ".join(m.killed_by[:3])}{" ..." if len(m.killed_by) > 3 else ""}'
			   + (f'  [{t.reason}]' if t and t.reason and t.status.failed else ''))
		if m.edits:
			out.append(f'{"":<28} {m.what.split(": ", 1)[-1]}')
	return out
