# SPDX-License-Identifier: GPL-2.0
"""The project as a series a maintainer can take: "scripts/crcap format-patch".

security/checkpoint_restore/patches/submission says how the project is cut
into commits for a tree that carries the wiring; this module makes them
in a scratch git repository holding the distribution's copies of the files
they touch, runs git format-patch with a cover letter, and checks the
result the way a maintainer would: checkpatch.pl --strict on every patch,
git am onto the pristine tree, and (in "scripts/crcap test") a kernel
built from that tree, as it is, passing the suite and the clone3 tests.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import crcap_tree as T
import crcap_util as util
from crcap_parser import Status, Test
from crcap_tree import Kernel, Project, SERIES_DIR
from crcap_util import Error, say

SPEC = os.path.join(SERIES_DIR, 'submission')
AUTHOR = ['-c', 'user.name=crcap', '-c', 'user.email=crcap@crcap.invalid']


@dataclass
class Commit:
	patch: Optional[str] = None		# sent as it is
	patches: List[str] = field(default_factory=list)
	paths: List[str] = field(default_factory=list)
	message: str = ''


def parse_spec(project: Project) -> Tuple[str, List[Commit]]:
	cover, commits, cur, text = '', [], None, []

	def close():
		body = '\n'.join(text).strip() + '\n'
		if cur is None:
			return
		if cur == 'cover':
			nonlocal cover
			cover = body
		else:
			cur.message = body
			commits.append(cur)

	with open(os.path.join(project.top, SPEC)) as f:
		for line in f:
			line = line.rstrip('\n')
			if line.startswith('#') and cur is None:
				continue
			m = re.match(r'^=== (cover|patch|commit)\s*(\S*)', line)
			if m:
				close()
				text = []
				cur = 'cover' if m.group(1) == 'cover' else \
					Commit(patch=m.group(2)) if m.group(1) == 'patch' else Commit()
				continue
			if isinstance(cur, Commit) and not text:
				m = re.match(r'^(patches|paths): (.*)$', line)
				if m:
					getattr(cur, m.group(1)).extend(m.group(2).split())
					continue
			if cur is not None and (text or line):
				text.append(line)
	close()
	return cover, commits


def _maintainers_entry(project: Project, paths: List[str]) -> List[str]:
	"""The project's MAINTAINERS entry, with F: lines for PATHS only."""
	with open(os.path.join(project.top, 'MAINTAINERS')) as f:
		lines = [ln.rstrip('\n') for ln in f]
	head = [ln for ln in lines if not ln.startswith(('F:', 'K:'))]
	keys = [ln for ln in lines if ln.startswith('K:')]
	return head + [f'F:\t{p}' for p in sorted(paths)] + keys


def _add_maintainers(project: Project, work: str, paths: List[str]) -> None:
	"""Puts the entry for PATHS into WORK/MAINTAINERS, in title order."""
	entry = _maintainers_entry(project, paths)
	path = os.path.join(work, 'MAINTAINERS')
	with open(path) as f:
		lines = f.read().split('\n')
	title = entry[0]
	if title in lines:	# an earlier commit's entry: replace it
		i = lines.index(title)
		j = i
		while j < len(lines) and lines[j].strip():
			j += 1
		del lines[i:j + 1]
	at = None
	for i in range(1, len(lines) - 1):
		if not lines[i - 1].strip() and lines[i].strip() and \
		   re.match(r'^[A-Z]:\t', lines[i + 1]) and lines[i].upper() > title.upper():
			at = i
			break
	if at is None:
		raise Error('format-patch: no place for the MAINTAINERS entry')
	lines[at:at] = entry + ['']
	with open(path, 'w') as f:
		f.write('\n'.join(lines))


def _git(repo: str, *args: str) -> str:
	return util.run(['git', *AUTHOR, '-C', repo, *args], capture=True).stdout


