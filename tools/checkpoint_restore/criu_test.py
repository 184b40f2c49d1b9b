#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A real CRIU, run by an unprivileged user, is the acceptance test of
checkpoint/restore without root; crcheck is judged by what it does.

	criu_test.py CRIU TOOLS_DIR [--bench] [--restorer-drops-present]
	(as root; prints KTAP)

CRIU: a criu binary, 3.18 or later (--unprivileged).  TOOLS_DIR holds
crcheck and criu_target (make -C tools/checkpoint_restore).
--restorer-drops-present: CRIU's restorer drops from the bounding set only
what it still has (tools/checkpoint_restore/criu-patches/0001), and
crcheck is told so.

Every case runs as a user the test creates and removes, on a process tree
the test starts (criu_target), with every command under a time limit; the
test is the child subreaper of everything it starts, and kills and reaps
it all before it ends.  Contexts:

 filecaps   criu with file capabilities, initial namespaces: the smallest
            set that dumps and restores here is searched for, not assumed;
 userns     no file capabilities: a user + PID (+ IPC) namespace of the
            user's own (unshare -Urpf), where everything but map_files of
            deleted files works;
 seccomp    a target under seccomp: its dump must fail for that reason;
 nocap      criu without the capability: restore must fail;
 check      "criu check --unprivileged" must say what crcheck says, per
            credential set: it fails exactly where crcheck refuses dump
            or restore (CRIU's series 0004 has it try the operations).

A restore passes when every process of the tree is back with its PIDs
(NSpid), its memory (checksums) and its threads making progress.  In
each context crcheck --exec criu (--for dump/restore) must predict what
criu then did, and where it refuses, the fix it prints must work.
"""

import ctypes
import fcntl
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

PR_SET_CHILD_SUBREAPER = 36
# The user must be able to run it: the system's, not one under /root.
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
LIMIT = 60		# seconds any one command may take
# A restore that fails to drop capabilities hangs (criu 4.2): it is not
# waited for as long.
RESTORE_LIMIT = 5
USER = 'crcap-criu'
CAPSETS = [['cap_checkpoint_restore'],
	   ['cap_checkpoint_restore', 'cap_setpcap'],
	   ['cap_checkpoint_restore', 'cap_setpcap', 'cap_sys_ptrace']]

results = []


def emit(ok, name, why='', skip=''):
	results.append((ok, name, why, skip))
	n = len(results)
	if skip:
		print(f'ok {n} {name} # SKIP {skip}', flush=True)
		return
	if why:
		for line in why.splitlines():
			print(f'# {line}')
	print(f'{"ok" if ok else "not ok"} {n} {name}', flush=True)


class Env:
	"""The user, the work directory, the criu copies; undone by close()."""

	def __init__(self, criu, tools):
		self.tools = tools
		self.dir = tempfile.mkdtemp(prefix='crcap-criu.')
		os.chmod(self.dir, 0o755)
		subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
				'--shell', '/usr/sbin/nologin', USER], check=True, capture_output=True)
		pw = pwd.getpwnam(USER)
		self.uid, self.gid = pw.pw_uid, pw.pw_gid
		self.criu = os.path.join(self.dir, 'criu')  # file capabilities go here
		self.plain = os.path.join(self.dir, 'criu-plain')  # never any
		for dst in (self.criu, self.plain):
			shutil.copy(criu, dst)
			os.chmod(dst, 0o755)
		self.crcheck = os.path.join(self.dir, 'crcheck')
		shutil.copy(os.path.join(tools, 'crcheck'), self.crcheck)
		os.chmod(self.crcheck, 0o755)
		# Everything the user runs is copied here: the checkout may sit in
		# a directory the user cannot enter (a 0700 mktemp -d, a home).
		self.target = os.path.join(self.dir, 'criu_target')
		shutil.copy(os.path.join(tools, 'criu_target'), self.target)
		self.script = os.path.join(self.dir, 'criu_test.py')
		shutil.copy(os.path.abspath(__file__), self.script)
		for p in (self.target, self.script):
			os.chmod(p, 0o755)
		# And from here: a process's working directory is dumped too, and
		# the user must be able to reach it.
		os.chdir(self.dir)
		self.seq = 0

	def close(self):
		# Only this user's processes: the user exists for this test alone.
		subprocess.run(['pkill', '-KILL', '-U', str(self.uid)], capture_output=True)
		reap(1.0)
		subprocess.run(['userdel', USER], capture_output=True)
		os.chdir('/')
		if os.environ.get('CRIU_TEST_KEEP'):
			print(f'# kept {self.dir} (CRIU_TEST_KEEP)')
		else:
			shutil.rmtree(self.dir, ignore_errors=True)

	def workdir(self, name):
		self.seq += 1
		return user_workdir(self.dir, self.seq, name, self.uid, self.gid)

	def as_user(self, cmd):
		# As the user's own session would run it.  Not setpriv: it keeps
		# root's permitted set across the uid change, and an execve under
		# no_new_privs gains up to the parent's permitted set.
		return ['runuser', '-u', USER, '--', *cmd]

	def setcap(self, caps):
		if caps:
			subprocess.run(['setcap', ','.join(caps) + '+eip', self.criu], check=True)
		else:
			subprocess.run(['setcap', '-r', self.criu], capture_output=True)


def user_workdir(top, seq, name, uid, gid):
	"""TOP/NN-NAME with an img/ in it, both the user's."""
	d = os.path.join(top, f'{seq:02d}-{name}')
	os.makedirs(os.path.join(d, 'img'))
	for p in (d, os.path.join(d, 'img')):
		os.chown(p, uid, gid)
	return d


def reap(wait=0.0):
	"""Reaps every exited child (we are their subreaper)."""
	end = time.monotonic() + wait
	while True:
		try:
			pid, _ = os.waitpid(-1, os.WNOHANG)
		except ChildProcessError:
			return
		if pid == 0:
			if time.monotonic() >= end:
				return
			time.sleep(0.05)


def run(cmd, cwd=None, limit=LIMIT):
	try:
		p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=limit)
		return p.returncode, p.stdout + p.stderr
	except subprocess.TimeoutExpired:
		return 'timeout', f'{" ".join(cmd[:4])}... did not finish in {limit}s'


