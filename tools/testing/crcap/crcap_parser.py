# SPDX-License-Identifier: GPL-2.0
"""Parses the TAP and KTAP that crcap's suites print into a tree of tests.

Three kinds of input reach this module:

 * the output of one kselftest program (TAP 13 from kselftest_harness.h,
   one level, plan first: "1..N", or "1..0 # SKIP reason"),
 * KTAP that KUnit writes to the kernel log (nested, indented by four
   spaces, "# Subtest:" headers, a "[ time]" prefix on every line),
 * TAP from the project's own shell checks (plan last).

Whatever the input, the result is a Test whose leaves are test cases and
whose status is computed from them, never taken on trust: a plan that
does not match the results, a program that exited with a status its
results do not explain, or a stream with no results at all is a failure.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Tuple


class Status(enum.Enum):
	"""The outcome of a test.  CRASHED: a result that never came."""
	PASS = 'pass'
	FAIL = 'fail'
	SKIP = 'skip'
	CRASHED = 'crashed'

	@property
	def failed(self) -> bool:
		return self in (Status.FAIL, Status.CRASHED)


@dataclass
class Counts:
	passed: int = 0
	failed: int = 0
	skipped: int = 0

	def add(self, other: 'Counts') -> None:
		self.passed += other.passed
		self.failed += other.failed
		self.skipped += other.skipped

	@property
	def total(self) -> int:
		return self.passed + self.failed + self.skipped

	def __str__(self) -> str:
		return (f'{self.passed} passed, {self.failed} failed, '
			f'{self.skipped} skipped')


@dataclass
class Test:
	"""A test case (no subtests) or a group of tests.

	The status of a group is derived from its leaves by finish(): the
	status a stream claimed for a group is kept in `claimed` for the
	record only.  A test given no status and no subtests is a group in
	which nothing ran: finish() fails it (an empty group is no pass).
	"""
	name: str
	status: Optional[Status] = None
	reason: str = ''
	subtests: List['Test'] = field(default_factory=list)
	log: List[str] = field(default_factory=list)
	claimed: Optional[Status] = None

	def add(self, test: 'Test') -> 'Test':
		self.subtests.append(test)
		return test

	def leaves(self, prefix: str = '') -> Iterator[Tuple[str, 'Test']]:
		"""(id, test) for every test case; ids are names joined by '.'."""
		tid = f'{prefix}.{self.name}' if prefix else self.name
		if not self.subtests:
			yield tid, self
			return
		for t in self.subtests:
			yield from t.leaves(tid)

	def counts(self) -> Counts:
		c = Counts()
		for _, leaf in self.leaves():
			if leaf.status == Status.PASS:
				c.passed += 1
			elif leaf.status == Status.SKIP:
				c.skipped += 1
			else:	# failed, crashed, or an empty group never finished
				c.failed += 1
		return c

	def finish(self) -> 'Test':
		"""Derives the status of every group from its leaves."""
		if not self.subtests:
			if self.status is None:
				self.status = Status.FAIL
				self.reason = self.reason or 'an empty group: none of its tests ran'
			return self
		for t in self.subtests:
			t.finish()
		c = self.counts()
		if c.failed:
			self.status = Status.FAIL
			if not self.reason:
				self.reason = f'{c.failed} failed'
		elif c.passed:
			self.status = Status.PASS
		else:
			self.status = Status.SKIP
			if not self.reason:
				self.reason = first_skip_reason(self) or 'every case skipped'
		return self


def first_skip_reason(test: Test) -> str:
	for _, leaf in test.leaves():
		if leaf.status == Status.SKIP and leaf.reason:
			return leaf.reason
	return ''


# A line of kernel log: "[    1.234567] text" (dmesg) or "<6>[ ...] text".
_LOG_PREFIX = re.compile(r'^(<\d+>)?\[\s*\d+\.\d+\]\s?')
_VERSION = re.compile(r'^(K?TAP) version (\d+)$')
_PLAN = re.compile(r'^1\.\.(\d+)\s*(#\s*(.*))?$')
_RESULT = re.compile(r'^(ok|not ok)\s+(\d+)\s*(?:-\s+)?([^#]*?)\s*(?:#\s*(.*))?$')
_SUBTEST = re.compile(r'^# Subtest: (.*)$')


def strip_log_prefix(line: str) -> str:
	return _LOG_PREFIX.sub('', line.rstrip('\n'))


@dataclass
class _Line:
	indent: int
	text: str
	number: int


def _lines(raw: Iterable[str]) -> List[_Line]:
	out = []
	for n, line in enumerate(raw, 1):
		line = line.rstrip('\n').replace('\t', '    ')
		stripped = line.lstrip(' ')
		out.append(_Line(len(line) - len(stripped), stripped.rstrip(), n))
	return out


def _directive(text: Optional[str]) -> Tuple[str, str]:
	"""('SKIP'|'XFAIL'|'XPASS'|'TODO'|'', reason) from a result's comment."""
	text = (text or '').strip()
	m = re.match(r'^(SKIP|XFAIL|XPASS|TODO)\b:?\s*(.*)$', text, re.I)
	if m:
		return m.group(1).upper(), m.group(2).strip()
	return '', text


