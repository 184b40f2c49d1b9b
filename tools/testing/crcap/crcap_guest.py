# SPDX-License-Identifier: GPL-2.0
"""Guests: one interface, two backends, one judge.

GuestOperations is the interface, as kunit_kernel.py's
LinuxSourceTreeOperations is: Uml boots a User-Mode Linux kernel that
crcap built (the host's root read-only through hostfs), Qemu boots a
kernel image as its distribution ships it (root from an initramfs, TCG).
Both inits speak the job protocol of crcap-job.sh: every result is a block
on one stream, then the job's exit status, then the whole kernel log.

Every guest is judged the same way, from outside (judge()): it must
finish within its timeout (it is killed with its process group
otherwise), report its job's exit status, and its kernel log, read in
full, must show no BUG, WARNING, Oops, panic, KASAN/KFENCE/UBSAN report,
lockdep splat, stall or call trace.  A result the job was to report and
did not is CRASHED, whichever backend ran it (GuestRun.program()).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import crcap_parser as P
import crcap_util as util
from crcap_parser import Status, Test
from crcap_util import Error

UML_INIT = 'scripts/crcap-guest-init'
QEMU_INIT = 'tools/testing/crcap/crcap-qemu-init'
JOB_LIB = 'tools/testing/crcap/crcap-job.sh'
# Where a QEMU guest's initramfs keeps the protocol and its job.
QEMU_JOB_LIB = '/usr/lib/crcap/crcap-job.sh'
QEMU_JOB = 'crcap/job'
QEMU = 'qemu-system-x86_64'

KERNEL_PROBLEMS = re.compile(
	r'BUG:|WARNING:|Oops|Kernel panic|general protection fault|kernel BUG at|'
	r'Call Trace:|KASAN:|KFENCE:|UBSAN:|possible circular locking|'
	r'possible recursive locking|INFO: task .* blocked for more than|'
	r'rcu: INFO: .*stall|Unable to handle kernel')

_BEGIN = re.compile(r'^=== crcap begin (\S+)$')
_END = re.compile(r'^=== crcap end (\S+) exit (-?\d+)(?: ms (\d+))?$')
_JOB_EXIT = re.compile(r'^=== crcap job exit (-?\d+)$')


@dataclass
class Block:
	"""One result of the protocol: output, exit status (None: cut off)."""
	lines: List[str] = field(default_factory=list)
	exit: Optional[int] = None
	ms: Optional[int] = None


def split_results(text: str) -> Tuple[Dict[str, Block], Optional[int], List[str]]:
	"""A guest's stream: its blocks, the job's exit status (None when the
	guest stopped before the job returned), and the lines outside any
	block (what the job printed itself)."""
	blocks: Dict[str, Block] = {}
	outside: List[str] = []
	job_exit: Optional[int] = None
	cur: Optional[str] = None
	for line in text.splitlines():
		line = line.rstrip('\r')
		m = _BEGIN.match(line)
		if m:
			cur = m.group(1)
			blocks[cur] = Block()
			continue
		m = _END.match(line)
		if m and cur == m.group(1):
			b = blocks[cur]
			b.exit = int(m.group(2))
			b.ms = int(m.group(3)) if m.group(3) else None
			cur = None
			continue
		m = _JOB_EXIT.match(line)
		if m and cur is None:
			job_exit = int(m.group(1))
			continue
		if cur:
			blocks[cur].lines.append(line)
		else:
			outside.append(line)
	return blocks, job_exit, outside


@dataclass
class GuestRun:
	name: str
	results: str
	backend: str = ''
	exit: Optional[int] = None	# the job's exit status
	failure: str = ''		# why the guest itself failed, or ''
	problems: List[str] = field(default_factory=list)	# kernel log lines
	seconds: float = 0.0
	blocks: Dict[str, Block] = field(default_factory=dict)

	def path(self, name: str) -> str:
		return os.path.join(self.results, name)

	def read(self, name: str) -> Optional[List[str]]:
		try:
			with open(self.path(name), errors='replace') as f:
				return f.read().splitlines()
		except OSError:
			return None

	def kernel_log(self) -> List[str]:
		if 'kernel.log' in self.blocks:
			return self.blocks['kernel.log'].lines
		return self.read('console.log') or []

	def output(self) -> List[str]:
		"""What the job printed outside its blocks."""
		return self.read('job.out') or []

	def program(self, item: str, name: str) -> Test:
		"""Block ITEM as the Test NAME: a kselftest program's TAP, judged
		with its exit status; CRASHED when the guest never reported it."""
		b = self.blocks.get(item)
		if b is None:
			return Test(name, Status.CRASHED,
				    f'did not run: its {self.backend} guest stopped before it'
				    + (f' ({self.failure})' if self.failure else ''))
		return P.parse_program(name, b.lines, b.exit)


# What UML prints when the host's xstate does not fit its fixed FP buffer
# (2696 bytes in 6.1 and 6.12; a host with AMX has 11008): a UML tree
# built without tools/testing/crcap/uml-fixes, or a CPU with a larger one.
UML_XSTATE_TOO_SMALL = 'ptrace set fp regs failed, errno = 14'


def judge(run: GuestRun, rc: int, timeout: float, console: List[str]) -> None:
	"""The one verdict on a guest, whatever its backend: timeout, exit
	status, results that never came, the kernel log in full."""
	if rc in (137, -9):	# timeout KILLs its own group, itself included
		run.failure = (f'the guest did not finish within {timeout:g}s '
			       'and was killed (hang?)')
	if run.exit is None and not run.failure:
		run.failure = (f'the guest stopped before its job finished '
			       f'({run.backend} exit status {rc}: crash?)')
	if run.failure and any(UML_XSTATE_TOO_SMALL in line for line in console):
		run.failure += (': UML could not give a process back its FPU state '
				'(PTRACE_SETREGSET NT_X86_XSTATE: EFAULT). This host\'s XSAVE area '
				'is larger than the buffer UML leaves for it (2696 bytes without '
				'crcap\'s UML fix, 11008 with it): this UML cannot run on this CPU')
	seen = set()
	for line in list(run.blocks.get('kernel.log', Block()).lines) + console:
		text = P.strip_log_prefix(line).strip()
		if KERNEL_PROBLEMS.search(text) and text not in seen:
			seen.add(text)
			run.problems.append(text)


def health(runs: List[GuestRun], where: str) -> Test:
	"""<where>.guest: the judge's verdict on each guest, as test cases."""
	s = Test(f'{where}.guest')
	for r in runs:
		g = s.add(Test(r.name))
		if r.failure:
			g.add(Test('finished', Status.FAIL, r.failure))
		elif r.exit != 0:
			g.add(Test('finished', Status.FAIL, f'the job exited with {r.exit}: '
				   + ' '.join(r.output()[-3:])))
		else:
			g.add(Test('finished', Status.PASS))
		g.add(Test('kernel_log', Status.FAIL if r.problems else Status.PASS,
			   '; '.join(p.strip() for p in r.problems[:3])))
		g.log.append(f'{r.backend}: {r.seconds:.1f}s from boot to power-off')
	return s.finish()


