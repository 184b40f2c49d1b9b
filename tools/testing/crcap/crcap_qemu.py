# SPDX-License-Identifier: GPL-2.0
"""Guests that boot Debian's own kernels, as Debian ships them.

The newest bookworm kernels of both series Debian ships, 6.1
(linux-image-6.1.0-NN-amd64 and -cloud-amd64) and 6.12
(linux-image-6.12.NN+deb12-amd64 and -cloud-amd64), are fetched with
"apt-get download" (signed images, never rebuilt) and booted under QEMU
(TCG: KVM does not work on these machines) through crcap_guest.Qemu, the
same interface and judge as the UML guests.  The root is an initramfs
made from the host's files: busybox, crcheck and its test, a criu, and
what they link against, at the paths Debian puts them, so that in the
guest setfiles can label them from the file_contexts of Debian's own
reference policy; the selftests built from the Debian tree of the
kernel's series are a second archive appended to it.

The guest's job (crcap-debian-job.sh) runs the selftests and crcheck first, with
SELinux on but no policy, then loads Debian's full selinux-policy-default
with policy/refpolicy's criu module, enforcing, and has an ordinary user
in user_t checkpoint and restore its own process tree with criu (user_criu_t);
then the same with the module's capability2 checkpoint_restore taken out,
which must fail with exactly that denial.  The policies are built on the
host with semodule in a private copy of Debian's policy store.
"""

from __future__ import annotations

import glob
import hashlib
import lzma
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import crcap_guest as G
import crcap_util as util
from crcap_parser import Status, Test
from crcap_util import Error

INIT = 'tools/testing/crcap/crcap-qemu-init'
CRIU_SELINUX_TEST = 'tools/checkpoint_restore/criu_selinux_test.sh'
FLAVOURS = ('amd64', 'cloud-amd64')
# Debian's kernel series, and the package name of one ABI: a regular
# expression with the ABI as its group.
# The kernels "scripts/crcap test" boots: one of each series, one of each
# flavour ("scripts/crcap debian" boots all four; each guest is ~90 s).
IN_TEST_KERNELS = (('6.12', 'cloud-amd64'), ('6.1', 'amd64'))
SERIES = {'6.1': r'linux-image-6\.1\.0-(\d+)-{flavour}',
	  '6.12': r'linux-image-6\.12\.(\d+)\+deb12-{flavour}'}
STORE = '/var/lib/selinux/default'
POLICY_ETC = '/etc/selinux/default'
# Where the guest finds what the host gives it (bin: labelled bin_t).
GUEST_DIR = '/usr/lib/crcap'
GUEST_TIMEOUT = 240	# seconds, unless --timeout says otherwise
DEBIAN_JOB = 'tools/testing/crcap/crcap-debian-job.sh'


@dataclass
class DebianKernel:
	name: str		# debian-6.1.0-56-amd64: ids and result directories
	package: str		# linux-image-6.1.0-56-amd64
	version: str		# the package's: 6.1.192-2
	vmlinuz: str
	series: str = '6.1'	# the Debian source tree its selftests come from


def newest_package(series: str, flavour: str, listing: str) -> str:
	"""The newest package of SERIES and FLAVOUR in LISTING (apt-cache
	search output), by ABI number."""
	pat = SERIES[series].format(flavour=flavour)
	abis = {int(m.group(1)): m.group(0) for m in
		re.finditer(rf'^{pat}(?= )', listing, re.M)}
	if not abis:
		raise Error(f'no {pat} in the package lists '
			    '("apt-get update" first: scripts/crcap deps)')
	return abis[max(abis)]


def debian_kernels(build: str, series: Tuple[str, ...] = ('6.1', '6.12'),
		   only: Optional[Sequence[Tuple[str, str]]] = None) -> List[DebianKernel]:
	"""The newest bookworm kernel of each series and flavour (or of the
	(series, flavour) pairs ONLY), downloaded once."""
	d = os.path.join(build, 'debian-kernels')
	os.makedirs(d, exist_ok=True)
	listing = util.run(['apt-cache', 'search', '--names-only', r'^linux-image-6\.1'],
			   check=False, capture=True).stdout
	out = []
	for ser, flavour in ((s, f) for s in series for f in FLAVOURS
			     if only is None or (s, f) in only):
		pkg = newest_package(ser, flavour, listing)
		debs = glob.glob(os.path.join(d, f'{pkg}_*.deb'))
		if not debs:
			util.run(['apt-get', 'download', pkg], cwd=d)
			debs = glob.glob(os.path.join(d, f'{pkg}_*.deb'))
		deb = sorted(debs)[-1]
		version = util.run(['dpkg-deb', '-f', deb, 'Version'], capture=True).stdout.strip()
		release = pkg[len('linux-image-'):]
		vmlinuz = os.path.join(d, f'vmlinuz-{release}')
		if not os.path.exists(vmlinuz):
			tmp = os.path.join(d, f'x-{release}')
			shutil.rmtree(tmp, ignore_errors=True)
			util.run(['dpkg-deb', '-x', deb, tmp])
			os.replace(os.path.join(tmp, 'boot', f'vmlinuz-{release}'), vmlinuz)
			shutil.rmtree(tmp)
		out.append(DebianKernel(f'debian-{release}', pkg, version, vmlinuz, ser))
	return out


# ---- policies --------------------------------------------------------------

RULE_FILES = ('criu.te', 'criu.if')
# The rules "scripts/crcap test" takes out one at a time ("scripts/crcap
# debian" takes out every one; each costs a link of Debian's whole policy,
# ~20 s): the capability itself, criu's view of /proc, and the user side --
# ptrace of the user's tree, the images.
IN_TEST_RULES = ('criu_domain.self.capability2.checkpoint_restore',
		 'kernel_read_system_state.criu_domain',
		 'ROLE_criu_t.USER.process.ptrace',
		 'mmap_manage_files_pattern.criu_domain.criu_image_t.criu_image_t',
		 'miscfiles_read_localization.criu_domain')
# The workloads the ablation of IN_TEST_RULES has as cases (the last rule
# is one the enforcing case misses; mappings needs it); the ablation of
# every rule has ABLATION_WORKLOADS (GUEST_WORKLOADS but the JVM).
IN_TEST_ABLATION_WORKLOADS = ('mappings',)
# Rules of the module that the enforcing case cannot miss, and why: they
# are left in every ablated policy.
NOT_ABLATED = {
	'systemd_user_app_status.ROLE.ROLE_criu_t': 'systemd --user only',
	# Measured: the ablated policy still has it, and ping_t, mount_t...
	# have the same rule.  Upstream refpolicy's domain.te has no such
	# rule, and criu connects its own sockets (sk-unix-rel, connectto).
	'criu_domain.self.unix_stream_socket.create_stream_socket_perms':
		"Debian's policy gives every domain its own unix stream sockets",
}
# The rules of criu_checkpoint_java (over java_t, java_tmpfs_t): only the
# JVM can miss them, and under TCG it takes a minute to start, so their
# one workload is the JVM (after the enforcing case), and the other rules
# never wait for it.  "test" ablates none of them.
JAVA_RULE = re.compile(r'(^|\.)java_(t|tmpfs_t)(\.|$)')
JAVA_RULE_WORKLOADS = ('jvm',)
# The statements of the module's policy: an allow or dontaudit rule
# (one unit per permission or permission set) or an interface call
# (one unit), after a "# Local policy" heading, to the end of the file
# or of the template.
_ALLOW = re.compile(r'^(\s*)(allow|dontaudit) (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));\s*$')
_CALL = re.compile(r'^\s*(\w+)\(([^()]*)\)\s*$')
# What frames the rules: the opening and end of a block, and the
# declarations of gen_require.
_FRAME = re.compile(r"^\s*((gen_require|optional_policy|tunable_policy|template|interface)"
		    r"\(`.*|'\)|',`|(type|attribute|role|attribute_role|bool) [^;]*;)\s*$")
_ARGS = {'$1': 'ROLE', '$2': 'USER', '$3': 'EXEC', '$4': 'ROLE_r'}


def _name(*parts: str) -> str:
	"""A rule's name from its text: $N as the template's parameter, dots
	between the parts (a name is a directory in the guest)."""
	out = []
	for p in parts:
		for k, v in _ARGS.items():
			p = p.replace(k, v)
		out.append(re.sub(r'[^\w.-]', '', p.replace(',', '.').replace(' ', '')))
	return '.'.join(out)


def _units(text: str) -> List[Tuple[int, str, Optional[str]]]:
	"""(line index, name, permission or None for the whole line) of each
	rule of TEXT."""
	out = []
	on = template = False
	for i, line in enumerate(text.splitlines()):
		if re.match(r'^\s*# Local policy\s*$', line):
			on = True
			continue
		template = template or line.startswith('template(')
		if line.startswith("')") and template:	# the end of the template
			on = template = False
		if not on or line.lstrip().startswith('#'):
			continue
		m = _ALLOW.match(line)
		if m:
			perms = (m.group(6) or m.group(7)).split()
			for perm in perms:
				out.append((i, _name(m.group(3), m.group(4), m.group(5), perm),
					    perm if len(perms) > 1 else None))
			continue
		m = _CALL.match(line)
		if m and m.group(1) not in ('gen_require', 'optional_policy', 'tunable_policy'):
			out.append((i, _name(m.group(1), m.group(2)), None))
		elif not m and line.strip() and not _FRAME.match(line):
			# A rule the ablation cannot take apart would never be
			# ablated: one source, one target, one class per rule.
			raise Error(f'line {i + 1}: not a rule the ablation reads: {line.strip()}')
	return out


