#!/usr/bin/env bash
# Builds Basalt's guest kernel from Debian's linux-source-6.1 package: `make ARCH=x86_64
# tinyconfig`, the fragment guest/kernel/microvm.config merged on top, the patches in
# guest/kernel/patches applied, everything built in, a PVH-bootable vmlinux.
#
# Usage: guest/kernel/build.sh [--force] [--print-hash] OUTDIR
#   OUTDIR        kernel cache directory; the kernel lands in OUTDIR/basalt-<inputs-hash>/
#                 {vmlinux, config, System.map, release, build-info}; that directory is printed
#   --force       rebuild even if a kernel for the same inputs exists
#   --print-hash  only print the inputs hash (fails if linux-source-6.1 is not installed)
#
# The inputs hash covers this script, the fragment, the patches, the linux-source package
# version and the compiler version: when none changed this is a no-op of a few ms. A build
# runs in OUTDIR/.build-*, is moved into place atomically and its tree deleted afterwards.
# After olddefconfig every line of the fragment is checked against the final .config and
# the build fails, naming the options, if kconfig dropped one (unmet dependencies).
# Missing build packages are installed with apt-get when running as root.
# BASALT_KERNEL_JOBS sets make's -j (default: nproc). Progress goes to stderr.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../bin/lib/errexit.sh"
SRC_PKG=linux-source-6.1
TARBALL=/usr/src/$SRC_PKG.tar.xz
FRAGMENT=$here/microvm.config
BUILD_PKGS=(linux-source-6.1 make gcc libc6-dev bc bison flex libelf-dev libssl-dev xz-utils patch binutils)

log() { echo "basalt: $*" >&2; }
die() { echo "basalt: error: $*" >&2; exit 1; }

force=0 hash_only=0 outdir=
while (($#)); do
  case $1 in
    --force) force=1; shift ;;
    --print-hash) hash_only=1; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) [[ -z $outdir ]] || die "only one OUTDIR, got '$outdir' and '$1'"; outdir=$1; shift ;;
  esac
done
[[ -n $outdir ]] || die "usage: guest/kernel/build.sh [--force] [--print-hash] OUTDIR"
shopt -s nullglob
patches=("$here"/patches/*.patch)
shopt -u nullglob

# the installed version of the source package, or nothing (dpkg-query fails for a package it
# has never seen: that is "not installed", not an error)
src_version() { { dpkg-query -W -f='${db:Status-Status} ${Version}' "$SRC_PKG" 2>/dev/null || true; } |
  sed -n 's/^installed //p'; }
inputs_hash() {  # $1: source package version
  { echo "basalt-kernel 1"; echo "$SRC_PKG $1"; echo "gcc $(gcc -dumpfullversion 2>/dev/null || echo none)"
    sha256sum "${BASH_SOURCE[0]}" "$FRAGMENT" ${patches[@]+"${patches[@]}"} | cut -c1-64
  } | sha256sum | cut -c1-16
}

# ---- fast path: a kernel for these inputs exists -------------------------------------------
version=$(src_version)
if ((hash_only)); then
  [[ -n $version ]] || die "$SRC_PKG is not installed: no inputs hash yet"
  inputs_hash "$version"; exit 0
fi
if [[ -n $version ]] && ((!force)); then
  dir=$outdir/basalt-$(inputs_hash "$version")
  [[ -f $dir/vmlinux ]] && { echo "$dir"; exit 0; }
fi

# ---- build packages -------------------------------------------------------------------------
mkdir -p "$outdir"
exec 9>"$outdir/.lock"
# one kernel build at a time per cache (2 cores: never two in parallel)
flock -n 9 || { log "waiting for another build of the guest kernel to finish..."; flock 9; }
missing=()
installed=" $({ dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${BUILD_PKGS[@]}" 2>/dev/null || true; } |
  sed -n 's/^installed //p' | tr '\n' ' ')"
for p in "${BUILD_PKGS[@]}"; do [[ $installed == *" $p "* ]] || missing+=("$p"); done
if ((${#missing[@]})); then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  [[ $(id -u) == 0 ]] || die "missing packages to build the guest kernel: ${missing[*]}; run: sudo sh -c '$cmd'"
  log "installing guest kernel build packages: ${missing[*]}..."
  aptlog=$outdir/apt.log
  BASALT_STEP="installing guest kernel build packages" BASALT_STEP_LOG=$aptlog
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "${missing[@]}" >"$aptlog" 2>&1; then
    apt-get update -qq -o DPkg::Lock::Timeout=600 >>"$aptlog" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "${missing[@]}" >>"$aptlog" 2>&1 ||
      { tail -n 30 "$aptlog" >&2; die "installing ${missing[*]} failed (log: $aptlog)"; }
  fi
  version=$(src_version)
fi
[[ -n $version && -f $TARBALL ]] || die "$SRC_PKG is installed but $TARBALL is missing (reinstall $SRC_PKG)"
hash=$(inputs_hash "$version")
name=basalt-$hash
dir=$outdir/$name
if [[ -f $dir/vmlinux ]] && ((!force)); then echo "$dir"; exit 0; fi   # built meanwhile

# ---- slow path ------------------------------------------------------------------------------
jobs=${BASALT_KERNEL_JOBS:-$(nproc)}
log "building guest kernel ($SRC_PKG $version, ~4 min on 2 cores)..."
start=$SECONDS
tmp=$(mktemp -d "$outdir/.build-$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
blog=$tmp/build.log
BASALT_STEP="building the guest kernel" BASALT_STEP_LOG="$outdir/build-$name.failed.log (kept on failure)"
fail() {   # keep the log of a failed build next to the cache, the tree goes
  cp "$blog" "$outdir/build-$name.failed.log" 2>/dev/null || true
  tail -n 40 "$blog" >&2
  die "$* (full log: $outdir/build-$name.failed.log)"
}
tar -xJf "$TARBALL" -C "$tmp" || die "cannot extract $TARBALL"
src=$tmp/$SRC_PKG
[[ -f $src/Makefile ]] || die "$TARBALL does not hold $SRC_PKG/"
for p in ${patches[@]+"${patches[@]}"}; do
  patch -d "$src" -p1 --forward --batch --quiet <"$p" >>"$blog" 2>&1 || fail "patch ${p##*/} does not apply"
