# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job of the Debian-kernel guests (crcap_qemu.py), run by
# crcap-qemu-init with the functions of crcap-job.sh.  Block names: a
# program (kselftest.checkpoint_restore.set_tid_test), a check
# (selinux.criu_enforcing) or information (info.*).
#
# CRCAP_DEBIAN_MODE (set by the job before it sources this): ablation,
# only the policy ablation; workloads, only the workloads users checkpoint
# (CRCAP_WORKLOADS, workloads_test.py's names), each as the user in
# user_t with the AVCs it logged; recipe, only the recipe of
# Documentation/security/checkpoint_restore_selinux.rst, step by step.

G=/usr/lib/crcap
K=$G/bin/kselftest

crcap_info kernel "$(uname -r) $(cat /proc/version)"
crcap_info lsm "$(cat /sys/kernel/security/lsm)"

ABLATION=''
WORKLOADS=''
RECIPE=''
case ${CRCAP_DEBIAN_MODE:-} in
ablation) ABLATION=1 ;;
workloads) WORKLOADS=1 ;;
recipe) RECIPE=1 ;;
esac
ONLY=$ABLATION$WORKLOADS$RECIPE

# 1. The selftests and crcheck: SELinux is on, with no policy yet.
# The programs the install lists (kselftest-list.txt: "dir:program");
# selinux_test needs the UML guests' test policy, not Debian's.
[ -n "$ONLY" ] || while IFS=: read -r dir t; do
	[ "$t" = selinux_test ] && continue
	cd "$K/$dir" && crcap_item "kselftest.$dir.$t" timeout -s KILL 300 "./$t"
done <"$K/kselftest-list.txt"
cd /
[ -n "$ONLY" ] || crcap_item crcheck "$G/bin/crcheck_test.sh" "$G/bin/crcheck"
crcap_info selftests_done "$(cut -d' ' -f1 /proc/uptime)"

# 2. Debian's policy with the criu module, enforcing: the user checkpoints
# and restores its own tree with criu; no AVC may be logged.  Then the
# module without capability2 checkpoint_restore: exactly that denial.
load() {
	dd if="$G/policy/$1/policy.33" of=/sys/fs/selinux/load bs=16M 2>/dev/null
}

# as_user CMD...: as uid 1000 in user_u:user_r:user_t, in its home, as a
# login would (no argument may hold a blank).  The output goes through a
# file of the user's: a descriptor of ours is not the user's to use; in
# ~/.criu, which is all criu may write of the user's (criu_image_t).
cat >/tmp/as_user <<'EOT'
as_user() {
	rm -f /home/crcap/.criu/out
	su -s /bin/sh crcap -c "printf user_u:user_r:user_t:s0 >/proc/self/attr/exec &&
		exec /bin/sh -c 'mkdir -p /home/crcap/.criu && cd /home/crcap &&
			exec $* </dev/null >/home/crcap/.criu/out 2>&1'"
	rc=$?
	cat /home/crcap/.criu/out
	return $rc
}
EOT
# shellcheck source=/dev/null
. /tmp/as_user

selinux_case() {
	name=$1
	expect=$2
	crcap_dmesg_clear
	mount -t tmpfs -o rootcontext=user_u:object_r:user_home_dir_t:s0,mode=0700,uid=1000,gid=1000 home /home/crcap
	crcap_item "$name" timeout -s KILL 100 sh -c ". /tmp/as_user; as_user /bin/sh \
		$G/bin/criu_selinux_test.sh /usr/sbin/criu $G/bin/criu_target \
		/home/crcap/.criu/work $expect"
	case_rc=$?
	crcap_item "$name.avc" sh -c 'dmesg | grep "avc: " || true'
	case_avc=$(dmesg | grep -c "avc: ")
	# Whatever the user left (a hung criu, a restored tree): gone.
	kill -9 -1 2>/dev/null
	sleep 0.2
	umount /home/crcap
}

# 4. The workloads users checkpoint, as the user in user_t with its home,
# each with the AVCs it logged (none may be).  A word of CRCAP_WORKLOADS
# is NAME, or NAME:BOOLEAN,..., the tunables of the policy the workload
# needs (on for it alone), or NAME/off[:BOOLEAN,...]: NAME without one
# of them, its blocks workload.NAME.off (where it must fail, with the
# denial that tunable lifts).  workloads PREFIX: the blocks are PREFIX.workload.NAME...
# setbools VALUE BOOLEAN,...
setbools() {
	for bool in $(echo "$2" | tr , ' '); do
		echo "$1" >"/sys/fs/selinux/booleans/$bool" || return
	done
	echo 1 >/sys/fs/selinux/commit_pending_bools
}

