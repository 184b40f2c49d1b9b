# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job of the census's root guest (crcap_census.run_root()), run by
# crcap-qemu-init with the functions of crcap-job.sh: CRIU's zdtm as
# root, in a guest of its own, never on the host.  The job that sources
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
# SIGINT, not SIGKILL: zdtm then ends as after a ^C, its report written
# out; SIGKILL a minute later if it does not.
eval "set -- $CRCAP_ZDTM_ARGS"
# shellcheck disable=SC2016 # expanded by that sh
crcap_item zdtm.run sh -c 'limit=$1 report=$2; shift 2
	timeout -s INT -k 60 "$limit" ./zdtm.py run "$@" --report "$report" >/tmp/zdtm.log 2>&1
	rc=$?; tail -n 400 /tmp/zdtm.log; exit $rc' sh "$CRCAP_ZDTM_LIMIT" "$R" "$@"
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
crcap_item zdtm.report cat "$R/criu-testreport.tap"
