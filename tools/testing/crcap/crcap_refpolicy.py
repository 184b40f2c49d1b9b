# SPDX-License-Identifier: GPL-2.0
"""The upstream door: the criu module in a snapshot of upstream refpolicy.

policy/refpolicy/upstream/*.patch is the module as a refpolicy submission
would be (git format-patch against SELinuxProject/refpolicy): criu.te,
criu.if and criu.fc as policy/modules/apps/criu.*, and the calls of
criu_role_template() in roles/unprivuser.te, staff.te and sysadm.te.  Its
module files are policy/refpolicy/criu.* byte for byte
(patch_carries_the_module checks it without a snapshot).

With a snapshot -- $CRCAP_REFPOLICY, an unpacked refpolicy tree or its
bare git directory, else ../shared/vendor/refpolicy(.git) beside the
checkout -- the snapshot is unpacked into the build directory, the
patches are applied with git am (no fuzz), and refpolicy's own checks
run there as its CI (.github/workflows) runs them: the file context
checker, selint (its CI's command line, read from lint-policy.yml, and
again with every check enabled), codespell, "make bare conf" and "make"
in the configuration its CI builds and validates, "make validate",
sechecker with testing/sechecker.ini, "make xml" and "make html".  A
finding counts against the module when it is in a line the patches add.
Without a snapshot the step is skipped, saying what is missing.  Nothing
of refpolicy is copied into the project.

"scripts/crcap refpolicy --refresh-patch" writes the patches again after
policy/refpolicy/criu.* changed: applied to the snapshot, the module files
replaced, the commit amended, formatted.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

import crcap_util as util
from crcap_parser import Status, Test
from crcap_util import say

ENV = 'CRCAP_REFPOLICY'
VENDOR = '../shared/vendor/refpolicy'
PATCH_DIR = 'policy/refpolicy/upstream'
MODULE = ('criu.te', 'criu.if', 'criu.fc')
# Where refpolicy would take it: a program users run on their own
# processes, with a domain per role and its files in the home directory,
# as screen, gpg and java: the apps layer.  (admin holds tools of the
# administrator's: sudo, dpkg, kdump.)
LAYER = 'apps'
ROLES = ('user', 'staff', 'sysadm')
# The configuration refpolicy's CI builds and validates (global-vars.yml's
# analysis matrix: monolithic, mcs, systemd, unconfined off), for Debian.
CONFIG = {'DISTRO': 'debian', 'TYPE': 'mcs', 'MONOLITHIC': 'y', 'SYSTEMD': 'y',
	  'DIRECT_INITRC': 'n', 'APPS_OFF': 'unconfined', 'WERROR': 'y'}
# What the CI's build step drops from build.conf to take these from the
# environment.
BUILD_CONF_DROP = re.compile(r'(MONOLITHIC|TYPE|DISTRO|SYSTEMD|DIRECT_INITRC|WERROR)')
# Every selint check: a wider range than any selint has; the ids this
# selint does not know it names on stderr and ignores.
SELINT_EVERY_CHECK = [f'{s}-{n:03d}' for s, last in (('C', 10), ('S', 12), ('W', 15),
						       ('E', 12), ('X', 4))
		      for n in range(1, last + 1)]
# sechecker's goal its ini calls expensive: unfinished after 21 minutes here (setools
# 4.4.1, two cores); run with CRCAP_REFPOLICY_SLOW=1.
SECHECKER_SLOW = ('INTEGRITY-readonly-executables',)
SLOW_ENV = 'CRCAP_REFPOLICY_SLOW'
# The checks refpolicy's CI disables whose findings in the module are
# counted, not failed, when every check runs: see lints().
TOLERATED = ('W-005',)
GIT_ID = ['-c', 'user.name=crcap', '-c', 'user.email=crcap@crcap.invalid']


def module_path(f: str) -> str:
	return f'policy/modules/{LAYER}/{f}'


def patches(top: str) -> List[str]:
	return sorted(glob.glob(os.path.join(top, PATCH_DIR, '*.patch')))


# ------------------------------------------------------------------ patches

def added_lines(patch: str) -> Dict[str, Set[int]]:
	"""The lines a patch adds: {path in the new tree: {line numbers}}."""
	out: Dict[str, Set[int]] = {}
	path, line = None, 0
	in_hunk = False
	for ln in patch.splitlines():
		if ln.startswith('diff --git '):
			path, in_hunk = None, False
		elif not in_hunk and ln.startswith('+++ '):
			path = None if ln[4:] == '/dev/null' else ln[4:].split('/', 1)[1]
		elif ln.startswith('@@ ') and path:
			m = re.match(r'@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@', ln)
			line, in_hunk = int(m.group(1)), True
		elif in_hunk and path:
			if ln.startswith('+'):
				out.setdefault(path, set()).add(line)
				line += 1
			elif ln.startswith(' ') or ln == '':
				line += 1
			elif ln.startswith('-') or ln.startswith('\\'):
				pass
			else:		# the signature after the last hunk
				in_hunk = False
	return out


def new_files(patch: str) -> Dict[str, str]:
	"""The files a patch creates, with their text."""
	out: Dict[str, str] = {}
	path: Optional[str] = None
	new = False
	for ln in patch.splitlines():
		if ln.startswith('diff --git '):
			path, new = None, False
		elif ln.startswith('new file mode'):
			new = True
		elif new and ln.startswith('+++ b/'):
			path = ln[6:]
			out[path] = ''
		elif path and ln.startswith('@@ '):
			continue
		elif path and ln.startswith('+'):
			out[path] += ln[1:] + '\n'
		elif path and ln.startswith('-- '):
			path = None	# the signature
	return out


def drift(top: str) -> List[str]:
	"""The module files whose text the patches do not carry."""
	carried: Dict[str, str] = {}
	for p in patches(top):
		carried.update(new_files(util.read_text(p)))
	bad = []
	for f in MODULE:
		mine = util.read_text(os.path.join(top, 'policy/refpolicy', f))
		if carried.get(module_path(f)) != mine:
			bad.append(f)
	return bad


def style(top: str) -> List[str]:
	"""What refpolicy's style forbids in the module: a module version, a
	marker of the harness."""
	bad = []
	te = util.read_text(os.path.join(top, 'policy/refpolicy/criu.te'))
	if not re.search(r'^policy_module\(criu\)$', te, re.M):
		bad.append('criu.te: policy_module(criu) with a version or not at all')
	for f in MODULE:
		for i, ln in enumerate(util.read_text(
				os.path.join(top, 'policy/refpolicy', f)).splitlines(), 1):
			if re.search(r'crcap|ablat|harness', ln, re.I):
				bad.append(f'{f}:{i}: {ln.strip()}')
	return bad


# ------------------------------------------------------------------ findings

@dataclass(frozen=True)
class Finding:
	path: str
	line: int
	text: str


SELINT_LINE = re.compile(r'^(?:\./)?(?P<path>[^:\s]+):\s*(?P<line>\d+):\s*\([A-Z]\):.*'
			 r'\([A-Z]-\d{3}\)\s*$')
CODESPELL_LINE = re.compile(r'^(?:\./)?(?P<path>[^:\s]+):(?P<line>\d+):\s*\S.*==>')


def findings(output: str, pattern: re.Pattern) -> List[Finding]:
	out = []
	for ln in output.splitlines():
		m = pattern.match(ln.strip())
		if m:
			out.append(Finding(m.group('path'), int(m.group('line')), ln.strip()))
	return out


def judge_findings(name: str, rc: int, output: str, pattern: re.Pattern,
		   added: Dict[str, Set[int]], command: str,
		   tolerated: Tuple[str, ...] = ()) -> Test:
	"""A lint's outcome: fails on a finding in a line the patches add, or
	when it failed with no finding to show for it.  Findings of the checks
	TOLERATED are counted and listed, not failed."""
	fs = findings(output, pattern)
	ours = [f for f in fs if f.line in added.get(f.path, ())]
	log = [f'$ {command}', f'exit {rc}, {len(fs)} findings, {len(ours)} in the lines '
	       'the patches add']
	kept = [f for f in ours if f.text.endswith(tuple(f'({c})' for c in tolerated))]
	if kept:
		log.append(f'{len(kept)} of them of {", ".join(tolerated)}, which refpolicy\'s '
			   'CI disables:')
		log += [f.text for f in kept]
		ours = [f for f in ours if f not in kept]
	if ours:
		return Test(name, Status.FAIL, f'{len(ours)} findings in the module: {ours[0].text}',
			    log=log + [f.text for f in ours][:20])
	if rc != 0 and not fs:
		return Test(name, Status.FAIL, f'exit {rc} and no finding to show for it',
			    log=log + output.splitlines()[-15:])
	others = [f.text for f in fs][:10]
	return Test(name, Status.PASS, log=log + (['refpolicy\'s own:'] + others if others else []))


def ci_command(tree: str, workflow: str, pattern: str) -> str:
	"""The first command line of a run block of .github/workflows/WORKFLOW
	that matches PATTERN, with ${{ inputs.python-version }} as python3."""
	path = os.path.join(tree, '.github/workflows', workflow)
	if not os.path.isfile(path):
		raise util.Error(f'the snapshot has no .github/workflows/{workflow}')
	for ln in util.read_text(path).splitlines():
		ln = re.sub(r'^(- )?run:\s*', '', ln.strip())
		if ln.startswith('#') or not re.search(pattern, ln):
			continue
		return re.sub(r'^python\$\{\{[^}]*\}\}', 'python3', ln)
	raise util.Error(f'.github/workflows/{workflow} runs no command matching {pattern!r}')


# ------------------------------------------------------------------ snapshot

def locate(top: str) -> Tuple[Optional[str], str]:
	"""The snapshot ($CRCAP_REFPOLICY, else beside the checkout), or None and
	what is missing."""
	src = os.environ.get(ENV)
	if src:
		return os.path.abspath(src), ''
	vendor = os.path.normpath(os.path.join(top, VENDOR))
	for cand in (vendor, vendor + '.git'):
		if os.path.exists(cand):
			return cand, ''
	return None, (f'no snapshot of SELinuxProject/refpolicy: {ENV} is not set and neither '
		      f'{vendor} nor {vendor}.git exists (set {ENV} to an unpacked refpolicy '
		      'tree or its bare git directory)')


def kind(src: str) -> str:
	if os.path.isfile(os.path.join(src, 'Rules.modular')) and \
	   os.path.isdir(os.path.join(src, 'policy/modules')):
		return 'tree'
	if os.path.isfile(os.path.join(src, 'HEAD')) and os.path.isdir(os.path.join(src, 'objects')):
		return 'git'
	raise util.Error(f'{ENV}={src} is neither a refpolicy tree (Rules.modular, '
			 'policy/modules) nor a bare git directory')


def unpack(src: str, dest: str) -> str:
	"""SRC's tree into DEST, committed as the base of the patches (git am
	needs one); returns what SRC is (commit id)."""
	shutil.rmtree(dest, ignore_errors=True)
	os.makedirs(os.path.dirname(dest), exist_ok=True)
	if kind(src) == 'git':
		os.makedirs(dest)
		util.run(['sh', '-c', f'git --git-dir={shlex.quote(src)} archive HEAD | '
			  f'tar -x -C {shlex.quote(dest)}'])
		what = util.run(['git', '--git-dir', src, 'rev-parse', 'HEAD'],
				capture=True).stdout.strip()
	else:
		shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns('.git'))
		p = util.run(['git', '-C', src, 'rev-parse', 'HEAD'], capture=True, check=False)
		what = p.stdout.strip() if p.returncode == 0 else 'a tree without git history'
		if p.returncode == 0 and util.run(['git', '-C', src, 'status', '--porcelain'],
						  capture=True, check=False).stdout.strip():
			what += ' with local changes'
	util.run(['git', '-C', dest, 'init', '-q'])
	util.run(['git', '-C', dest, 'add', '-A'])
	util.run(['git', *GIT_ID, '-C', dest, 'commit', '-q', '--no-verify', '-m',
		  f'snapshot {what}'])
	return what


def apply(top: str, dest: str) -> Test:
	"""The patches, applied with git am: no fuzz, no offset guessing."""
	ps = patches(top)
	if not ps:
		return Test('patches_apply', Status.FAIL, f'no {PATCH_DIR}/*.patch')
	for p in ps:
		r = util.run(['git', *GIT_ID, '-C', dest, 'am', '-q', p], capture=True, check=False)
		if r.returncode != 0:
			util.run(['git', '-C', dest, 'am', '--abort'], capture=True, check=False)
			return Test('patches_apply', Status.FAIL,
				    f'{os.path.basename(p)} does not apply to the snapshot',
				    log=r.stdout.splitlines()[-15:])
	return Test('patches_apply', Status.PASS, log=[os.path.basename(p) for p in ps])


def refresh(top: str, build: str) -> List[str]:
	"""The patches again, with policy/refpolicy/criu.* as they are now: the
	snapshot unpacked, the patches applied, the module files replaced, the
	last commit amended, all formatted into PATCH_DIR."""
	src, why = locate(top)
	if not src:
		raise util.Error(why)
	dest = os.path.join(build, 'refpolicy-upstream', 'refresh')
	unpack(src, dest)
	t = apply(top, dest)
	if t.status != Status.PASS:
		raise util.Error(f'{t.reason}: rebase {PATCH_DIR} by hand')
	for f in MODULE:
		shutil.copy2(os.path.join(top, 'policy/refpolicy', f), os.path.join(dest, module_path(f)))
	util.run(['git', '-C', dest, 'add', '-A'])
	util.run(['git', *GIT_ID, '-C', dest, 'commit', '-q', '--amend', '--no-edit',
		  '--allow-empty'])
	n = len(patches(top))
	for p in patches(top):
		os.unlink(p)
	out = util.run(['git', '-C', dest, 'format-patch', '-q', f'-{n}', '-o',
			os.path.join(top, PATCH_DIR)], capture=True).stdout
	return [ln for ln in out.splitlines() if ln] or patches(top)


# ------------------------------------------------------------------ the checks

def _tool(cmd: str, cwd: str, env: Optional[dict] = None,
	  timeout: float = 3600) -> Tuple[int, str, float]:
	"""CMD (sh) in CWD: exit status, output, seconds."""
	t0 = time.monotonic()
	e = dict(os.environ, **(env or {}))
	p = util.run(['sh', '-c', cmd], cwd=cwd, env=e, capture=True, check=False,
		     timeout=timeout)
	return p.returncode, p.stdout, time.monotonic() - t0


def _step(name: str, cmd: str, cwd: str, env: Optional[dict] = None,
	  ok_unless: str = '') -> Tuple[Test, str]:
	"""A leaf: CMD exits 0 (and prints no line matching OK_UNLESS)."""
	rc, out, secs = _tool(cmd, cwd, env)
	say(f'refpolicy upstream: {name}: exit {rc} in {secs:.0f}s')
	log = [f'$ {cmd}', f'exit {rc} in {secs:.1f}s']
	bad = [ln for ln in out.splitlines() if ok_unless and re.search(ok_unless, ln)]
	if rc != 0:
		return Test(name, Status.FAIL, f'exit {rc}', log=log + out.splitlines()[-20:]), out
	if bad:
		return Test(name, Status.FAIL, bad[0].strip(), log=log + bad[:20]), out
	return Test(name, Status.PASS, log=log), out


def lints(tree: str, added: Dict[str, Set[int]]) -> List[Test]:
	"""refpolicy's lint job (lint-policy.yml) after its "make conf" and
	"make generate": the file context checker, selint, codespell."""
	out = []
	cmd = ci_command(tree, 'lint-policy.yml', r'testing/check_fc_files\.py')
	t, _ = _step('check_fc_files', cmd, tree)
	out.append(t)
	cmd = ci_command(tree, 'lint-policy.yml', r'^selint\s')
	rc, text, _ = _tool(cmd, tree)
	out.append(judge_findings('selint_ci_command', rc, text, SELINT_LINE, added, cmd))
	every = 'selint --source --recursive --summary ' + ' '.join(
		f'--enable {c}' for c in SELINT_EVERY_CHECK) + ' policy'
	rc, text, _ = _tool(every, tree)
	# W-005 (an interface of a module that is not base called outside
	# optional_policy): "refpolicy does not follow this rule" (its CI's
	# comment), nor does any of its modules; counted, not failed.
	tolerated = tuple(c for c in re.findall(r'--disable ([A-Z]-\d{3})', cmd)
			  if c in TOLERATED)
	t = judge_findings('selint_every_check', 0, text, SELINT_LINE, added, every, tolerated)
	unknown = sorted(set(re.findall(r'([A-Z]-\d{3}), enabled on command line, is not a valid',
					text)))
	t.log.insert(1, f'checks this selint does not have: {" ".join(unknown) or "none"}')
	out.append(t)
	try:
		cmd = ci_command(tree, 'lint-policy.yml', r'^codespell\s')
	except util.Error as e:
		out.append(Test('codespell', Status.SKIP, str(e)))
		return out
	if not shutil.which('codespell'):
		out.append(Test('codespell', Status.SKIP, 'codespell is not installed'))
		return out
	rc, text, _ = _tool(cmd, tree)
	out.append(judge_findings('codespell', rc, text, CODESPELL_LINE, added, cmd))
	return out


def _sesearch(name: str, query: str, policy: str, tree: str, want: bool = True) -> Test:
	rc, out, _ = _tool(f'sesearch {query} {shlex.quote(policy)}', tree)
	got = rc == 0 and bool(out.strip())
	ok = got == want and rc == 0
	return Test(name, Status.PASS if ok else Status.FAIL,
		    '' if ok else ('sesearch failed' if rc else
				   ('no such rule' if want else 'the rule is there')),
		    log=[f'$ sesearch {query}'] + out.splitlines()[:10])


def drop_policycap(tree: str, cap: str) -> None:
	path = os.path.join(tree, 'policy/policy_capabilities')
	text = util.read_text(path)
	with open(path, 'w') as f:
		f.write(re.sub(r'^policycap ' + re.escape(cap) + r';\n', '', text, flags=re.M))


def python_with_selinux() -> Optional[str]:
	"""A Python that has libselinux's bindings (make validate needs them)."""
	for py in ('/usr/bin/python3', shutil.which('python3')):
		if py and util.run([py, '-c', 'import selinux'], check=False,
				   capture=True).returncode == 0:
			return py
	return None


