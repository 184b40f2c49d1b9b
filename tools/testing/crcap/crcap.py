#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""crcap: from a kernel source tree to a verified kernel, in one command.

The entry point is scripts/crcap; this is its command line, split as
tools/testing/kunit is:

  crcap.py          the commands (argparse subcommands) and their order
  crcap_stages.py   the stages of a run: each returns its Tests and timings
  crcap_tree.py     kernel trees: unpack, overlay, series, round trip
  crcap_kernel.py   configure and build UML kernels, selftests, tools
  crcap_guest.py    the guest interface (Uml, Qemu), the job protocol, the judge
  crcap_suites.py   what runs where (SUITES); results into tests
  crcap_parser.py   TAP/KTAP into a tree of tests, plans checked
  crcap_report.py   the tree as KTAP (kunit.py parse reads it), JSON, summary
  crcap_mutants.py  mutant kernels in linked copies (and the edits in mutants)
  crcap_qemu.py     Debian's own kernels under QEMU, Debian's policy enforcing
  crcap_refpolicy.py  the criu module in a snapshot of upstream refpolicy, its CI's checks
  crcap_census.py   CRIU's zdtm without root, judged against census/expected
  crcap_lint.py     checkpatch, flake8 and shellcheck over what the project ships
  crcap_util.py     processes, signals, the build lock
  crcap_tool_test.py  tests of all of the above, every command against mocks
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from typing import Callable, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import crcap_bench		# noqa: E402
import crcap_census as CEN	# noqa: E402
import crcap_guest as G		# noqa: E402
import crcap_kernel as K	# noqa: E402
import crcap_lint as L		# noqa: E402
import crcap_qemu as Q		# noqa: E402
import crcap_refpolicy as RP	# noqa: E402
import crcap_report as R	# noqa: E402
import crcap_rfc as RFC		# noqa: E402
import crcap_submission as SUB	# noqa: E402
import crcap_suites as S	# noqa: E402
import crcap_tree as T		# noqa: E402
import crcap_util as util	# noqa: E402
from crcap_stages import Request, Stage, Stages	# noqa: E402
from crcap_util import Error, say	# noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
	os.path.dirname(os.path.abspath(__file__)))))


def finish(c: Stages, st: Stage) -> int:
	"""The report of ST's tests; exit status 1 on any failure."""
	return R.report(c.results, st.tests, c.environment(), st.timings, c.kunit_py(),
			c.req.json, c.req.raw, st.lines)


# ------------------------------------------------------------------ commands

def cmd_deps(c: Stages) -> int:
	c.deps()
	return 0


def cmd_tree(c: Stages) -> int:
	c.start()
	k = c.kernel()
	c.prepare(k)
	say(f'tree {k.name}: {k.src} ready')
	return 0


def cmd_build(c: Stages) -> int:
	c.start()
	c.build_all(c.kernel())
	return 0


def cmd_boot(c: Stages) -> int:
	c.start()
	if not c.req.cmd:
		raise Error('usage: scripts/crcap boot [--kernel K] [--timeout S] -- CMD...')
	k = c.kernel()
	G.install_uml_init(c.top, c.build)
	res = os.path.join(c.results, f'boot-{k.name}')
	job = 'cd /\n' + ' '.join(shlex.quote(a) for a in c.req.cmd) + '\n'
	run = c.uml(k.linux).boot(res, job)
	sys.stdout.write('\n'.join(run.output()) + '\n')
	if run.failure or run.problems:
		say(f'boot: FAILED: {run.failure or "; ".join(run.problems[:3])}')
		say(f'boot: kernel log: {res}/kernel.log')
		return 1
	say(f'boot: command exited with {run.exit} in {run.seconds:.1f}s '
	    f'(kernel log: {res}/kernel.log)')
	return run.exit or 0


def cmd_selfcheck(c: Stages) -> int:
	c.start()
	return finish(c, c.selfcheck(c.kernel(), qemu=not c.req.quick))


def cmd_roundtrip(c: Stages) -> int:
	c.start()
	return finish(c, Stage([T.roundtrip(c.project, c.kernel())]))


def cmd_refpolicy(c: Stages) -> int:
	c.start()
	if c.req.refresh_patch:
		for p in RP.refresh(c.top, c.build):
			print(p)
		return 0
	return finish(c, Stage([S.refpolicy(c.project, c.build)]))


def cmd_lint(c: Stages) -> int:
	c.start()
	k = c.kernel()
	c.prepare(k)
	return finish(c, Stage([L.lint(c.project, k)]))


