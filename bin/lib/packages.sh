# Debian packages Basalt needs on the host. Sourced by bin/lib/setup.sh.

BASALT_PACKAGES=(
  qemu-system-x86   # the VMM (TCG here, KVM where the CPU has it)
  busybox-static    # guest userland of the default image
  gcc libc6-dev     # the static C guest agent
  binutils          # readelf: checks the guest kernel's PVH note
  kmod              # modinfo: guest kernel module dependencies
  lz4 cpio          # guest kernel extraction, initramfs
  util-linux        # flock, setpriv, nsenter
  curl unzip ca-certificates  # ./mvnw fetching Maven
  python3           # guest/agent/test behaviour tests (bin/test)
  clang libclang-rt-14-dev  # libFuzzer: fuzzing the agent's decoders (bin/test, bin/fuzz)
  nftables iproute2 # sandbox networking: egress rules, namespaces, veth and TAP devices
  dnsmasq-base      # basalt-net tests: the test internet's DNS server
  openssl           # basalt-net and image tests: certificates, HTTPS servers, a registry's token-signing key
  e2fsprogs         # mkfs.ext4 -d: image root file systems without mounting
  qemu-utils        # qemu-img: copy-on-write disk layers
  mmdebstrap        # Debian images (the shipped `base` image)
  docker-registry skopeo umoci  # image tests: a real OCI registry on loopback, images built by the tests
)

# Installs missing packages (as root) or fails with the command to run. Silent when all
# are present; the check is cached against the mtime of dpkg's status file (~1 ms).
basalt_ensure_packages() {
  local stamp=$BASALT_HOME/cache/packages.ok key missing=() p
  command -v dpkg-query >/dev/null ||
    basalt_die "no dpkg-query: Basalt's scripts expect a Debian/Ubuntu host with: ${BASALT_PACKAGES[*]}"
  key="$(stat -c %Y /var/lib/dpkg/status) ${BASALT_PACKAGES[*]}"
  [[ -f $stamp && $(<"$stamp") == "$key" ]] && return 0
  local installed
  installed=" $({ dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${BASALT_PACKAGES[@]}" \
    2>/dev/null || true; } |
    sed -n 's/^installed //p' | tr '\n' ' ')"
  for p in "${BASALT_PACKAGES[@]}"; do
    [[ $installed == *" $p "* ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
    [[ $(id -u) == 0 ]] || basalt_die "missing Debian packages: ${missing[*]}; run: sudo sh -c '$cmd'"
    basalt_log "installing Debian packages: ${missing[*]}..."
    mkdir -p "$BASALT_HOME/cache"
    local log=$BASALT_HOME/cache/apt.log
    basalt_run_logged "$log" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive basalt_run_logged "$log" \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
    key="$(stat -c %Y /var/lib/dpkg/status) ${BASALT_PACKAGES[*]}"
  fi
  mkdir -p "$BASALT_HOME/cache" && echo "$key" >"$stamp"
}