def format_patch(project: Project, kernel: Kernel, out: str) -> List[str]:
	"""Writes the series to OUT; returns the patch files, cover first."""
	cover, commits = parse_spec(project)
	pdir = os.path.join(project.top, SERIES_DIR)
	touched = {'MAINTAINERS'}
	for c in commits:
		for p in c.patches + ([c.patch] if c.patch else []):
			touched |= set(T.patch_files(os.path.join(pdir, p)))
	work = os.path.join(kernel.build, f'submission-{kernel.name}.git')
	shutil.rmtree(work, ignore_errors=True)
	os.makedirs(work)
	tree = T.Tree(project, kernel)
	for f, orig in tree.pristine_files(sorted(touched)).items():
		if orig:
			os.makedirs(os.path.dirname(os.path.join(work, f)), exist_ok=True)
			shutil.copy2(orig, os.path.join(work, f))
	_git(work, 'init', '-q')
	_git(work, 'add', '-A')
	_git(work, 'commit', '-q', '--allow-empty', '-m', f'linux-source-{kernel.name}')
	base = _git(work, 'rev-parse', 'HEAD').strip()
	maintained: List[str] = []
	for c in commits:
		if c.patch:
			_git(work, 'am', '-q', '--keep-cr', os.path.join(pdir, c.patch))
			continue
		for p in c.patches:
			ok, msg = T._patch(work, os.path.join(pdir, p), '-N', '-s')
			if not ok:
				raise Error(f'format-patch: {p} does not apply: {msg.strip()[:200]}')
		added = []
		for f in project.files(*c.paths):
			if f.startswith((SERIES_DIR + '/', T.RFC_DIR + '/')):
				continue
			dst = os.path.join(work, f)
			os.makedirs(os.path.dirname(dst), exist_ok=True)
			shutil.copy2(os.path.join(project.top, f), dst)
			added.append(f)
		# New files come with their MAINTAINERS lines: whole directories
		# where a directory is ours alone, else the files.
		for p in c.paths:
			mine = [f for f in added if f.startswith(p)]
			if not mine:
				continue
			if p.count('/') > 1 or p.rstrip('/').count('/') >= 1:
				maintained.append(p)
			else:
				maintained += mine
		if added:
			_add_maintainers(project, work, maintained)
		_git(work, 'add', '-A')
		util.run(['git', *AUTHOR, '-C', work, 'commit', '-q', '-s', '-F', '-'],
			 input=c.message, capture=True)
	shutil.rmtree(out, ignore_errors=True)
	_git(work, 'format-patch', '-q', '--cover-letter', '--thread', '-o', out, f'{base}..HEAD')
	files = sorted(glob.glob(os.path.join(out, '*.patch')))
	_fill_cover(files[0], cover)
	return files


def _fill_cover(path: str, cover: str) -> None:
	subject, _, blurb = cover.partition('\n\n')
	with open(path) as f:
		text = f.read()
	text = text.replace('*** SUBJECT HERE ***', subject.strip())
	text = text.replace('*** BLURB HERE ***',
			    blurb.strip() + '\n\nSigned-off-by: crcap <crcap@crcap.invalid>')
	with open(path, 'w') as f:
		f.write(text)


def pristine_repo(kernel: Kernel) -> str:
	"""The distribution's tree, unpacked as it ships, in a git repository
	(kept; only what a series touches needs tracking for git am)."""
	d = os.path.join(kernel.build, f'pristine-tree-{kernel.name}')
	if not os.path.exists(os.path.join(d, '.crcap-unpacked')):
		shutil.rmtree(d, ignore_errors=True)
		os.makedirs(d)
		say(f'format-patch: unpacking {kernel.tarball} as it ships')
		util.run(['tar', '-C', d, '-xf', kernel.tarball, '--strip-components=1'])
		open(os.path.join(d, '.crcap-unpacked'), 'w').close()
	return d