def result_status(ok: bool, directive: str) -> Status:
	if directive == 'SKIP':
		return Status.SKIP
	if directive == 'XFAIL':	# kselftest: an expected failure passes
		return Status.PASS
	if directive == 'XPASS':	# kselftest: an unexpected pass fails
		return Status.FAIL
	if directive == 'TODO':
		return Status.PASS if ok else Status.SKIP
	return Status.PASS if ok else Status.FAIL


class _Parser:
	"""Recursive descent over lines; a level is a run of lines at one indent."""

	def __init__(self, lines: List[_Line]):
		self.lines = lines
		self.pos = 0

	def peek(self) -> Optional[_Line]:
		return self.lines[self.pos] if self.pos < len(self.lines) else None

	def level(self, group: Test, indent: int, nested: bool = False) -> None:
		"""Parses the results of GROUP: lines at INDENT, deeper lines are
		subtests of the result that follows them."""
		plan: Optional[int] = None
		plan_skip = ''
		pending_log: List[str] = []
		pending_child: Optional[Test] = None
		while True:
			line = self.peek()
			if line is None or (line.indent < indent and line.text):
				break
			if not line.text:
				self.pos += 1
				continue
			if line.indent > indent:
				# A nested stream: the subtests of the next result.
				child = Test(name='')
				self.level(child, line.indent, nested=True)
				if pending_child is not None:	# two nested runs in a row
					group.add(pending_child)
				pending_child = child
				continue
			text = line.text
			self.pos += 1
			m = _VERSION.match(text)
			if m:
				continue
			m = _SUBTEST.match(text)
			if m:
				if not group.name:
					group.name = m.group(1).strip()
				continue
			m = _PLAN.match(text)
			if m:
				plan = int(m.group(1))
				d, why = _directive(m.group(3))
				if plan == 0 and d == 'SKIP':
					plan_skip = why or 'skipped'
				continue
			m = _RESULT.match(text)
			if m:
				ok = m.group(1) == 'ok'
				name = m.group(3).strip()
				d, why = _directive(m.group(4))
				if pending_child is not None and (not pending_child.name or
								  pending_child.name == name):
					test = pending_child
					test.claimed = result_status(ok, d)
					pending_child = None
					if not test.subtests:
						test.status = result_status(ok, d)
				else:
					if pending_child is not None:
						group.add(pending_child)
						pending_child = None
					test = Test(name=name, status=result_status(ok, d))
				test.name = name or test.name or f'case_{m.group(2)}'
				test.reason = why
				test.log = pending_log + test.log
				pending_log = []
				group.add(test)
				continue
			if text.startswith('#'):
				pending_log.append(text[1:].strip())
			else:
				pending_log.append(text)
		if pending_child is not None:
			# Subtests whose result line never came: the parent crashed.
			pending_child.status = Status.CRASHED
			pending_child.reason = 'no result line for this group'
			group.add(pending_child)
		group.log.extend(pending_log)
		self._check_plan(group, plan, plan_skip, nested)

	@staticmethod
	def _check_plan(group: Test, plan: Optional[int], plan_skip: str,
			nested: bool) -> None:
		"""A stream needs a plan that its results meet; a nested group
		(KUnit's parameterised tests) may go without one: the result line
		that closes it says it is complete."""
		got = len(group.subtests)
		if plan_skip and got == 0:
			group.status = Status.SKIP
			group.reason = plan_skip
			group.claimed = Status.SKIP
			return
		if plan is None and nested and got:
			return
		if plan is None:
			if got == 0:
				group.add(Test('results', Status.CRASHED,
					       'no plan and no result: the program printed no TAP'))
			else:
				group.add(Test('plan', Status.CRASHED,
					       f'no plan line after {got} results: output cut short?'))
		elif got < plan:
			group.add(Test('plan', Status.CRASHED,
				       f'{plan - got} of {plan} planned results missing '
				       f'(output ends after result {got}): crashed or cut short'))
		elif got > plan:
			group.add(Test('plan', Status.FAIL,
				       f'{got} results for a plan of {plan}'))


