#!/usr/bin/env bash
# Builds Basalt's guest images: a PVH-bootable vmlinux and a busybox-static initramfs whose
# /init is the Basalt guest agent.
#   default  Basalt's own kernel (guest/kernel/build.sh: linux-source-6.1, everything built
#            in, no ACPI; flavor "basalt"). The fast one.
#   debian   Debian's linux-image-cloud-amd64 with its virtio modules in the initramfs, loaded
#            by the agent from /etc/basalt/modules (flavor "debian-cloud"). The fallback.
#
# Usage: guest/image/build.sh [--image NAME]... [--agent PATH] [--images DIR] [--force] [--print-dir]
#   --image NAME   build this image only (default or debian; repeatable; default: both)
#   --agent PATH   use this agent binary as /init instead of building guest/agent;
#                  "stub" means the busybox-sh stand-in guest/image/stub-init.sh
#                  (default: build with guest/agent/build.sh if present, else the stub)
#   --images DIR   images directory (default: ${BASALT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/basalt}/images)
#   --force        rebuild even if an image for the same inputs exists
#   --print-dir    print each resulting image directory on stdout, one line per image, in
#                  the order the images were asked for (default first when both)
#
# Output: DIR/<name>-<inputs-hash>/{vmlinux,initrd.img,image.json}, written atomically, and
# the symlink DIR/<name> -> <name>-<inputs-hash>. When nothing changed (same agent sources,
# build scripts, kernel inputs, busybox version) this is a no-op that only re-points the
# symlinks. Progress goes to stderr, one line per step that does work.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/bin/lib/errexit.sh"

# ---- the images' fixed choices -------------------------------------------------------------
IMAGES_ALL=(default debian)
# -- default: Basalt's own kernel. Extra kernel command line (appended by the VMM after its
# own options): noapictimer skips the local APIC timer and its calibration (~220 ms under
# TCG, which cannot short-cut the calibration loop); the PIT drives the tick instead. The
# image boots with acpi=false: QEMU then passes the virtio-mmio devices on the command line
# (the kernel has VIRTIO_MMIO_CMDLINE_DEVICES). Init memory is freed without poisoning by a
# kernel patch (guest/kernel/patches), there is no command-line switch for that.
# noreplace-smp keeps the LOCK prefixes a 1-vCPU guest would otherwise patch out one by one
# at boot (~50 ms under TCG; TCG ignores them with one vCPU, KVM pays a few cycles each).
# no_timer_check skips the boot check that the timer interrupt ticks (up to 10 ticks of
# waiting; ~10 ms off a cold boot under TCG), as Kata Containers' and Firecracker's guests do.
DEFAULT_CMDLINE_EXTRA="noapictimer noreplace-smp no_timer_check"
# -- debian: Debian's cloud kernel.
KERNEL_META=linux-image-cloud-amd64
# Modules loaded by the agent at boot, in this order after dependency resolution.
# virtio transport + console are required; the rest give disks, network, a hardware RNG,
# overlayfs for copy-on-write root filesystems, TUN and vsock: the same features the own
# kernel has built in (GuestFeaturesTest checks both).
# BASALT_IMAGE_MODULES (space-separated) overrides the list, for experiments.
WANT_MODULES=(${BASALT_IMAGE_MODULES:-virtio_ring virtio virtio_mmio virtio_console
  virtio-rng virtio_blk virtio_net overlay tun vmw_vsock_virtio_transport})
# Each saves boot time under TCG: no probing of absent legacy UARTs / PS2 controller, no
# crypto self-tests, no audit subsystem, no zeroing of every page allocation (measured
# ~0.1 s; the guest kernel is single-tenant, so this hardening buys little there).
DEBIAN_CMDLINE_EXTRA="noreplace-smp no_timer_check 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd cryptomgr.notests audit=0 init_on_alloc=0"
# The initramfs is not compressed: under TCG the kernel unpacked the lz4 one (1.5 MB, 2.8 MB
# unpacked) in 100-140 ms and the plain one in 60-67 ms (2026-11-23); QEMU loads either instantly.
INITRD_COMPRESS=${BASALT_INITRD_COMPRESS:-none}   # none | lz4 | gzip

