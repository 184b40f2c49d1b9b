# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job protocol every crcap guest speaks, UML or QEMU: sourced by
# scripts/crcap-guest-init (UML) and tools/testing/crcap/crcap-qemu-init
# (QEMU), and by the jobs they run.  Everything a guest reports goes to
# one stream, $CRCAP_OUT (a host file through hostfs in UML, the second
# serial port in QEMU), as blocks:
#
#   === crcap begin ID
#   ...output of ID...
#   === crcap end ID exit STATUS ms MILLISECONDS
#
# then, once the job returned, "=== crcap job exit STATUS", and last the
# whole kernel log as the block "kernel.log".  The host side
# (crcap_guest.split_results) reads the stream the same way for every
# backend; a guest whose stream lacks the job's exit line stopped before
# its job finished.  No bash-only syntax here: QEMU's init is busybox sh.
#
# The init sets CRCAP_OUT and CRCAP_LIB (the path of this file in the
# guest); a job uses crcap_item and crcap_info.

# The uptime in milliseconds (no "date +%N" in busybox).
crcap_ms() {
	read -r crcap_up _ </proc/uptime
	crcap_s=${crcap_up%.*}
	crcap_cs=${crcap_up#*.}
	echo $((crcap_s * 1000 + ${crcap_cs#0} * 10))
}

# crcap_item ID CMD...: CMD's output, exit status and time as block ID.
# Returns CMD's exit status.
crcap_item() {
	crcap_id=$1
	shift
	crcap_t0=$(crcap_ms)
	echo "=== crcap begin $crcap_id" >>"$CRCAP_OUT"
	"$@" >>"$CRCAP_OUT" 2>&1 </dev/null
	crcap_rc=$?
	echo "=== crcap end $crcap_id exit $crcap_rc ms $(($(crcap_ms) - crcap_t0))" >>"$CRCAP_OUT"
	return $crcap_rc
}

# crcap_info NAME TEXT...: TEXT as block info.NAME.
crcap_info() {
	crcap_id=$1
	shift
	{
		echo "=== crcap begin info.$crcap_id"
		echo "$*"
		echo "=== crcap end info.$crcap_id exit 0 ms 0"
	} >>"$CRCAP_OUT"
}

# crcap_run_job SHELL FILE: FILE run by SHELL as a process of its own,
# with these functions defined (the job's $$ is that shell, never init),
# then its exit status and the kernel log.
crcap_run_job() {
	crcap_info boot_seconds "$(cut -d' ' -f1 /proc/uptime)"
	export CRCAP_OUT CRCAP_LIB
	# shellcheck disable=SC2016 # expanded by the job's shell
	(cd / && exec "$1" -c '. "$CRCAP_LIB" && . "$0"' "$2") >>"$CRCAP_OUT" 2>&1 </dev/null
	echo "=== crcap job exit $?" >>"$CRCAP_OUT"
	crcap_kernel_log
}

# The kernel log in full: what crcap_dmesg_clear took out of the ring
# buffer, then the rest.
crcap_kernel_log() {
	{
		echo "=== crcap begin kernel.log"
		cat /run/crcap-kernel.log 2>/dev/null
		dmesg 2>&1
		echo "=== crcap end kernel.log exit 0 ms 0"
	} >>"$CRCAP_OUT"
}

# Empties the ring buffer (a case that reads its own AVCs) without
# losing a line of the kernel log the host judges.
crcap_dmesg_clear() {
	dmesg -c >>/run/crcap-kernel.log 2>&1
}

# Power off now: UML exits, QEMU (-no-reboot) too.  busybox's poweroff -f
# is reboot(LINUX_REBOOT_CMD_POWER_OFF) with no init to ask.
crcap_poweroff() {
	sync
	exec busybox poweroff -f
}