def parse_tap(raw: Iterable[str], name: str) -> Test:
	"""Parses one TAP/KTAP stream (a program's stdout) into a Test NAME."""
	lines = _lines(raw)
	group = Test(name=name)
	p = _Parser(lines)
	base = min((ln.indent for ln in lines if ln.text), default=0)
	p.level(group, base)
	return group.finish()


def ktap_from_kernel_log(raw: Iterable[str], after: Optional[str] = None,
			 before: Optional[str] = None) -> List[str]:
	"""The first KTAP stream of a kernel log, prefixes removed: from its
	version line to the result that completes its top-level plan.  Other
	kernel messages in between are dropped.  AFTER/BEFORE: only the part
	of the log between lines containing them."""
	out: List[str] = []
	on = after is None
	prefix = -1
	plan = None
	results = 0
	for line in raw:
		text = strip_log_prefix(line)
		if after is not None and after in text:
			on = True
			continue
		if before is not None and before in text:
			break
		if not on:
			continue
		if prefix < 0:
			m = re.search(r'K?TAP version \d+$', text)
			if not m:
				continue
			prefix = m.start()
		body = text[prefix:] if text[:prefix].strip() == '' else text.lstrip()
		stripped = body.lstrip(' ')
		if not (_VERSION.match(stripped) or _PLAN.match(stripped) or
			_RESULT.match(stripped) or stripped.startswith('#')):
			continue	# another kernel message
		out.append(body)
		if body == stripped:	# top level
			m = _PLAN.match(body)
			if m and plan is None:
				plan = int(m.group(1))
			elif _RESULT.match(body):
				results += 1
			if plan is not None and results >= plan:
				break
	return out


def parse_program(name: str, output: Iterable[str],
		  exit_status: Optional[int]) -> Test:
	"""One kselftest program: its TAP and its exit status, checked
	against each other.  EXIT_STATUS None: it never exited (killed with
	its guest, say); negative: killed by that signal."""
	test = parse_tap(output, name)
	verdict = exit_verdict(test, exit_status)
	if verdict:
		test.add(Test('exit_status', Status.FAIL, verdict))
		test.finish()
	return test


KSFT_PASS, KSFT_FAIL, KSFT_SKIP = 0, 1, 4


def exit_verdict(test: Test, status: Optional[int]) -> str:
	"""Why STATUS does not fit the results of TEST, or ''."""
	if status is None:
		return 'the program did not exit (no exit status recorded)'
	if status < 0 or status > 128:
		sig = -status if status < 0 else status - 128
		return f'the program was killed by signal {sig}'
	c = test.counts()
	if status == KSFT_PASS and c.failed:
		return 'exit status 0 although cases failed'
	if status == KSFT_SKIP and c.passed and not c.failed:
		return 'exit status 4 (skip) although cases passed'
	if status not in (KSFT_PASS, KSFT_SKIP) and not c.failed:
		return f'exit status {status} although no case failed'
	return ''
