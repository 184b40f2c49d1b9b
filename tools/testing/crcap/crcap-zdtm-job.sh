# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job of the census's guests (crcap_census.run_root()), run by
# crcap-qemu-init with the functions of crcap-job.sh: CRIU's zdtm as
# root, in a guest of its own, never on the host; or, with CRCAP_ZDTM_CAPS
# set, as the census user does it on the host (a user of its own, criu
# with those file capabilities, zdtm --rootless; inside "unshare -Ucfpm
# --mount-proc" too with CRCAP_ZDTM_USERNS=1).  The job that sources
# this sets CRCAP_ZDTM_ARGS (zdtm.py run's arguments, as one shell-quoted
# line, without --report), CRCAP_ZDTM_LIMIT (seconds zdtm may take in
# all) and CRCAP_ZDTM_TREE (the CRIU tree, zdtm built).
#
# Blocks: info.kernel, zdtm.setup (what the guest set up for zdtm),
# zdtm.run (the last lines zdtm printed; the whole of it would cost
# minutes on an emulated serial port), zdtm.report (zdtm's TAP report,
# with the output of each test that failed: what the host judges).
# The job's exit status is 0 when zdtm wrote a report, whatever its
# tests said: the verdicts are the report's, judged on the host.

crcap_info kernel "$(uname -r) $(cat /proc/version)"

# What zdtm as root expects of a machine that crcap-qemu-init does not
# set up: cgroup v2 where systemd puts it (zdtm_mount_cgroups then adds
# its own v1 hierarchies, in this guest alone), POSIX shared memory and
# message queues, binfmt_misc, loopback (IPv4 and IPv6), the modules
# of CRIU's network lock (iptables, nf_tables back end) loaded.
zdtm_setup() {
	mount -t cgroup2 cgroup2 /sys/fs/cgroup || return 1
	mount -t tmpfs -o mode=1777 shm /dev/shm || return 1
	mkdir -p /dev/mqueue && mount -t mqueue mqueue /dev/mqueue || return 1
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	ip link set lo up || return 1
	# A kernel crcap built has no modules: what zdtm needs is built in.
	[ -d "/usr/lib/modules/$(uname -r)" ] &&
	for m in nf_tables nft_compat x_tables xt_tcpudp xt_mark xt_conntrack \
		unix_diag inet_diag tcp_diag udp_diag netlink_diag af_packet_diag tun veth; do
		modprobe "$m" || echo "modprobe $m failed"
	done
	mkdir -p /run/netns /var/run /var/lock
	hostname crcap-zdtm
	ip addr
	iptables -w -L -n >/dev/null || echo "iptables does not work"
	cat /proc/self/cgroup
}
crcap_item zdtm.setup zdtm_setup

cd "$CRCAP_ZDTM_TREE/test" || exit 1
R=/tmp/zdtm-report
mkdir -p "$R"

# The census user of the host modes: uid 1000, owning the tree (the
# guest's own copy), criu with CRCAP_ZDTM_CAPS+eip.
CENSUS_UID=1000
zdtm_user() {
	echo "crcap-census:x:$CENSUS_UID:$CENSUS_UID::/nonexistent:/bin/sh" >>/etc/passwd
	echo "crcap-census:x:$CENSUS_UID:" >>/etc/group
	chown -R "$CENSUS_UID:$CENSUS_UID" "$CRCAP_ZDTM_TREE" "$R" || return 1
	setcap "$CRCAP_ZDTM_CAPS+eip" "$CRCAP_ZDTM_TREE/criu/criu" || return 1
	getcap "$CRCAP_ZDTM_TREE/criu/criu"
	echo "userns: ${CRCAP_ZDTM_USERNS:-0}"
}
if [ -n "$CRCAP_ZDTM_CAPS" ]; then
	crcap_item zdtm.user zdtm_user
fi