def rule_units(project_top: str, only: Optional[Sequence[str]] = None) -> List[Tuple[str, str]]:
	"""(file, name) of every rule of the criu module that the ablation
	takes out (or of those named ONLY, each of which must exist), named
	from its text: no marker in the policy."""
	out = []
	for f in RULE_FILES:
		text = util.read_text(os.path.join(project_top, 'policy/refpolicy', f))
		try:
			out += [(f, n) for _, n, _ in _units(text) if n not in NOT_ABLATED]
		except Error as e:
			raise Error(f'policy/refpolicy/{f}: {e}') from None
	names = [n for _, n in out]
	twice = sorted({n for n in names if names.count(n) > 1})
	if twice:
		raise Error(f'rules of the criu module with one name: {", ".join(twice)}')
	if only is None:
		return out
	missing = sorted(set(only) - set(names))
	if missing:
		raise Error(f'no rule {", ".join(missing)} in the criu module')
	return [b for b in out if b[1] in only]


def drop_rule(text: str, name: str) -> str:
	"""TEXT without rule NAME: the permission taken out of its rule (the
	rule, if it was the only one), or the interface call."""
	lines = text.splitlines(keepends=True)
	for i, n, perm in _units(text):
		if n != name:
			continue
		if perm is None:
			del lines[i]
		else:
			m = _ALLOW.match(lines[i])
			rest = [p for p in m.group(6).split() if p != perm]
			body = f'{{ {" ".join(rest)} }}' if len(rest) > 1 else rest[0]
			lines[i] = (f'{m.group(1)}{m.group(2)} {m.group(3)} {m.group(4)}:'
				    f'{m.group(5)} {body};\n')
		return ''.join(lines)
	raise Error(f'no rule {name} in the criu module')


CAPABILITY2 = '\nallow criu_domain self:capability2 checkpoint_restore;\n'


def _build_modules(project_top: str, d: str, without_capability2: bool,
		   drop: Optional[Tuple[str, str]] = None) -> List[str]:
	"""criu.pp and the test's crcap_criu_user.pp, built with Debian's devel
	Makefile; optionally without rule DROP, or with capability2
	checkpoint_restore taken out of criu's domains."""
	shutil.rmtree(d, ignore_errors=True)
	os.makedirs(d)
	for f in ('criu.te', 'criu.if', 'criu.fc', 'test/crcap_criu_user.te'):
		shutil.copy2(os.path.join(project_top, 'policy/refpolicy', f), d)
	if drop:
		path = os.path.join(d, drop[0])
		text = drop_rule(util.read_text(path), drop[1])
		with open(path, 'w') as f:
			f.write(text)
	if without_capability2:
		path = os.path.join(d, 'criu.te')
		text = util.read_text(path)
		if not text.count(CAPABILITY2):
			raise Error('policy/refpolicy/criu.te: no capability2 '
				    'checkpoint_restore rule to take out')
		with open(path, 'w') as f:
			f.write(text.replace(CAPABILITY2, '\n'))
	log = os.path.join(d, 'build.log')
	p = util.run(['make', '-f', '/usr/share/selinux/devel/Makefile',
		      'criu.pp', 'crcap_criu_user.pp'], cwd=d, log=log, check=False)
	if p.returncode:
		raise Error(f'the criu policy modules do not build (log: {log})')
	return [os.path.join(d, 'criu.pp'), os.path.join(d, 'crcap_criu_user.pp')]


def build_policy(project_top: str, build: str, name: str,
		 without_capability2: bool = False,
		 drop: Optional[Tuple[str, str]] = None) -> str:
	"""Debian's selinux-policy-default with the modules, in a private copy of
	its store (the system's is never written).  Returns a directory with
	policy.33 and file_contexts."""
	if not os.path.isdir(STORE):
		raise Error(f'no {STORE}: selinux-policy-default is not installed '
			    '(scripts/crcap deps)')
	top = os.path.join(build, 'debian-policy', name)
	out = os.path.join(top, 'out')
	# Kept, keyed on every input: the module sources, what is taken out,
	# the flags, and the installed policy it links into.
	key = policy_key(project_top, without_capability2, drop)
	if util.read_text(os.path.join(out, 'key')) == key and \
	   os.path.exists(os.path.join(out, 'policy.33')):
		return out
	shutil.rmtree(out, ignore_errors=True)
	mods = _build_modules(project_top, os.path.join(top, 'modules'),
			      without_capability2, drop)
	root = os.path.join(top, 'root')
	shutil.rmtree(root, ignore_errors=True)
	os.makedirs(os.path.join(root, 'var/lib/selinux'))
	os.makedirs(os.path.join(root, 'etc/selinux'))
	util.run(['cp', '-a', STORE, os.path.join(root, 'var/lib/selinux/')])
	util.run(['cp', '-a', POLICY_ETC, os.path.join(root, 'etc/selinux/')])
	log = os.path.join(top, 'semodule.log')
	# CRCAP_POLICY_AUDIT_ALL=1: dontaudit rules off, every denial logged
	# (for policy work: a dontaudit'd denial is what permissive hides).
	quiet = [] if os.environ.get('CRCAP_POLICY_AUDIT_ALL') else ['-X', '400']
	p = util.run(['semodule', '-p', root, '-s', 'default', *quiet,
		      *sum((['-i', m] for m in mods), []),
		      *(['-D'] if not quiet else [])], log=log, check=False)
	pol = os.path.join(root, 'etc/selinux/default/policy/policy.33')
	if p.returncode or not os.path.exists(pol):
		raise Error(f'semodule could not link the criu module into Debian\'s policy (log: {log})')
	os.makedirs(out, exist_ok=True)
	shutil.copy2(pol, os.path.join(out, 'policy.33'))
	fc = os.path.join(root, 'etc/selinux/default/contexts/files')
	for f in ('file_contexts', 'file_contexts.subs_dist', 'file_contexts.subs'):
		if os.path.exists(os.path.join(fc, f)):	# the .subs: /lib is /usr/lib
			shutil.copy2(os.path.join(fc, f), os.path.join(out, f))
	shutil.rmtree(root)
	with open(os.path.join(out, 'key'), 'w') as f:
		f.write(key)
	return out


def policy_key(project_top: str, without_capability2: bool,
	       drop: Optional[Tuple[str, str]]) -> str:
	"""What a linked policy is made from, as one digest."""
	h = hashlib.sha256()
	for f in ('criu.te', 'criu.if', 'criu.fc', 'test/crcap_criu_user.te'):
		h.update(f.encode() + b'\0' + util.read_text(
			os.path.join(project_top, 'policy/refpolicy', f)).encode() + b'\0')
	h.update(repr((without_capability2, drop,
		       bool(os.environ.get('CRCAP_POLICY_AUDIT_ALL')))).encode())
	for pkg in ('selinux-policy-default', 'selinux-policy-dev', 'semodule-utils',
		    'policycoreutils'):
		h.update(util.run(['dpkg-query', '-W', '-f=${Version}', pkg], capture=True,
				  check=False).stdout.encode())
	return h.hexdigest()


# ---- the root --------------------------------------------------------------

def _is_elf(path: str) -> bool:
	with open(path, 'rb') as f:
		return f.read(4) == b'\x7fELF'


def _libs(paths: List[str]) -> List[str]:
	"""Every shared library PATHS load, through the host's ld.so."""
	out = set()
	for p in paths:
		if not _is_elf(p):
			continue
		r = util.run(['ldd', p], check=False, capture=True)
		for m in re.finditer(r'(/\S+\.so[^\s]*) \(0x', r.stdout):
			out.add(m.group(1))
	return sorted(out)


