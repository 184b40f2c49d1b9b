# SPDX-License-Identifier: GPL-2.0
"""The tables "scripts/crcap run" prints after the summary: for each place
the suite ran, each operation's observed outcome per credential variant,
from the diagnostic line the selftests print for each case:
    # <fixture>.<variant>.<test>: expected <errno>, observed <errno>"""

from __future__ import annotations

import glob
import os
import re
from typing import Dict, List, Tuple

_LINE = re.compile(r'^# (\S+\.\S+\.\S+): expected (\S+), observed (\S+)$')


def _results(paths: List[str]) -> List[Tuple[str, str, str]]:
	out = []
	for p in sorted(paths):
		with open(p, errors='replace') as f:
			for line in f:
				m = _LINE.match(line.rstrip())
				if m:
					out.append(m.groups())
	return out


def table(name: str, rows: List[Tuple[str, str, str]]) -> List[str]:
	out = ['', f'== {name}: observed outcome per operation (rows) and credential set (columns)']
	if not rows:
		return out + ['   (no results: the suite did not run)']
	ops: List[str] = []
	creds: List[str] = []
	cell: Dict[Tuple[str, str], str] = {}
	bad = 0
	for case, want, got in rows:
		parts = case.split('.')
		op = '.'.join([parts[0]] + parts[2:]) if len(parts) > 2 else case
		cr = parts[1] if len(parts) > 2 else '-'
		if op not in ops:
			ops.append(op)
		if cr not in creds:
			creds.append(cr)
		cell[op, cr] = got if got == want else f'{got}!={want}'
		bad += got != want
	out += [f'   c{j + 1:<2} {c}' for j, c in enumerate(creds)]
	out.append(f'{"operation":<46}' + ''.join(f' {"c" + str(j + 1):<10}' for j in range(len(creds))))
	for op in ops:
		out.append(f'{op[:46]:<46}' + ''.join(f' {cell.get((op, c), "-"):<10}' for c in creds))
	out.append(f'{len(rows)} cases, {len(rows) - bad} as expected, {bad} differ')
	return out


def tables(results: str) -> List[str]:
	out = table('host', _results(glob.glob(os.path.join(results, 'host', '*.out'))))
	for d in sorted(glob.glob(os.path.join(results, 'uml-*-a'))):
		where = os.path.basename(d)[:-2]
		if '.' in where.split('-', 1)[1].replace('6.12', '').replace('6.1', ''):
			continue	# a mutant's guest
		files = glob.glob(os.path.join(results, where + '-?', 'kselftest.*.out'))
		out += table(where, _results(files))
	out.append('')
	out.append("Cells: ok = allowed, EPERM/EACCES/... = refused with that error; "
		   "'a!=b' = observed a where b was expected.")
	return out