done

kmake() {
  make -C "$src" ARCH=x86_64 KBUILD_BUILD_USER=basalt KBUILD_BUILD_HOST=basalt "$@" >>"$blog" 2>&1
}
kmake tinyconfig || fail "make tinyconfig failed"
(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") >>"$blog" 2>&1 ||
  fail "merging $FRAGMENT failed"
kmake olddefconfig || fail "make olddefconfig failed"

# ---- every fragment line must hold in the final .config -------------------------------------
verify_config() {  # $1: fragment, $2: .config
  local line sym want have bad=()
  declare -A final=()
  while IFS= read -r line; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then final[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then final[${BASH_REMATCH[1]}]=n; fi
  done <"$2"
  while IFS= read -r line; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then sym=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then sym=${BASH_REMATCH[1]} want=n
    else continue; fi
    have=${final[$sym]:-n}        # absent from .config: the symbol is off or does not exist
    [[ $have == "$want" ]] || bad+=("$sym: wanted $want, got $have")
  done <"$1"
  ((${#bad[@]} == 0)) && return 0
  echo "basalt: error: the final kernel .config lost options of ${1##*/} (kconfig drops options whose" >&2
  echo "basalt: error: dependencies are unmet or that do not exist; add the dependencies to the fragment):" >&2
  for line in "${bad[@]}"; do
    sym=${line%%:*}; sym=${sym#CONFIG_}
    local where
    where=$(cd "$src" && grep -rlE --include='Kconfig*' "^(menu)?config $sym\$" . 2>/dev/null | head -1)
    if [[ -n $where ]]; then echo "basalt: error:   $line (defined in ${where#./})" >&2
    else echo "basalt: error:   $line (no such option in this kernel)" >&2; fi
    [[ -n $where ]] && awk -v s="$sym" '
      $0 ~ "^(menu)?config "s"$" { on = 1; next }
      on && /^(menu)?config |^(end)?(menu|choice|if)/ { on = 0 }
      on && /^[ \t]+(depends on|select|bool|tristate)/ { sub(/^[ \t]+/, ""); print "basalt: error:       " $0 }
    ' "$src/$where" >&2
  done
  return 1
}
verify_config "$FRAGMENT" "$src/.config" || { cp "$src/.config" "$outdir/build-$name.failed.config";
  die "fix $FRAGMENT (final config kept at $outdir/build-$name.failed.config)"; }

kmake -j"$jobs" vmlinux || fail "kernel build failed"
readelf -n "$src/vmlinux" 2>/dev/null | grep -q 'Xen.*(0x00000012)' ||
  fail "vmlinux has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): QEMU -kernel cannot boot it"

out=$tmp/out
mkdir -p "$out"
cp "$src/vmlinux" "$out/vmlinux"
cp "$src/.config" "$out/config"
cp "$src/System.map" "$out/System.map"
cp "$src/include/config/kernel.release" "$out/release"
{ echo "source $SRC_PKG $version"; echo "gcc $(gcc -dumpfullversion)"; echo "jobs $jobs";
  echo "seconds $((SECONDS - start))"; } >"$out/build-info"
chmod 0444 "$out/vmlinux"
rm -rf "$src"                       # ~1.5 GB of tree: gone before the move
rm -rf "$dir"                       # only reachable with --force
mv -T "$out" "$dir"
rm -f "$outdir"/build-*.failed.*    # logs of earlier failed builds

# keep the 3 newest kernels (an image built from an older one may still be in use)
ls -1dt "$outdir"/basalt-* 2>/dev/null | tail -n +4 | while read -r old; do
  [[ $old == "$dir" ]] || rm -rf "$old"
done
echo "$dir"
