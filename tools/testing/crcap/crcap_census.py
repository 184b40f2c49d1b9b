# SPDX-License-Identifier: GPL-2.0
"""The census: CRIU's own test suite, zdtm, run without root.

zdtm is the judge here, not crcap: its verdict on each test of the CRIU that
crcap_criu builds from ../shared/vendor (the test programs built once, in
the same kept tree) is compared with the outcome written down for it in
tools/checkpoint_restore/census/expected, one line per mode and test, with
the cause of every test that does not pass.  A test whose outcome differs
from that line, in either direction, fails the census by name: a
regression and a fix are both news.

The modes that run on the host (HOST_MODES) run as a user made for the run
and removed after it, in a copy of the CRIU tree that user owns, with file
capabilities on that copy's criu only; zdtm's own cgroup set-up
(zdtm_mount_cgroups) is skipped by its --rootless mode, and no test runs
as root on the host.  Tests that touch host-global state are left out, each
with its reason (census/excluded).  When a test's outcome is not the one
written down, the census asks why: the test again with --nocr (a test that
fails that way needs privilege itself), the capability checks the kernel
refused while it ran (the capability:cap_capable tracepoint, read with
bpftrace in a private mount namespace), and the first error in CRIU's log.

The root baseline (mode "root", GUEST_MODES) is zdtm as CRIU's CI runs it,
as root with its own set-up (cgroup v1 hierarchies, tests dropped to uid
18943): that runs only inside a QEMU guest of Debian's own 6.12 kernel
(crcap_qemu.zdtm_initrd(), crcap-zdtm-job.sh), never on the host.  zdtm's
TAP report comes back through the job protocol and is judged here, by the
same parse_tap() and judge(), against the "root" lines of census/expected.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import pwd
import re
import shlex
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import crcap_criu
import crcap_guest as G
import crcap_qemu as Q
import crcap_util as util
from crcap_parser import Status, Test
from crcap_util import Error, say

CENSUS_DIR = 'tools/checkpoint_restore/census'
EXCLUDED = f'{CENSUS_DIR}/excluded'
EXPECTED = f'{CENSUS_DIR}/expected'
USER = 'crcap-census'
OUTCOMES = ('pass', 'fail', 'skip')
# What a cause may say it is (the first word of the cause, before ':').
CAUSES = ('kernel', 'criu', 'test', 'zdtm', 'flaky', 'host')
# What a "host:" line may say the test needs: how to tell whether this
# host (or this run) has it, and zdtm's verdict where it does not.  Such a
# line writes the outcome where it has it.
HOST_NEEDS = {
	# hugetlb mappings: without a pool the test program itself fails
	'huge pages': (lambda: _meminfo('HugePages_Total') > 0, 'fail'),
	# the tests run with the census's loginuid: once it is set, changing it
	# needs CAP_AUDIT_CONTROL, CRIU reports no loginuid feature and zdtm
	# skips the test
	'an unset loginuid': (lambda: util.read_text('/proc/self/loginuid').strip()
			      in ('', '4294967295'), 'skip'),
}
PACKAGES = ['python3-yaml', 'python3-psutil', 'bpftrace', 'libcap2-bin', 'gnuplot-nox']


@dataclass(frozen=True)
class Mode:
	name: str
	caps: str		# the file capabilities of criu
	userns: bool		# inside "unshare -Ucfpm --mount-proc", as CRIU's CI does
	what: str
	guest: bool = False	# as root, in a QEMU guest (never on the host)
	# In user_t under Debian's policy and the criu module, "permissive" or
	# "enforcing": only in guests of Debian's kernels ("census --kernel").
	selinux: str = ''


MODES: Dict[str, Mode] = {m.name: m for m in (
	Mode('caps', 'cap_checkpoint_restore,cap_setpcap', False,
	     'as a user, criu with cap_checkpoint_restore,cap_setpcap+eip'),
	Mode('userns', 'cap_checkpoint_restore,cap_setpcap', True,
	     'as a user inside unshare -Ucfpm --mount-proc (CRIU CI\'s way), criu setcap\'d'),
	Mode('cr_only', 'cap_checkpoint_restore', False,
	     'as a user, criu with cap_checkpoint_restore+eip alone'),
	Mode('root', '', False, 'as root with zdtm\'s own set-up, inside a QEMU guest of '
	     'Debian\'s newest 6.12 cloud kernel', guest=True),
	Mode('caps_selinux_permissive', 'cap_checkpoint_restore,cap_setpcap', False,
	     'as caps, in user_t under Debian\'s policy and the criu module '
	     '(criu_restore_user_home_files on), permissive: the denials are logged',
	     selinux='permissive'),
	Mode('caps_selinux', 'cap_checkpoint_restore,cap_setpcap', False,
	     'as caps_selinux_permissive, enforcing', selinux='enforcing'),
)}
# The SELinux modes: in guests of Debian's kernels only, permissive and
# enforcing; a test that passes permissive and not enforcing is run again
# alone, enforcing, to name the denial that stops it (selinux_gap()).
SELINUX_MODES = ('caps_selinux_permissive', 'caps_selinux')
HOST_MODES = ('caps', 'userns', 'cr_only')
GUEST_MODES = ('root',)
# The root guest: Debian's kernel (series, flavour), as crcap_qemu fetches it.
ROOT_KERNEL = ('6.12', 'cloud-amd64')
# The root baseline's tests in guests of at most ROOT_CHUNK tests each
# (a test that hangs costs its chunk, not the run), ROOT_GUESTS guests at
# once (a guest is one TCG thread: two keep both cores busy), zdtm at
# ROOT_PARALLEL tests at a time in each.  A chunk may take ROOT_START
# seconds (zdtm's start, its cgroup set-up, its criu checks) plus
# ROOT_PER_TEST per test and lane before zdtm is stopped (its report
# written), and ROOT_BOOT more before its guest is killed.
ROOT_CHUNK = 40
ROOT_GUESTS = 2
ROOT_PARALLEL = 2
ROOT_START = 120
ROOT_PER_TEST = 90
ROOT_BOOT = 180
# Modes that run a sample, not every test (none since CRIU's series lets a
# restore go on without CAP_SETPCAP: before it, every cr_only restore
# stopped at the same step, dropping from the bounding set what the task
# did not have there, and 14 tests were a sample).
SAMPLES: Dict[str, Tuple[str, ...]] = {}

# What "scripts/crcap test" runs: a few tests of each cause, per mode
# (the whole census is "scripts/crcap census").  Each must have its line
# in census/expected.
IN_TEST: Dict[str, Tuple[str, ...]] = {
	# pass; criu (TCP_REPAIR, said by 0007); zdtm (a skip); test (SO_MARK); kernel
	# (open_by_handle_at, ptrace of a non-dumpable task)
	'caps': ('env00', 'maps00', 'memfd00', 'socket-tcp', 'seccomp_strict', 'sock_opts00',
		 'inotify04', 'dumpable02',
		 # pass with CRIU's series: the owner of an unlinked socket (0002), a
		 # relative name whose directory is gone (0005), a pty master closed
		 # before the dump (0006), loginuid (0008)
		 'sk-unix01', 'fifo_upon_unix_socket01', 'pty04', 'loginuid'),
	# memfd02 and memfd06: the memory a memfd mapping shares with its
	# descriptor, compared byte for byte (0009: before it, other content
	# after a restore CRIU reported as done); aio00: an AIO ring (0011)
	'userns': ('env00', 'maps00', 'memfd02', 'memfd06', 'aio00', 'socket-tcp', 'inotify04'),
	# pass with cap_checkpoint_restore alone (CRIU's series); kernel
	# (open_by_handle_at)
	'cr_only': ('env00', 'maps00', 'inotify04'),
}


# The policy ablation's census cases (policy_ablation()): the rules of the
# criu module that no case of the Debian guests needs (the enforcing case
# and the workloads run on without them: crcap_qemu.ablation_verdicts),
# each with the zdtm tests that fail, or log a denial, without it -- in
# user_t, enforcing, as caps_selinux runs them.  Each test passes with the
# module as it is, without a denial.
ABLATION_CASES: Dict[str, Tuple[str, ...]] = {
	# A ghost socket with no known directory, bound in a scratch directory
	# among the images (CRIU's series, 0005 and 0012).
	'manage_dirs_pattern.criu_domain.criu_image_t.criu_image_t':
		('fifo_upon_unix_socket01', 'sk-unix-rel-ghost'),
	'manage_sock_files_pattern.criu_domain.criu_image_t.criu_image_t':
		('fifo_upon_unix_socket01', 'sk-unix-rel-ghost'),
	# A pty whose master was closed: criu opens a fake one through ptmx,
	# and sets its owner.  (That criu makes the ptys as the user's,
	# user_devpts_t, shows in pty00 and pty02, which read the slave after
	# the restore: as devpts_t, which criu made them before, user_t may
	# not.)
	'userdom_create_user_pty.criu_domain': ('pty04',),
	# Stopped tasks stopped again after the restore: by SIGSTOP, or by the
	# signal that stopped them (SIGTSTP: stopped03).
	'ROLE_criu_t.USER.process.signal': ('stopped03',),
	'ROLE_criu_t.USER.process.sigstop': ('stopped', 'stopped01'),
	# memfds criu made again, read, written and mapped by the task after.
	'USER.criu_tmpfs_t.file.rw_file_perms': ('memfd00', 'memfd02'),
	'USER.criu_tmpfs_t.file.map': ('memfd03',),
	# The tunable: the task's removed working directory, its home files
	# mapped, its fifos and its sockets of the home.
	'userdom_manage_user_home_content_dirs.criu_domain': ('cwd01', 'cwd02'),
	'userdom_mmap_user_home_content_files.criu_domain': ('maps_file_prot', 'unlink_mmap00'),
	'userdom_manage_user_home_content_pipes.criu_domain': ('fifo', 'fifo-ghost'),
	'userdom_manage_user_home_content_sockets.criu_domain':
		('sk-unix01', 'sk-unix-dgram-ghost'),
	# A symlink of the home the task holds open (O_PATH), passed to criu
	# by the parasite: receiving it is checked as ioctl.
	'userdom_manage_user_home_content_symlinks.criu_domain': ('symlink', 'symlink01'),
	# Unix sockets the task bound in /tmp: stat()ed by the dump, bound
	# again by the restore, user_tmp_t again.
	'userdom_manage_user_tmp_sockets.criu_domain': ('sockets_dgram',),
	'userdom_tmp_filetrans_user_tmp.criu_domain.sock_file': ('sockets_dgram',),
	# criu's own unix sockets, connected to each other.
	'criu_domain.self.unix_stream_socket.connectto': ('sk-unix-rel',),
	# criu's own process groups (zombie01 makes one; xids00 sessions).
	'criu_domain.self.process.setpgid': ('zombie01', 'xids00'),
	# Shared anonymous memory mapped executable, as a memfd criu made.
	'criu_domain.criu_tmpfs_t.file.execute': ('maps00',),
	# The task's sockets, made again by criu in its context: a listening
	# TCP socket, UDP sockets bound (the test module lets user_t bind),
	# unix datagram sockets with their queued data.
	'ROLE_criu_t.USER.tcp_socket.create_stream_socket_perms': ('socket_listen',),
	'ROLE_criu_t.USER.udp_socket.create_socket_perms': ('socket_udp', 'sk-freebind'),
	'ROLE_criu_t.USER.unix_dgram_socket.create_socket_perms': ('socket_dgram_data',),
	# Sockets criu made in its own context that the task goes on using:
	# unconnected stream sockets it listens on or connects, a listening
	# one it accepts on, the peer that holds a closed socket's data (and
	# takes the datagrams sent to it).
	'USER.ROLE_criu_t.unix_stream_socket.rw_socket_perms': ('sk-unix-unconn',),
	'USER.ROLE_criu_t.unix_stream_socket.listen': ('sk-unix-unconn',),
	'USER.ROLE_criu_t.unix_stream_socket.accept': ('sk-unix-listen01',),
	'USER.ROLE_criu_t.unix_dgram_socket.rw_socket_perms': ('socket_close_data',),
	'USER.ROLE_criu_t.unix_dgram_socket.sendto': ('socket_close_data01',),
	# The process group of criu, asked by a task it restored (zombie01).
	'USER.ROLE_criu_t.process.getpgid': ('zombie01',),
}
# What "scripts/crcap test" ablates with census cases.
IN_TEST_ABLATION = ('userdom_create_user_pty.criu_domain',)


# ---- the tests, the exclusions, the expectations --------------------------

def read_table(path: str, words: int, min_fields: int) -> List[List[str]]:
	"""The lines of a census file: WORDS single words, then the rest of
	the line as one field; '#' starts a comment line."""
	rows = []
	with open(path) as f:
		for n, line in enumerate(f, 1):
			if line.startswith('#') or not line.strip():
				continue
			parts = line.split(None, words)
			if len(parts) < min_fields:
				raise Error(f'{path}:{n}: expected at least {min_fields} fields: {line}')
			rows.append(parts)
	return rows


def excluded(top: str) -> List[Tuple[str, str]]:
	"""(pattern, reason) of each test left out."""
	return [(p[0], p[1].strip()) for p in read_table(os.path.join(top, EXCLUDED), 1, 2)]


def _meminfo(key: str) -> int:
	m = re.search(rf'^{key}:\s+(\d+)', util.read_text('/proc/meminfo'), re.M)
	return int(m.group(1)) if m else 0


@dataclass
class Expect:
	outcome: str
	cause: str = ''


def host_need(cause: str) -> Optional[str]:
	"""What a "host: needs WHAT ..." cause says the test needs (one of
	HOST_NEEDS; '' for another), None for any other kind of cause."""
	if cause_kind(cause) != 'host':
		return None
	return next((n for n in HOST_NEEDS if cause.startswith(f'host: needs {n}')), '')


def expected(top: str) -> Dict[Tuple[str, str], Expect]:
	"""(mode, test) -> what zdtm is expected to say, and why."""
	out: Dict[Tuple[str, str], Expect] = {}
	path = os.path.join(top, EXPECTED)
	for p in read_table(path, 3, 3):
		mode, test, outcome = p[0], p[1], p[2]
		cause = p[3].strip() if len(p) > 3 else ''
		if mode not in MODES:
			raise Error(f'{path}: unknown mode {mode} ({test})')
		if outcome not in OUTCOMES:
			raise Error(f'{path}: {mode} {test}: unknown outcome {outcome}')
		if outcome != "pass" and cause.split(':', 1)[0] not in CAUSES:
			raise Error(f'{path}: {mode} {test}: {outcome} needs a cause '
				    f'({", ".join(CAUSES)}: ...)')
		if (mode, test) in out:
			raise Error(f'{path}: {mode} {test} twice')
		need = host_need(cause)
		if need == '':
			raise Error(f'{path}: {mode} {test}: "host:" needs one of '
				    f'{", ".join(HOST_NEEDS)} ("host: needs WHAT ...")')
		if need and not HOST_NEEDS[need][0]():
			outcome = HOST_NEEDS[need][1]
		out[(mode, test)] = Expect(outcome, cause)
	return out


def _desc(path: str) -> dict:
	if not os.path.exists(path) or os.path.getsize(path) == 0:
		return {}
	with open(path) as f:
		text = f.read()
	try:
		return ast.literal_eval(text)
	except (ValueError, SyntaxError):
		pass
	# A few are expressions ({...} or {...}): zdtm itself eval()s them.
	try:
		return eval(compile(text, path, 'eval'), {'__builtins__': {}, 'os': os}, {})
	except Exception as e:	# noqa: BLE001 -- any error: not a description
		raise Error(f'{path}: not a zdtm description: {e}')


def candidates(tree: str, exclusions: Sequence[Tuple[str, str]]
	       ) -> Tuple[List[str], Dict[str, str]]:
	"""The static tests of flavor h zdtm would run with -a (built, not
	manual-only), and those left out with the reason."""
	d = os.path.join(tree, 'test', 'zdtm', 'static')
	tests, left = [], {}
	for name in sorted(os.listdir(d)):
		p = os.path.join(d, name)
		if name.endswith(('.checkskip', '.hook', '.sh', '.so')) or \
		   not os.path.isfile(p) or os.path.islink(p) or not os.access(p, os.X_OK):
			continue
		desc = _desc(p + '.desc')
		if 'h' not in desc.get('flavor', 'h ns uns').split():
			continue
		if 'noauto' in desc.get('flags', '').split():
			continue
		why = next((r for pat, r in exclusions if fnmatch.fnmatch(name, pat)), None)
		if why:
			left[name] = why
		else:
			tests.append(name)
	return tests, left


# ---- zdtm, built once ----------------------------------------------------

def prepare(top: str, build: str, jobs: int) -> str:
	"""The CRIU tree (built from source, kept) with zdtm and its Python
	library built; returns the tree."""
	criu, where = crcap_criu.find(top, build, jobs)
	if not criu:
		raise Error(f'census: no CRIU: {where}')
	tree = os.path.dirname(os.path.dirname(criu))
	if not os.path.exists(os.path.join(tree, 'test', 'zdtm.py')):
		raise Error(f'census: {where} has no source tree with test/zdtm.py; '
			    f'{crcap_criu.HOW}')
	stamp = tree + '.zdtm-built'
	if not os.path.exists(stamp):
		say(f'census: building zdtm in {tree} (once)')
		log = os.path.join(build, 'zdtm-build.log')
		util.run(['make', '-C', tree, f'-j{jobs}', 'lib'], log=log, timeout=600)
		util.run(['make', '-C', os.path.join(tree, 'test', 'zdtm'), f'-j{jobs}'],
			 log=log, timeout=1800)
		open(stamp, 'w').close()
	return tree


# ---- a user of our own, in a copy of the tree it owns ----------------------

class HostUser:
	"""The census user and its copy of the CRIU tree; close() removes
	both, and every process of the user."""

	def __init__(self, tree: str):
		self.drop_leftover()
		self.dir = tempfile.mkdtemp(prefix='crcap-census.', dir='/var/tmp')
		os.chmod(self.dir, 0o755)
		self._closed = False
		util.on_exit(self.close)
		util.run(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
			  '--shell', '/usr/sbin/nologin', USER], capture=True)
		pw = pwd.getpwnam(USER)
		self.uid, self.gid = pw.pw_uid, pw.pw_gid
		self.tree = os.path.join(self.dir, 'criu')
		util.run(['cp', '-a', tree, self.tree])
		util.run(['chown', '-R', f'{self.uid}:{self.gid}', self.tree])
		self.criu = os.path.join(self.tree, 'criu', 'criu')
		self.test = os.path.join(self.tree, 'test')

	@staticmethod
	def drop_leftover() -> None:
		"""A census user left by a run that was killed: ours by name."""
		try:
			uid = pwd.getpwnam(USER).pw_uid
		except KeyError:
			return
		util.run(['pkill', '-KILL', '-U', str(uid)], check=False, capture=True)
		time.sleep(0.5)
		util.run(['userdel', USER], check=False, capture=True)

	def setcap(self, caps: str) -> None:
		util.run(['setcap', f'{caps}+eip', self.criu])

	def kill_all(self) -> None:
		for _ in range(20):
			util.run(['pkill', '-KILL', '-U', str(self.uid)], check=False, capture=True)
			if util.run(['pgrep', '-U', str(self.uid)], check=False,
				    capture=True).returncode != 0:
				return
			time.sleep(0.25)
		raise Error(f'census: processes of {USER} survive SIGKILL')

	def close(self) -> None:
		if self._closed:
			return
		self._closed = True
		util.forget(self.close)
		try:
			self.kill_all()
		finally:
			util.run(['userdel', USER], check=False, capture=True)
			shutil.rmtree(self.dir, ignore_errors=True)
		if os.path.exists(self.dir):
			raise Error(f'census: {self.dir} is still there')

	def command(self, mode: Mode, zdtm_args: Sequence[str]) -> List[str]:
		zdtm = ['./zdtm.py', 'run', *zdtm_args]
		if mode.userns:
			# "&& true": bash stays, to reap the namespace's orphans.
			inner = ['unshare', '-Ucfpm', '--mount-proc', '--', 'bash', '-c',
				 shlex.join(zdtm) + ' && true']
		else:
			inner = zdtm
		return ['runuser', '-u', USER, '--', *inner]


# ---- one mode: zdtm's verdicts -----------------------------------------------

@dataclass
class Outcome:
	outcome: str			# pass, fail, skip
	detail: str = ''		# zdtm's reason, or CRIU's first error
	log: List[str] = field(default_factory=list)


_TAP = re.compile(r'^(not ok|ok) \d+ - zdtm/static/(\S+)(?:\s+#\s*(.*))?$')
_ERROR = re.compile(r"\bError \(([^)]*)\):\s*(.*?)['\"]?$")
_DENIED = re.compile(r"(Permission denied|Operation not permitted|must be root|EPERM|EACCES)")
# CRIU's errors that only say that something before them failed.
_ECHO = re.compile(r'exited, status=|^Dump\w* .*failed|FAILED\.?$|failed with -1|'
		   r'^Can\'t dump|^Unable to|^Restoring FAILED')


def criu_error(lines: Sequence[str]) -> str:
	"""The line of a failed test's log that says why: CRIU's first error
	that is not an echo of an earlier one, and what was refused."""
	errors, denied = [], ''
	for ln in lines:
		ln = ln.strip().strip("b'\"")
		m = _ERROR.search(ln)
		if m:
			errors.append(f'{m.group(1)}: {m.group(2)}')
		elif not denied and _DENIED.search(ln) and '(00.' not in ln[:5]:
			denied = ln[:160]
	cause = next((e for e in errors if not _ECHO.search(e.split(': ', 1)[1])),
		     errors[0] if errors else '')
	if denied and denied not in cause:
		cause = f'{cause} ({denied})' if cause else denied
	fail_at = next((ln.strip() for ln in lines if re.search(r'Test \S+ FAIL at', ln)), '')
	if fail_at:
		fail_at = re.sub(r'^#+\s*Test \S+ (FAIL at [^#]*?)\s*#*$', r'\1', fail_at)
		cause = f'{fail_at}: {cause}' if cause else fail_at
	return cause[:240]


def _output(block: List[str]) -> List[str]:
	"""The test's output from the YAML block zdtm writes after a failure
	({"output": ...}, escaped when it holds unprintable bytes)."""
	try:
		import yaml
		doc = yaml.safe_load('\n'.join(block))
		if isinstance(doc, dict) and isinstance(doc.get('output'), str):
			return doc['output'].splitlines()
	except Exception:	# noqa: BLE001 -- not YAML after all: the lines as they are
		pass
	return block


def parse_tap(text: str) -> Dict[str, Outcome]:
	"""zdtm's report (TAP 13, a YAML block of output after a failure)."""
	out: Dict[str, Outcome] = {}
	cur: Optional[Outcome] = None
	for line in text.splitlines():
		m = _TAP.match(line)
		if m:
			ok, name, note = m.group(1) == 'ok', m.group(2), m.group(3) or ''
			if ok and note.upper().startswith('SKIP'):
				cur = Outcome('skip', note[4:].strip())
			else:
				cur = Outcome('pass' if ok else 'fail')
			out[name] = cur
			continue
		if cur and cur.outcome == 'fail':
			cur.log.append(line)
	for o in out.values():
		if o.outcome == 'fail':
			o.log = _output(o.log)
			o.detail = criu_error(o.log)
	return out