def read_state(d, procs):
	try:
		with open(os.path.join(d, 'state')) as f:
			lines = [line.strip() for line in f.read().split('\n') if 'pid=' in line]
	except OSError:
		return None
	if len(lines) < procs:
		return None
	return [dict(kv.split('=', 1) for kv in line.split()) for line in lines[:procs]]


def start_target(env, d, args, procs, wrap=()):
	"""(launcher, state): the launcher may be runuser, the target's parent;
	the target's own pid is state[0]['pid']."""
	err = os.path.join(d, 'target.err')
	with open(err, 'w'):
		pass
	if hasattr(env, 'uid'):  # the restored target reopens it as the user
		os.chown(err, env.uid, env.gid)
	p = subprocess.Popen(list(wrap) + env.as_user([env.target, d, *args]),
			     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
			     stderr=open(err, 'a'), start_new_session=True)
	for _ in range(100):
		st = read_state(d, procs)
		if st and all(int(s['count']) > 0 for s in st):
			return p, st
		if p.poll() is not None:
			break
		time.sleep(0.05)
	p.kill()
	return None, open(os.path.join(d, 'target.err')).read()


def kill_tree(state):
	for s in state or []:
		try:
			os.kill(int(s['pid']), signal.SIGKILL)
		except (ProcessLookupError, ValueError):
			pass
	reap(0.5)


def check_restored(d, before):
	"""'' when the tree is back as it was and moving on, else why not."""
	time.sleep(0.3)
	a = read_state(d, len(before))
	time.sleep(0.3)
	b = read_state(d, len(before))
	if not a or not b:
		return 'no state from the restored tree'
	bad = []
	for x, y, z in zip(before, a, b):
		if y['pid'] != x['pid'] or y['nspid'] != x['nspid']:
			bad.append(f'pid {y["pid"]} nspid {y["nspid"]}, was {x["pid"]} {x["nspid"]}')
		if y['sum'] != x['sum']:
			bad.append(f'pid {x["pid"]}: memory checksum {y["sum"]}, was {x["sum"]}')
		if int(z['count']) <= int(y['count']):
			bad.append(f'pid {x["pid"]}: threads not making progress')
		if y.get('ipc') != x.get('ipc') or y.get('pty') != x.get('pty'):
			bad.append(f'pid {x["pid"]}: ipc/pty {y.get("ipc")}/{y.get("pty")}, was '
				   f'{x.get("ipc")}/{x.get("pty")}')
		if not os.path.exists(f'/proc/{x["pid"]}'):
			bad.append(f'pid {x["pid"]} is not running')
	return '; '.join(bad)