def check_path(path: str, what: str) -> None:
	"""The kernel command line and kbuild take no blanks or commas in paths."""
	if re.search(r'[\s,:"\'\\]', path):
		raise Error(f'{what} {path!r} contains a blank or one of , : " \' \\, which the '
			    'kernel build and the UML command line cannot carry; '
			    'set CRCAP_BUILD to a path without them')


class GuestOperations:
	"""Boots one kernel with a job and judges it.  Subclasses say how the
	kernel is started and where its stream arrives."""

	backend = ''

	def __init__(self, timeout: float):
		self.timeout = timeout

	def command(self, results: str) -> List[str]:
		raise NotImplementedError

	def stage(self, results: str, job: str) -> None:
		"""Puts JOB where the guest's init finds it."""
		raise NotImplementedError

	def stream(self, results: str) -> str:
		return os.path.join(results, 'results.log')

	def boot(self, results: str, job: str, name: str = 'guest',
		 timeout: Optional[float] = None) -> GuestRun:
		"""Boots the kernel with JOB (a shell script) as init's job; blocks
		until it powers off or is killed."""
		timeout = timeout or self.timeout
		shutil.rmtree(results, ignore_errors=True)
		os.makedirs(results)
		with open(os.path.join(results, 'job'), 'w') as f:
			f.write(job)
		for f in ('console.log', 'results.log'):
			with open(os.path.join(results, f), 'w'):
				pass
		self.stage(results, job)
		run = GuestRun(name, results, self.backend)
		t = time.monotonic()
		rc = util.run(host_timeout_cmd(timeout) + self.command(results),
			      log=os.path.join(results, 'console.log'), check=False).returncode
		run.seconds = time.monotonic() - t
		run.blocks, run.exit, outside = split_results(util.read_text(self.stream(results)))
		materialize(run, outside)
		judge(run, rc, timeout, run.read('console.log') or [])
		with open(os.path.join(results, 'boot-time'), 'w') as f:
			f.write(f'{run.seconds:.2f}\n')
		return run


