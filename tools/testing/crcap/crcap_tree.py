# SPDX-License-Identifier: GPL-2.0
"""Kernel trees: unpack Debian's source, overlay the project, apply the
series without fuzz, make linked copies, and the series' round trip.

A tree crcap builds is always its own: Debian's source unpacked under the
build directory, or a linked copy (hard links, refreshed with rsync) of a
tree the user names with --kernel, so the user's tree is never written.
Files crcap writes into a tree are replaced (written aside and renamed),
never edited in place, so a hard link to another tree is never changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import crcap_util as util
from crcap_util import Error, say

SERIES_DIR = 'security/checkpoint_restore/patches'
# The RFC series (crcap_rfc.py): patches, never files of a tree.
RFC_DIR = 'security/checkpoint_restore/rfc'
# Fixes to UML itself that every UML tree crcap builds gets, and no
# submission carries (each patch says why it is needed).
UML_FIXES_DIR = 'tools/testing/crcap/uml-fixes'
ST_DIR = 'tools/testing/selftests/checkpoint_restore'
DEBIAN_KERNELS = ('6.12', '6.1')
# Project paths that are new files in a kernel tree (copied in place).
OVERLAY_ROOTS = ('tools/testing/selftests', 'security', 'Documentation')


@dataclass
class Kernel:
	"""One kernel crcap tests: where its source, build and results live."""
	name: str		# 6.12, 6.1 or tree-<basename>: part of test ids
	build: str		# CRCAP_BUILD
	user_tree: Optional[str] = None

	@property
	def debian(self) -> bool:
		return self.user_tree is None

	@property
	def src(self) -> str:
		if self.debian:
			return os.path.join(self.build, f'linux-source-{self.name}')
		return os.path.join(self.build, f'linux-{self.name}')

	@property
	def tarball(self) -> str:
		return f'/usr/src/linux-source-{self.name}.tar.xz'

	@property
	def obj(self) -> str:
		return os.path.join(self.build, f'um-{self.name}')

	@property
	def kselftest(self) -> str:
		return os.path.join(self.build, f'kselftest-{self.name}')

	@property
	def selinux(self) -> str:
		return os.path.join(self.build, f'selinux-{self.name}')

	@property
	def extmod(self) -> str:
		return os.path.join(self.build, f'extmod-{self.name}')

	@property
	def pristine(self) -> str:
		return os.path.join(self.build, f'pristine-{self.name}')

	@property
	def linux(self) -> str:
		return os.path.join(self.obj, 'linux')


def kernel_for(spec: str, build: str) -> Kernel:
	if spec in DEBIAN_KERNELS:
		return Kernel(spec, build)
	path = os.path.abspath(spec)
	if not (os.path.isfile(os.path.join(path, 'Makefile')) and
		os.path.isdir(os.path.join(path, 'kernel'))):
		raise Error(f'--kernel {spec}: not 6.12, 6.1 or the path of a kernel '
			    'source tree (no Makefile and kernel/ there)')
	return Kernel('tree-' + os.path.basename(path.rstrip('/')), build, path)


class Project:
	"""The checkout: its files, its series, its config fragments."""

	def __init__(self, top: str):
		self.top = top

	def files(self, *paths: str) -> List[str]:
		"""The project's files under PATHS (git's view in a checkout)."""
		try:
			out = util.run(['git', '-C', self.top, 'ls-files', '-co', '--exclude-standard',
					'-z', '--', *paths], capture=True).stdout
			names = [n for n in out.split('\0') if n]
			return sorted(n for n in names
				      if os.path.isfile(os.path.join(self.top, n)))
		except (OSError, Error):
			found = []
			for p in paths:
				for d, _, fs in os.walk(os.path.join(self.top, p)):
					found += [os.path.relpath(os.path.join(d, f), self.top)
						  for f in fs]
			return sorted(found)

	def overlay_files(self) -> List[str]:
		return [f for f in self.files(*OVERLAY_ROOTS)
			if not f.startswith((SERIES_DIR + '/', RFC_DIR + '/'))]

	def series_file(self, kernel: Kernel) -> str:
		s = os.path.join(self.top, SERIES_DIR, 'series')
		return s + '.' + kernel.name if os.path.exists(s + '.' + kernel.name) else s

	def series(self, kernel: Kernel) -> List[str]:
		"""The patches for KERNEL, in order, relative to SERIES_DIR."""
		out = []
		with open(self.series_file(kernel)) as f:
			for line in f:
				line = line.split('#', 1)[0].strip()
				if line:
					if not os.path.isfile(self.patch_path(line)):
						raise Error(f'the series names {line}, which is not '
							    f'in {SERIES_DIR}')
					out.append(line)
		return out

	def patch_path(self, patch: str) -> str:
		return os.path.join(self.top, SERIES_DIR, patch)

	def uml_fixes(self) -> List[str]:
		"""The UML fixes' paths, in order."""
		d = os.path.join(self.top, UML_FIXES_DIR)
		return sorted(os.path.join(d, f) for f in os.listdir(d)
			      if f.endswith('.patch')) if os.path.isdir(d) else []

	def uml_fixes_id(self) -> str:
		h = hashlib.sha256()
		for p in self.uml_fixes():
			h.update(os.path.basename(p).encode() + b'\0')
			with open(p, 'rb') as f:
				h.update(f.read())
		return h.hexdigest()


