# Builds the default guest image if its inputs changed and exports BASALT_IMAGES (the images
# directory, holding the symlink "default") and BASALT_IMAGE_DEFAULT (the concrete
# default-<hash> directory this checkout built: immune to another checkout re-pointing the
# shared symlink). Sourced by setup.sh. BASALT_AGENT=PATH (or "stub") replaces the agent.

basalt_ensure_image() {
  local args=()
  export BASALT_IMAGES=${BASALT_IMAGES:-$BASALT_HOME/images}
  [[ -n ${BASALT_AGENT:-} ]] && args+=(--agent "$BASALT_AGENT")
  BASALT_IMAGE_DEFAULT=$("$BASALT_REPO/guest/image/build.sh" --print-dir \
    --images "$BASALT_IMAGES" "${args[@]}") ||
    basalt_die "building the guest image failed (guest/image/build.sh)"
  export BASALT_IMAGE_DEFAULT
}