def am_tree(project: Project, kernel: Kernel, patches: List[str],
	    d: Optional[str] = None, stamp: Optional[str] = None) -> str:
	"""A linked copy of the pristine tree with the series git am'd onto it
	(a fresh copy each time: nothing of an earlier try stays); in D, with
	its STAMP, for a series other than the submission."""
	pristine = pristine_repo(kernel)
	d = d or am_kernel(kernel).src
	# The same series as last time: the tree it made is still that tree.
	h = hashlib.sha256()
	for p in patches[1:]:
		with open(p, 'rb') as f:
			# not the commit ids and dates each format-patch run makes anew
			h.update(re.sub(rb'^(From [0-9a-f]{40} |Date: ).*$', b'', f.read(), flags=re.M))
	h.update(project.uml_fixes_id().encode())
	stamp = stamp or os.path.join(kernel.build, f'am-{kernel.name}.series')
	if os.path.isdir(d) and os.path.exists(stamp) and open(stamp).read() == h.hexdigest():
		return d
	shutil.rmtree(d, ignore_errors=True)
	T.linked_copy(pristine, d)
	touched = sorted({f for p in patches[1:] for f in T.patch_files(p)
			  if os.path.exists(os.path.join(d, f))})
	T.unlink_before_patch(d, touched)	# git writes through otherwise
	_git(d, 'init', '-q')
	if touched:
		_git(d, 'add', '-f', '--', *touched)	# Debian's tree ignores them
	_git(d, 'commit', '-q', '--allow-empty', '-m', 'pristine')
	util.run(['git', *AUTHOR, '-C', d, 'am', '-q', *patches[1:]], capture=True)
	# What every UML tree crcap builds gets, as a change git am did not
	# make (git diff shows it): the series as a maintainer takes it is
	# the commits.
	T.apply_uml_fixes(d, project.uml_fixes())
	with open(stamp, 'w') as f:
		f.write(h.hexdigest())
	return d


def am_kernel(kernel: Kernel) -> Kernel:
	"""The kernel built from the pristine tree with the series git am'd
	onto it, as it is: no overlay, no series applied by crcap."""
	k = Kernel(f'am-{kernel.name}', kernel.build)
	k.user_tree = k.src	# linux-am-<name> under the build directory
	return k


def check(project: Project, kernel: Kernel, out: str,
	  checkpatch: bool = True) -> Tuple[Test, Optional[str]]:
	"""format-patch, checkpatch each patch, git am onto the pristine tree.
	Returns the suite and the am'd tree (None when it did not apply)."""
	s = Test(f'{kernel.name}.submission')
	try:
		files = format_patch(project, kernel, out)
	except Error as e:
		s.add(Test('format_patch', Status.FAIL, str(e).splitlines()[0]))
		return s.finish(), None
	s.add(Test('format_patch', Status.PASS, log=[os.path.basename(f) for f in files]))
	cp = os.path.join(kernel.src, 'scripts/checkpatch.pl')
	for f in files[1:] if checkpatch else []:
		p = util.run([cp, '--strict', '--terse', f], cwd=kernel.src, capture=True,
			     check=False)
		s.add(Test(f'checkpatch_{os.path.basename(f)[:4]}',
			   Status.PASS if p.returncode == 0 else Status.FAIL,
			   '' if p.returncode == 0 else os.path.basename(f),
			   log=p.stdout.splitlines()[-10:]))
	try:
		tree = am_tree(project, kernel, files)
		s.add(Test('git_am_onto_pristine_tree', Status.PASS))
	except Error as e:
		s.add(Test('git_am_onto_pristine_tree', Status.FAIL, str(e).splitlines()[0],
			   log=str(e).splitlines()[1:]))
		tree = None
	return s.finish(), tree


# ---- the RFC series: "scripts/crcap format-patch --rfc" ----------------------

RFC_DIR = T.RFC_DIR
RFC_COVER = f'{RFC_DIR}/cover'


