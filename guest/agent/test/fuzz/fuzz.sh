#!/bin/sh
# Builds the agent's libFuzzer target (frames_fuzz.c: the framer and the codec, with
# AddressSanitizer and UndefinedBehaviorSanitizer), replays the regression inputs in
# regressions/ and the frames of protocol/vectors.txt, then fuzzes for a time budget.
# An input that fails is written to regressions/ (crash-<sha1>, leak-..., timeout-...), so
# every later run replays it: fix the bug and commit the file with the fix.
#
# Usage: guest/agent/test/fuzz/fuzz.sh [--seconds N] [--corpus DIR] [--build DIR] [-- LIBFUZZER_ARGS...]
#   --seconds N   fuzz for N seconds after the replay (default 10; 0: replay only)
#   --corpus DIR  keep the inputs that found new coverage in DIR (default: a temporary one,
#                 so a run starts from the same seeds every time)
#   --build DIR   where the fuzzer is built (default: a temporary directory)
# Needs clang with libFuzzer (Debian: clang libclang-rt-14-dev, installed by bin/lib/packages.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../src" && pwd)
repo=$(cd "$here/../../../.." && pwd)
seconds=10 corpus= build=
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --corpus) corpus=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $seconds in ''|*[!0-9]*) echo "fuzz.sh: --seconds takes a whole number" >&2; exit 2 ;; esac
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz.sh: clang not found; install clang and libclang-rt-14-dev (bin/lib/packages.sh does)" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/basalt-agent-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
build=${build:-$tmp}
corpus=${corpus:-$tmp/corpus}
mkdir -p "$build" "$corpus" "$tmp/seeds" "$here/regressions"

clang -g -O1 -std=gnu11 -Wall -Wextra -Werror \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -o "$build/frames_fuzz" "$here/frames_fuzz.c" "$src/framer.c" "$src/wire.c"

# one seed file per vector: its frame's bytes
python3 - "$repo/protocol/vectors.txt" "$tmp/seeds" <<'EOF'
import os, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip() and not line.startswith("#"):
        name, hexbytes, _ = line.rstrip("\n").split("|", 2)
        with open(os.path.join(sys.argv[2], name), "wb") as f:
            f.write(bytes.fromhex(hexbytes))
EOF

# libFuzzer reads every corpus directory first (a crash there fails the run), then mutates;
# new inputs go to the first directory only. -verbosity=0: no line per new input.
set -- -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -verbosity=0 \
    -print_final_stats=1 -artifact_prefix="$here/regressions/" "$@"
if [ "$seconds" = 0 ]; then
    set -- "$@" -runs=0
fi
"$build/frames_fuzz" "$@" "$corpus" "$here/regressions" "$tmp/seeds"