def cmd_mutants(c: Stages) -> int:
	c.start(need_root='crcap mutants (the guests run the suite as root)')
	k = c.kernel()
	st = c.build_all(k)
	base = c.guests(k, f'uml-{k.name}')
	st.add(base.stage(f'uml-{k.name} guests'))
	st.add(c.mutants(k, base))
	return finish(c, st)


def cmd_format_patch(c: Stages) -> int:
	c.start()
	k = c.kernel()
	c.prepare(k)
	out = os.path.abspath(c.req.output or os.path.join(c.build, f'submission-{k.name}'))
	if c.req.rfc:		# the RFC on top of the submission: out/base, out/rfc
		suite = SUB.check_rfc(c.project, k, out)
		for sub in ('base', 'rfc'):
			for f in sorted(os.listdir(os.path.join(out, sub))) \
			    if os.path.isdir(os.path.join(out, sub)) else []:
				print(os.path.join(out, sub, f))
		return finish(c, Stage([suite]))
	suite, tree = SUB.check(c.project, k, out)
	for f in sorted(os.listdir(out)) if os.path.isdir(out) else []:
		print(os.path.join(out, f))
	if tree:
		say(f'format-patch: git am onto the pristine {k.name} tree: {tree}')
	return finish(c, Stage([suite]))


def cmd_test(c: Stages) -> int:
	c.start(need_root='crcap test (the suites switch credentials and '
		'build namespaces as root)')
	return finish(c, c.test())


def cmd_run(c: Stages) -> int:
	c.start(need_root='crcap run (the suites switch credentials and '
		'build namespaces as root)')
	return finish(c, c.main_job())


def cmd_debian(c: Stages) -> int:
	c.start(need_root='crcap debian (the guests\' root is built from the host\'s files)')
	st = Stage()
	ks = c.kernels()
	for k in ks:
		st.add(c.build_all(k))
	if c.req.quick:		# one kernel, as "test" boots it, and its rules
		return finish(c, st.add(c.debian([k for k in ks if k.debian],
						  Q.IN_TEST_RULES, Q.IN_TEST_KERNELS,
						  Q.IN_TEST_WORKLOADS)))
	return finish(c, st.add(c.debian([k for k in ks if k.debian])))


def cmd_census(c: Stages) -> int:
	c.start(need_root='crcap census (it makes the user the tests run as)')
	c.deps(quiet=True)
	modes = CEN.modes_of(c.req.modes or CEN.HOST_MODES)
	if c.req.guest_kernel:	# in guests of that kernel: reported, not judged
		return finish(c, RFC.census_on(c, c.req.guest_kernel, modes, c.req.tests))
	if any(CEN.MODES[m].selinux for m in modes):
		raise Error(f'census: {", ".join(CEN.SELINUX_MODES)} run in guests of Debian\'s '
			    'kernels only (--kernel debian-6.12)')
	if c.req.tests:		# those tests in each mode, no workloads
		return finish(c, c.census(modes, {m: c.req.tests for m in modes}, workloads=False))
	if any(m in CEN.HOST_MODES for m in modes):
		K.build_tools(c.project, c.build)	# the workloads' omp_job
	return finish(c, c.census(modes))


def cmd_rfc(c: Stages) -> int:
	c.start(need_root='crcap rfc (the census guests\' root is built from the host\'s files)')
	c.deps(quiet=True)
	modes = CEN.modes_of(c.req.modes or RFC.MODES)
	return finish(c, RFC.run(c, c.req.tests, modes, c.req.quick, c.req.full))


def cmd_pidbench(c: Stages) -> int:
	c.start()
	k = c.kernel()
	out = K.build_tools(c.project, c.build)
	G.install_uml_init(c.top, c.build)
	pb = os.path.join(out, 'pidbench')
	print(f'== host {platform.release()}, {os.cpu_count()} cores: pidbench '
	      + ' '.join(c.req.cmd), flush=True)
	util.run([pb, *c.req.cmd], stdin=None, check=False)
	print(f'\n== UML {k.name} guest (one virtual CPU): pidbench '
	      + ' '.join(c.req.cmd), flush=True)
	run = c.uml(k.linux).boot(os.path.join(c.results, f'pidbench-{k.name}'),
				  ' '.join(shlex.quote(a) for a in [pb, *c.req.cmd]) + '\n')
	print('\n'.join(run.output()))
	return 1 if run.failure else 0


def cmd_bench(c: Stages) -> int:
	c.start(need_root='crcap bench (it runs the suites)')
	return crcap_bench.bench(c)


