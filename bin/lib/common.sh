# Shared helpers for bin/ scripts. Sourced, never executed.
# Sets BASALT_REPO (the checkout root) and BASALT_HOME (cache: images, kernels, stamps).

basalt_log() { echo "basalt: $*" >&2; }
basalt_die() { echo "basalt: error: $*" >&2; exit 1; }

# Runs "$@" with output captured to log file $1; shows the log's tail only on failure.
basalt_run_logged() {
  local log=$1; shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    basalt_die "'$*' failed (full log: $log)"
  fi
}

BASALT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BASALT_HOME=${BASALT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/basalt}
export BASALT_HOME