def run_mode(user: HostUser, mode: Mode, tests: Sequence[str], out: str,
	     parallel: int = 8, extra: Sequence[str] = (), trace: Optional[str] = None
	     ) -> Dict[str, Outcome]:
	"""zdtm on TESTS in MODE; every test has an outcome (one zdtm never
	reported is a fail).  TRACE: a file for the capability checks the
	kernel refused the user meanwhile."""
	if not tests:
		return {}
	user.setcap(mode.caps)
	report = os.path.join(user.dir, f'report-{mode.name}')
	shutil.rmtree(report, ignore_errors=True)
	os.makedirs(report)
	os.chown(report, user.uid, user.gid)
	args = [a for t in tests for a in ('-t', f'zdtm/static/{t}')]
	args += ['-f', 'h', '--rootless', '-k', 'failed', '--ignore-taint', '--keep-going',
		 '--report', report, '-p', str(parallel), *extra]
	limit = 120 + 60 * len(tests) / parallel
	log = os.path.join(out, f'zdtm-{mode.name}.log')
	cmd = user.command(mode, args)
	if trace:
		cmd = traced(user, cmd, trace)
	try:
		util.run(['timeout', '--signal', 'KILL', f'{limit:.0f}', *cmd], cwd=user.test,
			 log=log, check=False)
	finally:
		user.kill_all()
	text = ''
	for f in sorted(os.listdir(report)):
		if f.endswith('.tap'):
			text += util.read_text(os.path.join(report, f))
	got = parse_tap(text)
	for t in tests:
		got.setdefault(t, Outcome('fail', 'zdtm gave no result (killed at the '
					  f'{limit:.0f} s limit, or it crashed: {log})'))
	return {t: got[t] for t in tests}


