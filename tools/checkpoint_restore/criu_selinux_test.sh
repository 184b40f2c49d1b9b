#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# An ordinary user checkpoints and restores its own process tree with
# criu: run by that user, in the SELinux domain the policy gives it.
#
#   criu_selinux_test.sh CRIU TARGET DIR pass|fail [COMMANDS]
#
# TARGET is criu_target (a tree of two processes with threads, a memfd and
# a deleted file mapped), working in DIR; criu, with cap_checkpoint_restore
# as a file capability, dumps it into DIR/img and restores it.  With
# COMMANDS, a file of shell lines (the recipe's, as a document gives them),
# those lines dump and restore it instead, run by sh -e with the target's
# PID in $PID, and DIR/img is not made for them.  "pass": the restored
# tree must have the same PIDs and memory checksums and make progress;
# "fail": the dump or the restore must fail.  Prints TAP; exits 0 when the
# outcome is the expected one.  POSIX sh and busybox only.

criu=$1 target=$2 dir=$3 expect=$4 commands=${5:-}
if [ -n "$commands" ]; then
	mkdir -p "$dir" || exit 2
else
	mkdir -p "$dir/img" || exit 2
fi

echo "1..1"
echo "# as $(id -u) in $(cat /proc/self/attr/current)"

# Each process's PIDs and memory checksum, from its line of DIR/state,
# and its SELinux context.
state() {
	grep -o 'pid=[0-9]* nspid=[0-9,]* .*sum=[0-9a-f]*' "$dir/state" 2>/dev/null |
		sed 's/ count=[0-9]*//' | while read -r p rest; do
			echo "$p $rest context=$(cat "/proc/${p#pid=}/attr/current" 2>/dev/null)"
		done
}

counts() {
	grep -o 'count=[0-9]*' "$dir/state" 2>/dev/null | tr '\n' ' '
}

setsid "$target" "$dir" --children 1 --threads 2 --no-pty </dev/null >/dev/null 2>"$dir/target.err" &
# Both processes' lines in one reading: the first is the root's.
i=0
while before=$(state) && [ "$(echo "$before" | grep -c '^pid=')" -lt 2 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
pid=$(echo "$before" | head -1 | sed 's/^pid=\([0-9]*\).*/\1/')
if [ "$(echo "$before" | grep -c '^pid=')" -lt 2 ] || [ -z "$pid" ]; then
	echo "not ok 1 criu_roundtrip # the target did not start: $(cat "$dir/target.err")"
	exit 1
fi
echo "# target: $(echo "$before" | tr '\n' ';')"

outcome=ok why=
if [ -n "$commands" ]; then
	if ! PID=$pid timeout -s KILL 120 sh -e "$commands" >"$dir/commands.out" 2>&1; then
		outcome=commands_failed
		why=$(tail -3 "$dir/commands.out")
	fi
elif ! timeout -s KILL 60 "$criu" dump -t "$pid" -D "$dir/img" --unprivileged -o dump.log -v4; then
	outcome=dump_failed
	why=$(grep -E 'Error|denied' "$dir/img/dump.log" | tail -3)
elif ! timeout -s KILL 60 "$criu" restore -D "$dir/img" --unprivileged -d -o restore.log -v4; then
	outcome=restore_failed
	why=$(grep -E 'Error|denied' "$dir/img/restore.log" | tail -3)
fi
if [ $outcome = ok ]; then
	c1=$(counts)
	sleep 0.5
	after=$(state)
	c2=$(counts)
	if [ "$after" != "$before" ]; then
		outcome=restored_differently
		why="was: $before; now: $after"
	elif [ "$c1" = "$c2" ]; then
		outcome=restored_without_progress
	fi
	grep -h -i -E 'lsm|selinux' "$dir/img/dump.log" "$dir/img/restore.log" 2>/dev/null |
		head -5 | sed 's/^/# /'
	for p in $(echo "$after" | sed 's/^pid=\([0-9]*\).*/\1/'); do
		kill -9 "$p" 2>/dev/null
	done
else
	kill -9 "$pid" 2>/dev/null
fi
echo "# outcome: $outcome $why" | tr '\n' ' '
echo
case $expect:$outcome in
pass:ok | fail:dump_failed | fail:restore_failed)
	echo "ok 1 criu_roundtrip # $outcome"
	exit 0 ;;
esac
echo "not ok 1 criu_roundtrip # expected $expect, got $outcome"
exit 1