class Root:
	"""A directory tree that becomes the guest's initramfs."""

	def __init__(self, d: str):
		shutil.rmtree(d, ignore_errors=True)
		self.d = d
		for sub in ('usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc', 'proc',
			    'sys', 'dev', 'tmp', 'run', 'home', 'root', 'var/tmp'):
			os.makedirs(os.path.join(d, sub), exist_ok=True)
		for link, to in (('bin', 'usr/bin'), ('sbin', 'usr/sbin'),
				 ('lib', 'usr/lib'), ('lib64', 'usr/lib64')):
			os.symlink(to, os.path.join(d, link))
		self.elves: List[str] = []

	def path(self, guest: str) -> str:
		return os.path.join(self.d, guest.lstrip('/'))

	def add(self, host: str, guest: Optional[str] = None, mode: Optional[int] = None) -> None:
		"""HOST at GUEST (default: the same path, resolved like Debian's
		merged /usr)."""
		guest = guest or _merged(host)
		dst = self.path(guest)
		os.makedirs(os.path.dirname(dst), exist_ok=True)
		if os.path.isdir(host):
			shutil.copytree(host, dst, symlinks=True, dirs_exist_ok=True)
			for dp, _, fs in os.walk(host):
				self.elves += [os.path.join(dp, f) for f in fs
					       if os.path.isfile(os.path.join(dp, f))]
			return
		shutil.copy2(os.path.realpath(host), dst)
		if mode is not None:
			os.chmod(dst, mode)
		self.elves.append(os.path.realpath(host))

	def write(self, guest: str, text: str, mode: int = 0o644) -> None:
		dst = self.path(guest)
		os.makedirs(os.path.dirname(dst), exist_ok=True)
		with open(dst, 'w') as f:
			f.write(text)
		os.chmod(dst, mode)

	def add_libs(self) -> None:
		for lib in _libs(self.elves):
			dst = self.path(_merged(lib))
			if not os.path.exists(dst):
				os.makedirs(os.path.dirname(dst), exist_ok=True)
				shutil.copy2(os.path.realpath(lib), dst)

	def cpio(self, out: str) -> None:
		with open(out + '.tmp', 'wb') as f:
			f.write(G.cpio_gz(self.d))
		os.replace(out + '.tmp', out)


def _merged(path: str) -> str:
	for old in ('/bin/', '/sbin/', '/lib/', '/lib64/'):
		if path.startswith(old):
			return '/usr' + path
	return path


PYTHON_SKIP = ('test', 'idlelib', 'tkinter', 'ensurepip', 'lib2to3', 'pydoc_data',
	       'turtledemo', 'unittest', 'distutils', 'asyncio', 'email', 'xml',
	       'multiprocessing', 'sqlite3', 'venv', 'config-3.11-x86_64-linux-gnu')


def busybox_root(project_top: str, d: str) -> Root:
	"""The least a QEMU guest boots: busybox, the init and the protocol
	(the self-check's root; every other root starts from it)."""
	r = Root(d)
	bb = shutil.which('busybox', path='/usr/bin:/bin') or '/bin/busybox'
	r.add(bb, '/usr/bin/busybox')
	applets = util.run([bb, '--list'], capture=True).stdout.split()
	for a in applets:
		if not os.path.lexists(r.path(f'/usr/bin/{a}')):
			os.symlink('busybox', r.path(f'/usr/bin/{a}'))
	r.add(os.path.join(project_top, G.QEMU_INIT), '/init', 0o755)
	r.add(os.path.join(project_top, G.JOB_LIB), G.QEMU_JOB_LIB, 0o644)
	return r


