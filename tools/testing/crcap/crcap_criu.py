# SPDX-License-Identifier: GPL-2.0
"""A CRIU for the end-to-end cases (tools/checkpoint_restore/criu_test.py).

In this order: $CRCAP_CRIU (a criu binary, a source tree, or a source
tarball), the system's criu if it is 3.18 or later (--unprivileged), or
the source tarball beside the checkout (../shared/vendor/criu-*.tar.xz).
Sources are built once into the build directory and kept, keyed by the
tarball's checksum and the series'.  CRIU's code is never copied into the
project: the project's changes to it are the patches of
tools/checkpoint_restore/criu-patches (git format-patch files in the order
of its series file), applied to a tarball's tree when it is unpacked
(CRCAP_CRIU_SERIES=none: without them, to compare).  A source tree named
with CRCAP_CRIU is built as it is.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
from typing import List, Optional, Sequence, Tuple

import crcap_util as util
from crcap_util import say

# What building CRIU needs (Debian package names); crcap deps installs them.
BUILD_PACKAGES = [
	'pkg-config', 'libprotobuf-dev', 'libprotobuf-c-dev', 'protobuf-c-compiler',
	'protobuf-compiler', 'python3-protobuf', 'libnl-3-dev', 'libnl-route-3-dev',
	'libnet1-dev', 'libbsd-dev', 'libaio-dev', 'libgnutls28-dev', 'uuid-dev',
	'iptables',
]
HOW = ('set CRCAP_CRIU to a criu 3.18+ binary or its source (tree or .tar.xz), '
       'or put criu-*.tar.xz in ../shared/vendor/')


def version(binary: str) -> Optional[Tuple[int, int]]:
	try:
		out = util.run([binary, '--version'], capture=True, check=False, timeout=20).stdout
	except (OSError, subprocess.TimeoutExpired):
		return None
	m = re.search(r'Version:\s*(\d+)\.(\d+)', out)
	return (int(m.group(1)), int(m.group(2))) if m else None


def _digest(path: str) -> str:
	h = hashlib.sha256()
	with open(path, 'rb') as f:
		for chunk in iter(lambda: f.read(1 << 20), b''):
			h.update(chunk)
	return h.hexdigest()[:16]


SERIES_DIR = 'tools/checkpoint_restore/criu-patches'


def series(top: str) -> List[str]:
	"""The CRIU patches, in order (none with CRCAP_CRIU_SERIES=none)."""
	path = os.path.join(top, SERIES_DIR, 'series')
	if os.environ.get('CRCAP_CRIU_SERIES') == 'none' or not os.path.exists(path):
		return []
	out = []
	with open(path) as f:
		for line in f:
			name = line.split('#', 1)[0].strip()
			if name:
				p = os.path.join(top, SERIES_DIR, name)
				if not os.path.isfile(p):
					raise util.Error(f'{SERIES_DIR}/series names {name}, which is not there')
				out.append(p)
	return out


def series_digest(patches: List[str]) -> str:
	h = hashlib.sha256()
	for p in patches:
		h.update(os.path.basename(p).encode() + b'\0')
		with open(p, 'rb') as f:
			h.update(f.read())
	return h.hexdigest()[:8]


def _apply(tree: str, patches: List[str]) -> None:
	for p in patches:
		r = util.run(['patch', '-d', tree, '-p1', '-f', '--fuzz=0', '--no-backup-if-mismatch',
			      '-i', p], capture=True, check=False)
		if r.returncode != 0:
			raise util.Error(f'CRIU patch {os.path.basename(p)} does not apply without '
					 f'fuzz:\n  ' + '\n  '.join(r.stdout.strip().splitlines()[-6:]))


def _build(source: str, build: str, jobs: int, patches: Sequence[str] = ()) -> str:
	"""Builds criu from a tarball (PATCHES applied) or a tree (as it is),
	once; returns the binary."""
	if os.path.isdir(source):
		src = source
		tag = 'tree-' + hashlib.sha256(os.path.abspath(source).encode()).hexdigest()[:8]
		dst = os.path.join(build, f'criu-{tag}')
		if not os.path.isdir(dst):
			shutil.copytree(src, dst, symlinks=True)
	else:
		dst = os.path.join(build, 'criu-' + _digest(source))
		if patches:
			dst += '-' + series_digest(list(patches))
		if not os.path.isdir(dst):
			tmp = dst + '.tmp'
			shutil.rmtree(tmp, ignore_errors=True)
			os.makedirs(tmp)
			util.run(['tar', '-C', tmp, '-xf', source, '--strip-components=1'])
			_apply(tmp, list(patches))
			with open(os.path.join(tmp, '.crcap-series'), 'w') as f:
				f.write(''.join(os.path.basename(p) + '\n' for p in patches))
			os.rename(tmp, dst)
			if patches:
				say(f'criu: {len(patches)} patches of {SERIES_DIR} applied')
	binary = os.path.join(dst, 'criu', 'criu')
	if os.access(binary, os.X_OK) and os.path.exists(dst + '.built'):
		return binary
	say(f'criu: building {source} (once; kept in {dst})')
	log = os.path.join(build, 'criu-build.log')
	util.run(['make', '-C', dst, f'-j{jobs}', 'criu'], log=log)
	open(dst + '.built', 'w').close()
	return binary


# The patch after which CRIU's restorer drops from the bounding set only
# what it still has (crcheck --restorer-drops-present).
DROPS_PRESENT = '0001-restorer-do-not-drop-capabilities-the-bounding-set-d.patch'


def restorer_drops_present(binary: str) -> bool:
	"""Was BINARY built here with the series' bounding-set patch?"""
	tree = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
	return DROPS_PRESENT in util.read_text(os.path.join(tree, '.crcap-series')).split()


def _with(top: str, tarball: bool) -> str:
	n = len(series(top)) if tarball else 0
	return f' with the {n} patches of {SERIES_DIR}' if n else ' without patches'


def vendored(top: str) -> Optional[str]:
	"""The CRIU source tarball beside the checkout (../shared/vendor)."""
	vendor = sorted(glob.glob(os.path.join(os.path.dirname(top), 'shared', 'vendor',
					       'criu-*.tar.xz')))
	return vendor[-1] if vendor else None


def find(top: str, build: str, jobs: int) -> Tuple[Optional[str], str]:
	"""(criu binary, where it came from) or (None, why there is none)."""
	want = os.environ.get('CRCAP_CRIU')
	if want:
		if os.path.isfile(want) and os.access(want, os.X_OK) and \
		   not want.endswith(('.tar.xz', '.tar.gz')):
			v = version(want)
			if v and v >= (3, 18):
				return want, f'CRCAP_CRIU={want} ({v[0]}.{v[1]})'
			return None, f'CRCAP_CRIU={want} is not criu 3.18 or later ({v})'
		if os.path.exists(want):
			return _build(want, build, jobs, series(top) if os.path.isfile(want) else ()), \
				f'built from CRCAP_CRIU={want}' + _with(top, os.path.isfile(want))
		return None, f'CRCAP_CRIU={want} does not exist'
	system = shutil.which('criu')
	if system:
		v = version(system)
		if v and v >= (3, 18):
			return system, f'{system} ({v[0]}.{v[1]})'
	tarball = vendored(top)
	if tarball:
		return _build(tarball, build, jobs, series(top)), \
			f'built from {tarball}' + _with(top, True)
	return None, (f'no criu 3.18 or later ({system or "none"} on the system): {HOW}')
