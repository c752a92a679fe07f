# Builds the Java modules with Maven only when their sources changed. Sourced by setup.sh.

# Prints a fingerprint of everything Maven builds from: tracked files' blob ids plus size
# and mtime of files changed or added in the working tree. Costs a few ms.
basalt_java_fingerprint() {
  local paths=(pom.xml .mvn ':(glob)basalt-*/**') tmp
  tmp=$(mktemp)
  (
    cd "$BASALT_REPO"
    git ls-files -s -- "${paths[@]}"
    # modified, deleted and untracked (not ignored) files: names, then size and mtime
    git ls-files -m -o --exclude-standard -z -- "${paths[@]}" >"$tmp"
    tr '\0' '\n' <"$tmp"
    xargs -0r stat -c '%n %s %Y' -- <"$tmp" 2>/dev/null || true
  ) | sha256sum | cut -c1-64
  rm -f "$tmp"
}

# basalt_mark_java_built: records that target/ holds a build of the current sources (for a
# caller that ran Maven itself, as bin/test does with `verify`).
basalt_mark_java_built() {
  if git -C "$BASALT_REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mkdir -p "$BASALT_REPO/target"
    basalt_java_fingerprint >"$BASALT_REPO/target/basalt-build.stamp"
  fi
}

basalt_have_all() {  # true when every given repo-relative file exists
  local f
  for f in "$@"; do [[ -e $BASALT_REPO/$f ]] || return 1; done
}

# basalt_build_java [REQUIRED_FILE...]: runs ./mvnw install -DskipTests when the sources
# changed since the last successful build or a required output file is missing.
basalt_build_java() {
  local target=$BASALT_REPO/target stamp fp="" f need=0 lock
  stamp=$target/basalt-build.stamp
  if git -C "$BASALT_REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    fp=$(basalt_java_fingerprint)
    [[ -f $stamp && $(<"$stamp") == "$fp" ]] || need=1
  else   # not a git checkout: compare mtimes with the stamp
    [[ -f $stamp ]] || need=1
    ((need)) || [[ -z $(cd "$BASALT_REPO" && find pom.xml .mvn basalt-* -newer "$stamp" \
      -not -path '*/target/*' -print -quit) ]] || need=1
  fi
  basalt_have_all "$@" || need=1
  ((need)) || return 0
  mkdir -p "$target"
  exec {lock}>"$target/basalt-build.lock"   # one Maven build at a time
  flock "$lock"
  if [[ -n $fp && -f $stamp && $(<"$stamp") == "$fp" ]] && basalt_have_all "$@"; then
    exec {lock}>&-; return 0                 # built by another process meanwhile
  fi
  basalt_log "building Basalt (Maven)..."
  (cd "$BASALT_REPO" &&
    basalt_run_logged "$target/basalt-build.log" ./mvnw -q -B -DskipTests install)
  echo "$fp" >"$stamp"
  exec {lock}>&-
  for f in "$@"; do
    [[ -e $BASALT_REPO/$f ]] || basalt_die "the Maven build did not produce $f"
  done
}
