# SPDX-License-Identifier: GPL-2.0
"""scripts/crcap lint: everything the project ships, through the linters a
maintainer runs on it.

 * every patch, and every C file the project ships (the suite, the tools,
   the KUnit code), under the tree's own scripts/checkpatch.pl --strict;
 * every Python file under Debian's flake8 (pyflakes, and pycodestyle's
   checks that do not fight the kernel's tabs: see FLAKE8);
 * every shell script (by name or by "#!" line) under Debian's shellcheck;
 * the suite compiled with gcc -Wextra and clang, without a warning;
 * every file covered by MAINTAINERS (get_maintainer.pl);
 * CRIU's series as CRIU would take it: "git am" onto the vendored tarball,
   each commit as CRIU's clang-format wants it ("make indent"), CRIU's own
   "make lint" (see criu_series).

Each linter is shown able to fail by crcap_tool_test.py, on a file made to
break it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Callable, List, Optional

import crcap_criu
import crcap_guest as G
import crcap_util as util
from crcap_parser import Status, Test
from crcap_tree import Kernel, Project, RFC_DIR, SERIES_DIR, ST_DIR

# Debian's flake8 runs under Debian's python3 (python3-flake8).
FLAKE8 = ['/usr/bin/python3', '-m', 'flake8']
# The project's Python is indented with tabs and aligns continuation
# lines with tabs, as tools/testing/kunit does: pycodestyle's indentation
# (E1, W191) and inline-comment spacing (E26) checks count spaces and are
# left out; everything else, pyflakes (F) included, is on.
FLAKE8_ARGS = ['--max-line-length=100', '--extend-ignore=E1,W191,E26']
C_FILES = ('.c', '.h')
# checkpatch checks that are wrong for a file, by path prefix, with why.
CHECKPATCH_IGNORE = {
	# "ENOSYS means 'invalid syscall nr' and nothing else" is a rule for
	# what the kernel returns; a userspace tool asking "is there a clone3
	# here?" has ENOSYS as the only answer to compare with.
	'tools/checkpoint_restore/': ['ENOSYS'],
	# The RFC's selftests add files to a directory the submission's
	# MAINTAINERS entry covers whole, its KUnit tests one to mm/, which
	# the tree's "MEMORY MANAGEMENT" entry covers (F: mm/); checkpatch
	# asks about any added file.
	'security/checkpoint_restore/rfc/0004-': ['FILE_PATH_CHANGES'],
	'security/checkpoint_restore/rfc/0005-': ['FILE_PATH_CHANGES'],
}


def check(name: str, cmd: List[str], cwd: Optional[str] = None, why: str = '') -> Test:
	"""A leaf from a command: passes when it exits 0; its output is the
	log."""
	p = util.run(cmd, cwd=cwd, capture=True, check=False)
	ok = p.returncode == 0
	log = p.stdout.splitlines()[-20:]
	reason = ''
	if not ok:
		reason = why or f'exit {p.returncode}'
		findings = [line for line in p.stdout.splitlines() if line.strip()]
		if findings:
			reason += f': {len(findings)} lines, first: {findings[0][:160]}'
	return Test(name, Status.PASS if ok else Status.FAIL, reason, log=log)


def _id(prefix: str, path: str) -> str:
	return prefix + re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')


def is_shell(path: str) -> bool:
	if path.endswith('.sh'):
		return True
	try:
		with open(path, 'rb') as f:
			first = f.readline(80)
	except OSError:
		return False
	return bool(re.match(rb'#!\s*/(usr/)?bin/(env )?(ba|da)?sh\b', first))


def is_python(path: str) -> bool:
	if path.endswith('.py'):
		return True
	try:
		with open(path, 'rb') as f:
			return b'python' in f.readline(80)
	except OSError:
		return False


def checkpatch(kernel: Kernel, path: str, name: str, rel: str = '') -> Test:
	args = ['--strict', '--terse'] + ([] if path.endswith('.patch') else ['-f'])
	for prefix, types in CHECKPATCH_IGNORE.items():
		if rel.startswith(prefix):
			args += ['--ignore', ','.join(types)]
	return check(name, ['perl', 'scripts/checkpatch.pl', *args, path], cwd=kernel.src,
		     why=os.path.basename(path))


def flake8(path: str, name: str) -> Test:
	return check(name, FLAKE8 + FLAKE8_ARGS + [path], why=os.path.basename(path))


def shellcheck(path: str, name: str) -> Test:
	return check(name, ['shellcheck', '-x', path], cwd=os.path.dirname(path),
		     why=os.path.basename(path))


def lint(project: Project, kernel: Kernel) -> Test:
	"""Every check a leaf of one suite; the checks run side by side (one
	per core: checkpatch.pl is perl, a second or two a file)."""
	s = Test('lint')
	checks: List[Callable[[], Test]] = []
	pdir = os.path.join(project.top, SERIES_DIR)
	patches = sorted(os.path.relpath(os.path.join(d, f), pdir)
			 for d, _, fs in os.walk(pdir) for f in fs if f.endswith('.patch'))
	for p in patches:
		tid = 'checkpatch_' + p.replace('/', '_')[:4] if '/' not in p else \
			'checkpatch_' + p.split('/')[0].replace('.', '_') + '_' + p.split('/')[-1][:4]
		checks.append(lambda p=p, tid=tid: checkpatch(kernel, os.path.join(pdir, p), tid))
	rdir = os.path.join(project.top, RFC_DIR)
	for p in sorted(f for f in os.listdir(rdir) if f.endswith('.patch')) \
			if os.path.isdir(rdir) else []:
		checks.append(lambda p=p: checkpatch(kernel, os.path.join(rdir, p), f'checkpatch_rfc_{p[:4]}',
						     f'{RFC_DIR}/{p}'))
	files = project.files('.')
	shipped = [f for f in files if not f.startswith(SERIES_DIR + '/')
		   and '/test_data/' not in f]
	for f in shipped:
		path = os.path.join(project.top, f)
		if f.endswith(C_FILES):
			# The suite's ids as before: checkpatch_f_<file>.
			tid = ('checkpatch_f_' + os.path.basename(f).replace('.', '_')
			       if f.startswith(ST_DIR + '/') else _id('checkpatch_f_', f))
			checks.append(lambda path=path, tid=tid, f=f: checkpatch(kernel, path, tid, f))
		elif is_python(path):
			checks.append(lambda path=path, f=f: flake8(path, _id('flake8_', f)))
		elif is_shell(path):
			checks.append(lambda path=path, f=f: shellcheck(path, _id('shellcheck_', f)))
	# gcc -Wall -Wextra and clang: no warning from the suite's code (the
	# harness header's own are upstream's, not counted).
	for cc in ('gcc', 'clang'):
		checks.append(lambda cc=cc: compiles_clean(kernel, cc))
	checks.append(lambda: criu_series(project.top))
	for t in G.parallel(checks, os.cpu_count() or 2):
		s.add(t)
	s.add(maintainers(project, kernel, files))
	return s.finish()


# CRIU's "make lint" runs ruff, shellcheck and codespell, then its own
# rules (pr_* messages, trailing white space).  Debian has no ruff, and
# Debian's codespell (2.2.2) flags a word in CRIU 4.2 itself, so
# codespell is asked only about the files the series changes, and only
# what it says of them beyond what it says of CRIU 4.2.
CRIU_LINT = ['make', '-o', 'ruff', '-o', 'codespell', 'lint']
GIT_ID = ['-c', 'user.name=crcap', '-c', 'user.email=crcap@crcap.invalid']


def criu_series(top: str, patches: Optional[List[str]] = None,
		tarball: Optional[str] = None) -> Test:
	"""The project's CRIU patches, as CRIU's maintainers would take
	them: each "git am"-able onto the vendored CRIU in the order of the
	series file, each commit with nothing for CRIU's clang-format to
	change (its "make indent"), and CRIU's own "make lint" on the result."""
	s = Test('criu_series')
	patches = crcap_criu.series(top) if patches is None else patches
	tarball = tarball or crcap_criu.vendored(top)
	if not tarball or not patches:
		s.add(Test('criu_series_am', Status.SKIP,
			   'no CRIU tarball in ../shared/vendor' if patches else 'no CRIU series'))
		return s.finish()
	if not shutil.which('git-clang-format-14') and not shutil.which('git-clang-format'):
		s.add(Test('criu_series_am', Status.SKIP, 'no git-clang-format (Debian package '
			   'clang-format)'))
		return s.finish()
	fmt = 'clang-format-14' if shutil.which('git-clang-format-14') else 'clang-format'
	d = tempfile.mkdtemp(prefix='crcap-criu-lint.')
	try:
		util.run(['tar', '-C', d, '-xf', tarball, '--strip-components=1'])
		for cmd in (['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'CRIU as vendored']):
			util.run(['git', *GIT_ID, *cmd], cwd=d, capture=True)
		for p in patches:
			s.add(_criu_patch(d, fmt, p))
		if any(t.status != Status.PASS for t in s.subtests):
			return s.finish()
		s.add(check('criu_make_lint', CRIU_LINT, cwd=d, why='CRIU\'s make lint'))
		s.add(_criu_codespell(d, len(patches)))
	finally:
		shutil.rmtree(d, ignore_errors=True)
	return s.finish()


def _criu_patch(d: str, fmt: str, patch: str) -> Test:
	name = 'criu_' + os.path.basename(patch)[:4]
	am = util.run(['git', *GIT_ID, 'am', '-q', patch], cwd=d, capture=True, check=False)
	if am.returncode != 0:
		util.run(['git', 'am', '--abort'], cwd=d, capture=True, check=False)
		return Test(name, Status.FAIL, 'git am refuses it', log=am.stdout.splitlines()[-10:])
	diff = util.run(['git', fmt, '--style', 'file', '--extensions', 'c,h', '--diff',
			 'HEAD~1', 'HEAD'], cwd=d, capture=True, check=False)
	out = [ln for ln in diff.stdout.splitlines() if ln.strip()
	       and not re.match(r'(no modified files|clang-format did not modify)', ln)]
	if diff.returncode not in (0, 1) or out:
		return Test(name, Status.FAIL, 'CRIU\'s clang-format would change it (make indent)',
			    log=out[:20])
	return Test(name, Status.PASS)


def _criu_codespell(d: str, n: int) -> Test:
	name = 'criu_codespell_of_what_the_series_changes'
	if not shutil.which('codespell'):
		return Test(name, Status.SKIP, 'no codespell (Debian package codespell)')
	files = util.run(['git', 'diff', '--name-only', '--diff-filter=AM', f'HEAD~{n}', 'HEAD'],
			 cwd=d, capture=True).stdout.split()

	def said() -> set:
		p = util.run(['codespell', *[f for f in files if os.path.exists(os.path.join(d, f))]],
			     cwd=d, capture=True, check=False)
		# file: word ==> fix, without the line number (the series moves lines)
		return {re.sub(r':\d+:', ':', ln) for ln in p.stdout.splitlines() if '==>' in ln}
	after = said()
	util.run(['git', 'checkout', '-q', f'HEAD~{n}'], cwd=d, capture=True)
	new = sorted(after - said())
	return Test(name, Status.FAIL if new else Status.PASS,
		    f'{len(new)} new: {new[0]}' if new else '', log=new[:20])


def maintainers(project: Project, kernel: Kernel, files: List[str]) -> Test:
	with open(os.path.join(project.top, 'MAINTAINERS')) as f:
		entry = f.readline().strip()

	def covered(f: str) -> bool:
		p = util.run(['perl', os.path.join(kernel.src, 'scripts/get_maintainer.pl'),
			      '--no-tree', '--no-git', '--mpath',
			      os.path.join(project.top, 'MAINTAINERS'), '-f', f],
			     cwd=project.top, capture=True, check=False)
		return f':{entry})' in p.stdout

	ok = G.parallel([lambda f=f: covered(f) for f in files], os.cpu_count() or 2)
	missing = [f for f, c in zip(files, ok) if not c]
	return Test('maintainers_covers_every_file', Status.FAIL if missing else Status.PASS,
		    f'not covered: {", ".join(missing[:5])}' if missing else '')


def compiles_clean(kernel: Kernel, cc: str) -> Test:
	name = f'suite_builds_without_warnings_{cc}'
	if not shutil.which(cc):
		return Test(name, Status.SKIP, f'no {cc} (Debian package {cc})')
	obj = os.path.join(kernel.build, f'kselftest-{cc}-{kernel.name}')
	shutil.rmtree(obj, ignore_errors=True)
	p = util.run(['make', '-C', os.path.join(kernel.src, 'tools/testing/selftests'),
		      'TARGETS=checkpoint_restore', f'CC={cc}', f'O={obj}', f'-j{os.cpu_count() or 2}',
		      '--output-sync=target',	# whole lines: a file name with its warning
		      'USERCFLAGS=-Wextra'], capture=True, check=False)
	out = p.stdout.splitlines()
	ours = [line for line in out if re.search(r'(warning|error):', line) and
		'kselftest_harness.h' not in line]
	ok = p.returncode == 0 and not ours
	return Test(name, Status.PASS if ok else Status.FAIL,
		    '' if ok else f'{len(ours)} warnings/errors (exit {p.returncode})', log=ours[:20])