def log_tail(d, name, n=6):
	try:
		with open(os.path.join(d, 'img', name), errors='replace') as f:
			lines = [line.rstrip() for line in f if 'Error' in line or 'Warn' in line]
		return '\n'.join(lines[-n:])
	except OSError:
		return ''


def dump(env, d, pid, criu=None, wrap=()):
	"""criu dump of the tree at PID into D/img, as the user."""
	return run(env.as_user([*wrap, criu or env.criu, 'dump', '-t', str(pid), '-D',
				os.path.join(d, 'img'), '--unprivileged', '-o', 'dump.log', '-v4']))


def restore(env, d, criu=None, wrap=()):
	"""criu restore from D/img, detached, the tree a sibling of criu (so a
	child of ours, the subreaper), as the user."""
	return run(env.as_user([*wrap, criu or env.criu, 'restore', '-D', os.path.join(d, 'img'),
				'--unprivileged', '-d', '--restore-sibling', '-o', 'restore.log',
				'-v4']), limit=RESTORE_LIMIT)


def roundtrip(env, name, criu, args, procs):
	"""Start, dump, restore, check.  Returns (dumped, restored, why, times)."""
	d = env.workdir(name)
	p, st = start_target(env, d, args, procs)
	if p is None:
		return False, False, f'the target did not start: {st}', (0, 0)
	t = time.monotonic()
	rc, out = dump(env, d, st[0]['pid'], criu)
	td = time.monotonic() - t
	if rc != 0:
		kill_tree(st)
		p.wait()
		return False, False, f'dump exited {rc}: {out.strip()[-300:]}\n{log_tail(d, "dump.log")}', (td, 0)
	p.wait()  # criu killed the tree; reap its root
	reap(0.2)
	t = time.monotonic()
	rc, out = restore(env, d, criu)
	tr = time.monotonic() - t
	if rc != 0:
		reap(0.5)
		return True, False, (f'restore exited {rc}: {out.strip()[-300:]}\n'
				     f'{log_tail(d, "restore.log")}'), (td, tr)
	why = check_restored(d, st)
	kill_tree(read_state(d, procs) or st)
	return True, not why, why, (td, tr)


# What crcheck is told of the CRIU under test (--restorer-drops-present).
CRCHECK_CRIU = []


def crcheck(env, use, exe, extra=()):
	rc, out = run(env.as_user([env.crcheck, '--for', use, '--exec', exe, '--json',
				   *CRCHECK_CRIU, *extra]))
	try:
		j = json.loads(out[out.index('{'):])
	except ValueError:
		j = {}
	return rc, j


def refusals(j):
	return [(k, v.get('reason', ''), v.get('fix', ''))
		for k, v in j.get('operations', {}).items() if v.get('verdict') == 'refused']


FULL = ['--children', '1', '--threads', '2']


def context_filecaps(env):
	"""File capabilities, initial namespaces."""
	found = None
	tried = []
	for caps in CAPSETS:
		env.setcap(caps)
		dumped, restored, why, _ = roundtrip(env, 'probe', env.criu, ['--children', '0'], 1)
		tried.append(f'{",".join(caps)}: dump {"ok" if dumped else "FAILED"}, restore '
			     f'{"ok" if restored else "FAILED"}{(": " + why.splitlines()[0]) if why else ""}')
		if restored:
			found = caps
			break
	emit(found is not None, 'filecaps_minimal_set_found', '\n'.join(tried))
	if not found:
		return
	print(f'# the smallest file capability set that restores here: {",".join(found)}+eip')
	dumped, restored, why, _ = roundtrip(env, 'full', env.criu, FULL, 2)
	emit(restored, 'filecaps_tree_threads_memfd_deleted_pty_restored', why)

	# crcheck, asked about each set tried, must predict criu's outcome,
	# and where it refuses, its fix must be the set that works.
	for caps in CAPSETS[:CAPSETS.index(found) + 1]:
		env.setcap(caps)
		rc, j = crcheck(env, 'restore', env.criu)
		works = caps == found
		ref = refusals(j)
		agree = (rc == 0) == works
		why = f'crcheck exit {rc}, criu {"restores" if works else "fails"}; ' + \
			'; '.join(f'{k}: {r} (fix: {x})' for k, r, x in ref)
		emit(agree, f'crcheck_predicts_restore_with_{"_".join(c[4:] for c in caps)}', why)
		if not works and ref:
			fixes = ' '.join(x for _, _, x in ref)
			m = re.search(r'setcap (\S+)\+e', fixes)
			ok = bool(m) and set(m.group(1).split(',')) == set(found)
			emit(ok, f'crcheck_fix_for_{"_".join(c[4:] for c in caps)}_is_the_working_set',
			     f'fix: {fixes}')
	env.setcap(found)
	return found