def patch_files(path: str) -> List[str]:
	"""The files a patch touches (its +++ lines)."""
	out = []
	with open(path, errors='replace') as f:
		for line in f:
			if line.startswith('+++ b/'):
				out.append(line[6:].rstrip('\n').split('\t')[0])
	return out


def _patch(src: str, patch: str, *args: str) -> Tuple[bool, str]:
	"""GNU patch without fuzz: a hunk applies exactly or not at all."""
	p = util.run(['patch', '-d', src, '-p1', '-f', '--fuzz=0',
		      '--no-backup-if-mismatch', *args, '-i', patch], capture=True, check=False)
	return p.returncode == 0, p.stdout


def applies(src: str, patch: str) -> bool:
	return _patch(src, patch, '-N', '--dry-run', '-s')[0]


def is_applied(src: str, patch: str) -> bool:
	return _patch(src, patch, '-R', '--dry-run', '-s')[0]


def replace_file(dst: str, data_from: Optional[str]) -> None:
	"""DST becomes a copy of DATA_FROM (None: removed), through a new inode."""
	if data_from is None:
		if os.path.lexists(dst):
			os.unlink(dst)
		return
	os.makedirs(os.path.dirname(dst), exist_ok=True)
	fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dst), prefix='.crcap-')
	os.close(fd)
	shutil.copy2(data_from, tmp)
	os.replace(tmp, dst)


def unlink_before_patch(src: str, files: List[str]) -> None:
	"""Gives each of FILES in SRC an inode of its own (a linked copy must
	not write through to the tree it was linked from)."""
	for f in files:
		p = os.path.join(src, f)
		if os.path.isfile(p) and os.stat(p).st_nlink > 1:
			replace_file(p, p)


def _write(path: str, text: str) -> None:
	tmp = path + '.tmp'
	with open(tmp, 'w') as f:
		f.write(text)
	os.replace(tmp, path)