def sechecker_ini(tree: str, slow: bool) -> Tuple[str, List[str]]:
	"""testing/sechecker.ini, less the SECHECKER_SLOW goals unless SLOW:
	the file to give sechecker, and what was left out."""
	ini = 'testing/sechecker.ini'
	if slow:
		return ini, []
	text = util.read_text(os.path.join(tree, ini))
	parts = re.split(r'^(?=\[)', text, flags=re.M)
	kept = [p for p in parts if not any(p.startswith(f'[{s}]') for s in SECHECKER_SLOW)]
	left = [s for s in SECHECKER_SLOW if f'[{s}]' in text]
	with open(os.path.join(tree, 'tmp-sechecker.ini'), 'w') as f:
		f.write(''.join(kept))
	return 'tmp-sechecker.ini', left


def build(tree: str) -> List[Test]:
	"""refpolicy's build job (build-policy.yml) in CONFIG, its validation
	(make validate, sechecker), the module in the policy, its docs."""
	out = []
	env = dict(CONFIG)
	conf = os.path.join(tree, 'build.conf')
	with open(conf) as f:
		kept = [ln for ln in f if not BUILD_CONF_DROP.search(ln)]
	with open(conf, 'w') as f:
		f.writelines(kept)
	py = python_with_selinux()
	if py:		# make validate's validate-appconfig.py imports selinux
		env['PYTHON'] = py
	jobs = f'-j{os.cpu_count() or 1}'
	t0 = time.monotonic()
	t, text = _step('make_policy', f'make bare && make conf && make {jobs}', tree, env)
	dropped = []
	for _ in range(8):
		# A newer refpolicy may name policy capabilities this checkpolicy
		# does not know (its CI builds SELinux userspace from source): they
		# are dropped, and the log says so; they concern the kernel's
		# behaviour, not the module.
		m = re.search(r'invalid policy capability name (\w+)', text)
		if t.status == Status.PASS or not m:
			break
		drop_policycap(tree, m.group(1))
		dropped.append(m.group(1))
		t, text = _step('make_policy', f'make {jobs}', tree, env)
	t.log[:0] = ['environment: ' + ' '.join(f'{k}={v}' for k, v in env.items()),
		     f'seconds: {time.monotonic() - t0:.0f}']
	if dropped:
		t.log.insert(1, f'dropped policycap {", ".join(dropped)}: unknown to this '
			     'checkpolicy')
	out.append(t)
	if t.status != Status.PASS:
		return out
	mods = util.read_text(os.path.join(tree, 'policy/modules.conf'))
	out.append(Test('modules_conf_has_criu',
			Status.PASS if re.search(r'^criu = module$', mods, re.M) else Status.FAIL,
			'' if re.search(r'^criu = module$', mods, re.M) else 'criu is not a module there'))
	t, _ = _step('make_validate', 'make validate', tree, env)
	out.append(t)
	rc, pol, _ = _tool("make --eval='output_filename: ; @echo $(polver)' output_filename",
			   tree, env)
	policy = os.path.join(tree, pol.strip().splitlines()[-1] if pol.strip() else 'missing')
	if rc != 0 or not os.path.isfile(policy):
		out.append(Test('policy_built', Status.FAIL, f'no policy file ({pol.strip()})'))
		return out
	if shutil.which('sechecker'):
		ini, left = sechecker_ini(tree, os.environ.get(SLOW_ENV) == '1')
		t, _ = _step('sechecker', f'sechecker {ini} {shlex.quote(policy)}', tree)
		if left:
			t.log.insert(0, f'left out (set {SLOW_ENV}=1 for them): {" ".join(left)}')
		out.append(t)
	else:
		out.append(Test('sechecker', Status.SKIP, 'sechecker (setools) is not installed'))
	g = Test('criu_in_policy')
	for r in ROLES:
		g.add(_sesearch(f'{r}_t_enters_{r}_criu_t',
				f'-T -s {r}_t -t criu_exec_t -c process -D {r}_criu_t', policy, tree))
		g.add(_sesearch(f'{r}_criu_t_has_capability2_checkpoint_restore',
				f'-A -s {r}_criu_t -t {r}_criu_t -c capability2 -p checkpoint_restore',
				policy, tree))
	g.add(_sesearch('staff_criu_t_cannot_ptrace_sysadm_t',
			'-A -s staff_criu_t -t sysadm_t -c process -p ptrace', policy, tree, False))
	g.add(_sesearch('user_criu_t_cannot_ptrace_staff_t',
			'-A -s user_criu_t -t staff_t -c process -p ptrace', policy, tree, False))
	g.add(_sesearch('criu_has_no_capability', '-A -s criu_domain -c capability', policy,
			tree, False))
	out.append(g.finish())
	# The docs: segenxml -w warnings, xmllint against policy.dtd, the page.
	t, _ = _step('make_xml', 'make xml', tree, env, ok_unless=r'(?i)(warn|error).*criu|criu.*'
		     r'(warn|error)|XML validation not run')
	out.append(t)
	t, _ = _step('make_html', 'make html', tree, env, ok_unless=r'(?i)(warn|error).*criu')
	page = os.path.join(tree, 'doc/html', f'{LAYER}_criu.html')
	if t.status == Status.PASS and 'criu_role_template' not in \
	   (util.read_text(page) if os.path.exists(page) else ''):
		t = Test('make_html', Status.FAIL, f'no doc/html/{LAYER}_criu.html with '
			 'criu_role_template', log=t.log)
	out.append(t)
	return out


