# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job of the RFC kernels' suite guest (crcap_rfc.run_selftests()),
# run by crcap-qemu-init with the functions of crcap-job.sh: every
# program of the suite built from the kernel's own tree (its install's
# kselftest-list.txt), one block each, as the Debian guests run them.

K=/usr/lib/crcap/bin/kselftest

crcap_info kernel "$(uname -r) $(cat /proc/version)"
while IFS=: read -r dir t; do
	# selinux_test needs the UML guests' test policy: no policy here.
	[ "$t" = selinux_test ] && continue
	cd "$K/$dir" && crcap_item "kselftest.$dir.$t" timeout -s KILL 300 "./$t"
done <"$K/kselftest-list.txt"
cd /
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
