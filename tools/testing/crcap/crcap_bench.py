# SPDX-License-Identifier: GPL-2.0
"""scripts/crcap bench: the harness's speed, beside the previous design's.

Measured live, on the same kernel and the same installed suite:
 * "scripts/crcap run" with nothing changed (its stages: the build that
   finds nothing to do, the tool tests, the host suites, the UML guests);
 * guest boot to all results: crcap's guests (programs run directly, split
   over crcap_stages.UML_SHARDS guests) against the previous design's single guest
   (run_kselftest.sh, then crcheck, then the SELinux phase, in a row);
 * the mutant kernels' check (all of them, kept or rebuilt);
 * CRIU dump and restore of a small and a 200 MB task, root against an
   unprivileged user with the file capabilities the test finds minimal.
Then the figures of the report before (a cold "scripts/crcap test" has a
target of its own: what CI may take).
Targets are printed beside the figures; nothing here fails a run.
"""

from __future__ import annotations

import os
import re
import shlex
import time

import crcap_criu

import crcap_kernel as K
import crcap_mutants as M
import crcap_util as util

TARGET_GUEST = 10.0	# seconds, boot to all results, UML 6.12
TARGET_RUN_UNCHANGED = 120.0
TARGET_COLD_TEST = 25 * 60.0	# a cold .ci/run on a fresh 2-core machine
# Measured before the guest interface was one (issue 18's figures, this
# machine): "run" with nothing changed, and its parts.
BEFORE_RUN_UNCHANGED = 627.0


def last_timings(report: str) -> dict:
	"""The "# time NAME: Ss" lines of the last report."""
	out = {}
	for line in util.read_text(report).splitlines():
		m = re.match(r'^# time (.+): ([0-9.]+)s$', line)
		if m:
			out[m.group(1)] = float(m.group(2))
	return out


def _old_job(c, k) -> str:
	"""The previous design's guest job (scripts/crcap before the rewrite):
	the kselftest runner, then crcheck, then SELinux, one after another."""
	q = shlex.quote
	kst = k.kselftest
	tools = os.path.join(c.build, 'tools')
	guest = os.path.join(c.build, 'guest')
	sel = k.selinux
	return '\n'.join([
		f'cd {q(kst)} && ./run_kselftest.sh >/dev/null 2>&1',
		f'{q(guest)}/crcheck_test.sh {q(tools)}/crcheck >/dev/null 2>&1',
		f'insmod {q(K.extmod_ko(k))} && rmmod checkpoint_restore_kunit',
		f'cat {q(sel)}/mdp.bin >/sys/fs/selinux/load',
		f'cat {q(sel)}/crcap_test.bin >/sys/fs/selinux/load && echo 1 >/sys/fs/selinux/enforce',
		f'cd {q(kst)}/checkpoint_restore && ./selinux_test >/dev/null 2>&1',
		f'{q(guest)}/crcheck_test.sh {q(tools)}/crcheck selinux >/dev/null 2>&1',
		'exit 0', ''])


def bench(c) -> int:
	k = c.kernel()
	rows = []
	# "scripts/crcap run" itself, with nothing changed since the last
	# build: what is keyed on its inputs is kept, the guests boot.
	c.build_all(k)
	st = c.main_job()
	rows.append(('"run" with nothing changed', st.timings['total'], BEFORE_RUN_UNCHANGED,
		     TARGET_RUN_UNCHANGED))
	for name, secs in st.timings.items():
		if name != 'total':
			rows.append((f'  {name}', secs, None, None))
	new = st.timings[f'uml-{k.name} guests']

	t = time.monotonic()
	run = c.uml(k.linux).boot(os.path.join(c.results, f'bench-old-{k.name}'),
				  _old_job(c, k), name='old')
	old = time.monotonic() - t
	rows.append((f'guest boot to all results, UML {k.name}', new, old, TARGET_GUEST))
	if run.failure:
		rows.append((f'  (previous design\'s guest: {run.failure})', 0, None, None))

	ms = M.mutants(c.project, k)
	t = time.monotonic()
	rebuilt = [m.name for m in ms if M.build(c.project, k, m, c.jobs)]
	rows.append((f'mutant kernels, {len(ms)} ({len(rebuilt)} rebuilt)',
		     time.monotonic() - t, None, None))

	criu, where = crcap_criu.find(c.project.top, c.build, c.jobs)
	criu_lines = [f'criu: none ({where})']
	if criu:
		p = util.run([os.path.join(c.project.top, 'tools/checkpoint_restore/criu_test.py'),
			      criu, os.path.join(c.build, 'tools'), '--bench'],
			     capture=True, check=False, timeout=900)
		criu_lines = [ln[len('# bench: '):] for ln in p.stdout.splitlines()
			      if ln.startswith('# bench: ')] or [f'criu bench: no figures (exit {p.returncode})']

	print(f'{"":48} {"crcap":>9} {"previous":>9} {"target":>8}')
	for name, now, before, target in rows:
		if not now and before is None:
			print(name)
			continue
		print(f'{name:<48} {now:8.1f}s {(f"{before:.1f}s" if before else "-"):>9} '
		      f'{(f"≤{target:.0f}s" if target else ""):>8}')
	print('\nwhat running without root costs (tools/checkpoint_restore/criu_test.py --bench):')
	for line in criu_lines:
		print('  ' + line)
	last = os.path.join(c.results, 'report.ktap')
	times = last_timings(last)
	if times:
		print(f'\nthe report before this bench ({last}):')
		print(f'  {"":46} {"now":>9} {"target":>9}')
		for name, secs in times.items():
			target = f'≤{TARGET_COLD_TEST:.0f}s' if name == 'total' else ''
			print(f'  {name:<46} {secs:8.1f}s {target:>9}')
		print('  ("total" of a cold "scripts/crcap test" is what the target is for)')
	return 0