workloads() {
	# The socket diagnostics criu needs (crcap_qemu.DIAG_MODULES),
	# loaded by root: criu may not have the kernel load them.
	for m in /usr/lib/modules/crcap-diag/*.ko; do
		[ -e "$m" ] || continue
		grep -q "^$(basename "$m" .ko | cut -d- -f2-) " /proc/modules ||
			insmod "$m" || echo "insmod $m failed"
	done
	mount -t tmpfs -o rootcontext=user_u:object_r:user_home_dir_t:s0,mode=0700,uid=1000,gid=1000 home /home/crcap
	for spec in $CRCAP_WORKLOADS; do
		w=${spec%%:*}
		b=''
		[ "$w" = "$spec" ] || b=${spec#*:}
		id=${1:+$1.}workload.$w
		case $w in
		*/off) w=${w%/off} id=${1:+$1.}workload.$w.off ;;
		esac
		if [ -n "$b" ]; then
			crcap_item "$id.tunable" setbools 1 "$b" || continue
		fi
		crcap_dmesg_clear
		# -B: no __pycache__ of ours on the root (a denial of the guest's)
		crcap_item "$id" timeout -s KILL "$((CRCAP_WORKLOAD_LIMIT * 4))" \
			python3 -B "$G/workloads/workloads_test.py" /usr/sbin/criu "$G/bin" \
			--user crcap --selinux user_u:user_r:user_t:s0 --runs 1 --chunks 16 \
			--limit "$CRCAP_WORKLOAD_LIMIT" --classes "$G/workloads/classes" --trace "$w"
		wrc=$?
		sleep 1		# kauditd's lines reach the log after the denial
		crcap_item "$id.avc" sh -c 'dmesg | grep "avc: " || true'
		[ -z "$b" ] || setbools 0 "$b"
		# An ablated rule: the first workload that misses it is enough.
		case ${1:-} in
		ablation.*) { [ "$wrc" != 0 ] || dmesg | grep -q "avc: "; } && break ;;
		esac
	done
	umount /home/crcap
}

# 5. The recipe, as a Debian admin follows it (crcap_qemu.recipe_root
# made the machine: Debian's policy store as installed, the packages, a
# criu at CRCAP_RECIPE_CRIU, the module's sources in /root/criu-policy,
# the document's lines in $G/recipe).  Root and the user
# (CRCAP_RECIPE_USER) each log in on a pty, as in CRCAP_RECIPE_LOGIN.
label() {
	python3 -B -c 'import os, sys; print(os.getxattr(sys.argv[1], "security.selinux").decode().rstrip("\0"))' "$1"
}

# pty_login USER COMMAND: the session's transcript, also in /run/crcap-session.
pty_login() {
	timeout -s KILL 1200 python3 -B "$G/bin/crcap-pty-login" "$CRCAP_RECIPE_LOGIN" "$@" 1100 \
		>/run/crcap-session
	rc=$?
	cat /run/crcap-session
	return $rc
}

recipe() {
	u=$CRCAP_RECIPE_USER
	R=$G/recipe
	crcap_item recipe.load_policy load_policy || return
	# /tmp too: tmp_t, as on a Debian system (the guest's is a tmpfs).
	crcap_item recipe.label setfiles -F -e /proc -e /sys -e /home \
		/etc/selinux/default/contexts/files/file_contexts / /dev /dev/pts /tmp
	# The user's home as adduser made it, labelled as the system was.
	mount -t tmpfs -o mode=0755 home /home
	mkdir -m 0700 "/home/$u" && chown "$u:$u" "/home/$u"
	restorecon -R /home
	grep -q crcap.permissive /proc/cmdline || echo 1 >/sys/fs/selinux/enforce
	crcap_item recipe.before.login pty_login "$u" 'id -Z >~/context'
	crcap_item recipe.before.context cat "/home/$u/context"
	crcap_item recipe.criu_label_before label "$CRCAP_RECIPE_CRIU"
	crcap_dmesg_clear
	crcap_item recipe.root.login pty_login root \
		"$G/bin/crcap-recipe-steps $R/root /root/criu-policy /root/recipe"
	cp /run/crcap-session /run/crcap-root-session
	crcap_item recipe.root.context cat /root/recipe/context
	n=1
	while [ -f "/root/recipe/$n.rc" ]; do
		crcap_item "recipe.root.$n" sh -c "sed -n '/^crcap-step-begin $n\$/,/^crcap-step-end $n /p' \
			/run/crcap-root-session | sed '1d;\$d'; exit \$(cat /root/recipe/$n.rc)"
		n=$((n + 1))
	done
	crcap_item recipe.criu_label label "$CRCAP_RECIPE_CRIU"
	sleep 1
	crcap_item recipe.root.avc sh -c 'dmesg | grep "avc: " || true'
	crcap_dmesg_clear
	crcap_item recipe.user.login pty_login "$u" "id -Z >~/context; /bin/sh \
		$G/bin/criu_selinux_test.sh $CRCAP_RECIPE_CRIU $G/bin/criu_target ~/.criu/work \
		pass $R/user >~/roundtrip 2>&1; echo \$? >~/roundtrip.rc"
	crcap_item recipe.user.context cat "/home/$u/context"
	crcap_item recipe.roundtrip sh -c "cat /home/$u/roundtrip; exit \$(cat /home/$u/roundtrip.rc)"
	sleep 1
	crcap_item recipe.user.avc sh -c 'dmesg | grep "avc: " || true'
}