def materialize(run: GuestRun, outside: List[str]) -> None:
	"""The stream as files, the same for every backend: <id>.out, .exit
	and .ms per block, kernel.log, job.out and exit."""
	for bid, b in run.blocks.items():
		base = run.path(bid if bid == 'kernel.log' else bid + '.out')
		with open(base, 'w') as f:
			f.write('\n'.join(b.lines) + ('\n' if b.lines else ''))
		if bid == 'kernel.log':
			continue
		if b.exit is not None:
			with open(run.path(bid + '.exit'), 'w') as f:
				f.write(f'{b.exit}\n')
		if b.ms is not None:
			with open(run.path(bid + '.ms'), 'w') as f:
				f.write(f'{b.ms}\n')
	with open(run.path('job.out'), 'w') as f:
		f.write('\n'.join(outside) + ('\n' if outside else ''))
	if run.exit is not None:
		with open(run.path('exit'), 'w') as f:
			f.write(f'{run.exit}\n')


class Uml(GuestOperations):
	"""A UML kernel crcap built; the host's root read-only through
	hostfs; the results directory the one place it writes."""

	backend = 'uml'

	def __init__(self, top: str, build: str, linux: str, timeout: float, mem: str = '256M'):
		super().__init__(timeout)
		self.top = top
		self.build = build
		self.linux = linux
		self.mem = mem
		self.init = uml_init(build)

	def stage(self, results: str, job: str) -> None:
		if not os.access(self.linux, os.X_OK):
			raise Error(f'no UML kernel at {self.linux}: run "scripts/crcap build"')
		if not os.access(self.init, os.X_OK):
			install_uml_init(self.top, self.build)

	def command(self, results: str) -> List[str]:
		return [self.linux, f'mem={self.mem}', 'rootfstype=hostfs', 'rootflags=/', 'ro',
			f'init={self.init}', f'crcap_results={results}',
			f'crcap_build={self.build}',
			'con=null', 'con0=null,fd:1', 'ssl=null']


def uml_init(build: str) -> str:
	return os.path.join(build, 'guest', 'crcap-guest-init')


def install_uml_init(top: str, build: str) -> None:
	"""The UML init and the protocol, copied where the guest finds them
	(the build directory: the only host path the guest needs)."""
	d = os.path.join(build, 'guest')
	os.makedirs(d, exist_ok=True)
	for src, dst, mode in ((UML_INIT, 'crcap-guest-init', 0o755),
			       (JOB_LIB, 'crcap-job.sh', 0o644)):
		tmp = os.path.join(d, dst + '.tmp')
		shutil.copy2(os.path.join(top, src), tmp)
		os.chmod(tmp, mode)
		os.replace(tmp, os.path.join(d, dst))


