#!/usr/bin/env bash
# Boots a guest image under raw QEMU (-M microvm, TCG unless --kvm) and reports how long
# it took until the guest printed MARKER (an extended regex) on the serial console
# (default: the agent's ready line or the stub's port line). For checking an image by
# hand, without Basalt's Java side.
#
# Usage: guest/image/smoke.sh [IMAGE_DIR] [--marker TEXT] [--runs N] [--append "EXTRA"] [--show]
set -euo pipefail

images=${BASALT_IMAGES:-${BASALT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/basalt}/images}
dir=$images/default marker="basalt-agent: ready|agent port basalt.agent" runs=1 extra="" show=0 accel=tcg
while (($#)); do
  case $1 in
    --marker) marker=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --append) extra=$2; shift 2 ;;
    --show) show=1; shift ;;
    --kvm) accel=kvm; shift ;;
    -h|--help) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) dir=$1; shift ;;
  esac
done
[[ -f $dir/image.json ]] || { echo "smoke: no image at $dir (run guest/image/build.sh)" >&2; exit 1; }

mhz=$(awk -F': ' '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo)
khz=$(awk -v m="${mhz:-0}" 'BEGIN { printf "%d", m * 1000 }')
image_extra=$(sed -n 's/.*"cmdlineExtra": "\(.*\)",*$/\1/p' "$dir/image.json")
if grep -qE '"acpi": *false' "$dir/image.json"; then acpi=off; else acpi=on; fi
append="console=ttyS0 quiet panic=-1 reboot=t${khz:+ tsc_early_khz=$khz} $image_extra $extra"
sock=$(mktemp -u /tmp/basalt-smoke.XXXXXX.sock)
log=$(mktemp /tmp/basalt-smoke.XXXXXX.log)
trap 'rm -f "$sock" "$log"' EXIT

for ((i = 1; i <= runs; i++)); do
  start=$(date +%s%N)
  qemu-system-x86_64 -M microvm,rtc=on,acpi=$acpi -accel "$accel" -cpu max -m 256 -smp 1 \
    -nodefaults -no-user-config -nographic -serial stdio \
    -kernel "$dir/vmlinux" -initrd "$dir/initrd.img" -append "$append" \
    -device virtio-serial-device,max_ports=2 \
    -chardev socket,id=agent,path="$sock",server=on,wait=off \
    -device virtserialport,chardev=agent,name=basalt.agent -no-reboot </dev/null >"$log" 2>&1 &
  qpid=$!
  ok=0
  for _ in $(seq 1 600); do        # up to 30 s
    if grep -qE -- "$marker" "$log"; then ok=1; break; fi
    kill -0 "$qpid" 2>/dev/null || { grep -qE -- "$marker" "$log" && ok=1; break; }
    sleep 0.05
  done
  end=$(date +%s%N)
  kill "$qpid" 2>/dev/null || true
  wait "$qpid" 2>/dev/null || true
  ((show)) && cat "$log"
  if ((ok)); then
    echo "smoke: run $i: marker after $(((end - start) / 1000000)) ms"
  else
    echo "smoke: run $i: marker '$marker' not seen; console output:" >&2; cat "$log" >&2; exit 1
  fi
done
