#!/bin/sh
# Stand-in for the Basalt guest agent (used as /init until guest/agent exists, or with
# --agent). Does the agent's init work in busybox sh: mounts, kernel modules from
# /etc/basalt/modules, hostname from basalt.hostname=, then reports the basalt.agent
# virtio-serial port on the console and echoes every byte it receives back on it.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
while read -r m; do
  [ -n "$m" ] && insmod "$m"
done </etc/basalt/modules
for w in $(cat /proc/cmdline); do
  case $w in basalt.hostname=*) hostname "${w#basalt.hostname=}" ;; esac
done
port=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  for n in /sys/class/virtio-ports/*/name; do
    [ -f "$n" ] && [ "$(cat "$n")" = basalt.agent ] && { d=${n%/name}; port=/dev/${d##*/}; }
  done
  [ -n "$port" ] && [ -e "$port" ] && break
  sleep 0.05
done
if [ -n "$port" ]; then
  echo "basalt-stub: agent port basalt.agent at $port (uptime $(cut -d' ' -f1 /proc/uptime)s)" >/dev/console
  exec 3<>"$port"
  while :; do cat <&3 >&3; sleep 0.1; done   # EOF while no host end is connected
else
  echo "basalt-stub: no virtio-serial port named basalt.agent" >/dev/console
  ls /sys/class/virtio-ports >/dev/console 2>&1
fi
poweroff -f