class Qemu(GuestOperations):
	"""A kernel image as shipped, under QEMU (TCG: no KVM here), root from
	INITRD; the job goes in as one more archive appended to it, the
	results come back on the second serial port."""

	backend = 'qemu'

	def __init__(self, vmlinuz: str, initrd: str, timeout: float, mem: str = '1536',
		     smp: int = 2, append: str = ''):
		super().__init__(timeout)
		self.vmlinuz = vmlinuz
		self.initrd = initrd
		self.mem = mem
		self.smp = smp
		self.append = append

	def stage(self, results: str, job: str) -> None:
		for f in (self.vmlinuz, self.initrd):
			if not os.path.exists(f):
				raise Error(f'no {f} to boot under QEMU')
		with tempfile.TemporaryDirectory(prefix='crcap-job.') as d:
			os.makedirs(os.path.join(d, os.path.dirname(QEMU_JOB)), mode=0o755)
			with open(os.path.join(d, QEMU_JOB), 'w') as f:
				f.write(job)
			jobgz = cpio_gz(d)
		with open(os.path.join(results, 'initrd.gz'), 'wb') as out:
			with open(self.initrd, 'rb') as f:
				shutil.copyfileobj(f, out)
			out.write(jobgz)	# the kernel unpacks archives in a row

	def command(self, results: str) -> List[str]:
		# thread=single: the vCPUs take turns on one host thread.  With a
		# thread each (MTTCG), a CPU can run a stale translation of code
		# another one is patching: Debian's 6.12 kernel oopsed on the int3
		# of a static key being switched (text_poke_bp), in __schedule,
		# once in four boots.  The guest is still SMP.
		return [QEMU, '-accel', 'tcg,thread=single', '-m', self.mem, '-smp', str(self.smp),
			'-nographic', '-no-reboot', '-nodefaults', '-monitor', 'none',
			'-kernel', self.vmlinuz, '-initrd', os.path.join(results, 'initrd.gz'),
			'-serial', f'file:{os.path.join(results, "console.log")}',
			'-serial', f'file:{self.stream(results)}',
			'-append', 'console=ttyS0 panic=-1 loglevel=7 ' + self.append]


def cpio_gz(d: str) -> bytes:
	"""Directory D as a gzipped newc cpio archive, as an initramfs takes it.
	D itself is not in it: archives appended to another must not give "/"
	the mode of a directory of theirs (a private temporary one locked every
	user but root out of the whole guest)."""
	names = util.run(['find', '.', '-mindepth', '1'], cwd=d, capture=True, text=False).stdout
	data = util.run(['cpio', '-o', '-H', 'newc', '--quiet'], cwd=d, input=names,
			capture=True, text=False).stdout
	return gzip.compress(data, compresslevel=1)


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


# ---- the judge proven: each failure kind, on every backend -----------------

SELFCHECK_CASES = (
	# (name, job, timeout, what the judge must have said)
	# The hang first: it waits out its timeout on one core while the
	# other boots the rest.
	('hang_is_killed_at_the_timeout', 'sleep 600\n', 0,
	 lambda r: 'did not finish' in r.failure),
	('exit_status_3_is_reported', 'exit 3\n', 60,
	 lambda r: r.exit == 3 and not r.failure and not r.problems),
	('sigsegv_is_reported', 'kill -SEGV $$\n', 60,
	 lambda r: r.exit == 139 and not r.failure),
	('kernel_warning_fails_the_run',
	 'echo "WARNING: CPU: 0 PID: 1 at crcap selfcheck" >/dev/kmsg\n', 60,
	 lambda r: any('crcap selfcheck' in p for p in r.problems)),
	('kernel_call_trace_fails_the_run',
	 'echo "Call Trace: crcap selfcheck" >/dev/kmsg\n', 60,
	 lambda r: any('crcap selfcheck' in p for p in r.problems)),
	('results_that_never_came_are_crashed',
	 'crcap_item first true\ncrcap_poweroff\n', 60,
	 lambda r: 'stopped before its job finished' in r.failure and
	 'first' in r.blocks and r.blocks['first'].exit == 0 and
	 r.program('second', 'second').status == Status.CRASHED),
)


def selfcheck(backend: str, guest: GuestOperations, results: str,
	      hang_timeout: float) -> Test:
	"""Boots GUEST once per failure kind; the judge must report each."""
	tasks = [lambda c=c: (c, guest.boot(os.path.join(results, f'selfcheck-{backend}-{c[0]}'),
					    c[1], timeout=c[2] or hang_timeout))
		 for c in SELFCHECK_CASES]
	s = Test(f'selfcheck.{backend}')
	for c, run in parallel(tasks, 2):
		ok = c[3](run)
		s.add(Test(c[0], Status.PASS if ok else Status.FAIL,
			   '' if ok else f'exit {run.exit}, failure "{run.failure}", '
			   f'kernel problems {run.problems[:1]}'))
	return s.finish()
