# Locates a JDK 25 (or newer) and exports JAVA_HOME. Sourced by bin/lib/setup.sh.

# Prints the feature version (25) of the JDK at $1, or nothing. Reads the release file,
# so no JVM is started.
basalt_jdk_version() {
  local v
  [[ -x $1/bin/java && -x $1/bin/javac && -f $1/release ]] || return 0
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  echo "$v"
}

basalt_ensure_jdk() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/*-25-* /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [[ -n $c && -d $c ]] || continue
    v=$(basalt_jdk_version "$c")
    if [[ -n $v ]] && ((v >= 25)); then export JAVA_HOME=$c; return 0; fi
  done
  if command -v javac >/dev/null; then        # a JDK on PATH, e.g. from sdkman
    c=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(basalt_jdk_version "$c")
    if [[ -n $v ]] && ((v >= 25)); then export JAVA_HOME=$c; return 0; fi
  fi
  basalt_die "Basalt needs a JDK 25 and none was found (JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm, PATH).
  Debian 12 does not package JDK 25: install Eclipse Temurin 25 (https://adoptium.net/installation/linux/ :
  add the Adoptium apt repository, then apt-get install temurin-25-jdk), or unpack a JDK 25 and
  set JAVA_HOME to it."
}
