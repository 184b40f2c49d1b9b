#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Real workloads checkpointed and restored by a user, timed, and judged
by what the workload itself answers afterwards.

	workloads_test.py CRIU TOOLS_DIR [--runs N] [--json FILE] [--caps CAPS]
			  [--user NAME [--selinux CONTEXT]] [--chunks N] [--classes DIR]
			  [--limit S] [--kernel stock|rfc] [--cgroup PATH] [--trace]
			  [NAME...]
	(as root; prints KTAP)

CRIU: a criu 3.18 or later; TOOLS_DIR holds omp_job (make -C
tools/checkpoint_restore), and shm_counter for runc_path.  Every workload runs as a user this test
creates and removes, with criu setcap'd cap_checkpoint_restore,cap_setpcap
(the smallest set CRIU 4.2 restores with here), on processes this test
starts; every command has a time limit; this test is the child subreaper
of all it starts and kills what is left before it ends.

 jvm        OpenJDK's java running workloads/Server.java, a server warm
            only after class loading and JIT: cold start -> first answer
            against restore -> first answer, and the restored server
            answers with the PID, warm-up sum and request count it had;
 openmp     workloads/omp_job.c, dumped part-way: it ends with the sum an
            uninterrupted run gives, every chunk run once, its PID kept;
 bash_job   a bash loop, a job of a terminal (criu --shell-job): restored
            on a new terminal, it goes on counting from where it was;
 container  the OpenMP job dumped and restored inside a rootless
            container (unshare -Ucfpm, CRIU's CI's way);
 runc       Debian's runc checkpointing a rootless busybox container, and
 podman     Debian's podman asked to checkpoint as a user: both refuse
            today, and the test says they still do, and why;
 runc_path  the container path, step by step (workloads/runc-path): runc
            checkpointing and restoring a rootless container that has
            Debian's default seccomp profile, each step with the levers
            that took the steps before it past their stops (a CRIU option
            file, no seccomp profile, runc in a user namespace of the
            user's own, CAP_SYS_ADMIN for criu), where each must stop on a
            kernel without the RFC's patches and with them (--kernel);
 failed_restore  the OpenMP job restored without a supplementary group
            it had: criu must fail, within seconds, and leave nothing;
 own_criu   the user's view of its own criu: a criu waiting for the tree
            it restored (restore without -d) is seen by the user as ps
            sees it (in its SELinux domain, under a policy), and stopped,
            continued and killed by the user's kill; the tree goes on;
 mappings   a python process that maps the locale archive (setlocale) and
            a file of /tmp it writes a counter into, shared, keeps a
            file of /etc open, as a daemon keeps its configuration, and
            a temporary file of /tmp (tmpfile(), removed) as scratch; its
            images copied with their labels (as cp -a and rsync -X copy),
            it is restored from the copy and counts on in the same file,
            with the same PID, mappings and open file.

With --user NAME --selinux CONTEXT (a guest with a policy loaded): the
workloads run as NAME, an existing user with a home, in CONTEXT, as a
login would leave it: its files are made by it under ~/crcap-work (the
OpenMP job runs from ~/bin), its images go to ~/.criu, its terminals are
relabelled as login relabels them, and CRIU is used where it is (setcap'd
and labelled by the caller).  --chunks: the OpenMP job's size (an
emulated guest is slower); --classes: Server.class built already (a
guest has no javac); --limit: what any one command may take; --trace: a
line for each command as it ends (a guest's log shows where one hangs).
With --user NAME alone (a guest without a policy), the same as NAME, in
no context.  --cgroup: a cgroup v2 (its path under the hierarchy's root)
delegated to the user, as systemd delegates user@UID.service, in which
this test runs: runc_path's containers get cgroups of their own there,
which CRIU freezes (without one, the container shares this test's).

workloads/expected says what each must do (pass, or fail with what); a
workload whose outcome differs fails, in either direction.  Figures
(median and spread of N runs) are "# bench:" lines and, with --json, a
file.
"""

import ctypes
import fcntl
import grp
import json
import os
import pwd
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import termios
import time

# This directory's: the same subreaper's reaping, the same work directories.
from criu_test import reap, user_workdir

PR_SET_CHILD_SUBREAPER = 36
HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, 'workloads', 'expected')
USER = 'crcap-work'
CAPS = 'cap_checkpoint_restore,cap_setpcap'
LIMIT = 60		# seconds any one command may take
CHUNKS = 48		# the OpenMP job's
JAVA_OPTS = ['-XX:-UsePerfData', '-XX:+UseSerialGC', '-Xmx256m']
# What runs when no NAME is given; mappings needs a locale archive (Debian's
# locales, locale-gen), which the SELinux guests carry and a host may not.
ORDER = ('jvm', 'openmp', 'bash_job', 'container', 'runc', 'runc_path', 'podman',
	 'failed_restore', 'own_criu')

results = []
figures = {}


def emit(ok, name, why=''):
	results.append(ok)
	for line in why.splitlines():
		print(f'# {line}')
	print(f'{"ok" if ok else "not ok"} {len(results)} {name}', flush=True)


def bench(name, what, values, unit='s'):
	"""A figure: median and spread of VALUES."""
	if not values:
		return
	med = statistics.median(values)
	figures.setdefault(name, {})[what] = {
		'median': round(med, 3), 'min': round(min(values), 3),
		'max': round(max(values), 3), 'runs': len(values), 'unit': unit}
	print(f'# bench: {name} {what}: median {med:.3f} {unit}, '
	      f'min {min(values):.3f}, max {max(values):.3f} ({len(values)} runs)', flush=True)


def table(path, fields):
	"""(number, words) of each line of PATH that is not blank nor a
	comment, split into at most FIELDS words."""
	with open(path) as f:
		for n, line in enumerate(f, 1):
			line = line.split('#', 1)[0].strip()
			if line:
				yield n, line.split(None, fields - 1)


def read_expected(path=EXPECTED):
	"""name -> (outcome, what a failure says)."""
	out = {}
	for n, words in table(path, 3):
		if len(words) < 2 or words[1] not in ('pass', 'fail'):
			raise SystemExit(f'{path}:{n}: want "NAME pass|fail [WHY]"')
		out[words[0]] = (words[1], words[2] if len(words) > 2 else '')
	return out


# Each work directory's image directory, when it is not DIR/img.
IMAGES = {}


def img(d):
	return IMAGES.get(d, os.path.join(d, 'img'))


class Env:
	"""The user, its work directory, the copies it runs; undone by close()."""

	def __init__(self, criu, tools, caps=CAPS, user=None, context=None):
		self.caps = caps
		self.context = context
		self.user = user or USER
		self.made_user = user is None
		if self.made_user:
			subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir',
					'/nonexistent', '--shell', '/usr/sbin/nologin', USER],
				       check=True, capture_output=True)
		pw = pwd.getpwnam(self.user)
		self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
		self.seq = 0
		self.tools = tools
		if self.made_user:
			self.dir = tempfile.mkdtemp(prefix='crcap-work.', dir='/var/tmp')
			os.chmod(self.dir, 0o755)
			self.criu = self.copy(criu, 'criu')
			subprocess.run(['setcap', f'{caps}+eip', self.criu], check=True)
			self.omp = self.copy(os.path.join(tools, 'omp_job'), 'omp_job')
		else:	# the user's own files, made by the user
			self.dir = os.path.join(pw.pw_dir, 'crcap-work')
			self.images = os.path.join(pw.pw_dir, '.criu')
			self.user_run(['mkdir', '-p', self.dir, self.images, f'{pw.pw_dir}/bin'])
			self.criu = criu
			self.omp = f'{pw.pw_dir}/bin/omp_job'
			self.user_run(['cp', os.path.join(tools, 'omp_job'), self.omp])
		os.chdir(self.dir)

	def user_run(self, cmd):
		p = subprocess.run(self.as_user(cmd), capture_output=True, text=True,
				   stdin=subprocess.DEVNULL, timeout=LIMIT)
		if p.returncode:
			raise OSError(f'{shlex.join(cmd)} as {self.user}: exit {p.returncode} '
				      f'{p.stdout}{p.stderr}')

	def copy(self, src, name):
		dst = os.path.join(self.dir, name)
		shutil.copy(src, dst)
		os.chmod(dst, 0o755)
		return dst

	def close(self):
		for _ in range(20):
			subprocess.run(['pkill', '-KILL', '-U', str(self.uid)], capture_output=True)
			reap(0.2)
			if subprocess.run(['pgrep', '-U', str(self.uid)],
					  capture_output=True).returncode != 0:
				break
		os.chdir('/')
		if self.made_user:
			subprocess.run(['userdel', USER], capture_output=True)
			shutil.rmtree(self.dir, ignore_errors=True)
		else:
			shutil.rmtree(self.dir, ignore_errors=True)
			shutil.rmtree(self.images, ignore_errors=True)

	def output(self, path):
		"""A file the user's process writes (and its restore reopens)."""
		f = open(path, 'w')
		os.fchown(f.fileno(), self.uid, self.gid)
		return f

	def spawn(self, cmd, out, **kw):
		"""CMD as the user, its output to the file OUT.  With a context,
		the user opens it (and /dev/null), as the user's shell would: no
		descriptor of ours is the user's to use."""
		if not self.context:
			return subprocess.Popen(self.as_user(cmd), stdin=subprocess.DEVNULL,
						stdout=self.output(out), stderr=subprocess.STDOUT, **kw)
		cmd = [shutil.which(cmd[0]) or cmd[0], *cmd[1:]]
		return subprocess.Popen(self.as_user(
			['sh', '-c', 'out=$1; shift; exec "$@" </dev/null >"$out" 2>&1', 'sh', out, *cmd]),
			stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL, **kw)

	def workdir(self, name):
		self.seq += 1
		if not self.context and self.made_user:
			return user_workdir(self.dir, self.seq, name, self.uid, self.gid)
		d = os.path.join(self.dir, f'{self.seq:02d}-{name}')
		IMAGES[d] = os.path.join(self.images, f'{self.seq:02d}-{name}')
		self.user_run(['mkdir', d, IMAGES[d]])
		return d

	def as_user(self, cmd, tty=False):
		"""CMD as the user.  With a context, as a login leaves the user:
		its groups, its HOME, its context entered through its shell (the
		user domain's entry point; criu's own domain is entered from
		there), and, unless CMD runs on a TTY we hand it, standard
		descriptors its shell opened (/dev/null), not ours."""
		if not self.context and self.made_user:
			return ['runuser', '-u', self.user, '--', *cmd]
		# Programs by their paths: a busybox sh runs its own applets
		# before the PATH's (its setsid has no -f).
		cmd = [shutil.which(cmd[0]) or cmd[0], *cmd[1:]]
		if not self.context:	# an existing user, no policy: our descriptors
			return [shutil.which('setpriv'), f'--reuid={self.uid}', f'--regid={self.gid}',
				'--init-groups', '--', 'sh', '-c',
				f'HOME={shlex.quote(self.home)}; export HOME; exec "$0" "$@"', *cmd]
		cmd = [shutil.which('setpriv'), f'--reuid={self.uid}', f'--regid={self.gid}', '--init-groups',
		       f'--selinux-label={self.context}', '--', 'sh', '-c',
		       f'HOME={shlex.quote(self.home)}; export HOME; exec "$0" "$@"'
		       + ('' if tty else ' </dev/null >/dev/null 2>&1'), *cmd]
		# Not even our pipes at the exec that enters the user's context.
		return cmd if tty else ['sh', '-c', 'exec "$0" "$@" </dev/null >/dev/null 2>&1', *cmd]

	def dump(self, d, pid, *extra):
		return run(self.as_user([self.criu, 'dump', '-t', str(pid), '-D', img(d),
					 '--unprivileged', '-o', 'dump.log', '-v4', *extra]))

	def dump_gone(self, d, pid):
		"""Dump PID (criu kills it) and wait until it is gone: (what failed, seconds)."""
		rc, out, td = self.dump(d, pid)
		if rc != 0:
			kill(pid)
			return f'dump exited {rc}: {out.strip()[-300:]}\n{log_errors(d, "dump.log")}', td
		wait_for(lambda: not os.path.exists(f'/proc/{pid}'), limit=5)
		reap(0.1)
		return '', td

	def restore_cmd(self, d, *extra):
		return self.as_user([self.criu, 'restore', '-D', img(d), '--unprivileged',
				     '-d', '-o', 'restore.log', '-v4', *extra], '--shell-job' in extra)


def run(cmd, limit=None):
	"""(exit status, output, seconds); with --trace, a line for each."""
	limit = limit or LIMIT
	t = time.monotonic()
	try:
		p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit,
				   stdin=subprocess.DEVNULL)
		rc, out = p.returncode, p.stdout + p.stderr
	except subprocess.TimeoutExpired:
		rc, out = 'timeout', f'{shlex.join(cmd[:6])}... did not finish in {limit}s'
	if TRACE:
		what = [a for a in cmd if a in ('dump', 'restore')]
		print(f'# trace: {" ".join(what) or cmd[-1][:40]}: exit {rc} in '
		      f'{time.monotonic() - t:.1f} s', flush=True)
	return rc, out, time.monotonic() - t


def log_errors(d, name, n=4):
	try:
		with open(os.path.join(img(d), name), errors='replace') as f:
			lines = [ln.rstrip() for ln in f if 'Error' in ln]
		return '\n'.join(lines[-n:])
	except OSError:
		return ''


def wait_for(fn, limit=None, step=0.01):
	end = time.monotonic() + (limit or LIMIT)
	while time.monotonic() < end:
		v = fn()
		if v:
			return v
		reap()
		time.sleep(step)
	return None


def kill(pid):
	try:
		os.kill(int(pid), signal.SIGKILL)
	except (ProcessLookupError, ValueError):
		pass
	wait_for(lambda: not os.path.exists(f'/proc/{pid}') or
		 'Z' in _state(pid), limit=5)
	reap(0.1)


def _state(pid):
	try:
		with open(f'/proc/{pid}/stat') as f:
			return f.read().rsplit(')', 1)[1].split()[0]
	except OSError:
		return 'Z'


def du(path):
	return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


# ---- the JVM ----------------------------------------------------------------

def free_port():
	with socket.socket() as s:
		s.bind(('127.0.0.1', 0))
		return s.getsockname()[1]


def ask(port):
	"""The server's answer, or None while nobody listens."""
	try:
		with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
			data = b''
			while not data.endswith(b'\n'):
				chunk = s.recv(256)
				if not chunk:
					break
				data += chunk
			m = re.match(r'ready pid=(\d+) sum=(-?\d+) served=(\d+)', data.decode())
			return m.groups() if m else None
	except OSError:
		return None


def workload_jvm(env, runs):
	java = shutil.which('java')
	if CLASSES and java:
		classes = CLASSES
	elif not java or not shutil.which('javac'):
		return 'fail', 'no java/javac (Debian: openjdk-17-jdk-headless)'
	else:
		classes = os.path.join(env.dir, 'classes')
		rc, out, _ = run(['javac', '-d', classes,
				  os.path.join(HERE, 'workloads', 'Server.java')])
		if rc != 0:
			return 'fail', f'javac: {out.strip()[-300:]}'
	port = free_port()
	cold, last = [], None
	for r in range(runs):
		d = env.workdir(f'jvm-{r}')
		t = time.monotonic()
		# setsid -f: a session of its own, as a server is; PID from its answer
		env.spawn(['setsid', '-f', java, *JAVA_OPTS, '-cp', classes, 'Server', str(port)],
			  f'{d}/java.out', cwd=d)
		got = wait_for(lambda: ask(port))
		if not got:
			return 'fail', f'the server never answered: {open(f"{d}/java.out").read()[-300:]}'
		cold.append(time.monotonic() - t)
		if r < runs - 1:
			kill(got[0])
		last = (d, got)
	d, got = last
	pid, warm_sum, _ = got
	served = ask(port)	# one more: the count the image holds
	why, td = env.dump_gone(d, pid)
	if why:
		return 'fail', why
	restored, bad = [], ''
	for r in range(runs):
		t = time.monotonic()
		p = subprocess.Popen(env.restore_cmd(d), stdin=subprocess.DEVNULL,
				     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
		got = wait_for(lambda: ask(port) or p.poll() not in (None, 0) and ['gone'])
		if not got or got == ['gone']:
			out = p.communicate(timeout=LIMIT)[0] if p.poll() is not None else ''
			p.kill()
			return 'fail', (f'restore {r}: no answer (criu exit {p.poll()}): {out[-200:]}\n'
					+ log_errors(d, 'restore.log'))
		restored.append(time.monotonic() - t)
		p.wait(timeout=LIMIT)
		want = (pid, warm_sum, str(int(served[2]) + 1))
		if tuple(got) != want:
			bad = (f'restore {r} answered pid={got[0]} sum={got[1]} served={got[2]}, '
			       f'want pid={want[0]} sum={want[1]} served={want[2]}')
		kill(pid)
		if bad:
			return 'fail', bad
	bench('jvm', 'cold start -> first answer', cold)
	bench('jvm', 'restore -> first answer', restored)
	bench('jvm', 'dump', [td])
	bench('jvm', 'image', [du(img(d)) / 1e6], 'MB')
	return 'pass', (f'cold start {statistics.median(cold):.2f} s, restore '
			f'{statistics.median(restored):.2f} s (medians of {runs})')


# ---- the OpenMP job -----------------------------------------------------------

def read(path):
	try:
		with open(path) as f:
			return f.read()
	except OSError:
		return ''


def check_job(d, ref_sum, pid):
	"""'' when D's job ended right, else why not."""
	m = re.match(r'pid=(\d+) sum=(\d+)', read(f'{d}/result'))
	if not m:
		return 'no result'
	chunks = [ln.split()[1] for ln in read(f'{d}/chunks').splitlines()]
	bad = []
	if m.group(2) != ref_sum:
		bad.append(f'sum {m.group(2)}, an uninterrupted run gives {ref_sum}')
	if m.group(1) != str(pid):
		bad.append(f'ended as pid {m.group(1)}, started as {pid}')
	if sorted(chunks, key=int) != [str(i) for i in range(CHUNKS)]:
		dup = sorted({c for c in chunks if chunks.count(c) > 1}, key=int)
		bad.append(f'{len(chunks)} chunks logged for {CHUNKS}'
			   + (f', twice: {" ".join(dup[:5])}' if dup else ''))
	return '; '.join(bad)


OMP_ENV = dict(os.environ, OMP_NUM_THREADS='4')


def start_job(env, d):
	env.spawn(['setsid', '-f', env.omp, d, str(CHUNKS)], f'{d}/job.out', env=OMP_ENV)
	return wait_for(lambda: read(f'{d}/pid').strip())


def workload_openmp(env, runs):
	d = env.workdir('omp-ref')
	t = time.monotonic()
	start_job(env, d)
	if not wait_for(lambda: read(f'{d}/result')):
		return 'fail', f'the uninterrupted job did not end: {read(f"{d}/job.out")[-200:]}'
	plain = time.monotonic() - t
	ref = re.match(r'pid=\d+ sum=(\d+)', read(f'{d}/result')).group(1)
	totals, dumps, restores = [], [], []
	for r in range(runs):
		d = env.workdir(f'omp-{r}')
		t = time.monotonic()
		pid = start_job(env, d)
		if not pid or not wait_for(lambda: len(read(f'{d}/chunks').splitlines()) >= CHUNKS // 4):
			return 'fail', 'the job did not start'
		why, td = env.dump_gone(d, pid)
		if why:
			return 'fail', why
		at = len(read(f'{d}/chunks').splitlines())
		rc, out, tr = run(env.restore_cmd(d), limit=LIMIT)
		if rc != 0:
			return 'fail', f'restore exited {rc}: {out.strip()[-200:]}\n' + \
				log_errors(d, 'restore.log')
		if not wait_for(lambda: read(f'{d}/result')):
			kill(pid)
			return 'fail', 'the restored job did not end'
		totals.append(time.monotonic() - t)
		dumps.append(td)
		restores.append(tr)
		why = check_job(d, ref, pid)
		if why:
			return 'fail', f'dumped after {at} of {CHUNKS} chunks: {why}'
	bench('openmp', 'uninterrupted run', [plain])
	bench('openmp', 'run with dump and restore', totals)
	bench('openmp', 'dump', dumps)
	bench('openmp', 'restore', restores)
	return 'pass', f'{runs} runs dumped part-way end with the uninterrupted sum {ref}'


# ---- a bash job and its terminal ------------------------------------------------

BASH_LOOP = 'i=0; while :; do i=$((i+1)); echo "tick $i $$ $(tty)"; sleep 0.1; done'


def _on_terminal(slave):
	"""preexec: a session of its own with SLAVE as controlling terminal."""
	def fn():
		os.setsid()
		fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
	return fn


class Terminal:
	"""A pty whose master this test reads."""

	def __init__(self, env):
		self.master, self.slave = os.openpty()
		os.fchown(self.slave, env.uid, env.gid)
		self.name = os.ttyname(self.slave)
		if env.context:		# as login's type_change does
			user = env.context.split(':')[0]
			os.setxattr(self.name, 'security.selinux',
				    f'{user}:object_r:user_devpts_t:s0'.encode())
		self.text = ''

	def ticks(self, limit=0.0):
		"""Reads what came within LIMIT seconds; the ticks seen so far."""
		end = time.monotonic() + limit
		while True:
			r, _, _ = select.select([self.master], [], [], max(0, end - time.monotonic()))
			if not r:
				break
			try:
				self.text += os.read(self.master, 4096).decode(errors='replace')
			except OSError:
				break
		return re.findall(r'tick (\d+) (\d+) (\S+)', self.text)

	def close(self):
		os.close(self.master)
		os.close(self.slave)


def workload_bash_job(env, runs):
	dumps, restores = [], []
	for r in range(runs):
		d = env.workdir(f'bash-{r}')
		t1 = Terminal(env)
		job = subprocess.Popen(env.as_user(['bash', '--norc', '--noprofile', '-c', BASH_LOOP],
						   tty=True),
				       stdin=t1.slave, stdout=t1.slave, stderr=t1.slave,
				       preexec_fn=_on_terminal(t1.slave))
		t = time.monotonic()
		while len(t1.ticks(0.1)) < 3 and time.monotonic() - t < LIMIT:
			pass
		seen = t1.ticks()
		if len(seen) < 3:
			job.kill()
			return 'fail', f'the job did not start: {t1.text[-200:]}'
		pid = seen[-1][1]
		rc, out, td = env.dump(d, pid, '--shell-job')
		if rc != 0:
			kill(pid)
		job.wait(timeout=LIMIT)
		last = int(t1.ticks(0.2)[-1][0])
		t1.close()
		if rc != 0:
			return 'fail', f'dump exited {rc}: {out.strip()[-300:]}\n{log_errors(d, "dump.log")}'
		reap(0.1)
		t2 = Terminal(env)
		rcfile = f'{d}/restore.rc'
		# The new terminal's session leader stays, as the user's shell would.
		cmd = shlex.join(env.restore_cmd(d, '--shell-job'))
		t = time.monotonic()
		shell = subprocess.Popen(['sh', '-c', f'{cmd}; echo $? >{rcfile}; exec sleep {LIMIT}'],
					 stdin=t2.slave, stdout=t2.slave, stderr=t2.slave,
					 preexec_fn=_on_terminal(t2.slave))
		rc = wait_for(lambda: read(rcfile).strip(), limit=LIMIT)
		tr = time.monotonic() - t
		why = ''
		if rc != '0':
			why = f'restore exited {rc}\n{log_errors(d, "restore.log")}'
		else:
			t2.ticks(0.5)
			after = [x for x in t2.ticks() if x[1] == pid]
			if not after:
				why = f'nothing from the job on {t2.name}: {t2.text[-200:]!r}'
			elif int(after[0][0]) != last + 1:
				why = f'it went on at tick {after[0][0]}, it had reached {last}'
			elif after[-1][2] != t2.name:
				why = f'its terminal is {after[-1][2]}, not criu\'s {t2.name}'
		kill(pid)
		shell.kill()
		shell.wait()
		t2.close()
		reap(0.1)
		if why:
			return 'fail', why
		dumps.append(td)
		restores.append(tr)
	bench('bash_job', 'dump', dumps)
	bench('bash_job', 'restore', restores)
	return 'pass', f'{runs} times restored on a new terminal, counting on from its last tick'


# ---- a rootless container ------------------------------------------------------

CONTAINER = r'''
set -u
d=$1 criu=$2 omp=$3 chunks=$4
cd "$d"
# Its files opened in here: a restore finds them in the container's mounts.
OMP_NUM_THREADS=4 setsid -f "$omp" "$d" "$chunks" </dev/null >"$d/job.out" 2>&1
for i in $(seq 1000); do [ -s "$d/pid" ] && break; sleep 0.01; done
pid=$(cat "$d/pid")
for i in $(seq 3000); do
	[ "$(wc -l <"$d/chunks")" -ge $((chunks / 4)) ] && break; sleep 0.01
done
t0=$EPOCHREALTIME
"$criu" dump -t "$pid" -D "$d/img" --unprivileged -o dump.log -v4 || exit 10
t1=$EPOCHREALTIME
while [ -e /proc/"$pid" ]; do sleep 0.01; done
"$criu" restore -D "$d/img" --unprivileged -d -o restore.log -v4 || exit 11
t2=$EPOCHREALTIME
for i in $(seq 6000); do [ -s "$d/result" ] && break; sleep 0.01; done
echo "inside pid=$pid times $t0 $t1 $t2"
'''


def workload_container(env, runs):
	d = env.workdir('ct-ref')
	start_job(env, d)
	wait_for(lambda: read(f'{d}/result'))
	ref = re.match(r'pid=\d+ sum=(\d+)', read(f'{d}/result') or 'pid=0 sum=0').group(1)
	dumps, restores = [], []
	for r in range(runs):
		d = env.workdir(f'ct-{r}')
		rc, out, _ = run(env.as_user(['unshare', '-Ucfpm', '--mount-proc', '--', 'bash', '-c',
					      CONTAINER.strip() + ' && true', 'container', d, env.criu,
					      env.omp, str(CHUNKS)]), limit=LIMIT * 2)
		m = re.search(r'inside pid=(\d+) times ([\d.]+) ([\d.]+) ([\d.]+)', out)
		if rc != 0 or not m:
			step = {10: 'dump', 11: 'restore'}.get(rc, f'exit {rc}')
			log = log_errors(d, {10: 'dump.log', 11: 'restore.log'}.get(rc, 'restore.log'))
			return 'fail', f'in the container: {step}: {out.strip()[-200:]}\n{log}'
		why = check_job(d, ref, m.group(1))
		if why:
			return 'fail', f'in the container: {why}'
		t0, t1, t2 = (float(m.group(i)) for i in (2, 3, 4))
		dumps.append(t1 - t0)
		restores.append(t2 - t1)
	bench('container', 'dump', dumps)
	bench('container', 'restore', restores)
	return 'pass', f'{runs} times dumped and restored inside unshare -Ucfpm, PID kept'


# ---- container engines: expected failures, with their causes ----------------

def engine_env(env, bindir=None):
	"""The environment a user's container engine runs in: its state under
	the work directory, the setcap'd criu (BINDIR's, if given) first in
	PATH."""
	home = os.path.join(env.dir, 'home')
	if not os.path.isdir(home):
		os.makedirs(os.path.join(home, 'run'))
		os.makedirs(os.path.join(env.dir, 'bin'))
		os.symlink(env.criu, os.path.join(env.dir, 'bin', 'criu'))
		for d in (home, os.path.join(home, 'run')):
			os.chown(d, env.uid, env.gid)
	return ['env', f'HOME={home}', f'XDG_RUNTIME_DIR={home}/run',
		f'PATH={bindir or os.path.join(env.dir, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin']


def runc_bundle(env, d, args, bindir=None):
	"""A busybox bundle under D, the user's, running ARGS: runc's own
	rootless spec (runc spec --rootless).  (bundle, runc as the user,
	BINDIR's criu first in its PATH) or (None, why not)."""
	busybox = '/bin/busybox'
	if not shutil.which('runc') or not os.path.exists(busybox):
		return None, 'no runc or /bin/busybox (Debian: runc, busybox-static)'
	rootfs = os.path.join(d, 'bundle', 'rootfs')
	for sub in ('bin', 'proc', 'dev', 'sys', 'tmp'):
		os.makedirs(os.path.join(rootfs, sub))
	shutil.copy(busybox, os.path.join(rootfs, 'bin', 'busybox'))
	for applet in ('sh', 'sleep', 'cat'):
		os.symlink('busybox', os.path.join(rootfs, 'bin', applet))
	for top, dirs, files in os.walk(d):
		for n in dirs + files:
			os.lchown(os.path.join(top, n), env.uid, env.gid)
	bundle = os.path.dirname(rootfs)
	user = env.as_user(engine_env(env, bindir))
	rc, out, _ = run(['sh', '-c', 'cd "$1" && shift && exec "$@"', 'runc', bundle,
			  *user, 'runc', 'spec', '--rootless'])
	if rc != 0:
		return None, f'runc spec: {out.strip()[-200:]}'
	spec = runc_spec(bundle)
	spec['process']['terminal'] = False
	spec['process']['args'] = args
	runc_spec(bundle, spec)
	return bundle, [*user, 'runc', '--root', f'{d}/state']


def runc_spec(bundle, spec=None):
	"""BUNDLE's config.json: read, or (SPEC) written as the user's."""
	path = os.path.join(bundle, 'config.json')
	if spec is None:
		with open(path) as f:
			return json.load(f)
	with open(path, 'w') as f:
		json.dump(spec, f, indent=1)
	return spec


def workload_runc(env, runs):
	"""runc's rootless checkpoint of a running busybox container."""
	d = env.workdir('runc')
	bundle, runc = runc_bundle(env, d, ['sleep', '1000'])
	if not bundle:
		return 'fail', runc
	# Detached, the container keeps runc's output: a file, not our pipe.
	rc, _, _ = run(['sh', '-c', 'o=$1; shift; exec "$@" >"$o" 2>&1', 'runc',
			f'{d}/run.out', *runc, 'run', '-d', '-b', bundle, 'crcap'])
	try:
		if rc != 0:
			return 'fail', f'runc run: {read(f"{d}/run.out").strip()[-200:]}'
		rc, out, _ = run([*runc, 'state', 'crcap'])
		if '"running"' not in out:
			return 'fail', f'the container is not running: {out.strip()[-200:]}'
		rc, out, _ = run([*runc, 'checkpoint', '--image-path', f'{d}/img',
				  '--work-path', d, 'crcap'])
		if rc == 0:
			return 'pass', 'runc checkpointed the rootless container'
		# CRIU says why only at its own log level: the first error, if any
		err = log_errors(d, '../dump.log', 2)
		return 'fail', f'runc checkpoint exited {rc}: {out.strip()[-300:]}' + \
			(f'\n{err}' if err else '')
	finally:
		run([*runc, 'delete', '-f', 'crcap'])


# ---- the container path: runc's rootless checkpoint, step by step -----------

# Each step of workloads/runc-path: the levers it pulls (each one taking
# an earlier step past its stop), where it must stop and what stops it,
# on a kernel without the RFC's patches (stock), with them (rfc) or any.
RUNC_PATH = os.path.join(HERE, 'workloads', 'runc-path')
# The seccomp profile Debian's container stack gives a container by
# default (containers-common, podman's and buildah's), in moby's format.
SECCOMP_PROFILE = '/usr/share/containers/seccomp.json'
RUNC_LEVERS = ('image-dir', 'criu-config', 'no-seccomp', 'own-userns', 'sys-admin',
	       'cgroups-ignore', 'own-netns', 'no-net-lock', 'no-sys')
RUNC_STAGES = ('run', 'dump', 'restore', 'restored')
RUNC_KERNELS = ('any', 'stock', 'rfc')
# The container's job: workloads/shm_counter.c, counting in a removed file
# it maps shared, which it must go on counting from after its restore; its
# output the container's own /dev/null (a file of the host's, as runc's
# is, is not in its mounts: criu cannot dump it).
RUNC_JOB = ['sh', '-c', 'exec /bin/shm_counter /tmp/n </dev/null >/dev/null 2>&1']
# What any criu here logs as an error and goes on: its probes of the
# kernel (kerndat) in a user namespace.
CRIU_PROBE_ERRORS = ('tun: Unable to create tun', 'net: Unexpected error',
		     'rlimit: Can\'t setup RLIMIT_NOFILE')


def read_runc_path(kernel, path=RUNC_PATH):
	"""[(levers, stage, what stops it)] of PATH's lines "KERNEL LEVERS
	STAGE WHAT" for KERNEL (or any): LEVERS a comma-separated list of
	RUNC_LEVERS or -, STAGE the one it must stop at (restored: it does
	not stop, and there is no WHAT)."""
	steps = []
	for n, words in table(path, 4):
		if len(words) < 3 or words[0] not in RUNC_KERNELS or words[2] not in RUNC_STAGES or \
		   (words[2] != 'restored') != (len(words) == 4):
			raise SystemExit(f'{path}:{n}: want "any|stock|rfc LEVERS|- STAGE [WHAT]"')
		levers = [] if words[1] == '-' else words[1].split(',')
		if any(lv not in RUNC_LEVERS for lv in levers):
			raise SystemExit(f'{path}:{n}: levers are {", ".join(RUNC_LEVERS)}')
		if words[0] in ('any', kernel):
			steps.append((levers, words[2], words[3] if len(words) > 3 else ''))
	return steps


def oci_seccomp(profile, caps, arch='amd64'):
	"""PROFILE (moby's format: rules that hold for some architectures,
	some capabilities or some kernels) as the OCI spec's linux.seccomp
	for a container on ARCH with CAPS, as podman writes it."""
	with open(profile) as f:
		p = json.load(f)
	release = tuple(int(x) for x in re.findall(r'\d+', os.uname().release)[:2])
	out = {'defaultAction': p['defaultAction'], 'architectures': [], 'syscalls': []}
	if 'defaultErrnoRet' in p:
		out['defaultErrnoRet'] = p['defaultErrnoRet']
	for a in p.get('archMap', ()):
		if a['architecture'] == 'SCMP_ARCH_X86_64':
			out['architectures'] = [a['architecture'], *a.get('subArchitectures', ())]
	for r in p['syscalls']:
		inc, exc = r.get('includes') or {}, r.get('excludes') or {}
		mink = tuple(int(x) for x in re.findall(r'\d+', inc.get('minKernel', '0.0'))[:2])
		if inc.get('arches') and arch not in inc['arches'] or \
		   any(c not in caps for c in inc.get('caps') or ()) or \
		   any(c in caps for c in exc.get('caps') or ()) or \
		   arch in (exc.get('arches') or ()) or release < mink:
			continue
		out['syscalls'].append({k: v for k, v in r.items()
					if k in ('names', 'action', 'args', 'errnoRet')})
	return out


def _ns(pid, name):
	try:
		return os.readlink(f'/proc/{pid}/ns/{name}')
	except OSError:
		return ''


def runc_stop(d, said, log):
	"""What stopped runc: the last line it SAID, and the errors of
	criu's LOG (in D's image directory's parent, as runc puts it) but
	its probes'."""
	lines = [ln for ln in said.strip().splitlines() if ln.strip()][-1:]
	try:
		with open(os.path.join(d, log), errors='replace') as f:
			text = f.read().splitlines()
	except OSError:
		text = []
	errors = [ln.strip() for ln in text if 'Error' in ln and
		  not any(e in ln for e in CRIU_PROBE_ERRORS)][:4]
	# No error logged (criu killed, or crashed): where its log ends.
	lines += ['criu: ' + ln for ln in errors or [f'{log} ends: ' + t.strip() for t in text[-6:]]]
	return '\n'.join(lines)


def runc_attempt(env, d, levers):
	"""The container started, checkpointed and restored by runc as the
	user, with LEVERS: (the stage it stopped at, what stopped it), or
	('restored', how it went on)."""
	bindir = os.path.join(d, 'bin') if 'sys-admin' in levers else None
	bundle, runc = runc_bundle(env, d, RUNC_JOB, bindir)
	if not bundle:
		return 'run', runc
	shutil.copy(os.path.join(env.tools, 'shm_counter'), os.path.join(bundle, 'rootfs', 'bin'))
	if bindir:	# criu with CAP_SYS_ADMIN too (after the chown, which drops it)
		os.makedirs(bindir)
		shutil.copy(env.criu, os.path.join(bindir, 'criu'))
		subprocess.run(['setcap', f'{env.caps},cap_sys_admin+eip',
				os.path.join(bindir, 'criu')], check=True)
	spec = runc_spec(bundle)
	spec['root']['readonly'] = False
	if 'no-seccomp' not in levers:
		spec['linux']['seccomp'] = oci_seccomp(
			SECCOMP_PROFILE, spec['process']['capabilities']['bounding'])
	# runc reads CRIU options from the file the container's org.criu.config
	# annotation names (they override runc's): the user's own.
	options = [o for lv, o in (('criu-config', 'unprivileged'),
				   ('cgroups-ignore', 'manage-cgroups=ignore'),
				   ('no-net-lock', 'network-lock skip')) if lv in levers]
	if options:
		conf = os.path.join(d, 'criu.conf')
		with env.output(conf) as f:
			f.write(''.join(f'{o}\n' for o in options))
		spec.setdefault('annotations', {})['org.criu.config'] = conf
	if 'own-userns' in levers:	# the user is root there
		for m in spec['linux']['uidMappings'] + spec['linux']['gidMappings']:
			m['hostID'] = 0
	if 'own-netns' in levers:	# a network namespace, and a sysfs, of its own
		spec['linux']['namespaces'].append({'type': 'network'})
		for m in spec['mounts']:
			if m['destination'] == '/sys':
				m.update(type='sysfs', source='sysfs', options=['nosuid', 'noexec', 'nodev', 'ro'])
	if 'no-sys' in levers:		# nor its cgroup file system
		spec['mounts'] = [m for m in spec['mounts'] if m['destination'] != '/sys' and
				  not m['destination'].startswith('/sys/')]
	if CGROUP:	# the container's in the cgroup delegated to the user
		spec['linux']['cgroupsPath'] = f'{CGROUP}/{os.path.basename(d)}'
	runc_spec(bundle, spec)
	if 'own-userns' in levers:
		# runc in a user and mount namespace of the user's own, root in
		# it, as rootless podman runs it (rootlesskit's way): one kept
		# for the container's life, entered by each runc command.
		pidfile = os.path.join(d, 'userns.pid')
		subprocess.Popen(env.as_user(['sh', '-c', 'echo $$ >"$0"; exec "$@"', pidfile,
					      'unshare', '--user', '--map-root-user', '--mount',
					      'sleep', str(LIMIT * 10)]),
				 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
				 stderr=subprocess.DEVNULL)
		pid = wait_for(lambda: read(pidfile).strip(), limit=10)
		if not pid or not wait_for(lambda: _ns(pid, 'user') not in ('', _ns('self', 'user')),
					   limit=10):
			return 'run', 'no user namespace of the user\'s own'
		i = runc.index('runc')
		runc[i:i] = ['nsenter', '--preserve-credentials', '-U', '-m', '-t', pid, '--']
	# runc 1.1.5 makes the image directory mode 0600 when it is not
	# there, which only root can then write in: the user makes it.
	images = os.path.join(d, 'img')
	shutil.rmtree(images, ignore_errors=True)
	if 'image-dir' in levers:
		os.mkdir(images, 0o700)
		os.chown(images, env.uid, env.gid)
	counter = os.path.join(bundle, 'rootfs', 'tmp', 'n')
	rc, _, _ = run(['sh', '-c', 'o=$1; shift; exec "$@" >"$o" 2>&1', 'runc',
			f'{d}/run.out', *runc, 'run', '-d', '-b', bundle, 'crcap'])
	try:
		if rc != 0:
			return 'run', f'runc run: {read(f"{d}/run.out").strip()[-300:]}'
		if not wait_for(lambda: read(counter).strip(), limit=10):
			return 'run', 'the container does not count'
		rc, out, _ = run([*runc, 'checkpoint', '--image-path', images,
				  '--work-path', d, 'crcap'])
		if rc != 0:
			return 'dump', runc_stop(d, out, 'dump.log')
		at = int(read(counter).strip() or 0)
		rc, _, _ = run(['sh', '-c', 'o=$1; shift; exec "$@" >"$o" 2>&1', 'runc',
				f'{d}/restore.out', *runc, 'restore', '-d', '--image-path',
				images, '--work-path', d, '-b', bundle, 'crcap'])
		if rc != 0:
			return 'restore', runc_stop(d, read(f'{d}/restore.out'), 'restore.log')
		if not wait_for(lambda: int(read(counter).strip() or 0) > at + 3, limit=10):
			return 'restore', f'restored, the container does not count on from {at}'
		return 'restored', f'restored, counting on from {at} in its removed mapping'
	finally:
		run([*runc, 'delete', '-f', 'crcap'])


def workload_runc_path(env, runs):
	"""The container path: runc checkpointing and restoring a rootless
	container with the default seccomp profile, step by step, each step
	with the levers that take the steps before it past their stops
	(workloads/runc-path): each must stop where and as it says."""
	if not os.path.exists(SECCOMP_PROFILE):
		return 'fail', f'no {SECCOMP_PROFILE} (Debian: golang-github-containers-common)'
	lines, bad = [], 0
	for i, (levers, stage, what) in enumerate(read_runc_path(KERNEL), 1):
		d = env.workdir(f'runc-path-{i}')
		got, why = runc_attempt(env, d, levers)
		ok = got == stage and what in why
		bad += not ok
		lines.append(f'step {i} ({",".join(levers) or "-"}): {got}'
			     f'{"" if ok else f" (expected: {stage}, {what})"}')
		lines += ['  ' + ln[-300:] for ln in why.splitlines()]
	summary = '\n'.join(lines)
	if bad:
		return 'fail', f'{bad} steps differ from {RUNC_PATH} ({KERNEL} kernel)\n{summary}'
	return 'pass', f'{KERNEL} kernel\n{summary}'


def workload_podman(env, runs):
	"""podman's rootless checkpoint: refused before any container is
	looked at, so none is started (podman cannot import an image without
	subuid ranges here, and needs no image to refuse)."""
	if not shutil.which('podman'):
		return 'fail', 'no podman (Debian: podman)'
	d = env.workdir('podman')
	rc, out, _ = run([*env.as_user(engine_env(env)), 'podman', '--root', f'{d}/storage',
			  '--runroot', f'{d}/run', '--cgroup-manager', 'cgroupfs',
			  '--events-backend', 'none', 'container', 'checkpoint', '--all'])
	errors = [ln for ln in out.splitlines() if ln.startswith('Error')]
	if rc == 0:
		return 'pass', 'podman checkpointed as a user'
	return 'fail', f'podman exited {rc}: ' + ('; '.join(errors) or out.strip()[-200:])


# ---- a restore that fails ------------------------------------------------------

FAIL_GROUP = 'crcap-work-g'
FAIL_LIMIT = 10		# seconds a failing restore may take to say so


def workload_failed_restore(env, runs):
	"""The OpenMP job (four threads) runs with a supplementary group its
	restorer lacks: setgroups() is refused in every thread, and criu must
	exit non-zero within seconds, leaving none of the tree behind (CRIU
	4.2 hangs: criu-patches/0003)."""
	subprocess.run(['groupadd', '--system', FAIL_GROUP], check=True, capture_output=True)
	try:
		gid = str(grp.getgrnam(FAIL_GROUP).gr_gid)
		d = env.workdir('failed-restore')
		subprocess.Popen(['setpriv', f'--reuid={env.uid}', f'--regid={env.gid}',
				  f'--groups={gid}', 'setsid', '-f', env.omp, d, str(CHUNKS * 1000)],
				 stdin=subprocess.DEVNULL, stdout=env.output(f'{d}/job.out'),
				 stderr=subprocess.STDOUT, env=OMP_ENV)
		pid = wait_for(lambda: read(f'{d}/pid').strip())
		if not pid or not wait_for(lambda: read(f'{d}/chunks')):
			return 'fail', 'the job did not start'
		why, _ = env.dump_gone(d, pid)
		if why:
			return 'fail', why
		rc, out, tr = run(env.restore_cmd(d), limit=FAIL_LIMIT)
		# Gone, or dying of the SIGKILL criu sent it before it exited
		# (a CI run saw it still running the instant criu was done).
		left = not wait_for(lambda: not os.path.exists(f'/proc/{pid}') or
				    'Z' in _state(pid), limit=1)
		kill(pid)
		if rc == 0:
			return 'fail', 'the restore without the group succeeded'
		if rc == 'timeout':
			return 'fail', f'the failing restore hung: {out}'
		if 'Restoring FAILED' not in read(f'{img(d)}/restore.log'):
			return 'fail', f'restore exited {rc} without "Restoring FAILED"'
		if left:
			return 'fail', f'restore exited {rc} and left PID {pid} running'
		bench('failed_restore', 'restore that fails', [tr])
		return 'pass', f'restore exited {rc} in {tr:.2f} s: ' + \
			log_errors(d, 'restore.log', 1).strip()
	finally:
		subprocess.run(['groupdel', FAIL_GROUP], capture_output=True)


# ---- own_criu: the user's ps and signals of its own criu ------------------------

SLEEPER = r'''
import os, sys, time
with open(os.path.join(sys.argv[1], 'pid'), 'w') as f:
	f.write(str(os.getpid()))
while True:
	time.sleep(0.05)
'''


def proc_state(pid):
	"""The state letter of process PID ('' when it is gone)."""
	stat = read(f'/proc/{pid}/stat')
	return stat.rsplit(')', 1)[1].split()[0] if stat and ')' in stat else ''


def workload_own_criu(env, runs):
	"""A criu restoring without -d stays the parent of the tree it
	restored until the tree ends: the user must see it with ps (in the
	criu domain of its role, with a context), stop, continue and kill it
	with kill; the restored process goes on."""
	for r in range(runs):
		d = env.workdir(f'own-criu-{r}')
		# Its output to /dev/null: a file of the home would need the
		# module's tunable to be restored.
		rc = subprocess.run(env.as_user(['setsid', '-f', 'python3', '-c', SLEEPER, d]),
				    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
				    stderr=subprocess.DEVNULL, timeout=LIMIT).returncode
		pid = wait_for(lambda: read(f'{d}/pid'))
		if not pid:
			return 'fail', f'the process did not start (exit {rc})'
		why, _ = env.dump_gone(d, pid)
		if why:
			return 'fail', why
		restore = env.as_user([env.criu, 'restore', '-D', img(d), '--unprivileged',
				       '-o', 'restore.log', '-v4'])
		proc = subprocess.Popen(restore, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
					stderr=subprocess.DEVNULL)
		try:
			criu = wait_for(lambda: proc_state(pid) and
					re.search(r'^PPid:\s*(\d+)', read(f'/proc/{pid}/status'), re.M),
					limit=20)
			if not criu:
				return 'fail', f'not restored under a waiting criu: ' \
					f'{log_errors(d, "restore.log")}'
			criu = criu.group(1)
			want = env.context.replace(':user_t:', ':user_criu_t:') if env.context else ''
			# The user's commands, their output to its own files: what ps
			# reads of a process (its stat, and its context under a policy).
			files = '"/proc/$1/stat"' + (' "/proc/$1/attr/current"' if want else '')
			rc, out, _ = run(env.as_user(['sh', '-c', f'cat {files} >"$2/ps"', 'sh', criu, d]))
			seen = read(f'{d}/ps').replace('\0', '').split()
			if rc != 0 or not seen or seen[0] != criu or (want and seen[-1] != want):
				return 'fail', f'the user\'s ps of its criu {criu}: exit {rc}, ' \
					f'"{" ".join(seen)[:200]}"' + (f', want {want}' if want else '')
			for sig, state in (('STOP', 'T'), ('CONT', 'S')):
				rc, out, _ = run(env.as_user(['kill', f'-{sig}', criu]))
				got = wait_for(lambda: proc_state(criu) == state or
					       (state == 'S' and proc_state(criu) in 'RS'), limit=5)
				if rc != 0 or not got:
					return 'fail', f'the user\'s kill -{sig} of its criu: exit {rc}, ' \
						f'state {proc_state(criu)}'
			# criu waits with its signals blocked: KILL ends it.
			rc, out, _ = run(env.as_user(['kill', '-KILL', criu]))
			if rc != 0 or not wait_for(lambda: proc_state(criu) in ('', 'Z'), limit=10):
				return 'fail', f'the user\'s kill -KILL of its criu: exit {rc}, ' \
					f'state {proc_state(criu)}'
			if not proc_state(pid):
				return 'fail', 'the restored process ended with its criu'
		finally:
			kill(pid)
			# runuser (no context) stops itself when its child stops.
			for sig in (signal.SIGCONT, signal.SIGKILL):
				if proc.poll() is None:
					os.kill(proc.pid, sig)
			proc.wait()
	return 'pass', f'{runs} times: its criu seen by ps ({want or "no policy"}), ' \
		'stopped, continued and killed by kill, the tree going on'


# ---- mappings: the locale archive, a file of /tmp, one of /etc ------------------

# A file of /etc that every Debian system has, not a link (etc_t).
ETC_FILE = '/etc/debian_version'
# Its scratch file is a temporary file of /tmp, nameless (tmpfile(): O_TMPFILE),
# which CRIU dumps as a ghost file and makes again in /tmp to restore it;
# it counts only while the scratch file reads back what it wrote there.
SCRATCH = b'crcap scratch'
MAPPER = r'''
import locale, mmap, os, sys, tempfile, time
locale.setlocale(locale.LC_ALL, '')
d, path, conf = sys.argv[1], sys.argv[2], open(sys.argv[3])
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, mmap.PAGESIZE)
m = mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED)
os.close(fd)
scratch = tempfile.TemporaryFile(dir='/tmp')
scratch.write(%r)
scratch.flush()
with open(os.path.join(d, 'pid'), 'w') as f:
	f.write(f'{os.getpid()} {locale.getlocale()}')
while os.pread(scratch.fileno(), 64, 0) == %r:
	m[:8] = (int.from_bytes(m[:8], 'little') + 1).to_bytes(8, 'little')
	time.sleep(0.02)
''' % (SCRATCH, SCRATCH)


# The images copied as the user copies them elsewhere, labels and all (what
# cp -a and rsync -X do: the guest's cp is busybox's, which does not).
COPY = 'import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True)'


def opened(pid):
	"""The files process PID has open."""
	try:
		fds = os.listdir(f'/proc/{pid}/fd')
	except OSError:
		return []
	out = []
	for fd in fds:
		try:
			out.append(os.readlink(f'/proc/{pid}/fd/{fd}'))
		except OSError:
			pass
	return out


def scratch_open(pid):
	"""Whether process PID holds a removed file of /tmp open."""
	return any(f.startswith('/tmp/') and f.endswith(' (deleted)') for f in opened(pid))


def workload_mappings(env, runs):
	"""MAPPER under LOCALE: its maps must hold the locale archive and its
	file of /tmp, and it must have ETC_FILE open, before the dump and
	after the restore, which reads a copy of the images the user made
	with their labels; the restored process goes on counting in that
	file, under its PID."""
	locale_env = dict(os.environ, LANG=LOCALE, LC_ALL=LOCALE)
	dumps, restores = [], []
	for r in range(runs):
		d = env.workdir(f'mappings-{r}')
		tmp = f'/tmp/crcap-mappings-{env.uid}-{r}'
		env.spawn(['setsid', '-f', 'python3', '-c', MAPPER, d, tmp, ETC_FILE], f'{d}/out',
			  env=locale_env)
		pid = wait_for(lambda: read(f'{d}/pid').split(' ')[0])
		if not pid:
			return 'fail', f'the process did not start: {read(f"{d}/out")[-300:]}'
		maps = read(f'/proc/{pid}/maps')
		want = ('locale-archive', tmp)
		missing = [w for w in want if w not in maps]
		if missing or ETC_FILE not in opened(pid) or not scratch_open(pid):
			kill(pid)
			return 'fail', f'it does not map {" ".join(missing) or "-"}, or has not ' \
				f'{ETC_FILE} and a removed file of /tmp open ({read(f"{d}/pid")})'
		why, td = env.dump_gone(d, pid)
		if why:
			return 'fail', why
		with open(tmp, 'rb') as f:
			at = int.from_bytes(f.read(8), 'little')
		copy = img(d) + '.copy'
		rc, out, _ = run(env.as_user(['python3', '-c', COPY, img(d), copy]))
		if rc != 0:
			return 'fail', f'the copy of the images with their labels exited {rc}: ' \
				f'{out.strip()[-300:]}'
		IMAGES[d] = copy
		rc, out, tr = run(env.restore_cmd(d))
		if rc != 0:
			return 'fail', f'restore exited {rc}: {out.strip()[-200:]}\n' + \
				log_errors(d, 'restore.log')
		maps = read(f'/proc/{pid}/maps')
		if ETC_FILE not in opened(pid) or not scratch_open(pid):
			kill(pid)
			return 'fail', f'restored, it has not {ETC_FILE} and a removed file of /tmp open'
		grew = wait_for(lambda: int.from_bytes(open(tmp, 'rb').read(8), 'little') > at + 5,
				limit=10)
		kill(pid)
		os.unlink(tmp)
		missing = [w for w in want if w not in maps]
		if missing:
			return 'fail', f'restored, it does not map {" ".join(missing)}'
		if not grew:
			return 'fail', f'restored, it does not count on in {tmp} (at {at}; it stops ' \
				'when its removed file of /tmp lost what it wrote)'
		dumps.append(td)
		restores.append(tr)
	bench('mappings', 'dump', dumps)
	bench('mappings', 'restore', restores)
	return 'pass', f'{runs} times restored from a copy of its images, mapping the locale ' \
		f'archive and {tmp}, {ETC_FILE} and a removed file of /tmp open, counting on'


WORKLOADS = {'jvm': workload_jvm, 'openmp': workload_openmp,
	     'bash_job': workload_bash_job, 'container': workload_container,
	     'runc': workload_runc, 'runc_path': workload_runc_path, 'podman': workload_podman,
	     'failed_restore': workload_failed_restore, 'mappings': workload_mappings,
	     'own_criu': workload_own_criu}
# The locale the mappings workload sets (its archive: Debian's locales).
LOCALE = 'en_US.UTF-8'
CLASSES = None
KERNEL = 'stock'	# runc_path's: a kernel with the RFC's patches (rfc) or not
CGROUP = None	# runc_path's: a cgroup (v2) delegated to the user, or none
TRACE = False


def option(args, name):
	"""The value of option NAME, taken out of ARGS (None: not given)."""
	if name not in args:
		return None
	i = args.index(name)
	value = args[i + 1]
	del args[i:i + 2]
	return value


def main():
	global CGROUP, CHUNKS, CLASSES, KERNEL, LIMIT, TRACE
	args = sys.argv[1:]
	runs, jpath, caps = 5, None, CAPS
	user, context = option(args, '--user'), option(args, '--selinux')
	CHUNKS = int(option(args, '--chunks') or CHUNKS)
	CLASSES = option(args, '--classes')
	KERNEL = option(args, '--kernel') or KERNEL
	CGROUP = option(args, '--cgroup')
	if KERNEL not in RUNC_KERNELS[1:]:
		print(f'1..0 # SKIP --kernel is one of {" ".join(RUNC_KERNELS[1:])}')
		return 4
	TRACE = '--trace' in args
	if TRACE:
		args.remove('--trace')
	LIMIT = int(option(args, '--limit') or LIMIT)
	if context and not user:
		print('1..0 # SKIP --selinux goes with --user')
		return 4
	if '--caps' in args:	# another set: what the workloads need
		i = args.index('--caps')
		caps = args[i + 1]
		del args[i:i + 2]
	if '--runs' in args:
		i = args.index('--runs')
		runs = int(args[i + 1])
		del args[i:i + 2]
	if '--json' in args:
		i = args.index('--json')
		jpath = args[i + 1]
		del args[i:i + 2]
	print('TAP version 13', flush=True)
	if len(args) < 2:
		print('1..0 # SKIP usage: workloads_test.py CRIU TOOLS_DIR [--runs N] [--json F] '
		      '[NAME...]')
		return 4
	criu, tools, names = args[0], args[1], args[2:] or list(ORDER)
	if os.geteuid() != 0:
		print('1..0 # SKIP needs root: it creates the user the workloads run as')
		return 4
	expected = read_expected()
	unknown = [n for n in names if n not in WORKLOADS or n not in expected]
	if unknown:
		print(f'1..0 # SKIP no such workload (or no line in {EXPECTED}): {" ".join(unknown)}')
		return 1
	ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	env = Env(criu, tools, caps, user, context)
	try:
		print(f'# criu {criu} ({caps}), user {env.user} ({env.uid}'
		      + (f', {context}' if context else '') + f'), {runs} runs each')
		for name in names:
			t = time.monotonic()
			try:
				got, why = WORKLOADS[name](env, runs)
			except Exception as e:	# a workload that breaks is its failure
				got, why = 'fail', f'{type(e).__name__}: {e}'
			reap(0.1)
			want, want_why = expected[name]
			ok = got == want and (got == 'pass' or want_why in why)
			note = f'{name}: {got}, expected {want}' + (f' ({want_why})' if want_why else '')
			emit(ok, name, f'{why}\n{note} in {time.monotonic() - t:.1f} s'
			     if not ok else f'{why} ({time.monotonic() - t:.1f} s)')
	finally:
		env.close()
	if jpath:
		with open(jpath, 'w') as f:
			json.dump(figures, f, indent=1, sort_keys=True)
	print(f'1..{len(results)}')
	return 0 if all(results) else 1


if __name__ == '__main__':
	sys.exit(main())