def format_rfc(project: Project, kernel: Kernel, out: str) -> Tuple[List[str], List[str]]:
	"""The RFC series (rfc/series) as "[RFC PATCH n/m]" mails with the
	cover letter of rfc/cover, on top of the submission (the suite its
	selftests patch changes comes with it).  Returns the submission's
	files and the RFC's, cover first."""
	import crcap_rfc as RFC
	base = format_patch(project, kernel, os.path.join(out, 'base'))
	work = os.path.join(kernel.build, f'submission-{kernel.name}.git')
	rfc = [os.path.join(project.top, p) for p in RFC.series(project.top)]
	tree = T.Tree(project, kernel)
	# The files the RFC touches that the submission does not: as the
	# distribution ships them, one commit before the RFC's.
	have = set(_git(work, 'ls-files').split())
	extra = sorted({f for p in rfc for f in T.patch_files(p)} - have)
	for f, orig in tree.pristine_files(extra).items():
		if orig:
			os.makedirs(os.path.dirname(os.path.join(work, f)), exist_ok=True)
			shutil.copy2(orig, os.path.join(work, f))
	_git(work, 'add', '-A')
	_git(work, 'commit', '-q', '--allow-empty', '-m', 'the files the RFC touches')
	start = _git(work, 'rev-parse', 'HEAD').strip()
	for p in rfc:
		_git(work, 'am', '-q', '--keep-cr', p)
	d = os.path.join(out, 'rfc')
	shutil.rmtree(d, ignore_errors=True)
	_git(work, 'format-patch', '-q', '--rfc', '--cover-letter', '--thread', '-o', d,
	     f'{start}..HEAD')
	files = sorted(glob.glob(os.path.join(d, '*.patch')))
	_fill_cover(files[0], util.read_text(os.path.join(project.top, RFC_COVER)))
	return base, files


def check_rfc(project: Project, kernel: Kernel, out: str) -> Test:
	"""format-patch --rfc; checkpatch --strict on each RFC patch; git am of
	the submission and then the RFC onto the pristine tree."""
	s = Test(f'{kernel.name}.rfc_submission')
	try:
		base, files = format_rfc(project, kernel, out)
	except Error as e:
		s.add(Test('format_patch', Status.FAIL, str(e).splitlines()[0],
			   log=str(e).splitlines()[1:]))
		return s.finish()
	s.add(Test('format_patch', Status.PASS, log=[os.path.basename(f) for f in files]))
	cp = os.path.join(kernel.src, 'scripts/checkpatch.pl')
	maintained = [ln.split(None, 1)[1].strip() for mf in (
		os.path.join(project.top, 'MAINTAINERS'), os.path.join(kernel.src, 'MAINTAINERS'))
		for ln in util.read_text(mf).splitlines() if ln.startswith('F:')]
	for f in files[1:]:
		p = util.run([cp, '--strict', '--terse', '--show-types', f], cwd=kernel.src,
			     capture=True, check=False)
		found = [ln for ln in p.stdout.splitlines() if re.search(r': (ERROR|WARNING|CHECK):', ln)]
		# New files in a directory that an entry of MAINTAINERS already
		# covers, the submission's or the tree's (mm/ for a test of
		# mm/memfd.c): checkpatch asks about any added file.
		added = T.patch_files(f)
		bad = [ln for ln in found if not (':FILE_PATH_CHANGES:' in ln and all(
			any(a.startswith(m) for m in maintained if m.endswith('/')) for a in added))]
		s.add(Test(f'checkpatch_{os.path.basename(f)[:4]}',
			   Status.PASS if not bad else Status.FAIL,
			   '' if not bad else os.path.basename(f),
			   log=(bad or found or p.stdout.splitlines())[-10:]))
	try:
		am_tree(project, kernel, base + files[1:],
			os.path.join(kernel.build, f'linux-rfc-am-{kernel.name}'),
			os.path.join(kernel.build, f'rfc-am-{kernel.name}.series'))
		s.add(Test('git_am_onto_pristine_tree', Status.PASS))
	except Error as e:
		s.add(Test('git_am_onto_pristine_tree', Status.FAIL, str(e).splitlines()[0],
			   log=str(e).splitlines()[1:]))
	return s.finish()
