# SPDX-License-Identifier: GPL-2.0
"""Writes a tree of tests as one KTAP stream, as JSON, and as a summary.

The KTAP is what tools/testing/kunit/kunit.py parse reads: every group has
a "KTAP version 1" line, a "# Subtest:" header, a plan that matches its
subtests and a result line with its name; counts are over leaves only, as
kunit.py counts them.  A failure that is not a test case of its own (a
program that crashed, a plan not met) is already a leaf in the tree
(crcap_parser adds one), so kunit.py and crcap count the same.
"""

from __future__ import annotations

import json
import re
from typing import IO, Iterable, List

from crcap_parser import Counts, Status, Test

# Lines of a case's log that are kept in the report: failures only.
MAX_LOG_LINES = 40


def clean_name(name: str) -> str:
	"""A name KTAP can carry: one line, no '#', no surrounding blanks."""
	name = re.sub(r'\s+', ' ', name.replace('#', 'No.')).strip()
	return name or 'unnamed'


def clean_reason(reason: str) -> str:
	reason = re.sub(r'\s+', ' ', reason).strip()
	# A reason must not read as a directive of its own.
	return re.sub(r'^(SKIP|TODO|XFAIL|XPASS)\b', r'(\1)', reason, flags=re.I)


def _diag(line: str) -> str:
	line = line.rstrip()
	# "# Subtest:" would open a group for kunit.py.
	if line.lstrip().startswith('Subtest:'):
		line = '(' + line.strip() + ')'
	return '# ' + line if line else '#'


def _result_line(n: int, test: Test) -> str:
	name = clean_name(test.name)
	reason = clean_reason(test.reason)
	if test.status == Status.SKIP:
		return f'ok {n} {name} # SKIP {reason}'.rstrip()
	if test.status == Status.PASS:
		return f'ok {n} {name}'
	return f'not ok {n} {name}' + (f' # {reason}' if reason else '')


def ktap_lines(test: Test, n: int = 1, indent: int = 0) -> Iterable[str]:
	"""TEST as KTAP, the result line numbered N."""
	pad = ' ' * indent
	if test.status.failed and test.log:
		for line in test.log[-MAX_LOG_LINES:]:
			yield pad + _diag(line)
	if test.subtests:
		yield pad + '    KTAP version 1'
		yield pad + '    # Subtest: ' + clean_name(test.name)
		yield pad + f'    1..{len(test.subtests)}'
		for i, sub in enumerate(test.subtests, 1):
			yield from ktap_lines(sub, i, indent + 4)
	yield pad + _result_line(n, test)


def write_ktap(out: IO[str], suites: List[Test], header: List[str]) -> None:
	"""The whole run: a top-level plan over SUITES, HEADER as diagnostics."""
	out.write('KTAP version 1\n')
	for line in header:
		out.write(_diag(line) + '\n')
	out.write(f'1..{len(suites)}\n')
	for i, suite in enumerate(suites, 1):
		for line in ktap_lines(suite, i):
			out.write(line + '\n')


def total(suites: List[Test]) -> Counts:
	c = Counts()
	for s in suites:
		c.add(s.counts())
	return c


def failures(suites: List[Test]) -> List[str]:
	"""'id: reason' for every failed leaf."""
	out = []
	for s in suites:
		for tid, leaf in s.leaves():
			if leaf.status.failed:
				out.append(f'{tid}: {leaf.reason}' if leaf.reason else tid)
	return out


def to_json(suites: List[Test], environment: dict) -> dict:
	"""Stable ids: suite.program.case, nothing that changes with the host
	kernel's release or a patch's file name (those go in 'environment')."""
	c = total(suites)
	return {
		'format': 'crcap-results-1',
		'environment': environment,
		'counts': {'passed': c.passed, 'failed': c.failed,
			   'skipped': c.skipped},
		'suites': [{'id': s.name, 'status': s.status.value,
			    'reason': s.reason, **vars(s.counts())}
			   for s in suites],
		'tests': [{'id': tid, 'status': leaf.status.value,
			   'reason': leaf.reason}
			  for s in suites for tid, leaf in s.leaves()],
	}


def write_json(path: str, suites: List[Test], environment: dict) -> None:
	with open(path, 'w') as f:
		json.dump(to_json(suites, environment), f, indent=1)
		f.write('\n')


_WORD = {Status.PASS: 'PASSED', Status.FAIL: 'FAILED',
	 Status.SKIP: 'SKIPPED', Status.CRASHED: 'CRASHED'}


def summary_lines(suites: List[Test]) -> List[str]:
	"""One line per suite, the failing cases, and the closing line."""
	width = max((len(s.name) for s in suites), default=0)
	out = []
	for s in suites:
		line = f'[{_WORD[s.status]:>7}] {s.name:<{width}}  {s.counts()}'
		if s.status == Status.SKIP:
			line += f'  ({s.reason})'
		out.append(line)
	failed = failures(suites)
	if failed:
		out.append('')
		out.append(f'Failing cases ({len(failed)}):')
		out.extend('  ' + f for f in failed)
	out.append('')
	out.append(str(total(suites)))
	return out
