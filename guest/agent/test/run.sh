#!/bin/sh
# Builds the agent and runs its tests: codec vectors, a short fuzz of the decoders
# (fuzz/fuzz.sh: past findings and the vectors replayed, then BASALT_AGENT_FUZZ_SECONDS,
# default 10, of libFuzzer; 0 replays only), then behaviour tests (the agent runs as a host
# process in --connect / --stdio mode).
# Usage: guest/agent/test/run.sh [behaviour-test-name-filter...]
# With BASALT_AGENT_VM_TEST=1 it also boots the agent as /init of a guest image
# under QEMU (guest/image/build.sh into a temporary images dir; needs qemu), also with its
# root file system on a disk (needs e2fsprogs and qemu-utils).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
agent_dir=$(dirname "$here")
repo=$(cd "$agent_dir/../.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/basalt-agent-build.XXXXXX")
trap 'rm -rf "$out"' EXIT

"$agent_dir/build.sh" "$out/basalt-agent"
gcc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$out/vectors_test" \
    "$here/vectors_test.c" "$agent_dir/src/wire.c"

status=0
echo "== codec vectors"
"$out/vectors_test" "$repo/protocol/vectors.txt" || status=1
fuzz_seconds=${BASALT_AGENT_FUZZ_SECONDS:-10}
echo "== fuzz (libFuzzer, regressions and vectors replayed, then ${fuzz_seconds} s)"
if "$here/fuzz/fuzz.sh" --seconds "$fuzz_seconds" --build "$out" >"$out/fuzz.log" 2>&1; then
    grep -h '^stat::number_of_executed_units\|^stat::new_units_added' "$out/fuzz.log" || true
else
    tail -n 80 "$out/fuzz.log"
    echo "FAIL fuzz: the failing input is in guest/agent/test/fuzz/regressions/ (replayed by every run)"
    status=1
fi
echo "== behaviour"
python3 "$here/agent_test.py" "$out/basalt-agent" "$@" || status=1
if [ "${BASALT_AGENT_VM_TEST:-0}" = 1 ]; then
    echo "== vm (init mode over virtio-serial)"
    image=$("$repo/guest/image/build.sh" --agent "$out/basalt-agent" --images "$out/images" --image default --print-dir) &&
        python3 "$here/vm_test.py" "$image" || status=1
    echo "== vm (root file system on a virtio-blk disk, both kernels)"
    images=$("$repo/guest/image/build.sh" --agent "$out/basalt-agent" --images "$out/images" --image default \
        --image debian --print-dir) && python3 "$here/vm_disk_test.py" $images || status=1
fi
exit $status