def _on_terminal(slave):
	"""preexec: a session of its own with SLAVE as controlling terminal."""
	def fn():
		os.setsid()
		fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
	return fn


def context_shell_job(env, found):
	"""A job of a terminal session (criu --shell-job): the tree is not a
	session leader and its terminal is not its own; restored, it runs on
	the terminal criu was started from."""
	env.setcap(found)
	d = env.workdir('shell-job')
	img = os.path.join(d, 'img')
	m1, s1 = os.openpty()
	os.fchown(s1, env.uid, env.gid)
	err = os.path.join(d, 'target.err')
	open(err, 'w').close()
	os.chown(err, env.uid, env.gid)
	p = subprocess.Popen(env.as_user([env.target, d, '--shell-job', '--children', '1',
					  '--no-pty']), stdin=s1, stdout=s1, stderr=s1,
			     preexec_fn=_on_terminal(s1))
	st = None
	for _ in range(100):
		st = read_state(d, 2)
		if st and all(int(x['count']) > 0 for x in st):
			break
		time.sleep(0.05)
	if not st:
		p.kill()
		emit(False, 'shell_job_restored_on_the_new_terminal', 'the target did not start')
		return
	rc, out = run(env.as_user([env.criu, 'dump', '-t', st[0]['pid'], '-D', img, '--shell-job',
				   '--unprivileged', '-o', 'dump.log', '-v4']))
	p.wait()
	reap(0.2)
	why = '' if rc == 0 else f'dump exited {rc}\n{log_tail(d, "dump.log")}'
	if rc == 0:
		m2, s2 = os.openpty()
		os.fchown(s2, env.uid, env.gid)
		# The terminal's session leader stays, as the user's shell would:
		# when it goes, the kernel hangs up the terminal's jobs.
		rcfile = os.path.join(d, 'restore.rc')
		cmd = ' '.join(shlex.quote(a) for a in env.as_user(
			[env.criu, 'restore', '-D', img, '--shell-job', '--unprivileged', '-d',
			 '--restore-sibling', '-o', 'restore.log', '-v4']))
		shell = subprocess.Popen(['sh', '-c', f'{cmd}; echo $? >{rcfile}; exec sleep {LIMIT}'],
					 stdin=s2, stdout=s2, stderr=s2, preexec_fn=_on_terminal(s2))
		rc = 'timeout'
		for _ in range(RESTORE_LIMIT * 20):
			if os.path.exists(rcfile) and open(rcfile).read().strip():
				rc = int(open(rcfile).read())
				break
			time.sleep(0.05)
		if rc != 0:
			why = f'restore exited {rc}\n{log_tail(d, "restore.log")}'
		else:
			why = check_restored(d, st)
			tty = os.ttyname(s2)
			fd0 = os.readlink(f'/proc/{st[0]["pid"]}/fd/0') if not why else ''
			if not why and fd0 != tty:
				why = f'restored on {fd0}, not on criu\'s terminal {tty}'
			kill_tree(read_state(d, 2) or st)
		shell.kill()
		shell.wait()
		reap(0.2)
		os.close(m2)
		os.close(s2)
	os.close(m1)
	os.close(s1)
	emit(not why, 'shell_job_restored_on_the_new_terminal', why)


