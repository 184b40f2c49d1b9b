#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# crcheck under the credential sets the selftests use; its verdicts must be
# the ones the selftests observe for the same credentials, and where it
# tried an operation its prediction must agree with what it saw.  Prints
# TAP.  Needs root (it drops to uid 65534 itself).
#
#   crcheck_test.sh CRCHECK [selinux]
#
# With "selinux" (the UML guest, crcap test policy loaded, enforcing) it
# runs only the denied-domain case.

CRCHECK=${1:?usage: crcheck_test.sh CRCHECK [selinux]}
MODE=${2:-host}
n=0
fails=0
CAPOPS=(set_tid map_files prctl_exe lock_termios ipc_next_id)
# Every capability operation with one verdict, as arguments to check.
ALL_WORKS=("${CAPOPS[@]/%/=works}")
ALL_REFUSED=("${CAPOPS[@]/%/=refused}")

ok() { n=$((n + 1)); echo "ok $n $*"; }
# nok NAME [DETAILS]: the details go on a diagnostic line, so that a
# case keeps its name (its test id) whether it passes or fails.
nok() {
	n=$((n + 1)); fails=$((fails + 1))
	[ -z "${2:-}" ] || echo "# $1:$2"
	echo "not ok $n $1"
}

# field JSON OP NAME: NAME of operation OP in crcheck's --json output, in
# REPLY.  No subshell and no sed: the check below reads 15 fields a case,
# and a fork costs ~18 ms in the UML guest.
field() {
	local re="(^|"$'\n'")  \"$2\": \\{[^"$'\n'"]*\"$3\": \"([^\"]*)\""

	REPLY=
	if [[ $1 =~ $re ]]; then REPLY=${BASH_REMATCH[2]}; fi
}

