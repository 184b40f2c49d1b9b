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
# SIGINT, not SIGKILL: zdtm then ends as after a ^C, its report written
# out; SIGKILL a minute later if it does not.  As the census user: no
# supplementary groups, nothing inheritable; in the userns mode, bash
# stays ("&& true") to reap the namespace's orphans.
eval "set -- $CRCAP_ZDTM_ARGS"
export CENSUS_UID CRCAP_ZDTM_CAPS CRCAP_ZDTM_USERNS
# shellcheck disable=SC2016 # expanded by that sh
crcap_item zdtm.run sh -c 'limit=$1 report=$2; shift 2
	set -- ./zdtm.py run "$@" --report "$report"
	if [ -n "$CRCAP_ZDTM_CAPS" ]; then
		if [ "${CRCAP_ZDTM_USERNS:-0}" = 1 ]; then
			set -- unshare -Ucfpm --mount-proc -- bash -c "\"\$0\" \"\$@\" && true" "$@"
		fi
		set -- setpriv --reuid="$CENSUS_UID" --regid="$CENSUS_UID" --clear-groups \
			--inh-caps=-all -- "$@"
	fi
	timeout -s INT -k 60 "$limit" "$@" >/tmp/zdtm.log 2>&1
	rc=$?; tail -n 400 /tmp/zdtm.log; exit $rc' sh "$CRCAP_ZDTM_LIMIT" "$R" "$@"
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
crcap_item zdtm.report cat "$R/criu-testreport.tap"
