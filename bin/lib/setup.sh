# Host set-up shared by bin/basalt, bin/test and bin/bench: every step prints one line to
# stderr when it does work and nothing when it is already done.
#   basalt_setup [--no-java-build] [REQUIRED_FILE...]
# Exports JAVA_HOME, BASALT_HOME, BASALT_IMAGES, BASALT_IMAGE_DEFAULT, BASALT_IMAGE_DEBIAN.

_basalt_lib=$(dirname "${BASH_SOURCE[0]}")
source "$_basalt_lib/errexit.sh"
source "$_basalt_lib/common.sh"
source "$_basalt_lib/packages.sh"
source "$_basalt_lib/jdk.sh"
source "$_basalt_lib/java-build.sh"
source "$_basalt_lib/image.sh"

basalt_setup() {
  local java_build=1
  if [[ ${1:-} == --no-java-build ]]; then java_build=0; shift; fi
  basalt_ensure_packages
  basalt_ensure_jdk
  ((java_build)) && basalt_build_java "$@"
  basalt_ensure_image
}
