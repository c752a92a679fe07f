#!/bin/sh
# Build the Basalt guest agent as one static binary.
# Usage: guest/agent/build.sh OUT
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 OUT" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
exec gcc -static -O2 -Wall -Wextra -Werror -std=gnu11 -o "$1" "$here"/src/*.c