# The SELinux modes (CRCAP_ZDTM_SELINUX=permissive or enforcing): Debian's
# policy with the criu module (crcap_qemu.build_policy()), the root
# labelled by its file contexts, the tree the census user's home content
# (user_home_t: a copy on a tmpfs over it, as a home is -- a user's file
# may not live on the initramfs's root_t file system), its criu
# criu_exec_t, zdtm's image directory ("dump") criu_image_t, the module's
# tunable for a user's own files on; zdtm runs in user_u:user_r:user_t,
# entered through the user's shell, and its log goes where the user may
# write.  The denials of the run: zdtm.avc.
USER_CONTEXT=user_u:user_r:user_t:s0
LOG=/tmp/zdtm.log
zdtm_selinux() {
	pol=/usr/lib/crcap/policy/criu
	mount -t selinuxfs selinuxfs /sys/fs/selinux || return 1
	dd if="$pol/policy.33" of=/sys/fs/selinux/load bs=16M 2>/dev/null || return 1
	# /tmp as on a Debian system: tmp_t (the guest's is a tmpfs).
	setfiles -F -e /proc -e /sys -e "$CRCAP_ZDTM_TREE" "$pol/file_contexts" / /dev /dev/pts \
		/tmp || return 1
	mkdir -p /run/census-home &&
	mount -t tmpfs -o rootcontext=user_u:object_r:user_home_dir_t:s0,mode=0755 home \
		/run/census-home &&
	cp -a "$CRCAP_ZDTM_TREE/." /run/census-home/ &&
	mount --move /run/census-home "$CRCAP_ZDTM_TREE" || return 1
	setcap "$CRCAP_ZDTM_CAPS+eip" "$CRCAP_ZDTM_TREE/criu/criu" || return 1
	mkdir -p "$CRCAP_ZDTM_TREE/test/dump" || return 1
	chown "$CENSUS_UID:$CENSUS_UID" "$CRCAP_ZDTM_TREE/test/dump"
	chcon -R user_u:object_r:user_home_t:s0 "$CRCAP_ZDTM_TREE" "$R" || return 1
	chcon -R user_u:object_r:criu_image_t:s0 "$CRCAP_ZDTM_TREE/test/dump" || return 1
	chcon system_u:object_r:criu_exec_t:s0 "$CRCAP_ZDTM_TREE/criu/criu" || return 1
	# Debian's booleans for what zdtm's tests do themselves as the user
	# (maps00 execmem, socket-tcp a listening port), the module's for criu.
	for b in criu_restore_user_home_files allow_execmem user_tcp_server; do
		echo 1 >"/sys/fs/selinux/booleans/$b" || return 1
	done
	echo 1 >/sys/fs/selinux/commit_pending_bools || return 1
	# The ephemeral ports Debian's policy leaves unreserved_port_t, for
	# criu's TCP repair probe (as in crcap-debian-job.sh): the same every
	# time, not one run in a few hundred on virt_migration_port_t.
	echo "32768 40039" >/proc/sys/net/ipv4/ip_local_port_range || return 1
	if [ "$CRCAP_ZDTM_SELINUX" = enforcing ]; then
		echo 1 >/sys/fs/selinux/enforce || return 1
	fi
	echo "enforce $(cat /sys/fs/selinux/enforce)"
	ls -Z "$CRCAP_ZDTM_TREE/criu/criu" "$CRCAP_ZDTM_TREE/test"
}
if [ -n "${CRCAP_ZDTM_SELINUX:-}" ]; then
	LOG=$R/zdtm.log
	crcap_item zdtm.selinux zdtm_selinux || exit 1
	cd "$CRCAP_ZDTM_TREE/test" || exit 1	# the copy
	crcap_dmesg_clear
