# SPDX-License-Identifier: GPL-2.0
"""The tables "scripts/crcap run" prints after the summary: for each place
the suite ran and each fixture, every test's observed outcome per variant,
from the diagnostic line the selftests print for each case:
    # <fixture>.<variant>.<test>: expected <outcome>, observed <outcome>
An outcome is "ok" or an errno's name, followed by " but <what>" when the
effect is wrong (a success on the wrong PID, a refusal that created
something): the whole outcome is compared, not the errno alone."""

from __future__ import annotations

import glob
import os
import re
from typing import Dict, List, Optional, Tuple

_LINE = re.compile(r'^# (\S+\.\S+\.\S+): expected (\S+), observed (.+)$')


def _results(paths: List[str]) -> List[Tuple[str, str, str]]:
	out = []
	for p in sorted(paths):
		with open(p, errors='replace') as f:
			for line in f:
				m = _LINE.match(line.rstrip())
				if m:
					out.append(m.groups())
	return out


def _cell(want: str, got: str) -> str:
	if got == want:
		return got
	short = got.split(' but ')[0] + ('~' if ' but ' in got else '')
	return f'{short}!={want}'


def table(name: str, rows: List[Tuple[str, str, str]]) -> List[str]:
	out = ['', f'== {name}: observed outcome per test (rows) and variant (columns), by fixture']
	if not rows:
		return out + ['   (no results: the suite did not run)']
	fixtures: Dict[str, List[Tuple[str, str, str, str]]] = {}
	for case, want, got in rows:
		fixture, variant, test = (case.split('.', 2) + ['', ''])[:3]
		fixtures.setdefault(fixture, []).append((variant, test, want, got))
	bad = 0
	for fixture, cases in fixtures.items():
		tests: List[str] = []
		variants: List[str] = []
		cell: Dict[Tuple[str, str], str] = {}
		for variant, test, want, got in cases:
			if test not in tests:
				tests.append(test)
			if variant not in variants:
				variants.append(variant)
			cell[test, variant] = _cell(want, got)
			bad += got != want
		out.append(f'-- {fixture}')
		out += [f'   v{j + 1:<2} {v}' for j, v in enumerate(variants)]
		out.append(f'{"test":<40}' + ''.join(f' {"v" + str(j + 1):<7}' for j in range(len(variants))))
		for t in tests:
			out.append(f'{t[:40]:<40}' + ''.join(f' {cell.get((t, v), "-"):<7}' for v in variants))
	out.append(f'{len(rows)} cases, {len(rows) - bad} as expected, {bad} differ')
	return out


def tables(results: str, places: Optional[List[str]] = None) -> List[str]:
	"""The host's table, then each UML guest place's (of PLACES, or of
	every place with results but the mutants')."""
	out = table('host', _results(glob.glob(os.path.join(results, 'host', '*.out'))))
	for d in sorted(glob.glob(os.path.join(results, 'uml-*-a'))):
		where = os.path.basename(d)[:-2]
		if '.' in where.split('-', 1)[1].replace('6.12', '').replace('6.1', ''):
			continue	# a mutant's guest
		if places is not None and where not in places:
			continue
		files = glob.glob(os.path.join(results, where + '-?', 'kselftest.*.out'))
		out += table(where, _results(files))
	out.append('')
	out.append("Cells: ok = allowed with the right effect, EPERM/EACCES/... = refused "
		   "with that error; 'a!=b' = observed a where b was expected; "
		   "a~ = a, but with a wrong effect (the log says which).")
	return out