def context_nocap(env, found):
	"""Images dumped with the capability, restored by a criu without it."""
	env.setcap(found)
	d = env.workdir('nocap')
	p, st = start_target(env, d, ['--children', '0', '--no-deleted', '--no-pty'], 1)
	if p is None:
		emit(False, 'nocap_restore_fails', f'target: {st}')
		return
	dump(env, d, st[0]['pid'])
	p.wait()
	rc, out = restore(env, d, env.plain)
	restored = rc == 0
	if restored:
		kill_tree(read_state(d, 1))
	emit(not restored, 'nocap_restore_fails',
	     '' if not restored else 'restore worked without the capability')
	crc, j = crcheck(env, 'restore', env.plain)
	emit(crc == 1 and (crc == 0) == restored, 'crcheck_predicts_nocap_restore',
	     f'crcheck exit {crc}: ' + '; '.join(f'{k}: {r}' for k, r, _ in refusals(j)))


def context_exec_refused(env, found):
	"""Where execve() itself decides: a file capability outside the
	bounding set makes it fail; no_new_privs makes it ignore file caps."""
	with open('/proc/self/status') as f:
		bnd = int(next(line for line in f if line.startswith('CapBnd:')).split()[1], 16)
	with open('/proc/sys/kernel/cap_last_cap') as f:
		last = int(f.read())
	missing = [c for c in range(last + 1) if not bnd & (1 << c)]
	if not missing:
		emit(True, 'exec_fails_with_file_cap_outside_bounding_set',
		     skip='the bounding set here is full')
	else:
		rc, out = run(['capsh', f'--decode={1 << missing[0]:x}'])
		name = out.strip().split('=')[-1]
		env.setcap(found + [name])
		rc, out = run(env.as_user([env.criu, '--version']))
		crc, j = crcheck(env, 'restore', env.criu)
		said = j.get('credentials', {}).get('exec_fails', '')
		emit(rc != 0 and crc == 1 and name in said,
		     'exec_fails_with_file_cap_outside_bounding_set',
		     f'criu with {name} exits {rc}: {out.strip()[:120]}; crcheck exit {crc}: {said}')
	env.setcap(found)
	d = env.workdir('nnp')
	p, st = start_target(env, d, ['--children', '0', '--no-pty', '--no-deleted'], 1)
	nnp = ['setpriv', '--no-new-privs']
	rc, out = dump(env, d, st[0]['pid'], wrap=nnp)
	if rc == 0:
		p.wait()
		rc, out = restore(env, d, wrap=nnp)
		if rc == 0:
			kill_tree(read_state(d, 1))
	else:
		kill_tree(st)
		p.wait()
	crc, j = run(env.as_user(nnp + [env.crcheck, '--for', 'restore', '--exec', env.criu]))
	emit(rc != 0 and crc == 1 and 'no_new_privs' in j, 'no_new_privs_is_named_as_the_cause',
	     f'criu under no_new_privs: exit {rc}; crcheck exit {crc}: '
	     + ' '.join(line.strip() for line in j.splitlines()
			if 'no_new_privs is set' in line)[:300])


def context_seccomp(env, found):
	env.setcap(found)
	d = env.workdir('seccomp')
	p, st = start_target(env, d, ['--children', '0', '--seccomp', '--no-pty'], 1)
	if p is None:
		emit(False, 'seccomp_dump_fails_for_seccomp', f'target: {st}')
		return
	rc, out = dump(env, d, st[0]['pid'])
	log = log_tail(d, 'dump.log', 20)
	diagnosed = 'seccomp' in log.lower()
	if rc == 0:
		p.wait()
		reap(0.2)
	else:
		kill_tree(st)
		p.wait()
	emit(rc != 0 and diagnosed, 'seccomp_dump_fails_for_seccomp',
	     f'dump exited {rc}; log: {log[-300:]}')
		# the target is gone: crcheck is asked about a live twin
	p2, st2 = start_target(env, env.workdir('seccomp-twin'),
			       ['--children', '0', '--seccomp', '--no-pty'], 1)
	if p2 is not None:
		crc, j = crcheck(env, 'dump', env.criu, ['--pid', st2[0]['pid']])
		kill_tree(st2)
		p2.wait()
	ref = refusals(j)
	emit(crc == 1 and any('seccomp' in r.lower() for _, r, _ in ref),
	     'crcheck_diagnoses_seccomp_target',
	     f'crcheck exit {crc}: ' + '; '.join(f'{k}: {r}' for k, r, _ in ref))