fi
# SIGINT, not SIGKILL: zdtm then ends as after a ^C, its report written
# out; SIGKILL a minute later if it does not.  As the census user: no
# supplementary groups, nothing inheritable; in the userns mode, bash
# stays ("&& true") to reap the namespace's orphans.
# zdtm_run BLOCK LIMIT REPORT ARGS...: zdtm.py run ARGS, its report in
# REPORT, the last lines it printed in BLOCK.
export CENSUS_UID CRCAP_ZDTM_CAPS CRCAP_ZDTM_USERNS CRCAP_ZDTM_SELINUX USER_CONTEXT LOG
zdtm_run() {
	block=$1
	shift
	# shellcheck disable=SC2016 # expanded by that sh
	crcap_item "$block" sh -c 'limit=$1 report=$2; shift 2
	set -- ./zdtm.py run "$@" --report "$report"
	if [ -n "$CRCAP_ZDTM_CAPS" ]; then
		if [ "${CRCAP_ZDTM_USERNS:-0}" = 1 ]; then
			set -- unshare -Ucfpm --mount-proc -- bash -c "\"\$0\" \"\$@\" && true" "$@"
		fi
		label=
		if [ -n "$CRCAP_ZDTM_SELINUX" ]; then
			label=--selinux-label=$USER_CONTEXT
			set -- sh -c "exec \"\$0\" \"\$@\"" "$@"
		fi
		set -- setpriv --reuid="$CENSUS_UID" --regid="$CENSUS_UID" --clear-groups \
			--inh-caps=-all $label -- "$@"
		# No descriptor of ours but the log at the exec into user_t.
		[ -z "$label" ] || set -- sh -c "exec \"\$0\" \"\$@\" </dev/null" "$@"
	fi
	timeout -s INT -k 60 "$limit" "$@" >"$LOG" 2>&1
	rc=$?; tail -n 400 "$LOG"; exit $rc' sh "$@"
}
# Each denial once, with how often (pids, inodes and times taken out).
zdtm_avc() {
	sleep 1		# kauditd's lines reach the log after the denial
	# shellcheck disable=SC2016 # expanded by that sh
	crcap_item "$1" sh -c 'dmesg | grep "avc:  denied" |
		sed "s/^.*avc:/avc:/; s/ pid=[0-9]*//; s/ ino=[0-9]*//" | sort | uniq -c || true'
}
eval "set -- $CRCAP_ZDTM_ARGS"
zdtm_run zdtm.run "$CRCAP_ZDTM_LIMIT" "$R" "$@"
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
crcap_item zdtm.report cat "$R/criu-testreport.tap"
if [ -n "${CRCAP_ZDTM_SELINUX:-}" ]; then
	zdtm_avc zdtm.avc
fi

# The policy ablation's census cases (crcap_census.policy_ablation()):
# CRCAP_ZDTM_ABLATE, one line per rule of the criu module, "RULE LIMIT
# ARGS" -- the module without RULE (its policy at
# /usr/lib/crcap/policy/ablate-RULE) loaded in the place of the whole one
# (the booleans and the labels of the files stay), and zdtm run again,
# with ARGS, for at most LIMIT seconds.  Blocks: zdtm.ablate.RULE.load,
# .run, .report, .avc.
if [ -n "${CRCAP_ZDTM_SELINUX:-}" ] && [ -n "${CRCAP_ZDTM_ABLATE:-}" ]; then
	while read -r rule limit args; do
		[ -n "$rule" ] || continue
		crcap_item "zdtm.ablate.$rule.load" dd bs=16M of=/sys/fs/selinux/load \
			if="/usr/lib/crcap/policy/ablate-$rule/policy.33" || continue
		crcap_dmesg_clear
		rr=$R/ablate-$rule
		{ mkdir -p "$rr" && chown "$CENSUS_UID:$CENSUS_UID" "$rr" &&
			chcon user_u:object_r:user_home_t:s0 "$rr"; } || continue
		eval "set -- $args"
		zdtm_run "zdtm.ablate.$rule.run" "$limit" "$rr" "$@"
		crcap_item "zdtm.ablate.$rule.report" cat "$rr/criu-testreport.tap"
		zdtm_avc "zdtm.ablate.$rule.avc"
	done <<EOF
$CRCAP_ZDTM_ABLATE
EOF
fi