# check NAME JSON OP=VERDICT...: each operation's verdict, and agreement.
check() {
	local name=$1 json=$2 kv op want got pred tried bad=""
	shift 2
	for kv in "$@"; do
		op=${kv%%=*}
		want=${kv#*=}
		field "$json" "$op" verdict
		got=$REPLY
		[ "$want" = any ] || [ "$got" = "$want" ] || bad+=" $op:$got(expected $want)"
	done
	for op in "${CAPOPS[@]}"; do
		field "$json" "$op" predicted
		pred=$REPLY
		field "$json" "$op" tried
		tried=$REPLY
		[ "$tried" = "not tried" ] || [ -z "$tried" ] || [ "$pred" = "-" ] || [ "$tried" = "$pred" ] ||
			bad+=" $op:predicted-$pred-but-$tried"
	done
	if [ -z "$bad" ]; then ok "$name"; else nok "$name" "$bad"; fi
}

echo "TAP version 13"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to switch credentials"
	exit 0
fi
if [ "$(cat /proc/sys/kernel/cap_last_cap)" -lt 40 ]; then
	echo "1..0 # SKIP kernel lacks CAP_CHECKPOINT_RESTORE"
	exit 0
fi
tty_ok=works
# Before 6.8 only stable backports let the capability lock termios: the
# selftests skip that case there, and so does this check.
[ "$(uname -r | awk -F. '{ print ($1 > 6 || ($1 == 6 && $2 >= 8)) }')" = 1 ] || tty_ok=any

dir=$(mktemp -d /tmp/crcheck-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cp "$CRCHECK" "$dir/crcheck"
chmod 755 "$dir" "$dir/crcheck"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# Exec into an SELinux domain (runcon wants /etc/selinux/config, which the
# guest has not).  $0 and $@ are the inner shell's: single quotes intended.
# shellcheck disable=SC2016
INDOMAIN=(sh -c 'printf %s "u:r:$0" >/proc/self/attr/exec && exec "$@"')

if [ "$MODE" = selinux ]; then
	j=$("${NOBODY[@]}" --inh-caps=+checkpoint_restore --ambient-caps=+checkpoint_restore \
		"${INDOMAIN[@]}" crcap_denied_t "$dir/crcheck" --json)
	check "uid 65534 + CAP_CHECKPOINT_RESTORE in the denied SELinux domain: refused, predicted from the policy" \
		"$j" "${ALL_REFUSED[@]}"
	if grep -q '"selinux_checkpoint_restore": "denied"' <<<"$j"; then
		ok "crcheck asked the policy: checkpoint_restore denied"
	else
		nok "crcheck did not find the denial in the policy"
	fi
	j=$("${NOBODY[@]}" --inh-caps=+checkpoint_restore --ambient-caps=+checkpoint_restore \
		"${INDOMAIN[@]}" crcap_allowed_t "$dir/crcheck" --json)
	check "uid 65534 + CAP_CHECKPOINT_RESTORE in the allowed SELinux domain: works" \
		"$j" set_tid=works map_files=works prctl_exe=works lock_termios=$tty_ok ipc_next_id=works
	echo "1..$n"
	exit $((fails > 0))
fi

j=$("$dir/crcheck" --json)
check "root: everything works" "$j" "${ALL_WORKS[@]}"

j=$("${NOBODY[@]}" --inh-caps=-all --bounding-set=-all "$dir/crcheck" --json)
check "uid 65534 without capabilities: every capability operation refused" "$j" "${ALL_REFUSED[@]}"
"${NOBODY[@]}" --inh-caps=-all "$dir/crcheck" --for restore >/dev/null
rc=$?
if [ "$rc" = 1 ]; then
	ok "exit status 1 when --for restore does not work"
else
	nok "exit status is not 1 when --for restore does not work"
fi

# With CAP_SETPCAP: a restorer gives the task its bounding set back with
# PR_CAPBSET_DROP, which needs it whenever the bounding set is not full.
if setcap cap_checkpoint_restore,cap_setpcap+ep "$dir/crcheck" 2>/dev/null; then
	j=$("${NOBODY[@]}" --inh-caps=-all "$dir/crcheck" --json)
	check "uid 65534 via a setcap'd copy (checkpoint_restore, setpcap): works" "$j" \
		set_tid=works map_files=works prctl_exe=works lock_termios=$tty_ok ipc_next_id=works
	if "${NOBODY[@]}" --inh-caps=-all "$dir/crcheck" --for restore >/dev/null; then
		ok "exit status 0 when --for restore works"
	else
		nok "exit status is not 0 when --for restore works"
	fi
	j=$("${NOBODY[@]}" --inh-caps=-all /bin/sh -c "'$dir/crcheck' --exec '$dir/crcheck' --json")
	if grep -q '"effective_checkpoint_restore": true' <<<"$j"; then
		ok "--exec predicts the file capability of a binary"
	else
		nok "--exec did not predict the file capability"
	fi
	setcap -r "$dir/crcheck"
else
	echo "ok $((n += 1)) setcap'd copy # SKIP no file capabilities on $dir"
fi

j=$("${NOBODY[@]}" --inh-caps=+checkpoint_restore --ambient-caps=+checkpoint_restore "$dir/crcheck" --json)
check "uid 65534 with CAP_CHECKPOINT_RESTORE as ambient capability: works" "$j" \
	set_tid=works map_files=works prctl_exe=works lock_termios=$tty_ok ipc_next_id=works

j=$(unshare -Ur "$dir/crcheck" --json)
check "root of a new user namespace: only its own namespaces (PR_SET_MM_MAP)" "$j" \
	set_tid=refused map_files=refused prctl_exe=works lock_termios=refused ipc_next_id=refused

j=$(unshare -Urpfi --mount-proc "$dir/crcheck" --json)
check "root of a new user namespace with its own PID and IPC namespaces" "$j" \
	set_tid=works map_files=refused prctl_exe=works lock_termios=refused ipc_next_id=works

# set_tid, level by level: how many PID namespace levels, from the
# innermost, the kernel lets these credentials choose PIDs in.
levels() { sed -n 's/.*"set_tid_levels_tried": \([0-9-]*\).*/\1/p' <<<"$1"; }
base=$(levels "$("$dir/crcheck" --json)")
for c in "root in two more PID namespaces:$((base + 2)):unshare -pf unshare -pf" \
	 "uid 65534, own user ns owning two PID namespaces:2:${NOBODY[*]} unshare -Urpf unshare -pf" \
	 "uid 65534, a nested user ns owning only the innermost:1:${NOBODY[*]} unshare -Urpf unshare -Ur unshare -pf"; do
	name=${c%%:*}; rest=${c#*:}; want=${rest%%:*}; cmd=${rest#*:}
	got=$(levels "$($cmd "$dir/crcheck" --json)")
	if [ "$got" = "$want" ]; then
		ok "set_tid reaches $want level(s): $name"
	else
		nok "set_tid reaches $want level(s): $name" "tried $got"
	fi
done

# A read-only /proc/sys (as containers mount it), in a mount namespace of
# this test's own: the refusals must say why.  $0 is the inner shell's.
# shellcheck disable=SC2016
j=$(unshare -m sh -c 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$0" --json' "$dir/crcheck")
if grep -q '"ipc_next_id": {"verdict": "refused".*read-only' <<<"$j" &&
	grep -q '"ns_last_pid": {"verdict": "refused".*read-only' <<<"$j"; then
	ok "a read-only /proc/sys is named as the reason"
else
	nok "a read-only /proc/sys is named as the reason" "$(grep -E '"(ipc_next_id|ns_last_pid)"' <<<"$j" | tr -d '\n')"
fi

err=$("$dir/crcheck" --for bogus 2>&1 >/dev/null)
rc=$?
if [ "$rc" = 2 ] && grep -q "bogus" <<<"$err"; then
	ok "a bad --for value is named"
else
	nok "a bad --for value is named" "$err"
fi

tabbed="$dir/cr"$'\t'"check"
cp "$dir/crcheck" "$tabbed"
if "$dir/crcheck" --exec "$tabbed" --json | python3 -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null; then
	ok "--json stays JSON with a tab in a path"
else
	nok "--json stays JSON with a tab in a path"
fi
rm -f "$tabbed"

"$dir/crcheck" --bogus >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then
	ok "exit status 2 on a usage error"
else
	nok "exit status is not 2 on a usage error"
fi
echo "1..$n"
exit $((fails > 0))