# Credential sets for "criu check --unprivileged" against crcheck: (name,
# the file capabilities of criu (None: the ones found), what it runs in).
# The last is where criu 4.2's check said "Looks good." (it looked at file
# modes) while a dump there cannot open map_files links.
LO_UP = ['sh', '-c', 'ip link set lo up && exec "$@"', 'sh']
CHECK_SETS = [
	('found_caps', None, []),
	('no_caps', [], []),
	('ptrace_only', ['cap_sys_ptrace'], []),
	('no_new_privs', None, ['setpriv', '--no-new-privs']),
	('userns', [], ['unshare', '-Ur']),
	('userns_pidns', [], ['unshare', '-Urpf', '--mount-proc']),
	('userns_pidns_netns_ipcns', [], ['unshare', '-Urnipf', '--mount-proc', *LO_UP]),
]


def context_check(env, found):
	"""criu check --unprivileged, and crcheck --for dump and --for
	restore, under each credential set: criu check must fail exactly where
	crcheck refuses one of them."""
	for name, caps, wrap in CHECK_SETS:
		env.setcap(found if caps is None else caps)
		rc, out = run(env.as_user([*wrap, env.criu, 'check', '--unprivileged']))
		said = [ln.strip() for ln in out.splitlines()
			if re.search(r'Looks good|Does not look good|: OK$|errno|\bneeds\b', ln)]
		verdicts = []
		for use in ('dump', 'restore'):
			crc, _ = run(env.as_user([*wrap, env.crcheck, '--for', use, '--exec', env.criu,
						  *CRCHECK_CRIU]))
			verdicts.append((use, crc))
		refused = [use for use, crc in verdicts if crc != 0]
		emit((rc == 0) == (not refused) and isinstance(rc, int),
		     f'criu_check_agrees_with_crcheck_{name}',
		     f'criu check --unprivileged exit {rc}; crcheck refuses '
		     f'{" and ".join(refused) or "nothing"}\n' + '\n'.join(said[-6:]))
	env.setcap(found)


def context_userns(env):
	"""No file capabilities: the user's own user, PID and IPC namespaces.
	The case runs inside them (this script, as their PID 1)."""
	for name, args, expect in (
		# A pty there would need a devpts of the namespace's own; the
		# filecaps context covers ptys (TIOCSLCKTRMIOS: initial namespace).
		('userns_tree_threads_memfd_ipc_restored',
		 ['--no-deleted', '--no-pty', '--ipc'] + FULL, True),
		('userns_deleted_file_mapping_cannot_be_dumped',
		 ['--children', '0', '--no-pty'], False),
	):
		d = env.workdir(name[:20])
		cmd = env.as_user(['unshare', '-Urpfi', '--mount-proc', PYTHON,
				   env.script, '--inner', env.plain, env.target,
				   env.crcheck, d, json.dumps(args)])
		rc, out = run(cmd)
		try:
			r = json.loads(out[out.rindex('{'):])
		except ValueError:
			emit(False, name, f'the inner run printed no result (exit {rc}): {out[-300:]}')
			continue
		if expect:
			emit(r['restored'], name, r['why'])
		else:
			emit(not r['dumped'] and 'mapfile' in r['why'].replace('_', '').lower(),
			     name, r['why'][-400:])
		emit((r['crcheck'] == 0) == (r['dumped'] if not expect else r['restored']),
		     name.replace('userns_', 'crcheck_predicts_userns_'),
		     f'crcheck exit {r["crcheck"]}: {r["refused"]}')