mkdir -p /home/crcap
mount -t selinuxfs selinuxfs /sys/fs/selinux
# criu's TCP repair probe connects, on the loopback, to a port the kernel
# picks among the ephemeral ones, and a few of those have types of their
# own in Debian's policy (virt_migration_port_t: 49152-49216), which the
# module does not let criu connect to.  The cases run with the ephemeral
# ports Debian's policy leaves unreserved_port_t, the same every time;
# selinux.criu_probe_refused runs with only labelled ones.
echo "32768 40039" >/proc/sys/net/ipv4/ip_local_port_range
if [ -n "$RECIPE" ]; then
	recipe
	crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
	exit 0
fi
if crcap_item selinux.load_policy load criu; then
	# /tmp too: tmp_t, as on a Debian system, where what the user makes
	# there is user_tmp_t (the guest's /tmp is a tmpfs: tmpfs_t).
	crcap_item selinux.label setfiles -F -e /proc -e /sys -e /home \
		"$G/policy/criu/file_contexts" / /dev /dev/pts /tmp
	crcap_item selinux.file_capability setcap cap_checkpoint_restore+ep /usr/sbin/criu
	# crcap.permissive: collect every denial at once (policy work).
	grep -q crcap.permissive /proc/cmdline || echo 1 >/sys/fs/selinux/enforce
	mount -t tmpfs -o rootcontext=user_u:object_r:user_home_dir_t:s0,mode=0700,uid=1000,gid=1000 home /home/crcap
	crcap_item selinux.context sh -c '. /tmp/as_user; as_user cat /proc/self/attr/current; echo'
	umount /home/crcap
	if [ -n "$WORKLOADS" ]; then
		workloads
		exit 0
	fi
	# 3. The policy ablation: the module without each of its rules
	# in turn; without every one, a case must fail or log a denial:
	# the enforcing case, and when it misses the rule, the workloads
	# (CRCAP_WORKLOADS).  First the module as it is, with every case,
	# which must pass here: else failing without a rule proves nothing.
	if [ -n "$ABLATION" ]; then
		selinux_case ablation_base pass
		workloads ablation_base
	fi
	for p in "$G"/policy/ablate-*; do
		if [ -z "$ABLATION" ] || [ ! -d "$p" ]; then
			continue
		fi
		rule=${p##*/ablate-}
		load "ablate-$rule" || continue
		selinux_case "ablation.$rule" pass
		if [ "$case_rc" != 0 ] || [ "$case_avc" != 0 ]; then
			continue
		fi
		# A rule with workloads of its own (CRCAP_ABLATION_WORKLOADS,
		# lines "RULE WORD..."): those, not CRCAP_WORKLOADS.
		all=$CRCAP_WORKLOADS
		own=$(echo "${CRCAP_ABLATION_WORKLOADS:-}" |
			awk -v r="$rule" '$1 == r { $1 = ""; print }')
		CRCAP_WORKLOADS=${own:-$all}
		workloads "ablation.$rule"
		CRCAP_WORKLOADS=$all
	done
	[ -n "$ABLATION" ] && exit 0
	selinux_case selinux.criu_enforcing pass
	if crcap_item selinux.load_policy_without_capability2 load without_capability2; then
		selinux_case selinux.criu_without_capability2 fail
	fi
	# The probe refused (CRIU's series, 0013): criu goes on, and the
	# one denial logged is the probe's.
	if crcap_item selinux.load_policy_again load criu; then
		echo "49152 49216" >/proc/sys/net/ipv4/ip_local_port_range
		selinux_case selinux.criu_probe_refused pass
	fi
	echo 0 >/sys/fs/selinux/enforce
fi
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