log() { echo "basalt: $*" >&2; }
die() { echo "basalt: error: $*" >&2; exit 1; }

agent_bin="" images="" force=0 print_dir=0 want=()
while (($#)); do
  case $1 in
    --image) [[ " ${IMAGES_ALL[*]} " == *" ${2:-} "* ]] || die "unknown image '${2:-}' (one of: ${IMAGES_ALL[*]})"
             want+=("$2"); shift 2 ;;
    --agent) [[ $2 == stub ]] && agent_bin=$here/stub-init.sh || agent_bin=$2
             agent_bin=$(realpath -e "$agent_bin") || die "agent binary not found: $2"; shift 2 ;;
    --images) images=$2; shift 2 ;;
    --force) force=1; shift ;;
    --print-dir) print_dir=1; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

((${#want[@]})) || want=("${IMAGES_ALL[@]}")
wants() { [[ " ${want[*]} " == *" $1 "* ]]; }

base=${BASALT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/basalt}
images=${images:-$base/images}
cache=$base/cache
mkdir -p "$images" "$cache"

# ---- resolve package versions (cached: apt-cache costs ~0.8 s without pkgcache.bin) -------
resolve_versions() {
  local key line
  key="$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0) $(stat -c %Y /var/lib/dpkg/status)"
  if [[ -f $cache/versions ]] && read -r line <"$cache/versions" && [[ $line == "$key "* ]]; then
    read -r _ _ KPKG KVER BBVER <<<"$line"
    return
  fi
  local show
  if ! show=$(apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null) || [[ -z $show ]]; then
    if [[ $(id -u) == 0 ]]; then
      log "refreshing Debian package lists (apt-get update)..."
      apt-get update -qq >"$cache/apt-update.log" 2>&1 || { cat "$cache/apt-update.log" >&2; die "apt-get update failed"; }
      show=$(apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null) || true
    fi
  fi
  # "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)": name and exact version
  read -r KPKG KVER < <(sed -n \
    's/^Depends:.*\(linux-image-[0-9][^ ,]*-cloud-amd64\) (= \([^)]*\)).*/\1 \2/p' <<<"$show" | head -1) || true
  if [[ -z ${KPKG:-} || -z ${KVER:-} ]]; then
    # Offline: fall back to the newest kernel package already in the cache.
    local deb
    deb=$(ls -1 "$cache"/debs/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -1) ||
      true
    [[ -n $deb ]] || die "cannot resolve $KERNEL_META: no apt package lists and no cached kernel (run: apt-get update)"
    KPKG=$(dpkg-deb -f "$deb" Package); KVER=$(dpkg-deb -f "$deb" Version)
  fi
  BBVER=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) ||
    die "busybox-static is not installed (run: apt-get install -y busybox-static)"
  [[ -n $KPKG && -n $KVER ]] || die "could not resolve the kernel package version of $KERNEL_META"
  echo "$key $KPKG $KVER $BBVER" >"$cache/versions.tmp.$$" && mv -f "$cache/versions.tmp.$$" "$cache/versions"
}
if wants debian; then
  resolve_versions
else
  BBVER=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) ||
    die "busybox-static is not installed (run: apt-get install -y busybox-static)"
fi

# ---- the own kernel (a few ms when cached; ~4 min to build, with its own progress line) ----
if wants default; then
  bkdir=$("$repo/guest/kernel/build.sh" "$cache/kernel") || die "building the guest kernel failed (guest/kernel/build.sh)"
fi

# ---- inputs hash --------------------------------------------------------------------------
hash_tree() {  # content hash of the source files below the given dirs (build outputs excluded)
  local d
  for d in "$@"; do
    [[ -d $d ]] || continue
    (cd "$d" && find . \( -name build -o -name target -o -name out -o -name .git -o -name __pycache__ \) -prune -o \
        -type f ! -name '*.o' ! -name '*.a' ! -name '*~' -print0 | LC_ALL=C sort -z |
        xargs -0r sha256sum)
  done | sha256sum | cut -c1-64
}
agent_mode=
if [[ -n $agent_bin ]]; then
  agent_mode=given; agent_in="binary:$(sha256sum <"$agent_bin" | cut -c1-64)"
elif [[ -x $repo/guest/agent/build.sh ]]; then
  agent_mode=build; agent_in="sources:$(hash_tree "$repo/guest/agent")"
else
  agent_mode=stub; agent_in="stub"
fi
common_in=$( { echo "image-format 2"; echo "busybox $BBVER"; echo "compress $INITRD_COMPRESS";
  echo "agent $agent_in"; hash_tree "$here"; } | sha256sum | cut -c1-64)
declare -A ihash=()
wants default && ihash[default]=$( { echo "$common_in"; echo "kernel ${bkdir##*/}"; } | sha256sum | cut -c1-16)
wants debian && ihash[debian]=$( { echo "$common_in"; echo "kernel $KPKG $KVER";
  echo "modules ${WANT_MODULES[*]}"; } | sha256sum | cut -c1-16)

point_symlink() {  # $1: image name; atomic, so a reader never sees a missing link
  ln -sfn "$1-${ihash[$1]}" "$images/.$1.tmp.$$" && mv -Tf "$images/.$1.tmp.$$" "$images/$1"
}
todo=()
pending() {  # the wanted images whose directory does not exist yet; re-points the others
  local n; todo=()
  for n in "${want[@]}"; do
    if ((force)) || [[ ! -f $images/$n-${ihash[$n]}/image.json ]]; then todo+=("$n")
    elif [[ $(readlink "$images/$n" 2>/dev/null) != "$n-${ihash[$n]}" ]]; then point_symlink "$n"; fi
  done
}
finish() {
  local n
  if ((print_dir)); then for n in "${want[@]}"; do echo "$images/$n-${ihash[$n]}"; done; fi
  exit 0
}
pending
((${#todo[@]})) || finish

# ---- slow path: build under a lock --------------------------------------------------------
exec 9>"$images/.lock"
flock 9
pending             # another process may have built some meanwhile
((${#todo[@]})) || finish

for tool in lz4 cpio dpkg-deb readelf strip modinfo flock; do
  command -v "$tool" >/dev/null || die "missing tool '$tool' (run: apt-get install -y qemu-system-x86 busybox-static gcc libc6-dev lz4 cpio kmod binutils util-linux)"
done
[[ -x /bin/busybox ]] || die "/bin/busybox missing (run: apt-get install -y busybox-static)"

tmp=$(mktemp -d "$images/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# -- debian kernel: download + extract once per kernel package version, cached -----------
if [[ " ${todo[*]} " == *" debian "* ]]; then
  kdir=$cache/kernel/$KPKG-$KVER
  if [[ ! -f $kdir/.done ]]; then
    mkdir -p "$cache/debs"
    deb=$cache/debs/${KPKG}_${KVER//:/%3a}_amd64.deb
    if [[ ! -f $deb ]]; then
      log "downloading kernel package $KPKG $KVER..."
      (cd "$tmp" && apt-get download -qq "$KPKG=$KVER" >"$tmp/download.log" 2>&1) ||
        { cat "$tmp/download.log" >&2; die "apt-get download $KPKG=$KVER failed"; }
      mv -f "$tmp"/"${KPKG}"_*.deb "$deb"
    fi
    kx=$tmp/kx; mkdir -p "$kx"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kx" --wildcards './boot/*' './lib/modules/*'
    vmlinuz=$(echo "$kx"/boot/vmlinuz-*)
    krel=${vmlinuz##*/vmlinuz-}
    [[ -f $vmlinuz ]] || die "no vmlinuz in $deb"
    # The bzImage carries an LZ4 (legacy frame) payload: find the magic, decompress from there.
    off=$(LC_ALL=C grep -obUaP '\x02\x21\x4c\x18' "$vmlinuz" | head -1 | cut -d: -f1)
    [[ -n $off ]] || die "no LZ4 payload in $vmlinuz (is CONFIG_KERNEL_LZ4 still used by Debian?)"
    # lz4 exits 1 on the trailing bytes after the frame; the ELF check below is the real test.
    tail -c +$((off + 1)) "$vmlinuz" | lz4 -dc >"$tmp/vmlinux" 2>/dev/null || true
    readelf -h "$tmp/vmlinux" >/dev/null 2>&1 || die "decompressed kernel is not an ELF file"
    readelf -n "$tmp/vmlinux" | grep -q 'Xen.*(0x00000012)' ||
      die "kernel has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): QEMU -kernel cannot boot it"
    mkdir -p "$tmp/kcache/modules"
    mv "$tmp/vmlinux" "$tmp/kcache/vmlinux"
    touch -d @0 "$tmp/kcache/vmlinux"; chmod 0444 "$tmp/kcache/vmlinux"
    cp "$kx/boot/config-$krel" "$tmp/kcache/config"
    echo "$krel" >"$tmp/kcache/release"
    # Keep the whole module tree of the kernel (~uncompressed); image builds select from it.
    mv "$kx/lib/modules/$krel" "$tmp/kcache/modules/$krel"
    rm -rf "$kdir"; mkdir -p "${kdir%/*}"; mv "$tmp/kcache" "$kdir"; touch "$kdir/.done"
    rm -rf "$kx"
  fi
  drel=$(<"$kdir/release")
  mdir=$kdir/modules/$drel
fi

# -- agent -------------------------------------------------------------------------------
case $agent_mode in
  given) cp "$agent_bin" "$tmp/agent" ;;
  build) log "building guest agent..."
         "$repo/guest/agent/build.sh" "$tmp/agent" >&2 || die "guest/agent/build.sh failed" ;;
  stub)  cp "$here/stub-init.sh" "$tmp/agent" ;;
esac
chmod 0755 "$tmp/agent"
agent_sha=$(sha256sum <"$tmp/agent" | cut -c1-64)

# -- root tree shared by every image ---------------------------------------------------
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/basalt,root,tmp,proc,sys,dev,run,var/tmp,mnt}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
cp /bin/busybox "$root/bin/busybox"
while read -r p; do     # busybox --install -s, done at build time
  [[ $p == bin/busybox ]] && continue
  mkdir -p "$root/${p%/*}"
  ln -sf /bin/busybox "$root/$p"
done < <(/bin/busybox --list-full)
cp "$tmp/agent" "$root/init"
ln -sf /init "$root/sbin/basalt-agent"

# minimal /etc
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"; chmod 0600 "$root/etc/shadow"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
echo basalt >"$root/etc/hostname"
printf '/bin/sh\n' >"$root/etc/shells"
case $INITRD_COMPRESS in
  lz4)  compress=(lz4 -l -9 -q -c) ;;   # -l: legacy frame, the format the kernel unpacks
  gzip) compress=(gzip -1 -n -c) ;;
  none) compress=(cat) ;;
  *) die "BASALT_INITRD_COMPRESS must be lz4, gzip or none" ;;
esac

# debian only: copies the modules (dependencies first, uncompressed) into root tree $1 and
# lists them in /etc/basalt/modules, the agent's load list; sets order[].
add_debian_modules() {
  local root=$1 f b m rel dst
  declare -A seen=() modpath=()
  while IFS= read -r -d '' f; do
    b=${f##*/}; b=${b%%.ko*}; modpath[$b]=$f; modpath[${b//-/_}]=$f
  done < <(find "$mdir" -name '*.ko*' -print0)
  order=()
  add_module() {
    local m=${1//-/_} f dep
    [[ -n ${seen[$m]:-} ]] && return
    f=${modpath[$m]:-}
    if [[ -z $f ]]; then
      grep -qE "/${1}\.ko|/${m}\.ko" "$mdir/modules.builtin" 2>/dev/null && { seen[$m]=builtin; return; }
      die "kernel module $1 not found in $KPKG"
    fi
    seen[$m]=1
    for dep in $(modinfo -F depends "$f" | tr ',' ' '); do add_module "$dep"; done
    order+=("$f")
  }
  for m in "${WANT_MODULES[@]}"; do add_module "$m"; done
  : >"$root/etc/basalt/modules"
  for f in "${order[@]}"; do
    rel=${f#"$mdir"/}; rel=${rel%.xz}; rel=${rel%.zst}; rel=${rel%.gz}
    dst=$root/lib/modules/$drel/$rel
    mkdir -p "${dst%/*}"
    case $f in
      *.ko.xz)  xz -dc "$f" >"$dst" ;;
      *.ko.zst) zstd -qdc "$f" >"$dst" ;;
      *.ko.gz)  gzip -dc "$f" >"$dst" ;;
      *)        cp "$f" "$dst" ;;
    esac
    echo "/lib/modules/$drel/$rel" >>"$root/etc/basalt/modules"
  done
}

# builds image $1 from the shared root tree into $images/$1-<hash>, then points the symlink
build_image() {
  local n=$1 h=${ihash[$1]} r=$tmp/root-$1 img=$tmp/img-$1 out=$images/$1-${ihash[$1]}
  local flavor kernel kpkg kver krel extra acpi mods_json=
  order=()
  cp -a "$root" "$r"
  case $n in
    default)
      flavor=basalt kernel=$bkdir/vmlinux kpkg=linux-source-6.1 extra=$DEFAULT_CMDLINE_EXTRA acpi=false
      kver=$(sed -n 's/^source [^ ]* //p' "$bkdir/build-info") krel=$(<"$bkdir/release")
      log "building guest image default (own kernel $krel, agent: $agent_mode)..." ;;
    debian)
      flavor=debian-cloud kernel=$kdir/vmlinux kpkg=$KPKG kver=$KVER krel=$drel extra=$DEBIAN_CMDLINE_EXTRA acpi=true
      log "building guest image debian ($KPKG $KVER, agent: $agent_mode)..."
      add_debian_modules "$r"
      mods_json=$(for f in "${order[@]}"; do b=${f##*/}; printf '"%s",' "${b%%.ko*}"; done) ;;
  esac
  cat >"$r/etc/basalt/image" <<EOF
NAME=basalt
ID=basalt
IMAGE=$n
FLAVOR=$flavor
KERNEL_PACKAGE=$kpkg
KERNEL_VERSION=$kver
KERNEL_RELEASE=$krel
BUSYBOX_VERSION=$BBVER
INPUTS_HASH=$h
EOF
  ln -sf basalt/image "$r/etc/os-release"
  # -- initrd: sorted newc cpio, fixed mtimes and owners
  find "$r" -exec touch -h -d @0 {} +
  mkdir -p "$img"
  (cd "$r" && find . -mindepth 1 -print | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | "${compress[@]}" >"$img/initrd.img"
  if [[ $n == default ]]; then
    # QEMU's ELF loader reads and sorts the symbol table of the kernel it boots (~8 ms of every
    # start, measured): the image gets a stripped copy; the kernel cache keeps the full vmlinux
    # and System.map for debugging (e.g. reading QEMU's -d in_asm logs)
    strip -o "$img/vmlinux" "$kernel"
    touch -d @0 "$img/vmlinux"; chmod 0444 "$img/vmlinux"
  else
    # a hard link (same file system, read-only use) saves the kernel's size per image; copy otherwise
    ln "$kernel" "$img/vmlinux" 2>/dev/null || cp "$kernel" "$img/vmlinux"
  fi
  cat >"$img/image.json" <<EOF
{
  "name": "$n",
  "flavor": "$flavor",
  "kernel": "vmlinux",
  "initrd": "initrd.img",
  "initrdCompression": "$INITRD_COMPRESS",
  "kernelPackage": "$kpkg",
  "kernelPackageVersion": "$kver",
  "kernelRelease": "$krel",
  "busyboxVersion": "$BBVER",
  "agent": "$agent_mode",
  "agentSha256": "$agent_sha",
  "modules": [${mods_json%,}],
  "cmdlineExtra": "$extra",
  "acpi": $acpi,
  "inputsHash": "$h"
}
EOF
  find "$img" -mindepth 1 ! -name vmlinux -exec touch -h -d @0 {} +
  rm -rf "$out"      # only reachable with --force or after a crashed build
  mv -T "$img" "$out"
  rm -rf "$r"
  point_symlink "$n"
  # keep the 3 newest $n-* images and whatever the symlink points at (older ones may still
  # be in use by a running test of another checkout sharing this cache)
  local cur old
  cur=$(readlink "$images/$n" 2>/dev/null || true)
  ls -1dt "$images/$n"-* 2>/dev/null | tail -n +4 | while read -r old; do
    [[ $old == "$out" || ${old##*/} == "$cur" ]] || rm -rf "$old"
  done
}

for n in "${todo[@]}"; do build_image "$n"; done
finish