# name: (function, help, options it takes)
COMMANDS: Dict[str, tuple] = {
	'deps': (cmd_deps, 'install the Debian packages crcap needs (root)', ()),
	'tree': (cmd_tree, 'unpack Debian\'s source (or link your tree), overlay the '
		 'project, apply the series', ('kernel',)),
	'build': (cmd_build, 'tree + UML kernel + selftests + external module + tools',
		  ('kernel',)),
	'boot': (cmd_boot, 'boot the UML guest with CMD as its job: "boot -- CMD..."',
		 ('kernel', 'timeout', 'cmd')),
	'test': (cmd_test, 'every suite; report in .build/results/report.ktap; exit 1 '
		 'on a failure', ('kernel', 'quick', 'timeout', 'json', 'raw')),
	'run': (cmd_run, 'the main job: one kernel from source to verified (built, its '
		'suites on the host and in UML), then the observed outcome per case and '
		'variant', ('kernel', 'timeout', 'json', 'raw')),
	'selfcheck': (cmd_selfcheck, 'broken guests (exit 3, SIGSEGV, kernel WARNING, call '
		      'trace, hang, lost results) must be reported, UML and QEMU',
		      ('kernel', 'quick', 'timeout', 'json', 'raw')),
	'roundtrip': (cmd_roundtrip, 'the series reversed on the distribution\'s files and '
		      're-applied', ('kernel', 'json', 'raw')),
	'mutants': (cmd_mutants, 'every mutant kernel (wiring patches out, checks moved, '
		    'the SELinux side, reads made to need the capability) must fail named '
		    'cases; "test" builds a fixed subset', ('kernel', 'timeout', 'json', 'raw')),
	'debian': (cmd_debian, 'Debian\'s own 6.1 and 6.12 kernels under QEMU, Debian\'s '
		   'policy enforcing, and the criu module without each of its rules ("test", '
		   'and --quick for one kernel, --kernel K: a fixed subset)',
		   ('kernel', 'quick', 'timeout', 'json', 'raw')),
	'census': (cmd_census, 'CRIU\'s own zdtm suite without root, in each mode, '
		   'against tools/checkpoint_restore/census/expected ("test" runs '
		   'crcap_census.IN_TEST); --mode root: as root, in QEMU guests of '
		   'Debian\'s 6.12 kernel, never on the host',
		   ('modes', 'tests', 'record', 'guest_kernel', 'json', 'raw')),
	'rfc': (cmd_rfc, 'the RFC series (security/checkpoint_restore/rfc, never applied by '
		'default): x86_64 kernels built from the 6.12 source without it, with each '
		'patch, with all of it and with each mutant, booted under QEMU; the suite in '
		'each, the census delta and the container path (runc_path) without and with '
		'it (--quick: the RFC and base only)',
		('modes', 'tests', 'quick', 'full', 'json', 'raw')),
	'refpolicy': (cmd_refpolicy, 'build policy/refpolicy, link it into Debian\'s base, '
		      'sesearch; with $CRCAP_REFPOLICY (a refpolicy tree or bare git '
		      'directory), the module in upstream refpolicy with its CI\'s checks',
		      ('json', 'raw', 'refresh_patch')),
	'lint': (cmd_lint, 'checkpatch.pl --strict, flake8 and shellcheck on what the '
		 'project ships, MAINTAINERS coverage', ('kernel', 'json', 'raw')),
	'bench': (cmd_bench, 'build, boot and test times, beside the previous design\'s '
		  'and the targets', ('kernel', 'timeout')),
	'pidbench': (cmd_pidbench, 'tools/checkpoint_restore/pidbench on the host and in '
		     'the guest: "pidbench -- ARGS"', ('kernel', 'timeout', 'cmd')),
	'format-patch': (cmd_format_patch, 'the submission as a numbered series with a '
			 'cover letter (-o DIR), checked; --rfc: the RFC series too, on top '
			 'of it (DIR/base, DIR/rfc)', ('kernel', 'output', 'rfc', 'json', 'raw')),
}