def make_root(project_top: str, d: str, kselftests: List[str], tools: str, criu: str,
	      policies: Dict[str, str], full: bool = True) -> Root:
	"""The guest's root.  KSELFTESTS: installs whose programs' libraries
	it must carry (the programs come as an archive of their own, see
	kselftest_archive()).  Without FULL, only what the SELinux cases need
	(the policy ablation's guest)."""
	r = busybox_root(project_top, d)
	# What crcheck_test.sh runs, as Debian has them.
	tools_needed = ('setcap', 'setfiles') if not full else \
		('bash', 'setpriv', 'unshare', 'mount', 'umount', 'setcap', 'getcap',
		 'setfiles', 'python3', 'setsid', 'pkill', 'pgrep')
	for tool in tools_needed:
		host = shutil.which(tool, path='/usr/sbin:/usr/bin:/sbin:/bin')
		if not host:
			raise Error(f'no {tool} on the host to put in the guest')
		dst = r.path(_merged(host))
		if os.path.lexists(dst):
			os.unlink(dst)
		r.add(host, _merged(host))
	py = glob.glob('/usr/lib/python3.[0-9]*') if full else []
	for pydir in py:
		shutil.copytree(pydir, r.path(pydir), symlinks=True,
				ignore=lambda dp, names: [n for n in names if n in PYTHON_SKIP
							  or n == '__pycache__'])
	for ks in kselftests:	# their libraries only
		for dp, _, fs in os.walk(ks):
			r.elves += [os.path.join(dp, f) for f in fs
				    if os.path.isfile(os.path.join(dp, f))]
	for t in ('crcheck', 'criu_target'):
		r.add(os.path.join(tools, t), f'{GUEST_DIR}/bin/{t}')
	r.add(os.path.join(project_top, 'tools/checkpoint_restore/crcheck_test.sh'),
	      f'{GUEST_DIR}/bin/crcheck_test.sh', 0o755)
	r.add(os.path.join(project_top, CRIU_SELINUX_TEST),
	      f'{GUEST_DIR}/bin/criu_selinux_test.sh', 0o755)
	r.add(os.path.join(project_top, DEBIAN_JOB), f'{GUEST_DIR}/bin/crcap-debian-job.sh', 0o644)
	r.add(criu, '/usr/sbin/criu', 0o755)
	for name, pdir in policies.items():
		r.add(os.path.join(pdir, 'policy.33'), f'{GUEST_DIR}/policy/{name}/policy.33')
		for f in os.listdir(pdir):
			if f.startswith('file_contexts') and name == 'criu':
				r.add(os.path.join(pdir, f), f'{GUEST_DIR}/policy/{name}/{f}')
	r.add_libs()
	r.write('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'
		'crcap:x:1000:1000:crcap test user:/home/crcap:/bin/sh\n'
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
	r.write('/etc/group', 'root:x:0:\ncrcap:x:1000:\nnogroup:x:65534:\n')
	r.write('/etc/shadow', 'root:*:1::::::\ncrcap:*:1::::::\nnobody:*:1::::::\n', 0o640)
	r.write('/etc/selinux/config', 'SELINUX=permissive\nSELINUXTYPE=default\n')
	return r


ROOT_PACKAGES = ('busybox-static', 'bash', 'util-linux', 'mount', 'libcap2-bin',
		 'policycoreutils', 'python3.11-minimal', 'libpython3.11-stdlib', 'libc6',
		 'libselinux1', 'libcap2', 'procps')


# ---- the workloads guest ---------------------------------------------------

WORKLOADS_DIR = 'tools/checkpoint_restore'	# workloads_test.py and its files
JAVA_HOME = '/usr/lib/jvm/java-17-openjdk-amd64'
# What the guest's java needs of JAVA_HOME: no jmods, headers, sources, nor
# the libraries of a display.
_JAVA_SKIP = ('jmods', 'include', 'man', 'legal', 'docs', 'src.zip', 'ct.sym',
	      'libawt_xawt.so', 'libatk-wrapper.so', 'libjawt.so', 'libsplashscreen.so')
# The locale the mappings workload runs under, built into an archive here
# with Debian's locales (localedef): the host need not have one.
GUEST_LOCALE = ('en_US', 'UTF-8', 'en_US.UTF-8')
# The workloads the SELinux guests run, in this order; "test" runs
# IN_TEST_WORKLOADS.  Only in 6.12's kernels: in 6.1 criu --shell-job
# needs CAP_SYS_ADMIN for TIOCSLCKTRMIOS (CAP_CHECKPOINT_RESTORE since
# 6.8), which no policy changes.  The JVM runs in Debian's java_t, one
# domain for every role, which the criu of a role reaches only under the
# module's criu_checkpoint_java; it needs Debian's allow_java_execstack
# (HotSpot's code is written, then run) and
# java_manage_generic_user_content (its output, a file of the user's
# home), and a TCP listen that Debian gives java_t only under
# allow_ypbind (NIS: every nsswitch_domain binds any port), which the
# guest's module gives it instead, for loopback (crcap_criu_user.te).
# Not in "test" nor in the ablation: under TCG the JVM takes ~50 s to
# start, twice (with the tunable and without).
GUEST_WORKLOADS = ('mappings', 'bash_job', 'openmp', 'own_criu', 'jvm')
IN_TEST_WORKLOADS = ('mappings', 'bash_job', 'openmp', 'own_criu')
ABLATION_WORKLOADS = IN_TEST_WORKLOADS
# The tunables of the policy each needs, on for it alone: the criu
# module's criu_restore_user_home_files, for the files of the user's home
# a task had open or mapped (its output, its data) and ~/bin's programs.
# bash_job has none: the module as it is by default.
WORKLOAD_TUNABLES = {'mappings': ('criu_restore_user_home_files',),
		     'openmp': ('criu_restore_user_home_files',),
		     'jvm': ('criu_checkpoint_java', 'criu_restore_user_home_files', 'allow_java_execstack',
			     'java_manage_generic_user_content')}
# And without one of the module's: the workload must fail, with the
# denial the tunable lifts (source, target, class, a permission).
WORKLOAD_WITHOUT_TUNABLE = {
	'openmp': ('criu_restore_user_home_files', ('user_criu_t', 'user_bin_t', 'file', 'read')),
	'jvm': ('criu_checkpoint_java', ('user_criu_t', 'java_t', 'process', 'ptrace'))}
WORKLOAD_SERIES = ('6.12',)
WORKLOAD_LIMIT = 240	# seconds any one command of a workload may take (TCG)


# The socket diagnostics criu reads a task's sockets with (netlink
# sock_diag): the JVM's server socket needs inet_diag and tcp_diag, a
# unix socket unix_diag.  Debian's kernels have them as modules, which
# the kernel loads when a socket of the family is asked for, but only
# for a task that may load modules: criu in its domain may not
# (module_request, dontaudit'd: kernel_dontaudit_request_load_module),
# and its dump then fails with "Sockets (family 10 proto 6) are not
# collected".  So root loads them first, as a site would in
# /etc/modules-load.d.  In their order of dependence; under
# /usr/lib/modules, whose label (modules_object_t) is what the kernel
# may load a module from.
DIAG_MODULES = ('inet_diag', 'tcp_diag', 'unix_diag')
DIAG_MODULES_DIR = '/usr/lib/modules/crcap-diag'


def diag_modules_root(k: DebianKernel, d: str) -> Root:
	"""DIAG_MODULES of Debian's kernel K, uncompressed (busybox insmod),
	at DIAG_MODULES_DIR/N-NAME.ko, N their order of loading."""
	r = Root(d)
	mods = os.path.join(kernel_modules(k), 'lib', 'modules', k.package[len('linux-image-'):])
	dep = util.read_text(os.path.join(mods, 'modules.dep'))
	paths = {os.path.basename(line.split(':')[0]).split('.ko')[0]: line.split(':')[0]
		 for line in dep.splitlines() if ':' in line}
	for i, m in enumerate(DIAG_MODULES):
		if m not in paths:
			raise Error(f'{k.package} has no module {m}')
		src = os.path.join(mods, paths[m])
		dst = r.path(f'{DIAG_MODULES_DIR}/{i}-{m}.ko')
		os.makedirs(os.path.dirname(dst), exist_ok=True)
		with open(src, 'rb') as f, open(dst, 'wb') as o:
			data = f.read()
			o.write(lzma.decompress(data) if src.endswith('.xz') else data)
	return r


def workloads_root(project_top: str, d: str, build: str, java: bool = True) -> Root:
	"""What the workloads guest adds to the Debian root (make_root):
	workloads_test.py and what it runs -- Debian's java with Server.class
	built here (the guest has no javac; without JAVA, none), the OpenMP
	job, a locale archive, the file of /etc the mappings workload keeps
	open (util-linux's setsid and procps' pkill are make_root()'s)."""
	r = Root(d)
	here = os.path.join(project_top, 'tools/checkpoint_restore')
	for f in ('workloads_test.py', 'criu_test.py', 'workloads/expected'):
		r.add(os.path.join(here, f), f'{GUEST_DIR}/workloads/{f}')
	r.add(os.path.join(build, 'tools', 'omp_job'), f'{GUEST_DIR}/bin/omp_job')
	if java:
		_add_java(r, here)
	os.makedirs(r.path('/usr/lib/locale'), exist_ok=True)
	src, charset, name = GUEST_LOCALE
	util.run(['localedef', '-i', src, '-c', '-f', charset, '--prefix', r.d, name])
	r.add('/etc/debian_version')
	r.add_libs()
	return r


def _add_java(r: Root, here: str) -> None:
	"""Debian's java, and the classes of the JVM workload built here."""
	if not os.path.isdir(JAVA_HOME) or not shutil.which('javac'):
		raise Error(f'no {JAVA_HOME} with javac (scripts/crcap deps)')
	shutil.copytree(JAVA_HOME, r.path(JAVA_HOME), symlinks=True,
			ignore=lambda dp, names: [n for n in names if n in _JAVA_SKIP])
	for dp, _, fs in os.walk(r.path(JAVA_HOME)):
		r.elves += [os.path.join(dp, f) for f in fs if f.endswith('.so') or f == 'java']
	r.add('/etc/java-17-openjdk')
	os.symlink(f'{JAVA_HOME}/bin/java', r.path('/usr/bin/java'))
	classes = r.path(f'{GUEST_DIR}/workloads/classes')
	util.run(['javac', '-d', classes, os.path.join(here, 'workloads/Server.java')])


# ---- the recipe guest: the document's steps, as a Debian admin takes them ----

RECIPE_DOC = 'Documentation/security/checkpoint_restore_selinux.rst'
RECIPE_SECTION = 'Recipe: letting ordinary users checkpoint and restore'
RECIPE_USER = 'jobuser'		# the user the document's steps name
RECIPE_DIR = f'{GUEST_DIR}/recipe'
RECIPE_POLICY_DIR = '/root/criu-policy'	# where root has the module's sources
RECIPE_LOGIN_TE = 'policy/refpolicy/test/crcap_guest_login.te'
# The context the stand-in for getty runs login in (a console login).
RECIPE_LOGIN = 'system_u:system_r:local_login_t:s0'
# What Debian's seusers gives every login (__default__ and root).
UNCONFINED = 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023'
CRIU_EXEC = 'system_u:object_r:criu_exec_t:s0'
# What the admin's machine has for the steps, as Debian installs it: the
# document names selinux-policy-dev, policycoreutils,
# policycoreutils-python-utils and libcap2-bin; the rest is what they
# depend on, and login with its PAM stack (the user logs in again).
RECIPE_PACKAGES = ('selinux-policy-dev', 'checkpolicy', 'make', 'gawk', 'm4',
		   'policycoreutils', 'selinux-utils', 'semodule-utils', 'policycoreutils-python-utils',
		   'python3-semanage', 'python3-selinux', 'python3-sepolicy',
		   'python3-sepolgen', 'python3-setools', 'python3-audit',
		   'python3-networkx', 'python3-pkg-resources', 'libsemanage-common', 'libsemanage2',
		   'libsepol2', 'libcap2-bin', 'login', 'libpam-modules',
		   'libpam-modules-bin', 'libpam-runtime', 'libpam0g')
# Configuration the packages' maintainer scripts write (pam-auth-update,
# update-locale), and coreutils' id (busybox's has no -Z).
RECIPE_HOST_FILES = ('/etc/pam.d', '/etc/security', '/etc/login.defs',
		     '/etc/selinux/semanage.conf', '/etc/environment',
		     '/etc/default/locale', '/usr/bin/id')
RECIPE_LIMIT = 900	# seconds for the guest: semodule links Debian's policy under TCG


@dataclass
class Recipe:
	"""The document's recipe: the local module (its name and text), the
	admin's commands and the user's, one per line, as written."""
	module: Tuple[str, str]
	root: List[str]
	user: List[str]


def literal_blocks(text: str) -> List[str]:
	"""The reStructuredText literal blocks of TEXT (after a paragraph that
	ends in "::"), dedented."""
	blocks: List[str] = []
	lines = text.splitlines()
	i = 0
	while i < len(lines):
		if not lines[i].rstrip().endswith('::'):
			i += 1
			continue
		i += 1
		block: List[str] = []
		while i < len(lines) and (not lines[i].strip() or lines[i].startswith(' ')):
			block.append(lines[i])
			i += 1
		while block and not block[-1].strip():
			block.pop()
		while block and not block[0].strip():
			block.pop(0)
		if block:
			indent = min(len(x) - len(x.lstrip()) for x in block if x.strip())
			blocks.append('\n'.join(x[indent:] for x in block) + '\n')
	return blocks


def recipe(project_top: str) -> Recipe:
	"""The recipe, read from RECIPE_DOC: its section's three literal
	blocks, in order -- the local module, root's commands, the user's."""
	text = util.read_text(os.path.join(project_top, RECIPE_DOC))
	at = text.find(RECIPE_SECTION + '\n')
	if at < 0:
		raise Error(f'{RECIPE_DOC}: no section "{RECIPE_SECTION}"')
	body = text[at:].split('\n', 2)[2]
	nxt = re.search(r'^\S.*\n[-=~^]{4,}$', body, re.M)
	blocks = literal_blocks(body[:nxt.start()] if nxt else body)
	if len(blocks) != 3:
		raise Error(f'{RECIPE_DOC}, "{RECIPE_SECTION}": {len(blocks)} literal '
			    'blocks, not 3 (the module, root\'s commands, the user\'s)')
	m = re.match(r'policy_module\((\w+)', blocks[0])
	if not m:
		raise Error(f'{RECIPE_DOC}: the recipe\'s first block is not a policy module')

	def commands(block: str) -> List[str]:
		return [x for x in block.splitlines() if x.strip()]
	return Recipe((m.group(1), blocks[0]), commands(blocks[1]), commands(blocks[2]))


def criu_install_path(criu: str) -> str:
	"""Where CRIU's own "make install" puts the criu binary CRIU (built
	in its source tree): SBINDIR of its Makefile.install, by default."""
	tree = os.path.dirname(os.path.dirname(os.path.realpath(criu)))
	mk = os.path.join(tree, 'Makefile.install')
	if not os.path.isfile(mk):
		raise Error(f'{criu} is not in a CRIU source tree (no {mk}): the recipe '
			    'installs a criu where its build installs it')
	text = util.read_text(mk)
	prefix = re.search(r'^PREFIX\s*\?=\s*(\S+)\s*$', text, re.M)
	sbindir = re.search(r'^SBINDIR\s*\?=\s*(\S+)\s*$', text, re.M)
	if not prefix or not sbindir:
		raise Error(f'{mk}: no default PREFIX or SBINDIR')
	return sbindir.group(1).replace('$(PREFIX)', prefix.group(1)) + '/criu'


def _add_packages(r: Root, packages: Sequence[str]) -> None:
	"""The files the installed PACKAGES hold, at their paths (symbolic
	links as links)."""
	out = util.run(['dpkg', '-L', *packages], capture=True).stdout
	for p in sorted(set(out.splitlines())):
		dst = r.path(_merged(p))
		if os.path.islink(p):
			if not os.path.lexists(dst):
				os.makedirs(os.path.dirname(dst), exist_ok=True)
				os.symlink(os.readlink(p), dst)
		elif os.path.isfile(p):
			if os.path.islink(dst):	# a busybox applet: the package's program
				os.unlink(dst)
			r.add(p, _merged(p))


def recipe_root(project_top: str, d: str, build: str, criu: str) -> Root:
	"""What the recipe's guest adds to the Debian root (make_root): the
	machine an admin starts from -- Debian's policy store as installed
	(with only the guest's stand-in for getty and its disk, RECIPE_LOGIN_TE), the
	packages the steps use, a criu where CRIU's "make install" puts it,
	the module's sources in root's home, the user -- and the steps, read
	from the document."""
	rec = recipe(project_top)
	r = Root(d)
	_add_packages(r, RECIPE_PACKAGES)
	for f in RECIPE_HOST_FILES:
		if os.path.exists(f):
			r.add(f)
	for py in ('xml', 'email'):	# sepolicy's, which make_root leaves out
		r.add(f'/usr/lib/python3.11/{py}')
	# The bytecode Debian's py3compile left when the packages were
	# installed: else each import by semanage would try to write it.
	for top in ('/usr/lib/python3.11', '/usr/lib/python3/dist-packages'):
		for dp, dns, _ in os.walk(top):
			skip = set(dp[len(top):].split('/')) & set(PYTHON_SKIP)
			if '__pycache__' in dns and os.path.isdir(r.path(dp)) or \
			   '__pycache__' in dns and top.endswith('3.11') and not skip:
				r.add(os.path.join(dp, '__pycache__'))
			if '__pycache__' in dns:
				dns.remove('__pycache__')
	if not os.path.isdir(STORE):
		raise Error(f'no {STORE}: selinux-policy-default is not installed '
			    '(scripts/crcap deps)')
	for src, at in ((STORE, '/var/lib/selinux'), (POLICY_ETC, '/etc/selinux')):
		os.makedirs(r.path(at), exist_ok=True)
		util.run(['cp', '-a', src, r.path(at) + '/'])
	mod = os.path.join(d + '.module')
	shutil.rmtree(mod, ignore_errors=True)
	os.makedirs(mod)
	shutil.copy2(os.path.join(project_top, RECIPE_LOGIN_TE), mod)
	name = os.path.basename(RECIPE_LOGIN_TE)[:-3]
	util.run(['make', '-f', '/usr/share/selinux/devel/Makefile', f'{name}.pp'], cwd=mod,
		 log=os.path.join(mod, 'build.log'))
	util.run(['semodule', '-p', r.d, '-s', 'default', '-X', '400',
		  '-i', os.path.join(mod, f'{name}.pp')], log=os.path.join(mod, 'semodule.log'))
	shutil.rmtree(mod)
	r.add(criu, criu_install_path(criu), 0o755)
	for f in ('criu.te', 'criu.if', 'criu.fc'):
		r.add(os.path.join(project_top, 'policy/refpolicy', f), f'{RECIPE_POLICY_DIR}/{f}')
	r.write(f'{RECIPE_POLICY_DIR}/{rec.module[0]}.te', rec.module[1])
	r.write(f'{RECIPE_DIR}/root', '\n'.join(rec.root) + '\n')
	r.write(f'{RECIPE_DIR}/user', '\n'.join(rec.user) + '\n')
	for f in ('crcap-pty-login', 'crcap-recipe-steps'):
		r.add(os.path.join(project_top, 'tools/testing/crcap', f), f'{GUEST_DIR}/bin/{f}', 0o755)
	# Debian's accounts, and the user adduser made (its home: the guest's).
	r.write('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n'
		'crcap:x:1000:1000:crcap test user:/home/crcap:/bin/sh\n'
		f'{RECIPE_USER}:x:1001:1001::/home/{RECIPE_USER}:/bin/bash\n'
		'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n')
	r.write('/etc/group', f'root:x:0:\ncrcap:x:1000:\n{RECIPE_USER}:x:1001:\nnogroup:x:65534:\n')
	r.write('/etc/shadow', 'root:*:1::::::\ncrcap:*:1::::::\n'
		f'{RECIPE_USER}:*:1::::::\nnobody:*:1::::::\n', 0o640)
	r.add_libs()
	return r


def recipe_job(criu_at: str) -> str:
	"""The recipe guest's job, with the criu the root has at CRIU_AT."""
	return (f'CRCAP_DEBIAN_MODE=recipe\nCRCAP_RECIPE_USER={RECIPE_USER}\n'
		f'CRCAP_RECIPE_LOGIN={RECIPE_LOGIN}\nCRCAP_RECIPE_CRIU={criu_at}\n' + JOB)


def recipe_inputs(project_top: str, criu: str) -> List[str]:
	"""What the recipe's root is made from, besides root_key()'s."""
	return [os.path.join(project_top, p) for p in (
		RECIPE_DOC, RECIPE_LOGIN_TE, 'policy/refpolicy/criu.te', 'policy/refpolicy/criu.if',
		'policy/refpolicy/criu.fc', 'tools/testing/crcap/crcap-pty-login',
		'tools/testing/crcap/crcap-recipe-steps')] + [criu, STORE]


def tree_digest(h, path: str) -> None:
	"""Adds what PATH holds (names, sizes, mtimes) to the hash H."""
	if os.path.isfile(path):
		st = os.stat(path)
		h.update(f'{path}\0{st.st_size}\0{st.st_mtime_ns}\0'.encode())
		return
	for dp, dns, fs in os.walk(path):
		dns.sort()
		for f in sorted(fs):
			p = os.path.join(dp, f)
			if os.path.isfile(p):
				st = os.stat(p)
				h.update(f'{p}\0{st.st_size}\0{st.st_mtime_ns}\0'.encode())


def root_key(project_top: str, inputs: List[str], full: bool) -> str:
	"""What a guest root is made from, as one digest: the recipe (this
	file and the guest's scripts), the host's packages it copies, and
	INPUTS (programs, policies, kselftest installs: their files' names,
	sizes and mtimes)."""
	h = hashlib.sha256()
	for f in (__file__, G.__file__, os.path.join(project_top, G.QEMU_INIT),
		  os.path.join(project_top, G.JOB_LIB), os.path.join(project_top, DEBIAN_JOB),
		  os.path.join(project_top, CRIU_SELINUX_TEST),
		  os.path.join(project_top, 'tools/checkpoint_restore/crcheck_test.sh')):
		h.update(util.read_text(f).encode() + b'\0')
	h.update(util.run(['dpkg-query', '-W', '-f=${Package} ${Version}\n', *ROOT_PACKAGES],
			  capture=True, check=False).stdout.encode())
	h.update(repr(full).encode())
	for i in inputs:
		tree_digest(h, i)
	return h.hexdigest()


def kept(out: str, key: str) -> bool:
	"""Is OUT there, made from KEY?"""
	return os.path.exists(out) and util.read_text(out + '.key') == key


def keep(out: str, key: str) -> None:
	with open(out + '.key', 'w') as f:
		f.write(key)


def policies_archive(d: str, policies: Dict[str, str]) -> str:
	"""The binary policies of POLICIES (name -> build_policy()'s
	directory) as an archive to append to a guest's root, each at
	GUEST_DIR/policy/NAME/policy.33: D.gz."""
	r = Root(d)
	for name, pdir in policies.items():
		r.add(os.path.join(pdir, 'policy.33'), f'{GUEST_DIR}/policy/{name}/policy.33')
	r.cpio(d + '.gz')
	shutil.rmtree(d, ignore_errors=True)
	return d + '.gz'


def kselftest_archive(kselftest: str, d: str, out: str) -> None:
	"""The kselftest install as an archive of its own, at the guest's
	path: appended to the root's, it completes the root for one kernel
	series."""
	shutil.rmtree(d, ignore_errors=True)
	dst = os.path.join(d, GUEST_DIR.lstrip('/'), 'bin', 'kselftest')
	os.makedirs(os.path.dirname(dst))
	shutil.copytree(kselftest, dst, symlinks=True)
	with open(out + '.tmp', 'wb') as f:
		f.write(G.cpio_gz(d))
	os.replace(out + '.tmp', out)


def concat(parts: List[str], out: str) -> None:
	"""Gzipped cpio archives in a row: one initramfs (the kernel unpacks
	them in order)."""
	with open(out + '.tmp', 'wb') as o:
		for p in parts:
			with open(p, 'rb') as f:
				shutil.copyfileobj(f, o)
	os.replace(out + '.tmp', out)


def guest(k: DebianKernel, initrd: str, timeout: Optional[float], append: str = '') -> G.Qemu:
	"""Debian's kernel K as a crcap guest, with the command line the
	SELinux cases need."""
	return G.Qemu(k.vmlinuz, initrd, timeout or GUEST_TIMEOUT,
		      append='lsm=lockdown,capability,yama,selinux audit=1 '
		      'audit_backlog_limit=8192' + append)


JOB = f'. {GUEST_DIR}/bin/crcap-debian-job.sh\n'


# ---- verdicts --------------------------------------------------------------

USER_CONTEXT = 'user_u:user_r:user_t:s0'
CRIU_DOMAIN = 'user_criu_t'	# criu_role_template(user, ...)
_AVC = re.compile(r'avc:\s+denied\s+\{ ([^}]*)\} for .*scontext=(\S+) tcontext=(\S+) tclass=(\S+)')


def denials(lines: List[str]) -> List[Tuple[str, str, str, str]]:
	"""(source type, target type, class, permissions) of each AVC denial."""
	out = []
	for line in lines:
		m = _AVC.search(line)
		if m:
			out.append((m.group(2).split(':')[2], m.group(3).split(':')[2],
				    m.group(4), m.group(1).strip()))
	return out


def no_denial(name: str, b: G.Block) -> Test:
	"""NAME: block B's AVC lines hold no denial (each one listed)."""
	avc = sorted(set(denials(b.lines)))
	t = Test(name, Status.PASS if not avc else Status.FAIL,
		 '' if not avc else f'{len(avc)} denials: {avc[:3]}')
	t.log += [' '.join(a) for a in avc]
	return t


# The type of the ports the guest's last case leaves criu's TCP repair
# probe (ip_local_port_range 49152-49216, crcap-debian-job.sh).
PROBE_PORT = 'virt_migration_port_t'


def verdicts(k: DebianKernel, run: G.GuestRun) -> List[Test]:
	"""The guest's blocks as suites: <kernel>.kselftest, .clone3, .crcheck,
	.selinux and .guest."""
	blocks = run.blocks
	ks = Test(f'{k.name}.kselftest')
	c3 = Test(f'{k.name}.clone3')
	for name in blocks:
		if name.startswith('kselftest.checkpoint_restore.'):
			ks.add(run.program(name, name.split('.', 2)[2]))
		elif name.startswith('kselftest.clone3.'):
			c3.add(run.program(name, name.split('.', 2)[2]))
	for suite, what in ((ks, 'checkpoint_restore'), (c3, 'clone3')):
		if not suite.subtests:	# an empty suite must not pass
			suite.add(Test('programs', Status.CRASHED if run.failure else Status.FAIL,
				       f'no {what} program reported'
				       + (f' ({run.failure})' if run.failure else '')))
	cr = Test(f'{k.name}.crcheck', subtests=[run.program('crcheck', 'crcheck_test')])

	se = Test(f'{k.name}.selinux')

	def step(name: str, key: str) -> None:
		b = blocks.get(key)
		if b is None:
			se.add(Test(name, Status.CRASHED, 'the guest never ran it'))
			return
		se.add(Test(name, Status.PASS if b.exit == 0 else Status.FAIL,
			    '' if b.exit == 0 else f'exit {b.exit}: {" ".join(b.lines)[:200]}'))

	step('loads_debian_policy_with_criu_module', 'selinux.load_policy')
	step('labels_the_root_with_its_file_contexts', 'selinux.label')
	ctx = blocks.get('selinux.context')
	got = ' '.join(ctx.lines).replace('\0', '').strip() if ctx else ''
	se.add(Test('user_runs_in_user_t', Status.PASS if got == USER_CONTEXT else Status.FAIL,
		    '' if got == USER_CONTEXT else f'the user runs in "{got}"'))
	se.add(run.program('selinux.criu_enforcing', 'criu_enforcing'))
	avc = denials(blocks.get('selinux.criu_enforcing.avc', G.Block()).lines)
	se.add(Test('criu_enforcing_logs_no_denial', Status.PASS if not avc else Status.FAIL,
		    '' if not avc else f'{len(avc)} denials: {avc[:3]}'))

	def exactly(case: str, want: Tuple[str, str, str, str]) -> None:
		"""CASE as the user runs it, and WANT the only denial it logs."""
		se.add(run.program(f'selinux.{case}', case))
		avc = denials(blocks.get(f'selinux.{case}.avc', G.Block()).lines)
		ok = bool(avc) and all(a == want for a in avc)
		se.add(Test(f'{case}_logs_exactly_that_denial', Status.PASS if ok else Status.FAIL,
			    '' if ok else f'denials: {sorted(set(avc))[:4] or "none"}'))
	exactly('criu_without_capability2', (CRIU_DOMAIN, CRIU_DOMAIN, 'capability2',
					      'checkpoint_restore'))
	# Every ephemeral port of a type the module does not let criu connect
	# to: its TCP repair probe is refused, and criu goes on (CRIU 0013).
	exactly('criu_probe_refused', (CRIU_DOMAIN, PROBE_PORT, 'tcp_socket', 'name_connect'))

	g = G.health([run], k.name)
	kern = blocks.get('info.kernel')
	release = k.package[len('linux-image-'):]
	line = kern.lines[0] if kern and kern.lines else ''
	ok = line.startswith(release + ' ')
	t = g.add(Test('boots_debian_kernel', Status.PASS if ok else Status.FAIL,
		       '' if ok else 'the guest did not report the kernel it runs'))
	t.log.append(f'{k.package} {k.version}: {line[:160] or "?"}')
	done = blocks.get('info.all_results')
	boot = blocks.get('info.boot_seconds')
	if done and boot and done.lines and boot.lines:
		t.log.append(f'boot {boot.lines[0]} s, all results at {done.lines[0]} s '
			     f'(guest clock); qemu ran {run.seconds:.1f} s')
	return [x.finish() for x in (ks, c3, cr, se, g)]


def _words(names: Sequence[str]) -> List[str]:
	"""NAMES as the job takes them: NAME:TUNABLE,... for those with tunables."""
	return [f'{w}:{",".join(WORKLOAD_TUNABLES[w])}' if w in WORKLOAD_TUNABLES else w
		for w in names]


def workloads_job(names: Sequence[str], limit: float, mode: str = 'workloads',
		  own: Optional[Dict[str, Sequence[str]]] = None) -> str:
	"""The workloads guest's job (or MODE's, the policy ablation's): NAMES
	(workloads_test.py's), each with LIMIT seconds for any one of its
	commands; in the workloads guest, the negative cases too.  OWN: the
	ablation's rules that have workloads of their own instead."""
	words = _words(names)
	for w in names if mode == 'workloads' else ():
		if w in WORKLOAD_WITHOUT_TUNABLE:
			rest = [b for b in WORKLOAD_TUNABLES[w] if b != WORKLOAD_WITHOUT_TUNABLE[w][0]]
			words.append(f'{w}/off' + (f':{",".join(rest)}' if rest else ''))
	lines = '\n'.join(f'{rule} {" ".join(_words(ws))}' for rule, ws in (own or {}).items())
	return (f'CRCAP_DEBIAN_MODE={mode}\nCRCAP_WORKLOADS={shlex.quote(" ".join(words))}\n'
		f'CRCAP_ABLATION_WORKLOADS={shlex.quote(lines)}\n'
		f'CRCAP_WORKLOAD_LIMIT={limit:.0f}\n' + JOB)


def ablation_job(names: Sequence[str], limit: float,
		 own: Optional[Dict[str, Sequence[str]]] = None) -> str:
	"""The policy ablation's job: the enforcing case, then the workloads
	NAMES where it misses a rule (OWN's, for a rule OWN names)."""
	return workloads_job(names, limit, 'ablation', own)


def workloads_verdicts(k: DebianKernel, run: G.GuestRun, names: Sequence[str]) -> List[Test]:
	"""<kernel>.workloads: each workload as workloads_test.py judged it
	(against workloads/expected), then the denials it logged: none may be
	(enforcing, a denial is what stopped it; permissive, what would)."""
	s = Test(f'{k.name}.workloads')
	for w in names:
		# Not W: a test named as its one subtest reads, to kunit.py
		# parse, as a test without subtests.
		s.add(run.program(f'workload.{w}', f'{w}_enforcing'))
		b = run.blocks.get(f'workload.{w}.avc')
		if b is not None:
			s.add(no_denial(f'{w}_logs_no_denial', b))
	for w in names:
		if w not in WORKLOAD_WITHOUT_TUNABLE:
			continue
		tunable, (src, tgt, cls, perm) = WORKLOAD_WITHOUT_TUNABLE[w]
		name = f'{w}_without_{tunable}_is_denied'
		b, avc = run.blocks.get(f'workload.{w}.off'), run.blocks.get(f'workload.{w}.off.avc')
		if b is None or avc is None:
			s.add(Test(name, Status.CRASHED, 'the guest never ran it'))
			continue
		got = sorted(set(denials(avc.lines)))
		want = [d for d in got if d[:3] == (src, tgt, cls) and perm in d[3].split()]
		ok = b.exit != 0 and bool(want)
		t = s.add(Test(name, Status.PASS if ok else Status.FAIL, '' if ok else
			       f'exit {b.exit}; denials: {got[:3] or "none"}; want {src} {tgt} {cls} '
			       f'{{ {perm} }} and a failure'))
		t.log += [' '.join(d) for d in got]
	if not s.subtests:
		s.add(Test('workloads', Status.CRASHED if run.failure else Status.FAIL,
			   'no workload reported' + (f' ({run.failure})' if run.failure else '')))
	return [s.finish(), G.health([run], f'{k.name}.workloads')]


def recipe_verdicts(k: DebianKernel, run: G.GuestRun, rec: Recipe) -> List[Test]:
	"""<kernel>.recipe: the document's recipe, step by step.  The machine
	as installed (Debian's policy, enforcing; the user unconfined_t);
	each of root's commands in root's login; criu labelled by them; the
	user's next login in user_t; the user's commands dump and restore a
	tree of its own; no denial logged from the first step on."""
	b = run.blocks
	s = Test(f'{k.name}.recipe')

	def ran(name: str, key: str) -> Optional[G.Block]:
		if key not in b:
			s.add(Test(name, Status.CRASHED, 'the guest never ran it'
				   + (f' ({run.failure})' if run.failure else '')))
			return None
		return b[key]

	def exits(name: str, key: str) -> None:
		blk = ran(name, key)
		if blk is not None:
			s.add(Test(name, Status.PASS if blk.exit == 0 else Status.FAIL,
				   '' if blk.exit == 0 else f'exit {blk.exit}: {" ".join(blk.lines)[-240:]}'))

	def equals(name: str, key: str, want: str) -> None:
		blk = ran(name, key)
		if blk is not None:
			got = ' '.join(blk.lines).replace('\0', '').strip()
			s.add(Test(name, Status.PASS if got == want else Status.FAIL,
				   '' if got == want else f'"{got[:160]}", not "{want}"'))

	exits('debian_policy_loads', 'recipe.load_policy')
	exits('labels_the_root', 'recipe.label')
	equals('user_logs_in_unconfined_t_before_the_recipe', 'recipe.before.context', UNCONFINED)
	equals('criu_is_bin_t_until_restorecon', 'recipe.criu_label_before',
	       'system_u:object_r:bin_t:s0')
	equals('root_logs_in_unconfined_t', 'recipe.root.context', UNCONFINED)
	took = dict(m.groups() for m in (re.match(r'crcap-step-end (\d+) \d+ (\S+)$', x)
					  for x in b.get('recipe.root.login', G.Block()).lines) if m)
	for n, line in enumerate(rec.root, 1):
		word = re.sub(r'\W+', '_', ' '.join(line.split()[:2])).strip('_')
		t = None
		if f'recipe.root.{n}' in b:
			blk = b[f'recipe.root.{n}']
			t = s.add(Test(f'step_{n}_{word}', Status.PASS if blk.exit == 0 else Status.FAIL,
				       '' if blk.exit == 0 else
				       f'exit {blk.exit}: {" ".join(blk.lines)[-240:]}'))
		else:
			t = s.add(Test(f'step_{n}_{word}', Status.CRASHED,
				       'never ran: a step before it failed'
				       + (f' ({run.failure})' if run.failure else '')))
		t.log.append(f'# {line}' + (f' ({took[str(n)]} s)' if str(n) in took else ''))
	equals('criu_is_criu_exec_t', 'recipe.criu_label', CRIU_EXEC)
	equals('user_logs_in_again_as_user_t', 'recipe.user.context', USER_CONTEXT)
	s.add(run.program('recipe.roundtrip', 'users_steps_dump_and_restore'))
	for part in ('root', 'user'):
		blk = ran(f'{part}_steps_log_no_denial', f'recipe.{part}.avc')
		if blk is not None:
			s.add(no_denial(f'{part}_steps_log_no_denial', blk))
	return [s.finish(), G.health([run], f'{k.name}.recipe')]


def _case_outcome(got: Dict[str, G.Block], bid: str) -> Tuple[bool, str]:
	"""Did case BID (a block, with BID.avc) pass without a denial?  And
	what it saw when it did not."""
	b = got.get(bid)
	avc = sorted(set(denials(got.get(f'{bid}.avc', G.Block()).lines)))
	if b is None:
		return False, 'never ran'
	if b.exit:
		outcome = next((ln[len('# outcome: '):].strip() for ln in b.lines
				if ln.startswith('# outcome: ')), f'exit {b.exit}')
		return False, f'fails ({outcome[:160]})'
	if avc:
		return False, f'denied {avc[:2]}'
	return True, ''


def ablation_verdicts(run: G.GuestRun, blocks: List[Tuple[str, str]],
		      names: Sequence[str] = ()) -> Test:
	"""debian.policy_ablation: for each rule of the criu module (each
	permission of an allow rule, each interface call), a case must fail,
	or log a denial, without it: the enforcing case, or one of the
	workloads NAMES, which the guest runs when the enforcing case misses
	the rule.  Every case must pass with the module as it is."""
	got = run.blocks
	s = Test('debian.policy_ablation')
	s.add(G.health([run], 'guest'))
	bad = [(c, why) for c in ['ablation_base', *[f'ablation_base.workload.{w}' for w in names]]
	       for ok, why in [_case_outcome(got, c)] if not ok]
	if bad:
		s.add(Test('module_passes_unablated', Status.FAIL,
			   f'the module as it is fails {bad[0][0]} here ({bad[0][1]}): '
			   'the ablation proves nothing'))
		return s.finish()
	s.add(Test('module_passes_unablated', Status.PASS))
	for f, name in blocks:
		if f'ablation.{name}' not in got:
			s.add(Test(name, Status.CRASHED, f'the guest never ran it ({run.failure or "?"})'))
			continue
		cases = [f'ablation.{name}', *[f'ablation.{name}.workload.{w}' for w in names
					       if f'ablation.{name}.workload.{w}' in got]]
		missed = [(c, why) for c in cases for ok, why in [_case_outcome(got, c)] if not ok]
		t = s.add(Test(name, Status.PASS if missed else Status.FAIL,
			       '' if missed else f'{f}: criu works without it and logs no denial, in '
			       f'{len(cases)} cases (the enforcing case, workloads '
			       f'{", ".join(names) or "none"}): the rule has no case'))
		for c, why in missed[:1]:
			case = 'the enforcing case' if c == f'ablation.{name}' else \
				'workload ' + c.rsplit('.', 1)[1]
			t.log.append(f'{f}: without it, {case} {why}')
	return s.finish()


# ---- the census's root baseline: zdtm as root, in the guest -----------------

ZDTM_JOB = 'tools/testing/crcap/crcap-zdtm-job.sh'
# Where the guest keeps the CRIU tree zdtm runs from.
ZDTM_TREE = f'{GUEST_DIR}/criu'
# What zdtm and its tests run, beside busybox: zdtm.py and its hooks
# (python3, bash), zdtm_test.available() ("make -C plugins/ clean"), its
# cgroup set-up (flock, mount), the tests' hooks and checkskips (ip,
# iptables for CRIU's network lock, which it runs), ps on a failure, and
# modprobe: the guest's sock_diag, netfilter, tun, veth are modules that
# the kernel loads on demand.
ZDTM_TOOLS = ('dash', 'bash', 'python3', 'make', 'flock', 'mount', 'umount', 'unshare', 'nsenter',
	      'setsid', 'ip', 'iptables', 'ip6tables', 'iptables-legacy', 'ip6tables-legacy',
	      'iptables-restore', 'ip6tables-restore', 'iptables-save', 'ps', 'kmod',
	      'modprobe', 'mktemp', 'timeout', 'tail', 'setcap', 'getcap', 'env', 'setpriv')
# zdtm's Python libraries, from Debian's packages (python3-yaml,
# python3-psutil; pycriu needs python3-protobuf).
ZDTM_PY = ('yaml', '_yaml', 'psutil', 'google')
# Whole packages of programs, over busybox's applets: zdtm starts and
# cleans each test with make (zdtm/Makefile.inc: "rm --one-file-system",
# pkg-config, GNU grep and sed), and its hooks use GNU options.
ZDTM_PROGRAM_PACKAGES = ('coreutils', 'grep', 'sed', 'findutils', 'diffutils', 'pkgconf',
			 'procps', 'iproute2')
ZDTM_PY_DIR = '/usr/lib/python3/dist-packages'
ZDTM_PACKAGES = ('python3-yaml', 'python3-psutil', 'python3-protobuf', 'make', 'iptables',
		 'kmod', 'util-linux', *ZDTM_PROGRAM_PACKAGES)
# What the guest need not carry of the CRIU tree: its git directory.  The
# objects and make's dependency files stay: zdtm runs each test through
# make ("T.pid"), which would rebuild a program whose object is missing.
_TREE_SKIP = ('.git',)


def _package_programs(packages: Sequence[str]) -> List[str]:
	"""The programs the installed PACKAGES put in /usr/bin, /usr/sbin,
	/bin, /sbin."""
	out = util.run(['dpkg', '-L', *packages], capture=True, check=False).stdout
	return sorted({p for p in out.splitlines()
		       if re.match(r'^(/usr)?/s?bin/[^/]+$', p) and os.path.isfile(p)})


def kernel_modules(k: DebianKernel) -> str:
	"""The modules of Debian's kernel K, from its package, with the
	modules.dep its postinst would make: a directory holding
	lib/modules/<release> (kept)."""
	d = os.path.dirname(k.vmlinuz)
	release = k.package[len('linux-image-'):]
	out = os.path.join(d, f'modules-{release}')
	mods = os.path.join(out, 'lib', 'modules', release)
	if os.path.exists(os.path.join(mods, 'modules.dep')):
		return out
	debs = sorted(glob.glob(os.path.join(d, f'{k.package}_*.deb')))
	if not debs:
		raise Error(f'no {k.package} package in {d} for its modules')
	tmp = out + '.tmp'
	shutil.rmtree(tmp, ignore_errors=True)
	util.run(['dpkg-deb', '-x', debs[-1], tmp])
	src = os.path.join(tmp, 'lib', 'modules', release)
	if not os.path.isdir(src):
		raise Error(f'{debs[-1]} has no lib/modules/{release}')
	shutil.rmtree(out, ignore_errors=True)
	os.makedirs(os.path.dirname(mods))
	os.rename(src, mods)
	shutil.rmtree(tmp)
	util.run(['depmod', '-b', out, release])
	return out


def zdtm_root(project_top: str, d: str, tree: str, modules: Optional[str],
	      policy: Optional[str] = None) -> Root:
	"""The root of the census's guests: busybox, the CRIU TREE with
	zdtm built (at ZDTM_TREE, without what only its build needs), python3
	with zdtm's libraries, the tools zdtm and its tests run, the kernel's
	MODULES (None: a kernel with everything built in), and
	crcap-zdtm-job.sh; with POLICY (build_policy()'s directory), that
	policy and setfiles, for the SELinux modes."""
	r = busybox_root(project_top, d)
	tools = (*ZDTM_TOOLS, *(('setfiles',) if policy else ()))
	for tool in (*tools, *_package_programs(ZDTM_PROGRAM_PACKAGES)):
		host = shutil.which(tool, path='/usr/sbin:/usr/bin:/sbin:/bin')
		if not host:
			raise Error(f'no {tool} on the host to put in the guest '
				    f'(scripts/crcap deps: {" ".join(ZDTM_PACKAGES)})')
		dst = r.path(_merged(host))
		if os.path.lexists(dst):
			os.unlink(dst)
		if os.path.islink(host) and os.path.basename(os.path.realpath(host)) != \
		   os.path.basename(host):
			# iptables -> xtables-nft-multi, modprobe -> kmod: the
			# multi-call program by the name it is called by.
			real = os.path.realpath(host)
			r.add(real, _merged(real))
			os.symlink(_merged(real), dst)
			continue
		r.add(host, _merged(host))
	# /bin/sh is dash, as in Debian: busybox's sh runs its own applets
	# before the PATH's (make's "rm --one-file-system" got busybox's rm).
	os.unlink(r.path('/usr/bin/sh'))
	os.symlink('dash', r.path('/usr/bin/sh'))
	for pydir in glob.glob('/usr/lib/python3.[0-9]*'):
		shutil.copytree(pydir, r.path(pydir), symlinks=True, dirs_exist_ok=True,
				ignore=lambda dp, names: [n for n in names if n in (
					'test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip',
					'__pycache__') or n.startswith('config-3')])
	for name in ZDTM_PY:
		found = glob.glob(os.path.join(ZDTM_PY_DIR, name)) + \
			glob.glob(os.path.join(ZDTM_PY_DIR, f'{name}.cpython-*.so'))
		if not found:
			raise Error(f'no {name} in {ZDTM_PY_DIR}: install '
				    f'{" ".join(ZDTM_PACKAGES[:3])}')
		for f in found:
			r.add(f)
	dst = r.path(ZDTM_TREE)
	shutil.copytree(tree, dst, symlinks=True,
			ignore=shutil.ignore_patterns(*_TREE_SKIP))
	for dp, _, fs in os.walk(dst):
		for f in fs:
			p = os.path.join(dp, f)
			if os.path.isfile(p) and not os.path.islink(p) and os.access(p, os.X_OK) \
			   and _is_elf(p):
				r.elves.append(p)
	# iptables' matches and targets: libraries it opens by name.
	for xt in glob.glob('/usr/lib/*-linux-gnu/xtables'):
		r.add(xt)
	if modules:
		r.add(os.path.join(modules, 'lib', 'modules'), '/usr/lib/modules')
	r.elves = [e for e in r.elves if not e.endswith('.ko.xz')]
	if policy:
		r.add(os.path.join(policy, 'policy.33'), f'{GUEST_DIR}/policy/criu/policy.33')
		for f in os.listdir(policy):
			if f.startswith('file_contexts'):
				r.add(os.path.join(policy, f), f'{GUEST_DIR}/policy/criu/{f}')
		r.write('/etc/selinux/config', 'SELINUX=permissive\nSELINUXTYPE=default\n')
	r.add(os.path.join(project_top, ZDTM_JOB), f'{GUEST_DIR}/bin/crcap-zdtm-job.sh', 0o644)
	r.add_libs()
	r.write('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
	r.write('/etc/group', 'root:x:0:\nnogroup:x:65534:\n')
	# CRIU's network lock: iptables, with its nf_tables back end.
	r.write('/etc/protocols', 'ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\n'
		'ipv6-icmp 58 IPv6-ICMP\n')
	return r


def zdtm_initrd(project_top: str, build: str, tree: str, k: DebianKernel,
		policy: Optional[str] = None) -> str:
	"""The census guests' initramfs for kernel K (with POLICY: for the
	SELinux modes), kept and keyed on its inputs (the CRIU tree, the
	modules, the job, the policy).  A kernel crcap built (K.package empty)
	has no modules: what zdtm needs is built in."""
	modules = kernel_modules(k) if k.package else None
	# What zdtm.py would build at its start (zdtm_test.available()), with
	# no compiler in the guest: built here, once.
	test = os.path.join(tree, 'test')
	if not all(os.access(os.path.join(test, p), os.X_OK) for p in ('umount2', 'zdtm_ct')):
		util.run(['make', '-C', test, 'umount2', 'zdtm_ct'], log=os.path.join(
			build, 'zdtm-build.log'), env=dict(os.environ, MAKEFLAGS=''))
	initrd = os.path.join(build, f'zdtm-initrd-{"selinux-" if policy else ""}{k.name}.gz')
	key = root_key(project_top, [tree, *([modules] if modules else []),
				     os.path.join(project_top, ZDTM_JOB), *([policy] if policy else [])],
		       True)
	if not kept(initrd, key):
		zdtm_root(project_top, os.path.join(build, 'zdtm-root'), tree, modules,
			  policy).cpio(initrd)
		shutil.rmtree(os.path.join(build, 'zdtm-root'), ignore_errors=True)
		keep(initrd, key)
	return initrd


def zdtm_job(args: Sequence[str], limit: float, caps: str = '', userns: bool = False,
	     selinux: str = '',
	     ablate: Sequence[Tuple[str, float, Sequence[str]]] = ()) -> str:
	"""The guest's job: zdtm.py run ARGS in ZDTM_TREE/test, stopped
	(SIGINT: it writes its report out) after LIMIT seconds; as root, or
	with CAPS as the census user runs it (criu with CAPS+eip; inside
	"unshare -Ucfpm --mount-proc" if USERNS; in user_t under the policy,
	SELINUX "permissive" or "enforcing", if given).  Then, under the
	policy, for each (RULE, LIMIT, ARGS) of ABLATE: the module without
	RULE loaded, and zdtm.py run ARGS again."""
	lines = '\n'.join(f'{rule} {lim:.0f} {shlex.join(a)}' for rule, lim, a in ablate)
	return (f'CRCAP_ZDTM_ARGS={shlex.quote(shlex.join(args))}\n'
		f'CRCAP_ZDTM_ABLATE={shlex.quote(lines)}\n'
		f'CRCAP_ZDTM_LIMIT={limit:.0f}\n'
		f'CRCAP_ZDTM_TREE={ZDTM_TREE}\n'
		f'CRCAP_ZDTM_CAPS={shlex.quote(caps)}\n'
		f'CRCAP_ZDTM_USERNS={int(userns)}\n'
		f'CRCAP_ZDTM_SELINUX={selinux}\n'
		f'. {GUEST_DIR}/bin/crcap-zdtm-job.sh\n')


def zdtm_guest(k: DebianKernel, initrd: str, timeout: float, selinux: bool = False) -> G.Qemu:
	"""Debian's kernel K with the default LSMs (zdtm does not load a
	policy), or with SELinux and the audit log the SELinux modes need;
	memory for the root (~0.3 GB) and for the images zdtm's dumps leave
	in it."""
	append = 'lsm=lockdown,capability,yama,selinux audit=1 audit_backlog_limit=8192' \
		if selinux else ''
	return G.Qemu(k.vmlinuz, initrd, timeout, mem='3072', smp=2, append=append)