class Tree:
	"""Prepares KERNEL's source: unpacked/refreshed, overlaid, patched."""

	def __init__(self, project: Project, kernel: Kernel):
		self.project = project
		self.kernel = kernel

	# ---------------------------------------------------------- pristine

	def pristine_files(self, files: List[str]) -> Dict[str, Optional[str]]:
		"""Where the distribution's own copy of each of FILES is (None: the
		distribution has no such file)."""
		k = self.kernel
		if not k.debian:
			return {f: (os.path.join(k.user_tree, f)
				    if os.path.isfile(os.path.join(k.user_tree, f)) else None)
				for f in files}
		os.makedirs(k.pristine, exist_ok=True)
		absent_list = os.path.join(k.pristine, '.absent')
		absent = set(util.read_text(absent_list).split())
		missing = [f for f in files
			   if f not in absent and not os.path.exists(os.path.join(k.pristine, f))]
		if missing:
			top = f'linux-source-{k.name}'
			util.run(['tar', '-C', k.pristine, '-xf', k.tarball,
				  '--strip-components=1', '--ignore-failed-read',
				  *[f'{top}/{f}' for f in missing]], capture=True, check=False)
			for f in missing:
				if not os.path.exists(os.path.join(k.pristine, f)):
					absent.add(f)
			_write(absent_list, ''.join(f + '\n' for f in sorted(absent)))
		return {f: (None if f in absent else os.path.join(k.pristine, f))
			for f in files}

	# ---------------------------------------------------------- source

	def unpack(self) -> None:
		k = self.kernel
		if k.debian:
			stamp = os.path.join(k.src, '.crcap-unpacked')
			if os.path.exists(stamp):
				return
			if not os.path.isfile(k.tarball):
				raise Error(f'{k.tarball} is missing: run "scripts/crcap deps" '
					    f'(Debian package linux-source-{k.name})')
			shutil.rmtree(k.src, ignore_errors=True)
			say(f'tree {k.name}: unpacking {k.tarball}')
			util.run(['tar', '-C', k.build, '-xf', k.tarball])
			open(stamp, 'w').close()
			return
		# A user's tree: a linked copy, brought up to date with it.  rsync
		# links files unchanged since the last refresh and replaces the
		# rest, the files crcap changed among them.
		os.makedirs(k.src, exist_ok=True)
		say(f'tree {k.name}: linked copy of {k.user_tree}')
		util.run(['rsync', '-a', '--delete', '--exclude=/.git',
			  f'--link-dest={k.user_tree}/', f'{k.user_tree}/', f'{k.src}/'])
		for f in ('.crcap-series', '.crcap-overlay', '.crcap-uml-fixes'):
			if os.path.exists(os.path.join(k.src, f)):
				os.unlink(os.path.join(k.src, f))

	def overlay(self) -> None:
		"""Copies the project's kernel files in; removes the ones that left
		the project since the last overlay (the manifest remembers)."""
		src = self.kernel.src
		manifest = os.path.join(src, '.crcap-overlay')
		files = self.project.overlay_files()
		old = set(util.read_text(manifest).split('\n')) - {''}
		changed = 0
		for f in files:
			a = os.path.join(self.project.top, f)
			b = os.path.join(src, f)
			if not _same(a, b):
				replace_file(b, a)
				changed += 1
		gone = sorted(old - set(files))
		back = self.pristine_files(gone) if gone else {}
		for f in gone:
			replace_file(os.path.join(src, f), back.get(f))
		_write(manifest, ''.join(f + '\n' for f in files))
		if changed or gone:
			say(f'tree {self.kernel.name}: overlay: {changed} files updated'
			    + (f', {len(gone)} removed ({", ".join(gone[:3])})' if gone else ''))

	def series_id(self) -> str:
		h = hashlib.sha256()
		for p in self.project.series(self.kernel):
			h.update(p.encode() + b'\0')
			with open(self.project.patch_path(p), 'rb') as f:
				h.update(f.read())
		return h.hexdigest()

	def apply_series(self) -> Tuple[List[str], List[str]]:
		"""Applies the series to the tree from the distribution's files
		(idempotent; a changed series starts again from them).  Returns
		(patches the distribution carries, patches applied)."""
		k = self.kernel
		state = os.path.join(k.src, '.crcap-series')
		series = self.project.series(k)
		sid = self.series_id()
		lines = util.read_text(state).splitlines()
		if lines and lines[0] == sid:
			carried = [ln[8:] for ln in lines[1:] if ln.startswith('carried ')]
			applied = [ln[8:] for ln in lines[1:] if ln.startswith('applied ')]
			return carried, applied
		# Start from the distribution's copy of every file a patch of the
		# old or the new series touches.
		touched = sorted({f for p in series
				  for f in patch_files(self.project.patch_path(p))} |
				 {ln[8:] for ln in lines[1:] if ln.startswith('touched ')})
		for f, orig in self.pristine_files(touched).items():
			dst = os.path.join(k.src, f)
			if orig is None:
				replace_file(dst, None)
			elif not _same(orig, dst):
				replace_file(dst, orig)
		carried, applied = [], []
		for p in series:
			path = self.project.patch_path(p)
			if is_applied(k.src, path):
				carried.append(p)
				continue
			unlink_before_patch(k.src, patch_files(path))
			ok, out = _patch(k.src, path, '-N')
			if not ok:
				hunks = [ln for ln in out.splitlines()
					 if 'FAILED' in ln or 'patching file' in ln or 'malformed' in ln]
				raise Error(f'patch {p} does not apply to {k.name} without fuzz:\n  '
					    + '\n  '.join(hunks[-8:]))
			applied.append(p)
		_write(state, '\n'.join([sid] + [f'carried {p}' for p in carried] +
					 [f'applied {p}' for p in applied] +
					 [f'touched {f}' for f in touched]) + '\n')
		say(f'tree {k.name}: series: {len(carried)} of {len(series)} patches '
		    f'already in the distribution\'s tree, {len(applied)} applied')
		return carried, applied

	def apply_uml_fixes(self) -> List[str]:
		"""Applies the UML fixes after the series (idempotent; changed
		fixes start again from the distribution's files).  Returns the
		fixes applied or already there."""
		k = self.kernel
		state = os.path.join(k.src, '.crcap-uml-fixes')
		fid = self.project.uml_fixes_id()
		lines = util.read_text(state).splitlines()
		if lines and lines[0] == fid:
			return [ln[6:] for ln in lines[1:] if ln.startswith('fixed ')]
		fixes = self.project.uml_fixes()
		touched = sorted({f for p in fixes for f in patch_files(p)} |
				 {ln[8:] for ln in lines[1:] if ln.startswith('touched ')})
		# Fixed before with other fixes: start again from the distribution's
		# files (a tree never fixed has them already).
		for f, orig in (self.pristine_files(touched) if lines else {}).items():
			dst = os.path.join(k.src, f)
			if orig is not None and not _same(orig, dst):
				replace_file(dst, orig)
		done = apply_uml_fixes(k.src, fixes, strict=k.debian)
		_write(state, '\n'.join([fid] + [f'fixed {p}' for p in done] +
					 [f'touched {f}' for f in touched]) + '\n')
		return done

	def prepare(self) -> None:
		self.unpack()
		self.overlay()
		self.apply_series()
		self.apply_uml_fixes()


