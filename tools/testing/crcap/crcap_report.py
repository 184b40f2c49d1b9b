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
import os
import re
import sys
from typing import IO, Dict, Iterable, List, Optional

import crcap_util as util
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


def kunit_parse_disagrees(kunit: Optional[str], ktap: str, counts: Counts) -> str:
	"""'' when the kernel's own KTAP parser (KUNIT, tools/testing/kunit/
	kunit.py of a tree) reads the report with no error and the same
	counts; else what it says."""
	if not kunit:
		return 'no tools/testing/kunit/kunit.py in any tree to check the report with'
	p = util.run(['python3', kunit, 'parse', ktap], capture=True, check=False)
	out = re.sub(r'\x1b\[[0-9;]*m', '', p.stdout)
	m = re.search(r'Testing complete\. Ran (\d+) tests: (.*)', out)
	if not m:
		return 'kunit.py parse printed no summary: ' + out.strip()[-200:]
	got = dict((k.strip(), int(v)) for k, v in re.findall(r'(\w+): (\d+)', m.group(2)))
	want = {'passed': counts.passed, 'failed': counts.failed, 'skipped': counts.skipped}
	gotn = {'passed': got.get('passed', 0),
		'failed': got.get('failed', 0) + got.get('crashed', 0),
		'skipped': got.get('skipped', 0)}
	if got.get('errors', 0) or gotn != want:
		return (f'kunit.py parse says "Ran {m.group(1)} tests: {m.group(2).strip()}", '
			f'crcap counts {counts}')
	return ''


def report(results: str, suites: List[Test], env: dict, timings: Dict[str, float],
	   kunit: Optional[str], json_path: Optional[str] = None, raw: bool = False,
	   lines: Optional[List[str]] = None, out: Optional[IO[str]] = None) -> int:
	"""Writes the report (KTAP, JSON), has kunit.py parse check it, and
	prints the summary; the last line is "N passed, N failed, N skipped".
	Returns the exit status: 1 on any failure."""
	out = out or sys.stdout
	header = [f'{k}: {v}' for k, v in env.items()]
	header += [f'time {k}: {v:.1f}s' for k, v in timings.items()]
	ktap = os.path.join(results, 'report.ktap')
	agree = Test('kunit_parse_agrees', Status.PASS)
	suites = suites + [Test('report', subtests=[agree])]
	for _ in range(2):
		suites[-1].finish()
		with open(ktap, 'w') as f:
			write_ktap(f, suites, header)
		problem = kunit_parse_disagrees(kunit, ktap, total(suites))
		if not problem:
			break
		agree.status, agree.reason = Status.FAIL, problem
	if json_path:
		write_json(json_path, suites, env)
	write_json(os.path.join(results, 'report.json'), suites, env)
	if lines:
		out.write('\n'.join(lines) + '\n\n')
	if raw:
		out.write(util.read_text(ktap))
	out.write(f'KTAP: {ktap}\n')
	out.write('\n'.join(summary_lines(suites)) + '\n')
	out.flush()
	return 1 if total(suites).failed else 0