def inner(criu, target, crcheck_path, d, args):
	"""Runs inside unshare -Urpfi as PID 1: start, dump, restore, check."""
	args = json.loads(args)
	procs = 1 + int(args[args.index('--children') + 1]) if '--children' in args else 2

	class E:
		pass
	e = E()
	e.target = target
	e.as_user = lambda cmd: cmd
	e.workdir = lambda name: d
	e.crcheck = crcheck_path
	use = 'restore' if '--no-deleted' in args else 'dump'
	# The target in an IPC namespace of its own, so that criu dumps it.
	wrap = ['unshare', '-i'] if '--ipc' in args else []
	p, st = start_target(e, d, args, procs, wrap=wrap)
	out = {'dumped': False, 'restored': False, 'why': '', 'crcheck': None, 'refused': ''}
	if p is None:
		out['why'] = f'target: {st}'
	else:
		rc, o = dump(e, d, st[0]['pid'], criu)
		out['dumped'] = rc == 0
		if rc != 0:
			out['why'] = f'dump exited {rc}\n{log_tail(d, "dump.log", 8)}'
			kill_tree(st)
		p.wait()
		reap(0.2)
		if out['dumped']:
			rc, o = restore(e, d, criu)
			if rc == 0:
				out['why'] = check_restored(d, st)
				out['restored'] = not out['why']
				kill_tree(read_state(d, procs) or st)
			else:
				out['why'] = f'restore exited {rc}\n{log_tail(d, "restore.log", 8)}'
	rc, j = crcheck(e, use, criu)
	out['crcheck'] = rc
	out['refused'] = '; '.join(f'{k}: {r}' for k, r, _ in refusals(j))
	print(json.dumps(out))


def bench(env, found):
	"""Dump and restore times, root against the unprivileged user (a task
	of anonymous and memfd memory: criu keeps deleted files of more than
	a megabyte out of its images unless told otherwise)."""
	lines = []
	for size in (4, 200):
		row = []
		for who in ('root', 'user'):
			if who == 'root':
				saved = env.as_user
				env.as_user = lambda cmd: cmd
			try:
				_, restored, why, (td, tr) = roundtrip(
					env, f'bench{size}{who}', env.criu,
					['--size', str(size), '--children', '0', '--no-pty',
					 '--no-deleted'], 1)
			finally:
				if who == 'root':
					env.as_user = saved
			row.append(f'{who}: dump {td:.2f}s restore {tr:.2f}s'
				   + ('' if restored else f' (FAILED: {why.splitlines()[0] if why else "?"})'))
		lines.append(f'criu {size} MB task: ' + ', '.join(row))
	return lines


def criu_version(criu):
	rc, out = run([criu, '--version'])
	m = re.search(r'Version:\s*(\d+)\.(\d+)', out)
	return (int(m.group(1)), int(m.group(2))) if m else None


def main():
	if len(sys.argv) > 1 and sys.argv[1] == '--inner':
		ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		inner(*sys.argv[2:7])
		return 0
	print('TAP version 13', flush=True)
	if len(sys.argv) < 3:
		print('1..0 # SKIP usage: criu_test.py CRIU TOOLS_DIR [--bench]')
		return 4
	criu, tools = sys.argv[1], sys.argv[2]
	if '--restorer-drops-present' in sys.argv:
		CRCHECK_CRIU.append('--restorer-drops-present')
	if os.geteuid() != 0:
		print('1..0 # SKIP needs root: it creates the user the cases run as')
		return 4
	v = criu_version(criu) if os.access(criu, os.X_OK) else None
	if not v or v < (3, 18):
		print(f'1..0 # SKIP no criu 3.18 or later ({criu}: {v}); build one from '
		      '../shared/vendor/criu-4.2.tar.xz or name one with CRCAP_CRIU')
		return 4
	with open('/proc/sys/kernel/cap_last_cap') as f:
		if int(f.read()) < 40:
			print('1..0 # SKIP kernel lacks CAP_CHECKPOINT_RESTORE')
			return 4
	libc = ctypes.CDLL(None, use_errno=True)
	libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	env = Env(criu, tools)
	try:
		print(f'# criu {v[0]}.{v[1]} ({criu}), user {USER} ({env.uid}), work {env.dir}')
		found = context_filecaps(env)
		if found:
			context_shell_job(env, found)
			context_nocap(env, found)
			context_exec_refused(env, found)
			context_seccomp(env, found)
			context_check(env, found)
		context_userns(env)
		if '--bench' in sys.argv and found:
			for line in bench(env, found):
				print('# bench: ' + line)
	finally:
		env.close()
	print(f'1..{len(results)}')
	return 0 if all(ok or skip for ok, _, _, skip in results) else 1


if __name__ == '__main__':
	sys.exit(main())
