#!/usr/bin/env bash
# Makes the image the E2B tests use as E2B's "base" template until the project has a Debian
# image with a user: Basalt's busybox "default" image plus an initramfs layer with
#   /bin/bash        a shim that runs busybox sh (the SDK runs commands as /bin/bash -l -c CMD),
#   user `user`      uid/gid 1000, home /home/user (E2B's default user),
# appended as a second cpio archive to the default image's initrd (the kernel unpacks both).
# Usage: make-test-image.sh IMAGES_DIR OUT_DIR   (writes OUT_DIR/e2b-base and links OUT_DIR/default)
set -euo pipefail
images=$1 out=$2
src=$(readlink -f "$images/default")
[[ -f $src/image.json ]] || { echo "no default image in $images" >&2; exit 1; }
mkdir -p "$out"
ln -sfn "$src" "$out/default"
dst=$out/e2b-base
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,etc,home/user}
printf '#!/bin/sh\nexec /bin/sh "$@"\n' >"$stage/bin/bash"
chmod 0755 "$stage/bin/bash"
cat >"$stage/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$stage/etc/group" <<'GROUP'
root:x:0:
user:x:1000:
nogroup:x:65534:
GROUP
chown 1000:1000 "$stage/home/user"
chmod 0755 "$stage/home/user"
mkdir -p "$dst.tmp"
cp "$src/initrd.img" "$dst.tmp/initrd.img"
(cd "$stage" && find bin etc home | LC_ALL=C sort | cpio -o -H newc --quiet) >>"$dst.tmp/initrd.img"
sed -e "s|\"kernel\": *\"[^\"]*\"|\"kernel\": \"$src/vmlinux\"|" -e 's|"name": *"default"|"name": "e2b-base"|' \
  "$src/image.json" >"$dst.tmp/image.json"
rm -rf "$dst"
mv "$dst.tmp" "$dst"
