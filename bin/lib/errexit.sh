# Sourced first by every set-up script (bin/*, guest/*/build.sh): strict mode plus a trap
# that names any command failing under `set -e`, so no set-up step can fail without a word.
# A script sets BASALT_STEP (what it is doing) and BASALT_STEP_LOG (where that step's output
# goes) as it goes; both are printed with the failing command.
set -Eeuo pipefail
_basalt_err_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BASALT_STEP=${BASALT_STEP:-}
BASALT_STEP_LOG=${BASALT_STEP_LOG:-}
_basalt_on_err() {
  local rc=$1 cmd=$2 line=$3 src=$4
  echo "basalt: error: ${src#"$_basalt_err_root"/}:$line${BASALT_STEP:+ ($BASALT_STEP)}: '$cmd' failed with exit $rc${BASALT_STEP_LOG:+ (log: $BASALT_STEP_LOG)}" >&2
}
trap '_basalt_on_err $? "$BASH_COMMAND" "$LINENO" "${BASH_SOURCE[0]:-$0}"' ERR
