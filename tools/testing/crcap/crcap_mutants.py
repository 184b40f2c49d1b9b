# SPDX-License-Identifier: GPL-2.0
"""Mutant kernels: the tree with a wiring patch taken out must fail named
cases; with the whole series taken out (no capability 40), the capability
variants must skip and nothing may fail.

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
import shutil
from dataclasses import dataclass, field
from typing import Dict, List

import crcap_kernel as K
import crcap_tree as T
import crcap_util as util
from crcap_parser import Status, Test
from crcap_tree import Kernel, Project
from crcap_util import Error


@dataclass
class Mutant:
	name: str		# a stable test id: without_0002, without_series
	what: str		# for people
	reverse: List[str]	# patches of the series to reverse, in order
	no_capability: bool = False
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


def mutants(project: Project, kernel: Kernel) -> List[Mutant]:
	"""One mutant per wiring patch the tree carries (but the first, which
	defines the capability), and one without any."""
	tree = T.Tree(project, kernel)
	carried, applied = tree.apply_series()
	base = os.path.join(kernel.build, f'mutants-{kernel.name}')
	out = []
	for p in carried[1:]:
		num = os.path.basename(p)[:4]
		out.append(Mutant(f'without_{num}', f'{kernel.name} without {os.path.basename(p)}',
				  [p], dir=os.path.join(base, f'without_{num}')))
	out.append(Mutant('without_series',
			  f'{kernel.name} without the series (no capability 40)',
			  list(reversed(carried + applied)), no_capability=True,
			  dir=os.path.join(base, 'without_series')))
	return out


def _key(project: Project, kernel: Kernel, m: Mutant) -> str:
	h = hashlib.sha256()
	h.update(K.file_digest(kernel.linux).encode())
	for p in m.reverse:
		h.update(p.encode())
		with open(project.patch_path(p), 'rb') as f:
			h.update(f.read())
	return h.hexdigest()


def _wrap(kernel: Kernel, m: Mutant) -> List[str]:
	"""The mount namespace in which M's copies stand at the tree's paths."""
	userns = [] if os.geteuid() == 0 else ['--map-root-user']
	return ['unshare', '--mount', '--propagation', 'private', *userns, '--',
		'sh', '-c', 'mount --bind "$1" "$3" && mount --bind "$2" "$4" && '
		'shift 4 && exec "$@"', 'crcap-mutant',
		m.src, m.obj, kernel.src, kernel.obj]


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
	K.build_linux(project, kernel, jobs, what=f'mutant {m.name}',
		      obj=m.obj, wrap=_wrap(kernel, m))
	with open(stamp, 'w') as f:
		f.write(key)
	return True


def verdict(m: Mutant, base: Test, got: Test, health: Test) -> Test:
	"""M's leaf: killed when a case that passes on the real kernel fails on
	it; the kernel without the series must fail nothing and skip more."""
	# Ids relative to the suite: the mutant's suite has the same name.
	before = {tid[len(base.name) + 1:]: t.status for tid, t in base.leaves()}
	after = {tid[len(got.name) + 1:]: t for tid, t in got.leaves()}
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
	out = [f'== mutants of {kernel.name}: what each removes, and the cases that caught it']
	for m in ms:
		t = results.get(m.name)
		st = 'KILLED' if t and t.status == Status.PASS else 'SURVIVED' if t else 'NOT RUN'
		if m.no_capability and t and t.status == Status.PASS:
			st = 'DEGRADES'
		out.append(f'{m.name:<16} {st:<9} {len(m.killed_by):4} cases  '
			   f'{", ".join(m.killed_by[:3])}{" ..." if len(m.killed_by) > 3 else ""}'
			   + (f'  [{t.reason}]' if t and t.reason and t.status.failed else ''))
	return out

