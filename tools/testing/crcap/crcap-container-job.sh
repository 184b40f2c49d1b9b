# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The job of the RFC kernels' container-path guest
# (crcap_rfc.run_container()), run by crcap-qemu-init with the functions
# of crcap-job.sh: the runc_path workload (workloads_test.py) as the
# user crcap, on a kernel without the RFC (CRCAP_KERNEL=stock) or with it
# (rfc), criu the census's (the CRIU tree with its series) setcap'd as
# for the host's workloads.  The guest's cgroup hierarchy is cgroup2, as
# Debian 12 boots.

G=/usr/lib/crcap
: "${CRCAP_KERNEL:?stock or rfc}"

crcap_info kernel "$(uname -r) $(cat /proc/version)"
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# A cgroup delegated to the user, as systemd delegates user@UID.service:
# the workload runs in a leaf of it, runc makes the containers' beside.
mkdir -p /sys/fs/cgroup/crcap.user/workload
chown -R 1000:1000 /sys/fs/cgroup/crcap.user
echo 'crcap:x:1000:1000:crcap test user:/home/crcap:/bin/sh' >>/etc/passwd
echo 'crcap:x:1000:' >>/etc/group
mkdir -p /home/crcap && chown 1000:1000 /home/crcap
cp "$G/criu/criu/criu" /usr/sbin/criu
setcap cap_checkpoint_restore,cap_setpcap+eip /usr/sbin/criu
# The guest's root is the initramfs, the one mount pivot_root() cannot
# leave (it has no parent), and runc pivots into every container's root.
# So the workload runs in a mount namespace of its own whose root is a
# bind mount of it, moved over / as switch_root moves a disk's (a chroot
# would not do: no user namespace may be made in one).
mkdir /crcap-root
crcap_item workload.runc_path unshare --mount sh -c '
	echo $$ >/sys/fs/cgroup/crcap.user/workload/cgroup.procs &&
	mount --make-rprivate / && mount --rbind / /crcap-root && cd /crcap-root &&
	mount --move . / && exec chroot . "$@"' sh timeout -s KILL 900 \
	python3 -B "$G/workloads/workloads_test.py" /usr/sbin/criu "$G/bin" --user crcap \
	--kernel "$CRCAP_KERNEL" --cgroup /crcap.user --limit 120 --trace runc_path
crcap_info all_results "$(cut -d' ' -f1 /proc/uptime)"