def upstream(top: str, build_dir: str) -> Test:
	"""The module in a snapshot of upstream refpolicy (see the docstring of
	this file)."""
	s = Test('upstream')
	bad = drift(top)
	s.add(Test('patch_carries_the_module', Status.FAIL if bad else Status.PASS,
		   f'{PATCH_DIR} carries another {", ".join(bad)} than policy/refpolicy: '
		   'run "scripts/crcap refpolicy --refresh-patch"' if bad else ''))
	bad = style(top)
	s.add(Test('refpolicy_style', Status.FAIL if bad else Status.PASS,
		   bad[0] if bad else '', log=bad))
	src, why = locate(top)
	if not src:
		s.add(Test('snapshot', Status.SKIP, why))
		return s.finish()
	tree = os.path.join(build_dir, 'refpolicy-upstream', 'tree')
	try:
		what = unpack(src, tree)
	except util.Error as e:
		s.add(Test('snapshot', Status.FAIL, str(e)))
		return s.finish()
	say(f'refpolicy upstream: {src} ({what}) in {tree}')
	s.add(Test('snapshot', Status.PASS, log=[f'{src}: {what}']))
	t = s.add(apply(top, tree))
	if t.status != Status.PASS:
		return s.finish()
	added: Dict[str, Set[int]] = {}
	for p in patches(top):
		for path, lines in added_lines(util.read_text(p)).items():
			added.setdefault(path, set()).update(lines)
	t, _ = _step('make_conf', 'make conf && make generate', tree)
	s.add(t)
	if t.status != Status.PASS:
		return s.finish()
	try:
		for t in lints(tree, added):
			s.add(t)
	except util.Error as e:
		s.add(Test('lint', Status.FAIL, str(e)))
	for t in build(tree):
		s.add(t)
	return s.finish()
