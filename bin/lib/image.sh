# Builds the guest images if their inputs changed — "default" (Basalt's own kernel, built
# from linux-source-6.1 by guest/kernel/build.sh on first use, ~4 min on 2 cores) and
# "debian" (Debian's cloud kernel, the fallback) — and exports BASALT_IMAGES (the images
# directory, holding the symlinks "default" and "debian"), BASALT_IMAGE_DEFAULT and
# BASALT_IMAGE_DEBIAN (the concrete <name>-<hash> directories this checkout built: immune to
# another checkout re-pointing the shared symlinks). Sourced by setup.sh.
# BASALT_AGENT=PATH (or "stub") replaces the agent.

basalt_ensure_image() {
  local args=() dirs
  export BASALT_IMAGES=${BASALT_IMAGES:-$BASALT_HOME/images}
  [[ -n ${BASALT_AGENT:-} ]] && args+=(--agent "$BASALT_AGENT")
  dirs=$("$BASALT_REPO/guest/image/build.sh" --print-dir --image default --image debian \
    --images "$BASALT_IMAGES" "${args[@]}") ||
    basalt_die "building the guest images failed (guest/image/build.sh)"
  { read -r BASALT_IMAGE_DEFAULT; read -r BASALT_IMAGE_DEBIAN; } <<<"$dirs"
  export BASALT_IMAGE_DEFAULT BASALT_IMAGE_DEBIAN
}
