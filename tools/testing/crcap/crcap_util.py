# SPDX-License-Identifier: GPL-2.0
"""Running commands so that nothing outlives crcap, and the build lock.

Every child runs in a process group of its own (make and its compilers, a
UML kernel and its host threads).  On SIGINT, SIGTERM or SIGHUP, crcap
kills every group it started, runs the cleanups registered with
on_exit(), and exits 128 + the signal's number: an interrupted build
leaves no make behind, an interrupted guest no UML process, and an
interrupted run never looks green.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Union

_children: Dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()
_cleanups: List[Callable[[], None]] = []
_T0 = time.monotonic()
quiet = False


class Error(Exception):
	"""A failure crcap reports in one sentence and exits 1 for."""


class Interrupted(BaseException):
	def __init__(self, signum: int):
		super().__init__(signum)
		self.signum = signum


def say(msg: str) -> None:
	if not quiet:
		print(f'[{time.monotonic() - _T0:7.1f}s] {msg}', file=sys.stderr,
		      flush=True)


def on_exit(fn: Callable[[], None]) -> Callable[[], None]:
	"""Runs FN when crcap ends, however it ends (last registered first)."""
	_cleanups.append(fn)
	return fn


def forget(fn: Callable[[], None]) -> None:
	if fn in _cleanups:
		_cleanups.remove(fn)


def kill_children() -> None:
	with _children_lock:
		procs = list(_children.values())
	for p in procs:
		try:
			os.killpg(p.pid, signal.SIGTERM)
		except ProcessLookupError:
			pass
	deadline = time.monotonic() + 3
	for p in procs:
		try:
			p.wait(max(0.1, deadline - time.monotonic()))
		except subprocess.TimeoutExpired:
			pass
		try:	# the group: make's and UML's children too
			os.killpg(p.pid, signal.SIGKILL)
		except ProcessLookupError:
			pass
		try:
			p.wait(5)
		except subprocess.TimeoutExpired:
			pass


def run_cleanups() -> None:
	kill_children()
	while _cleanups:
		fn = _cleanups.pop()
		try:
			fn()
		except Exception as e:	# a cleanup must not hide the others
			print(f'crcap: cleanup failed: {e}', file=sys.stderr)


def _on_signal(signum, _frame) -> None:
	# Only the main thread raises; worker threads see their children die.
	raise Interrupted(signum)


def install_signal_handlers() -> None:
	for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
		signal.signal(s, _on_signal)


def run(cmd: Sequence[str], *, cwd: Optional[str] = None,
	log: Optional[str] = None, env: Optional[dict] = None,
	timeout: Optional[float] = None, check: bool = True,
	stdin=subprocess.DEVNULL, capture: bool = False,
	input: Optional[Union[str, bytes]] = None,
	text: bool = True) -> subprocess.CompletedProcess:
	"""CMD in a process group of its own, output (stderr with it) to LOG
	(appended) or captured; INPUT on its standard input; bytes instead of
	text without TEXT.  Killed with its group on timeout or when crcap is.
	Every child crcap starts goes through here."""
	out = subprocess.PIPE if capture else None
	if input is not None:
		stdin = subprocess.PIPE
	logf = None
	if log:
		logf = open(log, 'a')
		out = logf
	try:
		p = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=stdin,
				     stdout=out, stderr=subprocess.STDOUT if out else None,
				     start_new_session=True, text=text)
		with _children_lock:
			_children[p.pid] = p
		try:
			stdout, _ = p.communicate(input=input, timeout=timeout)
		except subprocess.TimeoutExpired:
			os.killpg(p.pid, signal.SIGKILL)
			stdout, _ = p.communicate()
			raise
		finally:
			with _children_lock:
				_children.pop(p.pid, None)
			# Anything the command left in its group goes too.
			try:
				os.killpg(p.pid, signal.SIGKILL)
			except (ProcessLookupError, PermissionError):
				pass
	finally:
		if logf:
			logf.close()
	if check and p.returncode != 0:
		where = f' (log: {log})' if log else ''
		tail = ''
		if log:
			tail = '\n' + tail_of(log, 15)
		elif capture and stdout and text:
			tail = '\n' + '\n'.join(stdout.splitlines()[-15:])
		raise Error(f'{" ".join(cmd[:3])}... exited with {p.returncode}{where}{tail}')
	return subprocess.CompletedProcess(p.args, p.returncode,
					   stdout or ('' if text else b''), '')


def tail_of(path: str, n: int) -> str:
	try:
		with open(path, errors='replace') as f:
			return ''.join(f.readlines()[-n:]).rstrip()
	except OSError:
		return ''


class BuildLock:
	"""An exclusive lock on a build directory: one crcap at a time."""

	def __init__(self, directory: str):
		os.makedirs(directory, exist_ok=True)
		self.path = os.path.join(directory, '.crcap.lock')
		self.fd = -1

	def acquire(self) -> None:
		self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
		try:
			fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
		except BlockingIOError:
			try:
				holder = os.read(self.fd, 64).decode().strip()
			except OSError:
				holder = '?'
			os.close(self.fd)
			self.fd = -1
			raise Error(f'another crcap (pid {holder or "?"}) is using '
				    f'{os.path.dirname(self.path)}; wait for it, or set '
				    'CRCAP_BUILD to another directory')
		os.ftruncate(self.fd, 0)
		os.write(self.fd, f'{os.getpid()}\n'.encode())
		on_exit(self.release)

	def release(self) -> None:
		if self.fd >= 0:
			os.close(self.fd)
			self.fd = -1


def read_text(path: str) -> str:
	"""PATH's text, or '' when it cannot be read."""
	try:
		with open(path) as f:
			return f.read()
	except OSError:
		return ''


def elapsed(t0: float) -> str:
	return f'{time.monotonic() - t0:.1f}s'