# ---- the root baseline: zdtm as root, in guests -----------------------------

def chunks(tests: Sequence[str], size: int) -> List[List[str]]:
	"""TESTS in lists of at most SIZE, of even length, in their order."""
	n = max(1, -(-len(tests) // size))
	per = -(-len(tests) // n)
	return [list(tests[i:i + per]) for i in range(0, len(tests), per)]


def root_kernel(build: str) -> Q.DebianKernel:
	"""The root guests' kernel: Debian's newest of ROOT_KERNEL (fetched once)."""
	return Q.debian_kernels(build, (ROOT_KERNEL[0],), [ROOT_KERNEL])[0]


def run_root(top: str, build: str, k: Q.DebianKernel, tree: str, tests: Sequence[str],
	     out: str, extra: Sequence[str] = (), tag: str = 'root',
	     mode: Optional[Mode] = None,
	     chunk: int = ROOT_CHUNK) -> Tuple[Dict[str, Outcome], List[G.GuestRun]]:
	"""zdtm on TESTS in QEMU guests of kernel K, never on the host: as
	root, or in a host MODE as the census user would run it there (the
	guest's own user, criu setcap'd, --rootless); ROOT_CHUNK tests a
	guest, ROOT_GUESTS guests at once.  Every test has an outcome (one
	whose report never came is a fail, saying why); the guests are judged
	as every guest is (their health is the caller's to report)."""
	if not tests:
		return {}, []
	selinux = mode.selinux if mode else ''
	policy = Q.build_policy(top, build, 'criu') if selinux else None
	initrd = Q.zdtm_initrd(top, build, tree, k, policy)
	as_user = mode is not None and not mode.guest

	def boot(i: int, chunk: List[str]) -> Tuple[List[str], G.GuestRun]:
		args = [a for t in chunk for a in ('-t', f'zdtm/static/{t}')]
		args += ['-f', 'h', '--keep-going', '--ignore-taint', '-p', str(ROOT_PARALLEL),
			 *(['--rootless'] if as_user else []), *extra]
		limit = ROOT_START + ROOT_PER_TEST * len(chunk) / ROOT_PARALLEL
		res = os.path.join(out, f'{tag}-{i:02d}')
		job = Q.zdtm_job(args, limit, mode.caps, mode.userns, selinux) if as_user and mode \
			else Q.zdtm_job(args, limit)
		run = Q.zdtm_guest(k, initrd, limit + ROOT_BOOT, bool(selinux)).boot(
			res, job, name=f'{tag}-{i:02d}')
		initrd_copy = run.path('initrd.gz')
		if os.path.exists(initrd_copy):		# the root again, with the job
			os.unlink(initrd_copy)
		say(f'census {tag}: guest {i:02d}, {len(chunk)} tests, {run.seconds:.0f} s '
		    f'({run.failure or f"exit {run.exit}"})')
		return chunk, run

	parts = chunks(tests, chunk)
	done = G.parallel([lambda i=i, ch=ch: boot(i, ch) for i, ch in enumerate(parts)],
			  ROOT_GUESTS)
	got: Dict[str, Outcome] = {}
	runs = []
	for chunk, run in done:
		runs.append(run)
		report = run.blocks.get('zdtm.report')
		mine = parse_tap('\n'.join(report.lines)) if report else {}
		why = run.failure or ('zdtm wrote no report' if not report else
				      'zdtm stopped at its limit, or crashed')
		for t in chunk:
			got[t] = mine.get(t) or Outcome('fail', f'zdtm gave no result in the guest '
							 f'({why}: {run.results})')
	return {t: got[t] for t in tests}, runs


def explain_root(top: str, build: str, k: Q.DebianKernel, tree: str,
		 got: Dict[str, Outcome], out: str) -> Tuple[Dict[str, str], List[G.GuestRun]]:
	"""Why each test of GOT did not pass as root: a skip is zdtm's; a
	failure is run again with --nocr (in guests, as the run was): one that
	fails so is the test's own (in this guest), else CRIU's first error."""
	causes = {t: f'zdtm: skipped ({o.detail})' for t, o in got.items() if o.outcome == 'skip'}
	failed = [t for t, o in got.items() if o.outcome == 'fail']
	nocr, runs = run_root(top, build, k, tree, failed, out, extra=['--nocr'], tag='root-nocr')
	for t in failed:
		if nocr[t].outcome == 'fail':
			causes[t] = 'test: fails with --nocr too, as root in the guest'
		else:
			causes[t] = f'criu: {got[t].detail or "no error line in its log"}'
	return causes, runs


def root_plan(tests: Sequence[str], exp: Dict[Tuple[str, str], Expect]) -> List[str]:
	"""What the root baseline runs: the tests with a "root" line in
	census/expected -- those it was recorded on (all 314 since 2026-12-06:
	30 min in 8 TCG guests, two at a time, ~10 s a test in a guest at -p
	2); while none is written, every test, to record them.  A test
	without a root line is not run as root: record it first ("--mode
	root --test NAME --record FILE")."""
	written = [t for t in tests if ('root', t) in exp]
	return written or list(tests)


# ---- why: --nocr, the kernel's refusals, CRIU's log ------------------------

BPFTRACE = r'''
tracepoint:capability:cap_capable /uid == %d && args->ret != 0/ {
	@refused[comm, args->cap, kstack(%d)] = count();
}
'''
CAP_NAMES = {0: 'CAP_CHOWN', 1: 'CAP_DAC_OVERRIDE', 2: 'CAP_DAC_READ_SEARCH',
	     3: 'CAP_FOWNER', 4: 'CAP_FSETID', 5: 'CAP_KILL', 6: 'CAP_SETGID',
	     7: 'CAP_SETUID', 8: 'CAP_SETPCAP', 9: 'CAP_LINUX_IMMUTABLE',
	     10: 'CAP_NET_BIND_SERVICE', 11: 'CAP_NET_BROADCAST', 12: 'CAP_NET_ADMIN',
	     13: 'CAP_NET_RAW', 14: 'CAP_IPC_LOCK', 15: 'CAP_IPC_OWNER',
	     16: 'CAP_SYS_MODULE', 17: 'CAP_SYS_RAWIO', 18: 'CAP_SYS_CHROOT',
	     19: 'CAP_SYS_PTRACE', 20: 'CAP_SYS_PACCT', 21: 'CAP_SYS_ADMIN',
	     22: 'CAP_SYS_BOOT', 23: 'CAP_SYS_NICE', 24: 'CAP_SYS_RESOURCE',
	     25: 'CAP_SYS_TIME', 26: 'CAP_SYS_TTY_CONFIG', 27: 'CAP_MKNOD',
	     28: 'CAP_LEASE', 29: 'CAP_AUDIT_WRITE', 30: 'CAP_AUDIT_CONTROL',
	     31: 'CAP_SETFCAP', 32: 'CAP_MAC_OVERRIDE', 33: 'CAP_MAC_ADMIN',
	     34: 'CAP_SYSLOG', 35: 'CAP_WAKE_ALARM', 36: 'CAP_BLOCK_SUSPEND',
	     37: 'CAP_AUDIT_READ', 38: 'CAP_PERFMON', 39: 'CAP_BPF',
	     40: 'CAP_CHECKPOINT_RESTORE'}
# Checks made without an audit on every exec or open, that refuse nothing
# a test needs: left out of the causes.
_NOISE = ('security_vm_enough_memory', 'cap_vm_enough_memory', 'cap_bprm_creds_from_file',
	  'proc_pid_permission', 'has_ns_capability_noaudit', '__vm_enough_memory')


def _refusals(text: str) -> List[Tuple[str, str, str, int]]:
	"""bpftrace's map: (comm, capability, the kernel function that asked, count)."""
	out = []
	for m in re.finditer(r'@refused\[(\S+?), (\d+),\s*\n(.*?)\]: (\d+)', text, re.S):
		frames = [re.sub(r'\+\d+$', '', f.strip()) for f in m.group(3).splitlines()
			  if f.strip()]
		asker = next((f for f in frames if not re.match(
			r'^(cap_capable|security_capable|ns_capable\w*|capable\w*|'
			r'has_\w*capability\w*|\w+_ns_capable|\w+_net_capable|sk_capable|bpf_\w+|'
			r'__\w*capable\w*)$', f)), '?')
		if any(f.startswith(n) for f in frames for n in _NOISE):
			continue
		out.append((m.group(1), CAP_NAMES.get(int(m.group(2)), m.group(2)), asker,
			    int(m.group(4))))
	return sorted(out, key=lambda r: -r[3])


def traced(user: HostUser, cmd: Sequence[str], trace: str) -> List[str]:
	"""CMD run by bpftrace, which writes to TRACE the capability checks
	the kernel refused the census user until CMD exits; tracefs is
	mounted in a mount namespace of its own."""
	script = os.path.join(user.dir, 'traced.sh')
	with open(script, 'w') as f:
		f.write(f'exec {shlex.join(cmd)}\n')
	return ['unshare', '-m', 'sh', '-c',
		'mount -t tracefs none /sys/kernel/tracing && exec bpftrace -o "$1" -e "$2" '
		'-c "/bin/sh $3"', 'sh', trace, BPFTRACE % (user.uid, 8), script]


def _traced(user: HostUser, mode: Mode, test: str, out: str) -> Tuple[Outcome, str]:
	"""TEST alone, with the kernel's refused capability checks traced."""
	trace = os.path.join(out, f'trace-{mode.name}-{test}.txt')
	res = run_mode(user, mode, [test], out, parallel=1, trace=trace)[test]
	return res, util.read_text(trace) if os.path.exists(trace) else ''


BASELINE = 'env00'	# passes in every mode: what it is refused is no cause


def explain(user: HostUser, mode: Mode, got: Dict[str, Outcome], out: str,
	    noise: Dict[str, set]) -> Dict[str, str]:
	"""Why each test of GOT did not pass in MODE, as census/expected
	writes causes: --nocr first (all at once, then each that failed so
	again alone), then, one by one, the capability checks refused beyond
	those BASELINE is refused where it passes (NOISE, by mode, kept)."""
	causes = {t: f'zdtm: skipped ({o.detail})' for t, o in got.items() if o.outcome == 'skip'}
	failed = [t for t, o in got.items() if o.outcome == 'fail']
	if not failed:
		return causes
	nocr = run_mode(user, mode, failed, out, extra=['--nocr'])
	again = [t for t in failed if nocr[t].outcome == 'fail']
	nocr.update(run_mode(user, mode, again, out, parallel=1, extra=['--nocr']))
	if mode.name not in noise:
		res, base = _traced(user, mode, BASELINE, out)
		if res.outcome == 'pass':
			noise[mode.name] = {(cap, fn) for _, cap, fn, _ in _refusals(base)}
	# A mode in which even BASELINE fails: another mode's, or none.
	quiet = noise.get(mode.name) or next(iter(noise.values()), set())
	for t in failed:
		if nocr[t].outcome == 'fail':
			causes[t] = 'test: needs privilege itself (fails with --nocr)'
			continue
		_, trace = _traced(user, mode, t, out)
		seen, parts = set(), []
		for comm, cap, fn, _ in _refusals(trace):
			if (cap, fn) not in quiet and (cap, fn) not in seen:
				seen.add((cap, fn))
				parts.append(f'{cap} in {fn} ({comm})')
		detail = got[t].detail
		if parts:
			causes[t] = 'kernel: ' + '; '.join(parts[:3]) + (f' -- {detail}' if detail else '')
		else:
			causes[t] = f'criu: {detail or "no error line in its log"}'
	return causes


# ---- the whole census ---------------------------------------------------

@dataclass
class Census:
	"""What a census found, per mode and test."""
	kernel: str
	results: Dict[str, Dict[str, Outcome]] = field(default_factory=dict)
	causes: Dict[Tuple[str, str], str] = field(default_factory=dict)
	left_out: Dict[str, str] = field(default_factory=dict)
	seconds: Dict[str, float] = field(default_factory=dict)
	guest_kernel: str = ''		# the root guests' (GUEST_MODES)
	guests: List[G.GuestRun] = field(default_factory=list)
	# SELinux modes: each distinct denial their guests logged, with how
	# often; and, per test that passed permissive only, the denials of
	# its run alone, enforcing (selinux_gap()).
	denials: Dict[str, List[str]] = field(default_factory=dict)
	gap: Dict[str, List[str]] = field(default_factory=dict)


def run(top: str, build: str, jobs: int, out: str, modes: Sequence[str],
	only: Optional[Dict[str, Sequence[str]]] = None, parallel: int = 8,
	explain_all: bool = False) -> Census:
	"""zdtm in each mode (ONLY: just those tests per mode): the host
	modes as the census user, root in guests."""
	import platform
	tree = prepare(top, build, jobs)
	tests, left = candidates(tree, excluded(top))
	exp = expected(top)
	os.makedirs(out, exist_ok=True)
	c = Census(f'host-{platform.release()}', left_out=left)
	plan = {name: list(only[name]) if only else
		root_plan(tests, exp) if MODES[name].guest else list(SAMPLES.get(name, tests))
		for name in modes}
	unknown = sorted({t for want in plan.values() for t in want if t not in tests})
	if unknown:	# before anything runs
		raise Error(f'census: not among the tests it runs: {", ".join(unknown)}')
	for name in [n for n in plan if MODES[n].guest]:
		t0 = time.monotonic()
		say(f'census {name}: {len(plan[name])} tests, {MODES[name].what}')
		k = root_kernel(build)
		c.guest_kernel = k.name
		got, runs = run_root(top, build, k, tree, plan[name], out)
		c.seconds[name] = time.monotonic() - t0
		c.results[name] = got
		c.guests += runs
		ask = {t: o for t, o in got.items() if o.outcome != 'pass' and (
			explain_all or exp.get((name, t)) is None or
			exp[(name, t)].outcome != o.outcome)}
		why, runs = explain_root(top, build, k, tree, ask, out)
		c.causes.update({(name, t): w for t, w in why.items()})
		c.guests += runs
	plan = {n: want for n, want in plan.items() if not MODES[n].guest}
	if not plan:
		return c
	user = HostUser(tree)
	noise: Dict[str, set] = {}
	try:
		for name, want in plan.items():
			mode = MODES[name]
			t0 = time.monotonic()
			say(f'census {name}: {len(want)} tests, {mode.what}')
			got = run_mode(user, mode, want, out, parallel)
			c.seconds[name] = time.monotonic() - t0
			c.results[name] = got
			# Why, where nothing written down says (or it says otherwise).
			ask = {t: o for t, o in got.items() if o.outcome != 'pass' and (
				explain_all or exp.get((name, t)) is None or
				(exp[(name, t)].outcome != o.outcome and
				 cause_kind(exp[(name, t)].cause) != 'flaky'))}
			for t, why in explain(user, mode, ask, out, noise).items():
				c.causes[(name, t)] = why
	finally:
		user.close()
	return c


def run_in_guests(top: str, build: str, jobs: int, k: Q.DebianKernel, out: str,
		  modes: Sequence[str], tests: Optional[Sequence[str]] = None) -> Census:
	"""The host MODES (and root) in QEMU guests of kernel K, on TESTS
	(default: every test): the census user is the guest's own, criu
	setcap'd there; nothing of it runs on the host."""
	tree = prepare(top, build, jobs)
	cands, left = candidates(tree, excluded(top))
	want = list(tests or cands)
	unknown = [t for t in want if t not in cands]
	if unknown:
		raise Error(f'census: not among the tests it runs: {", ".join(unknown)}')
	c = Census(k.name, left_out=left, guest_kernel=k.name)
	for name in modes:
		t0 = time.monotonic()
		say(f'census {name} in guests of {k.name}: {len(want)} tests')
		got, runs = run_root(top, build, k, tree, want, out, tag=f'{k.name}-{name}',
				     mode=MODES[name])
		c.seconds[name] = time.monotonic() - t0
		c.results[name] = got
		c.guests += runs
		if MODES[name].selinux:
			c.denials[name] = logged_denials(runs)
	if all(m in modes for m in SELINUX_MODES):
		selinux_gap(top, build, k, tree, c, out)
	return c


def logged_denials(runs: Sequence[G.GuestRun]) -> List[str]:
	"""The distinct denials of RUNS' zdtm.avc blocks ("COUNT avc: ..."),
	as "COUNT× SOURCE TARGET CLASS { PERMS } (COMM)", most frequent first."""
	n: Dict[str, int] = {}
	for r in runs:
		for line in r.blocks.get('zdtm.avc', G.Block()).lines:
			m = re.match(r'\s*(\d+)\s+(.*)', line)
			d = Q.denials([line])
			if not m or not d:
				continue
			comm = re.search(r'comm="([^"]*)"', line)
			key = ' '.join(d[0][:3]) + ' { ' + d[0][3] + ' }' + \
				(f' ({comm.group(1)})' if comm else '')
			n[key] = n.get(key, 0) + int(m.group(1))
	return [f'{v}× {k}' for k, v in sorted(n.items(), key=lambda kv: (-kv[1], kv[0]))]


def selinux_gap(top: str, build: str, k: Q.DebianKernel, tree: str, c: Census,
		out: str) -> None:
	"""Each test that passes permissive and not enforcing, run again
	alone, enforcing, in a guest of its own (ROOT_GUESTS at once): the
	denials its guest logged name what stops it (C.gap)."""
	perm, enf = c.results['caps_selinux_permissive'], c.results['caps_selinux']
	gap = [t for t, o in enf.items() if o.outcome != 'pass' and t in perm
	       and perm[t].outcome == 'pass']
	if not gap:
		return
	say(f'census: {len(gap)} pass permissive, not enforcing: each alone, enforcing')
	got, runs = run_root(top, build, k, tree, gap, out, tag=f'{k.name}-alone',
			     mode=MODES['caps_selinux'], chunk=1)
	c.guests += runs
	for t, run in zip(gap, runs):	# one test a guest, in GAP's order
		c.gap[t] = [f'alone, enforcing: {got[t].outcome}'] + \
			(logged_denials([run]) or ['no denial logged'])


def ablation_plan(top: str, rules: Optional[Sequence[str]] = None
		  ) -> Tuple[List[Tuple[str, str]], Dict[str, Tuple[str, ...]]]:
	"""The rules of ABLATION_CASES (or those named RULES) as
	crcap_qemu.rule_units() names them in the module, and their tests."""
	names = list(rules or ABLATION_CASES)
	unknown = [r for r in names if r not in ABLATION_CASES]
	if unknown:
		raise Error(f'census: no census case for {", ".join(unknown)} (ABLATION_CASES)')
	return Q.rule_units(top, names), {r: ABLATION_CASES[r] for r in names}


def policy_ablation(top: str, build: str, jobs: int, k: Q.DebianKernel, out: str,
		    rules: Optional[Sequence[str]] = None) -> Tuple[Test, G.GuestRun]:
	"""census.policy_ablation: the criu module without each rule of
	ABLATION_CASES (or those named RULES), in one guest of kernel K: zdtm
	in user_t, enforcing, as caps_selinux runs it, first with the module
	as it is (each case must pass, logging no denial), then once per rule
	on that rule's tests, its policy loaded in the place of the module's:
	one must fail or log a denial."""
	blocks, cases = ablation_plan(top, rules)
	tree = prepare(top, build, jobs)
	mode = MODES['caps_selinux']
	base = Q.build_policy(top, build, 'criu')
	built = G.parallel([lambda b=b: (b[1], Q.build_policy(
		top, build, f'ablate-{b[1]}', drop=b)) for b in blocks], 2)
	part = Q.policies_archive(os.path.join(build, 'census-ablation-policies'),
				  {f'ablate-{name}': d for name, d in built})
	initrd = os.path.join(build, 'census-ablation-initrd.gz')
	Q.concat([Q.zdtm_initrd(top, build, tree, k, base), part], initrd)

	def args(tests: Sequence[str]) -> List[str]:
		return [*[a for t in tests for a in ('-t', f'zdtm/static/{t}')],
			'-f', 'h', '--keep-going', '--ignore-taint', '-p', str(ROOT_PARALLEL),
			'--rootless']

	def limit(tests: Sequence[str]) -> float:
		return ROOT_START + ROOT_PER_TEST * len(tests) / ROOT_PARALLEL
	every = sorted({t for ts in cases.values() for t in ts})
	ablate = [(name, limit(cases[name]), args(cases[name])) for _, name in blocks]
	job = Q.zdtm_job(args(every), limit(every), mode.caps, False, mode.selinux, ablate)
	total = limit(every) + sum(a[1] for a in ablate) + ROOT_BOOT
	say(f'census policy ablation: {len(blocks)} rules, {len(every)} tests, in one guest '
	    f'of {k.name}')
	run = Q.zdtm_guest(k, initrd, total, True).boot(
		os.path.join(out, f'{k.name}-policy-ablation'), job, name='census-ablation')
	initrd_copy = run.path('initrd.gz')
	if os.path.exists(initrd_copy):
		os.unlink(initrd_copy)
	return ablation_verdicts(run, blocks, cases), run


def _ablation_case(run: G.GuestRun, prefix: str, tests: Sequence[str]
		   ) -> Tuple[List[str], List[str]]:
	"""What block PREFIX.report and PREFIX.avc of RUN say of TESTS: the
	tests that did not pass (with why), and the denials logged."""
	rep = run.blocks.get(f'{prefix}.report')
	got = parse_tap('\n'.join(rep.lines)) if rep else {}
	bad = [f'{t}: {got[t].outcome} {got[t].detail}'.strip() if t in got else
	       f'{t}: no result' for t in tests if t not in got or got[t].outcome != 'pass']
	avc = sorted({' '.join(d) for d in Q.denials(
		run.blocks.get(f'{prefix}.avc', G.Block()).lines)})
	return bad, avc


def ablation_verdicts(run: G.GuestRun, blocks: Sequence[Tuple[str, str]],
		      cases: Dict[str, Sequence[str]]) -> Test:
	"""census.policy_ablation: the module as it is passes every case
	without a denial; without each rule, one of its cases fails or a
	denial is logged."""
	s = Test('census.policy_ablation')
	s.add(G.health([run], 'guest'))
	every = sorted({t for ts in cases.values() for t in ts})
	bad, avc = _ablation_case(run, 'zdtm', every)
	if bad or avc or 'zdtm.report' not in run.blocks:
		s.add(Test('module_passes_unablated', Status.FAIL,
			   f'the module as it is: {(bad + avc + ["no report"])[0][:200]}: the '
			   'ablation proves nothing', log=bad + avc))
		return s.finish()
	s.add(Test('module_passes_unablated', Status.PASS))
	for f, name in blocks:
		if f'zdtm.ablate.{name}.report' not in run.blocks:
			s.add(Test(name, Status.CRASHED, f'the guest never ran it ({run.failure or "?"})'))
			continue
		bad, avc = _ablation_case(run, f'zdtm.ablate.{name}', cases[name])
		missed = bad + avc
		t = s.add(Test(name, Status.PASS if missed else Status.FAIL, '' if missed else
			       f'{f}: zdtm\'s {", ".join(cases[name])} pass without it and log no '
			       'denial: the rule has no census case'))
		t.log += [f'{f}: without it, {m}' for m in missed[:3]]
	return s.finish()


def selinux_lines(c: Census) -> List[str]:
	"""The SELinux modes' part of the report."""
	out = []
	for mode, ds in c.denials.items():
		out.append(f'{mode}: {len(ds)} distinct denials' + (':' if ds else ''))
		out += [f'  {d}' for d in ds[:40]]
	if 'caps_selinux' in c.results and 'caps_selinux_permissive' in c.results:
		out.append(f'{len(c.gap)} tests pass permissive and not enforcing'
			   + (':' if c.gap else ''))
		for t, why in sorted(c.gap.items()):
			out += [f'  {t}: {why[0]}', *[f'    {w}' for w in why[1:]]]
	return out


def host_differences(top: str, c: Census) -> List[str]:
	"""Where a guest kernel's census differs from what census/expected
	writes down for the host: for people (other kernels, other rules)."""
	exp = expected(top)
	out = []
	for mode, got in c.results.items():
		for t, o in sorted(got.items()):
			# The SELinux modes against the host's caps lines: what the
			# policy takes away shows.
			e = exp.get(('caps' if MODES[mode].selinux else mode, t))
			if e and e.outcome != o.outcome and cause_kind(e.cause) != 'flaky':
				out.append(f'{mode} {t}: {o.outcome} on {c.kernel}, {e.outcome} on the '
					   f'host ({(o.detail or e.cause)[:100]})')
	return out


def judged(top: str, c: Census) -> List[Test]:
	"""judge() of the host modes, as census.<host kernel>, and of the
	guest modes, as census.<guest kernel>: each under the kernel it ran on."""
	out = []
	for where, guest in ((c.kernel, False), (c.guest_kernel, True)):
		modes = [m for m in c.results if MODES[m].guest == guest]
		if modes:
			out.append(judge(top, c, modes, where))
	return out


def judge(top: str, c: Census, modes: Optional[Sequence[str]] = None,
	  where: str = '') -> Test:
	"""Each outcome (of MODES, default all) against census/expected."""
	exp = expected(top)
	s = Test(f'census.{where or c.kernel}')
	for mode, got in c.results.items():
		if modes is not None and mode not in modes:
			continue
		g = s.add(Test(mode))
		for t, o in got.items():
			e = exp.get((mode, t))
			log = [f'zdtm: {o.outcome}' + (f' ({o.detail})' if o.detail else '')]
			if (mode, t) in c.causes:
				log.append(f'found: {c.causes[(mode, t)]}')
			if e is None:
				g.add(Test(t, Status.FAIL, f'no line in {EXPECTED}: zdtm says {o.outcome}',
					   log=log))
			elif e.outcome != o.outcome and cause_kind(e.cause) != 'flaky':
				news = 'fixed' if o.outcome == 'pass' else 'regressed'
				g.add(Test(t, Status.FAIL, f'{news}: expected {e.outcome}'
					   + (f' ({e.cause})' if e.cause else '') + f', zdtm says {o.outcome}',
					   log=log + o.log[-15:]))
			else:
				g.add(Test(t, Status.PASS, log=log + ([f'cause: {e.cause}'] if e.cause else [])))
	return s.finish()


def draft_expected(c: Census, exp: Dict[Tuple[str, str], Expect]) -> List[str]:
	"""census/expected lines for what this census saw (kept causes where the
	outcome is the one written down; found ones elsewhere), for review."""
	lines = []
	for mode, got in c.results.items():
		for t, o in sorted(got.items()):
			e = exp.get((mode, t))
			cause = ''
			if o.outcome != 'pass':
				cause = (e.cause if e and e.outcome == o.outcome else
					 c.causes.get((mode, t), 'criu: ' + (o.detail or '?')))
			lines.append(f'{mode:<8} {t:<28} {o.outcome:<5} {cause}'.rstrip())
	return lines


# ---- for people: a table per mode, JSON, a PNG ---------------------------------

def cause_kind(cause: str) -> str:
	return cause.split(':', 1)[0] if cause else '?'


def table(top: str, c: Census) -> List[str]:
	exp = expected(top)
	lines = [f'census on {c.kernel}: zdtm/static, flavor h ({len(c.left_out)} tests left '
		 f'out, {EXCLUDED})',
		 f'{"mode":<8} {"pass":>5} {"fail":>5} {"skip":>5}  not passing, by cause'
		 f'{"":<10} time']
	for mode, got in c.results.items():
		n = {k: sum(1 for o in got.values() if o.outcome == k) for k in OUTCOMES}
		by: Dict[str, int] = {}
		for t, o in got.items():
			if o.outcome != 'pass':
				e = exp.get((mode, t))
				k = cause_kind(e.cause if e else c.causes.get((mode, t), ''))
				by[k] = by.get(k, 0) + 1
		gap = ', '.join(f'{k} {v}' for k, v in sorted(by.items(), key=lambda x: -x[1]))
		lines.append(f'{mode:<8} {n["pass"]:>5} {n["fail"]:>5} {n["skip"]:>5}  '
			     f'{gap:<30} {c.seconds.get(mode, 0):.0f} s'
			     + (f' (in QEMU guests of {c.guest_kernel})' if MODES[mode].guest else ''))
	return lines


def write_json(top: str, c: Census, path: str) -> None:
	exp = expected(top)
	doc = {'kernel': c.kernel, 'left_out': c.left_out, 'seconds': c.seconds,
	       'modes': {m: {'what': MODES[m].what, 'tests': {
		       t: {'outcome': o.outcome, 'detail': o.detail,
			   'expected': exp[(m, t)].outcome if (m, t) in exp else None,
			   'cause': exp[(m, t)].cause if (m, t) in exp else c.causes.get((m, t), '')}
		       for t, o in got.items()}} for m, got in c.results.items()}}
	if c.denials:
		doc['selinux'] = {'denials': c.denials, 'passes_permissive_only': c.gap}
	with open(path, 'w') as f:
		json.dump(doc, f, indent=1, sort_keys=True)


def write_png(top: str, c: Census, path: str) -> Optional[str]:
	"""Stacked bars per mode: pass, then each cause of the rest."""
	if not shutil.which('gnuplot'):
		return None
	exp = expected(top)
	kinds = ['pass'] + list(CAUSES) + ['?']
	rows = []
	for mode, got in c.results.items():
		n = dict.fromkeys(kinds, 0)
		for t, o in got.items():
			if o.outcome == 'pass':
				n['pass'] += 1
			else:
				e = exp.get((mode, t))
				n[cause_kind(e.cause if e else c.causes.get((mode, t), ''))] += 1
		rows.append((mode, n))
	used = [k for k in kinds if any(n[k] for _, n in rows)]
	data = path + '.dat'
	with open(data, 'w') as f:
		f.write('mode ' + ' '.join(used) + '\n')
		for mode, n in rows:
			f.write(mode + ' ' + ' '.join(str(n[k]) for k in used) + '\n')
	colour = {'pass': '#2e8b57', 'kernel': '#c0392b', 'criu': '#e67e22', 'test': '#7f8c8d',
		  'zdtm': '#2980b9', 'flaky': '#8e44ad', 'host': '#95a5a6', '?': '#000000'}
	plot = ', '.join(f"'{data}' using {i + 2}:xtic(1) title '{k}' lc rgb '{colour[k]}'"
			 for i, k in enumerate(used))
	script = (f"set terminal png size 900,480 noenhanced\nset output '{path}'\n"
		  f"set title 'zdtm without root on {c.kernel}: outcome, and the cause of each "
		  "test that does not pass'\nset style data histograms\n"
		  "set style histogram rowstacked\nset style fill solid 0.8 border -1\n"
		  "set boxwidth 0.6\nset key outside right\nset ylabel 'tests'\n"
		  f"plot {plot}\n")
	util.run(['gnuplot'], input=script, capture=True)
	os.unlink(data)
	return path


def background(fn) -> 'Background':
	return Background(fn)


class Background:
	"""FN in a thread: its result, or its exception, at join()."""

	def __init__(self, fn):
		self._fn, self._res, self._exc = fn, None, None
		self._t = threading.Thread(target=self._go, daemon=True)
		self._t.start()

	def _go(self) -> None:
		try:
			self._res = self._fn()
		except BaseException as e:	# noqa: B036 -- handed to join()
			self._exc = e

	def join(self):
		self._t.join()
		if self._exc:
			raise self._exc
		return self._res


def modes_of(names: Iterable[str]) -> List[str]:
	bad = [n for n in names if n not in MODES]
	if bad:
		raise Error(f'census: unknown mode {", ".join(bad)} (modes: {", ".join(MODES)})')
	return list(names)
