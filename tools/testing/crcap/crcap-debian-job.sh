# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job of the Debian-kernel guests (crcap_qemu.py), run by
# crcap-qemu-init with the functions of crcap-job.sh.  Block names: a
# program (kselftest.checkpoint_restore.set_tid_test), a check
# (selinux.criu_enforcing) or information (info.*).
#
# CRCAP_DEBIAN_MODE=ablation (set by the job before it sources this):
# only the policy ablation.

G=/usr/lib/crcap
K=$G/bin/kselftest

crcap_info kernel "$(uname -r) $(cat /proc/version)"
crcap_info lsm "$(cat /sys/kernel/security/lsm)"

ABLATION=
[ "${CRCAP_DEBIAN_MODE:-}" = ablation ] && ABLATION=1

# 1. The selftests and crcheck: SELinux is on, with no policy yet.
# The programs the install lists (kselftest-list.txt: "dir:program");
# selinux_test needs the UML guests' test policy, not Debian's.
[ -n "$ABLATION" ] || while IFS=: read -r dir t; do
	[ "$t" = selinux_test ] && continue
	cd "$K/$dir" && crcap_item "kselftest.$dir.$t" timeout -s KILL 300 "./$t"
done <"$K/kselftest-list.txt"
cd /
[ -n "$ABLATION" ] || crcap_item crcheck "$G/bin/crcheck_test.sh" "$G/bin/crcheck"
crcap_info selftests_done "$(cut -d' ' -f1 /proc/uptime)"

# 2. Debian's policy with the criu module, enforcing: the user checkpoints
# and restores its own tree with criu; no AVC may be logged.  Then the
# module without capability2 checkpoint_restore: exactly that denial.
load() {
	dd if="$G/policy/$1/policy.33" of=/sys/fs/selinux/load bs=16M 2>/dev/null
}

# as_user CMD...: as uid 1000 in user_u:user_r:user_t, as a login would
# (no argument may hold a blank).  The output goes through a file of the
# user's: a descriptor of ours is not the user's to use; in ~/.criu, which
# is all criu may write of the user's (criu_image_t).
cat >/tmp/as_user <<'EOT'
as_user() {
	rm -f /home/crcap/.criu/out
	su -s /bin/sh crcap -c "printf user_u:user_r:user_t:s0 >/proc/self/attr/exec &&
		exec /bin/sh -c 'mkdir -p /home/crcap/.criu &&
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
	crcap_item "$name.avc" sh -c 'dmesg | grep "avc: " || true'
	# Whatever the user left (a hung criu, a restored tree): gone.
	kill -9 -1 2>/dev/null
	sleep 0.2
	umount /home/crcap
}

mkdir -p /home/crcap
mount -t selinuxfs selinuxfs /sys/fs/selinux
if crcap_item selinux.load_policy load criu; then
	crcap_item selinux.label setfiles -F -e /proc -e /sys -e /home \
		"$G/policy/criu/file_contexts" / /dev /dev/pts
	crcap_item selinux.file_capability setcap cap_checkpoint_restore+ep /usr/sbin/criu
	# crcap.permissive: collect every denial at once (policy work).
	grep -q crcap.permissive /proc/cmdline || echo 1 >/sys/fs/selinux/enforce
	mount -t tmpfs -o rootcontext=user_u:object_r:user_home_dir_t:s0,mode=0700,uid=1000,gid=1000 home /home/crcap
	crcap_item selinux.context sh -c '. /tmp/as_user; as_user cat /proc/self/attr/current; echo'
	umount /home/crcap
	# 3. The policy ablation: the module without each of its rules
	# in turn; the enforcing case must fail without every one.
	# First the module as it is, which must pass here: else failing
	# without a block proves nothing.
	[ -n "$ABLATION" ] && selinux_case ablation_base pass
	for p in "$G"/policy/ablate-*; do
		if [ -z "$ABLATION" ] || [ ! -d "$p" ]; then
			continue
		fi
		rule=${p##*/ablate-}
		load "ablate-$rule" || continue
		selinux_case "ablation.$rule" pass
	done
	[ -n "$ABLATION" ] && exit 0
	selinux_case selinux.criu_enforcing pass
	if crcap_item selinux.load_policy_without_capability2 load without_capability2; then
		selinux_case selinux.criu_without_capability2 fail
	fi
	echo 0 >/sys/fs/selinux/enforce
fi
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