def apply_uml_fixes(src: str, fixes: List[str], strict: bool = True) -> List[str]:
	"""Applies each of FIXES to the tree SRC unless it is there already.
	A fix that does not apply is an error in a tree crcap knows (STRICT),
	and left out, with a note, in a user's tree (a newer UML may have
	fixed the same thing its own way)."""
	done = []
	for p in fixes:
		name = os.path.basename(p)
		if not is_applied(src, p):
			unlink_before_patch(src, patch_files(p))
			ok, out = _patch(src, p, '-N')
			if not ok:
				if strict:
					raise Error(f'UML fix {name} does not apply to {src} '
						    f'without fuzz:\n  ' + out.strip()[-400:])
				say(f'tree {os.path.basename(src)}: UML fix {name} does not '
				    'apply: left out')
				continue
		done.append(name)
	return done


def _same(a: str, b: str) -> bool:
	try:
		sa, sb = os.stat(a), os.stat(b)
	except OSError:
		return False
	if sa.st_size != sb.st_size:
		return False
	if (sa.st_ino, sa.st_dev) == (sb.st_ino, sb.st_dev):
		return True
	with open(a, 'rb') as fa, open(b, 'rb') as fb:
		return fa.read() == fb.read()


def linked_copy(src: str, dst: str) -> None:
	"""DST: a hard-linked copy of SRC (seconds for a kernel tree)."""
	if os.path.isdir(dst):
		return
	tmp = dst + '.tmp'
	shutil.rmtree(tmp, ignore_errors=True)
	util.run(['cp', '-al', src, tmp])
	os.rename(tmp, dst)


def roundtrip(project: Project, kernel: Kernel):
	"""The series reversed on the distribution's files gives a tree that
	knows nothing of the capability; applied again, the same bytes.
	Returns a list of (name, ok, reason)."""
	import crcap_parser as P
	tree = Tree(project, kernel)
	series = project.series(kernel)
	files = sorted({f for p in series for f in patch_files(project.patch_path(p))})
	where = tree.pristine_files(files)
	work = tempfile.mkdtemp(prefix='roundtrip-', dir=kernel.build)
	util.on_exit(lambda: shutil.rmtree(work, ignore_errors=True))
	for f, orig in where.items():
		if orig:
			os.makedirs(os.path.dirname(os.path.join(work, f)), exist_ok=True)
			shutil.copy2(orig, os.path.join(work, f))
	out = P.Test('roundtrip')
	carried = []
	for p in reversed(series):
		path = project.patch_path(p)
		num = p.split('/')[-1][:4]
		if is_applied(work, path):
			_patch(work, path, '-R', '-s')
			carried.insert(0, p)
			out.add(P.Test(f'reverse_{num}', P.Status.PASS))
		elif applies(work, path):
			out.add(P.Test(f'reverse_{num}', P.Status.PASS))	# not carried
		else:
			out.add(P.Test(f'reverse_{num}', P.Status.FAIL,
				       f'{p} neither reverses nor applies'))
	left = []
	# Only the files of the patches the distribution carries (the wiring):
	# a later patch (a test fix, say) may name the capability anywhere.
	wiring = sorted({f for p in carried for f in patch_files(project.patch_path(p))})
	for f in wiring:
		path = os.path.join(work, f)
		if os.path.isfile(path):
			with open(path, errors='replace') as fh:
				for n, line in enumerate(fh, 1):
					if ('checkpoint_restore_ns_capable' in line or
					    'CAP_CHECKPOINT_RESTORE' in line or
					    '"checkpoint_restore"' in line):
						left.append(f'{f}:{n}')
	out.add(P.Test('pre_feature_tree_is_clean',
		       P.Status.FAIL if left or not carried else P.Status.PASS,
		       (f'still mentions the capability: {", ".join(left[:3])}' if left else
			'the distribution carries no patch of the series' if not carried else '')))
	for p in carried:
		path = project.patch_path(p)
		ok, msg = _patch(work, path, '-N', '-s')
		out.add(P.Test(f'reapply_{p.split("/")[-1][:4]}',
			       P.Status.PASS if ok else P.Status.FAIL,
			       '' if ok else msg.strip().splitlines()[-1] if msg.strip() else 'failed'))
	differ = [f for f, orig in where.items()
		  if orig and not _same(orig, os.path.join(work, f))]
	out.add(P.Test('byte_identical', P.Status.FAIL if differ else P.Status.PASS,
		       f'{len(differ)} files differ: {", ".join(differ[:3])}' if differ else ''))
	out.log.append(f'{len(carried)} of {len(series)} patches carried by the '
		       f'distribution\'s {kernel.name} tree')
	return out.finish()