_OPTIONS: Dict[str, Callable[[argparse.ArgumentParser], None]] = {
	'kernel': lambda p: p.add_argument(
		'--kernel', default='6.12', metavar='K',
		help='6.12 (default), 6.1 or the path of a kernel tree'),
	'quick': lambda p: p.add_argument('--quick', action='store_true',
					  help='test, selfcheck: one kernel, no mutants, no QEMU guests; '
					  'debian: that kernel\'s flavour of IN_TEST_KERNELS and '
					  'IN_TEST_RULES'),
	'timeout': lambda p: p.add_argument(
		'--timeout', type=float, default=os.environ.get('CRCAP_TIMEOUT'),
		metavar='S', help='seconds every guest may take (default: UML 600, '
		'Debian\'s kernels 240, the policy ablation 60 + 20 per rule)'),
	'json': lambda p: p.add_argument('--json', metavar='FILE',
					 help='also write the results as JSON'),
	'raw': lambda p: p.add_argument('--raw', action='store_true',
					help='print the whole KTAP report'),
	'output': lambda p: p.add_argument('-o', '--output', metavar='DIR',
					   help='where the series goes'),
	'modes': lambda p: p.add_argument(
		'--mode', dest='modes', action='append', metavar='M',
		help='a census mode (caps, userns, cr_only: on the host, the default; root: '
		'in QEMU guests, asked for by name; caps_selinux_permissive, caps_selinux: in '
		'user_t under Debian\'s policy and the criu module, with --kernel debian-*; '
		'both: each test passing permissive only is run alone to name its denial); '
		'repeat for more'),
	'tests': lambda p: p.add_argument(
		'--test', dest='tests', action='append', metavar='NAME',
		help='only this zdtm test (zdtm/static/NAME) in each mode, and no '
		'workloads; repeat for more'),
	'record': lambda p: p.add_argument(
		'--record', metavar='FILE', help='write what the census saw as lines of '
		'census/expected (the causes it found), to review'),
	'refresh_patch': lambda p: p.add_argument(
		'--refresh-patch', action='store_true',
		help='write policy/refpolicy/upstream/*.patch again from policy/refpolicy/criu.* '
		'($CRCAP_REFPOLICY: the snapshot they apply to)'),
	'full': lambda p: p.add_argument('--full', action='store_true',
					 help='the census delta on every test (default: '
					 'crcap_rfc.IN_RFC, the tests the RFC changes and their kind)'),
	'guest_kernel': lambda p: p.add_argument(
		'--kernel', dest='guest_kernel', metavar='K',
		help='the modes in QEMU guests of K, not on the host: debian-6.12, debian-6.1 '
		'(Debian\'s newest, -amd64 or -cloud-amd64 after it for a flavour), crcap-6.12 '
		'(built from the 6.12 source), crcap-6.12+rfc (with the RFC series), '
		'crcap-6.12+NNNN (with its patch NNNN alone); reported beside the host\'s '
		'expectations, not judged'),
	'rfc': lambda p: p.add_argument('--rfc', action='store_true',
					help='the RFC series (security/checkpoint_restore/rfc) with its '
					'cover letter, git am-able after the submission'),
	'cmd': lambda p: p.add_argument('cmd', nargs='*', metavar='-- CMD',
					help='the command (after --)'),
}


def parser() -> argparse.ArgumentParser:
	p = argparse.ArgumentParser(
		prog='scripts/crcap', description='From a kernel source tree to a verified kernel.',
		epilog='K is 6.12 (default), 6.1 or the path of a kernel tree (a linked copy is '
		'built; your tree is never written).  Build output goes to .build/ in the '
		'checkout, or to $CRCAP_BUILD.')
	sub = p.add_subparsers(dest='command', metavar='command', required=True)
	for name, (_, text, opts) in COMMANDS.items():
		sp = sub.add_parser(name, help=text, description=text)
		for o in opts:
			_OPTIONS[o](sp)
	return p


def parse_args(argv: List[str]) -> Request:
	"""The command line as a Request."""
	rest: List[str] = []
	if '--' in argv:
		i = argv.index('--')
		argv, rest = argv[:i], argv[i + 1:]
	ns = parser().parse_args(argv)
	if rest and 'cmd' not in COMMANDS[ns.command][2]:
		parser().error(f'{ns.command} takes no command: {" ".join(rest)}')
	req = Request(command=ns.command)
	for k in ('kernel', 'quick', 'timeout', 'json', 'raw', 'output', 'modes', 'tests',
		  'record', 'refresh_patch', 'rfc', 'guest_kernel', 'full'):
		if getattr(ns, k, None) is not None:
			setattr(req, k, getattr(ns, k))
	if req.timeout is not None:
		req.timeout = float(req.timeout)
	req.cmd = list(getattr(ns, 'cmd', None) or []) + rest
	return req


def main(argv: List[str], top: str = TOP, build: Optional[str] = None) -> int:
	req = parse_args(argv)
	util.install_signal_handlers()
	c = Stages(top, req, build)
	try:
		return COMMANDS[req.command][0](c)
	except Error as e:
		print(f'crcap: error: {e}', file=sys.stderr)
		return 1
	except util.Interrupted as e:
		print(f'\ncrcap: interrupted by signal {e.signum}: stopped every guest '
		      'and build it had started', file=sys.stderr)
		return 128 + e.signum
	finally:
		util.run_cleanups()


if __name__ == '__main__':
	sys.exit(main(sys.argv[1:]))
