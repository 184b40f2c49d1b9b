# SPDX-License-Identifier: GPL-2.0
"""Builds a UML kernel from a prepared tree, and what runs in it.

The configuration is allnoconfig plus every config fragment of the
project, sorted by path (each lives next to the code that needs it).  An
option a fragment asks for that does not end up in .config is an error,
not a warning: a test of a feature the kernel lacks would only skip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
from typing import Dict, List, Optional

import crcap_util as util
from crcap_tree import Kernel, Project, RFC_DIR, ST_DIR, SERIES_DIR
from crcap_util import Error, say

UML_CONFIG = 'scripts/crcap-uml.config'
_FRAGMENT = re.compile(r'(^scripts/crcap-uml\.config|/config|\.kunitconfig)$')


def fragments(project: Project) -> List[str]:
	cands = project.files(UML_CONFIG, f'{ST_DIR}/config', 'security', 'policy')
	return sorted(f for f in cands if _FRAGMENT.search(f))


def merged_fragment(project: Project) -> str:
	out = []
	for f in fragments(project):
		out.append(f'# {f}')
		with open(os.path.join(project.top, f)) as fh:
			out += [ln.rstrip() for ln in fh if re.match(r'^(CONFIG_|# CONFIG_)', ln)]
	return '\n'.join(out) + '\n'


def wanted_options(fragment: str) -> Dict[str, str]:
	"""CONFIG_X -> value ('n' for '# CONFIG_X is not set')."""
	want = {}
	for line in fragment.splitlines():
		m = re.match(r'^(CONFIG_\w+)=(.*)$', line)
		if m:
			want[m.group(1)] = m.group(2)
		m = re.match(r'^# (CONFIG_\w+) is not set', line)
		if m:
			want[m.group(1)] = 'n'
	return want


def config_problems(fragment: str, config_text: str) -> List[str]:
	have = wanted_options(config_text)
	bad = []
	for opt, val in sorted(wanted_options(fragment).items()):
		got = have.get(opt, 'n')
		if got != val:
			bad.append(f'{opt}={val} (got {got})')
	return bad


def make_cmd(kernel: Kernel, jobs: int, *targets: str, src: Optional[str] = None,
	     obj: Optional[str] = None) -> List[str]:
	return ['make', '-C', src or kernel.src, f'O={obj or kernel.obj}', 'ARCH=um',
		f'-j{jobs}', *targets]


def configure(project: Project, kernel: Kernel, src: Optional[str] = None,
	      obj: Optional[str] = None) -> bool:
	"""(Re)configures OBJ when the fragments changed; True if it did."""
	src = src or kernel.src
	obj = obj or kernel.obj
	os.makedirs(obj, exist_ok=True)
	frag = merged_fragment(project)
	sum_path = os.path.join(obj, '.crcap-config-sum')
	digest = hashlib.sha256(frag.encode()).hexdigest()
	if os.path.exists(os.path.join(obj, '.config')) and \
	   util.read_text(sum_path).strip() == digest:
		return False
	fpath = os.path.join(obj, 'crcap.config')
	with open(fpath, 'w') as f:
		f.write(frag)
	log = os.path.join(obj, 'config.log')
	if os.path.exists(log):
		os.unlink(log)
	say(f'build {kernel.name}: configuring: allnoconfig + '
	    f'{len(fragments(project))} fragments')
	util.run(['make', '-s', '-C', src, f'O={obj}', 'ARCH=um',
		  f'KCONFIG_ALLCONFIG={fpath}', 'allnoconfig'], log=log)
	with open(os.path.join(obj, '.config')) as f:
		bad = config_problems(frag, f.read())
	if bad:
		raise Error(f'{kernel.name}: the configuration did not take '
			    f'{", ".join(bad)} (a dependency missing from the '
			    f'fragments?  see {fpath})')
	with open(sum_path, 'w') as f:
		f.write(digest)
	return True


def build_linux(project: Project, kernel: Kernel, jobs: int, what: str = '',
		src: Optional[str] = None, obj: Optional[str] = None,
		wrap: Optional[List[str]] = None) -> None:
	"""The UML kernel and its modules (Module.symvers: the external module
	builds against it), incrementally.  WRAP: a command the make runs
	under (the mutants' private mount namespace)."""
	obj = obj or kernel.obj
	if not wrap:	# a mutant's object directory is a configured copy
		configure(project, kernel, src, obj)
	log = os.path.join(obj, 'build.log')
	t = time.monotonic()
	with open(log, 'w'):
		pass
	cmd = make_cmd(kernel, jobs, 'linux', 'modules',
		       src=(src if not wrap else None), obj=(obj if not wrap else None))
	done = threading.Event()

	def progress():	# a line a minute while a long build runs
		while not done.wait(60):
			n = sum(1 for ln in open(log, errors='replace')
				if re.match(r'^\s+(CC|AS|LD|AR) ', ln))
			say(f'build {what or kernel.name}: {util.elapsed(t)}, {n} objects so far')

	threading.Thread(target=progress, daemon=True).start()
	try:
		util.run((wrap or []) + cmd, log=log)
	except Error:
		errors = [ln for ln in util.tail_of(log, 400).splitlines()
			  if 'error' in ln.lower()][:12]
		raise Error(f'{what or kernel.name}: the kernel build failed (log: {log})\n  '
			    + '\n  '.join(errors))
	finally:
		done.set()
	objs = sum(1 for ln in open(log, errors='replace') if re.match(r'^\s+(CC|AS|LD|AR) ', ln))
	say(f'build {what or kernel.name}: linux ({objs} objects rebuilt, '
	    f'{util.elapsed(t)})')


# The programs the guests run are linked statically.  A fork in UML
# copies every mapping of the parent and an exec maps the dynamic loader's
# libraries page by page: in UML 6.12 fork+exit costs 4.6 ms for a dynamic
# program and 1.9 ms for a static one.
LINK = 'LDFLAGS=-static'


def _flags_changed(obj: str) -> None:
	"""make does not relink for new flags: objects of others go."""
	stamp = os.path.join(obj, '.crcap-link-flags')
	if util.read_text(stamp).strip() != LINK:
		shutil.rmtree(obj, ignore_errors=True)
		os.makedirs(obj)
		with open(stamp, 'w') as f:
			f.write(LINK + '\n')


def build_selftests(kernel: Kernel) -> None:
	log = os.path.join(kernel.build, f'kselftest-{kernel.name}.log')
	with open(log, 'w'):
		pass
	obj = os.path.join(kernel.build, 'kselftest-obj-' + kernel.name)
	_flags_changed(obj)
	util.run(['make', '-C', os.path.join(kernel.src, 'tools/testing/selftests'),
		  # the tree's own clone3 suite too: patch 0010 fixes one of them
		  'TARGETS=checkpoint_restore clone3', LINK,
		  f'O={obj}', f'INSTALL_PATH={kernel.kselftest}', 'install'], log=log)
	# The selftests' Makefile goes on past a target that does not build
	# and exits 0: its log decides.
	with open(log, errors='replace') as f:
		broken = [ln.rstrip() for ln in f if re.search(r'\*\*\* \[|: error: ', ln)]
	if broken:
		raise Error(f'{kernel.name}: the selftests do not build (log: {log})\n  '
			    + '\n  '.join(broken[:10]))


def build_extmod(project: Project, kernel: Kernel) -> Optional[str]:
	"""The project's kernel code as an external module (top-level Kbuild)
	against the UML build.  Returns the .ko, or None without modules."""
	with open(os.path.join(kernel.obj, '.config')) as f:
		if 'CONFIG_MODULES=y\n' not in f.read():
			return None
	ext = kernel.extmod
	for f in project.files('Kbuild', 'security'):
		if f.startswith((SERIES_DIR + '/', RFC_DIR + '/')):
			continue
		dst = os.path.join(ext, f)
		os.makedirs(os.path.dirname(dst), exist_ok=True)
		a = os.path.join(project.top, f)
		if not os.path.exists(dst) or _read_bytes(a) != _read_bytes(dst):
			shutil.copy2(a, dst)
	log = os.path.join(kernel.build, f'extmod-{kernel.name}.log')
	with open(log, 'w'):
		pass
	util.run(['make', '-C', kernel.obj, 'ARCH=um', f'M={ext}', 'modules'], log=log)
	return extmod_ko(kernel)


def extmod_ko(kernel: Kernel) -> str:
	return os.path.join(kernel.extmod, 'security/checkpoint_restore/'
			    'checkpoint_restore_kunit.ko')


def build_tools(project: Project, build: str) -> str:
	out = os.path.join(build, 'tools') + '/'
	_flags_changed(out)
	util.run(['make', '-s', '-C', os.path.join(project.top, 'tools/checkpoint_restore'),
		  f'OUTPUT={out}', LINK], log=os.path.join(out, 'build.log'))
	return out


def _read_bytes(path: str) -> bytes:
	try:
		with open(path, 'rb') as f:
			return f.read()
	except OSError:
		return b''


def file_digest(path: str) -> str:
	h = hashlib.sha256()
	with open(path, 'rb') as f:
		for chunk in iter(lambda: f.read(1 << 20), b''):
			h.update(chunk)
	return h.hexdigest()
