# SPDX-License-Identifier: GPL-2.0
"""Boots UML guests: the host's root read-only through hostfs, a job
script run by scripts/crcap-guest-init, results in a host directory.

A guest is judged from outside: it must finish within its timeout (it is
killed with its whole process group otherwise), leave the exit status of
its job, and its kernel log must show no BUG, WARNING, Oops or panic.
Several guests run at once, one per core: UML runs on one CPU.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import crcap_util as util
from crcap_util import Error

INIT = 'scripts/crcap-guest-init'
KERNEL_PROBLEMS = re.compile(r'BUG:|WARNING:|Oops|Kernel panic|general protection')


@dataclass
class GuestRun:
	name: str
	results: str
	exit: Optional[int] = None	# the job's exit status
	failure: str = ''		# why the guest itself failed, or ''
	problems: List[str] = field(default_factory=list)	# kernel log lines
	seconds: float = 0.0

	def path(self, name: str) -> str:
		return os.path.join(self.results, name)

	def read(self, name: str) -> Optional[List[str]]:
		try:
			with open(self.path(name), errors='replace') as f:
				return f.read().splitlines()
		except OSError:
			return None

	def kernel_log(self) -> List[str]:
		return self.read('kernel.log') or self.read('console.log') or []


def check_path(path: str, what: str) -> None:
	"""The kernel command line and kbuild take no blanks or commas in paths."""
	if re.search(r'[\s,:"\'\\]', path):
		raise Error(f'{what} {path!r} contains a blank or one of , : " \' \\, which the '
			    'kernel build and the UML command line cannot carry; '
			    'set CRCAP_BUILD to a path without them')


class Guests:
	"""Boots guests of the kernels crcap built, from BUILD."""

	def __init__(self, top: str, build: str, timeout: float, mem: str = '256M'):
		self.top = top
		self.build = build
		self.timeout = timeout
		self.mem = mem
		self.init = os.path.join(build, 'guest', 'crcap-guest-init')

	def install_init(self) -> None:
		"""The guest's init, copied where the guest finds it (the build
		directory: the only host path the guest needs)."""
		os.makedirs(os.path.dirname(self.init), exist_ok=True)
		src = os.path.join(self.top, INIT)
		shutil.copy2(src, self.init + '.tmp')
		os.chmod(self.init + '.tmp', 0o755)
		os.replace(self.init + '.tmp', self.init)

	def boot(self, linux: str, results: str, job: str, name: str = 'guest',
		 timeout: Optional[float] = None) -> GuestRun:
		"""Boots LINUX with JOB (a bash script) as init's job; blocks."""
		if not os.access(linux, os.X_OK):
			raise Error(f'no UML kernel at {linux}: run "scripts/crcap build"')
		timeout = timeout or self.timeout
		shutil.rmtree(results, ignore_errors=True)
		os.makedirs(results)
		with open(os.path.join(results, 'job'), 'w') as f:
			f.write(job)
		run = GuestRun(name, results)
		cmd = ['timeout', '--signal', 'KILL', str(timeout), linux,
		       f'mem={self.mem}', 'rootfstype=hostfs', 'rootflags=/', 'ro',
		       f'init={self.init}', f'crcap_results={results}',
		       f'crcap_build={self.build}',
		       'con=null', 'con0=null,fd:1', 'ssl=null']
		t = time.monotonic()
		rc = util.run(cmd, log=os.path.join(results, 'console.log'),
			      check=False).returncode
		run.seconds = time.monotonic() - t
		if rc in (137, -9):	# timeout KILLs its own group, itself included
			run.failure = (f'the guest did not finish within {timeout:g}s '
				       'and was killed (hang?)')
		exit_text = run.read('exit')
		if exit_text and exit_text[0].strip().lstrip('-').isdigit():
			run.exit = int(exit_text[0])
		elif not run.failure:
			run.failure = (f'the guest stopped before its job finished '
				       f'(UML exit status {rc}: crash?)')
		run.problems = [l for l in run.kernel_log() if KERNEL_PROBLEMS.search(l)]
		with open(os.path.join(results, 'boot-time'), 'w') as f:
			f.write(f'{run.seconds:.2f}\n')
		return run


def parallel(tasks: List[Callable[[], object]], workers: int) -> List[object]:
	"""Runs TASKS on WORKERS threads; results in order.  An exception in
	a task is re-raised here, after the others finished."""
	results: List[object] = [None] * len(tasks)
	errors: List[BaseException] = []
	lock = threading.Lock()
	nxt = [0]

	def worker():
		while True:
			with lock:
				i = nxt[0]
				nxt[0] += 1
			if i >= len(tasks) or errors:
				return
			try:
				results[i] = tasks[i]()
			except BaseException as e:	# re-raised by the caller
				with lock:
					errors.append(e)

	threads = [threading.Thread(target=worker, daemon=True)
		   for _ in range(max(1, min(workers, len(tasks))))]
	for th in threads:
		th.start()
	for th in threads:
		while th.is_alive():
			th.join(0.2)	# lets the main thread take signals
	if errors:
		raise errors[0]
	return results


def balance(items: List[str], cost: Callable[[str], float], n: int,
	    last: tuple = ()) -> List[List[str]]:
	"""Splits ITEMS into N lists of similar total COST (longest first);
	items named in LAST run at the end of their list."""
	shards: List[List[str]] = [[] for _ in range(n)]
	load = [0.0] * n
	for it in sorted(items, key=cost, reverse=True):
		i = load.index(min(load))
		shards[i].append(it)
		load[i] += cost(it)
	for s in shards:
		s.sort(key=lambda it: (it in last, -cost(it)))
	return shards


def host_timeout_cmd(seconds: float) -> List[str]:
	return ['timeout', '--signal', 'KILL', f'{seconds:g}']


def have(cmd: str) -> bool:
	return shutil.which(cmd) is not None


def run_quiet(cmd: List[str]) -> subprocess.CompletedProcess:
	return subprocess.run(cmd, capture_output=True, text=True)
