# The CLI's ahead-of-time cache (JDK 25, JEP 483/514): the classes a one-shot `basalt` command
# loads, parsed and linked once per build by a training run (dev.basalt.cli.StartupTraining),
# so that later commands start in about half the time. Sourced by bin/basalt.
#
#   basalt_cli_java_flags     sets BASALT_CLI_JAVA_FLAGS: the JVM flags of a one-shot command,
#                             with the cache when it exists (made first when it is missing or
#                             older than the build). BASALT_CLI_AOT=off leaves the cache out;
#                             BASALT_CLI_AOT=require makes the JVM refuse to start without it.

# Flags shared by the training run and every command that uses its cache: the cache is only
# valid for the JVM options and the class path it was made with.
_basalt_cli_base_flags() {
  BASALT_CLI_CLASSPATH=$(_basalt_cli_classpath)
  # a one-shot command starts fast with C1 and the serial GC, without the perf-data file; the
  # cache holds classes but no method profiles (JEP 515): C1 has no use for them, and replaying
  # them compiled methods at start-up that a 0.2 s command never needs (-16% CPU per command);
  # grpc-netty (the TCP client) uses Unsafe and native transports: allowed, without JDK 25's
  # warnings
  _basalt_cli_flags=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData
    -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining -XX:-AOTReplayTraining
    --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED
    -cp "$BASALT_CLI_CLASSPATH" -Dbasalt.images="$BASALT_IMAGES")
}

# Jars whose Java 5 class files the start-up cache cannot hold: bin/lib/UpgradeClassFiles.java
# rewrites them as Java 8 class files with stack maps into basalt-cli/target/cli-lib/ (once per
# build), and the CLI's class path uses those copies. picocli's ~170 classes were otherwise loaded
# from the jar and verified by the old verifier in every command (-20% CPU per command).
BASALT_CLI_UPGRADE=(picocli)

_basalt_cli_upgrade_jars() {
  local lib=$BASALT_REPO/basalt-cli/target/lib out=$BASALT_REPO/basalt-cli/target/cli-lib name f
  for name in "${BASALT_CLI_UPGRADE[@]}"; do
    for f in "$lib/$name"-[0-9]*.jar; do
      [[ -e $f ]] || continue
      [[ -f $out/${f##*/} && $out/${f##*/} -nt $f ]] && continue
      mkdir -p "$out"
      if "$JAVA_HOME/bin/java" "$BASALT_REPO/bin/lib/UpgradeClassFiles.java" "$f" "$out/${f##*/}.$$" \
          >"$out/${f##*/}.log" 2>&1; then
        mv -f "$out/${f##*/}.$$" "$out/${f##*/}"
      else
        rm -f "$out/${f##*/}.$$"
        basalt_log "warning: could not rewrite ${f##*/} for the start-up cache (see $out/${f##*/}.log)"
      fi
    done
  done
}

# The CLI's class path, the jars of a daemon client first (a class is looked up jar by jar, in
# order), then the rest (core, server, their dependencies) in name order, and basalt-cli.jar last:
# its manifest's Class-Path names every lib/ jar, which the JVM inserts right after it, so listed
# first it would put lib/picocli before the rewritten copy. A fixed order, since the start-up cache
# is valid only for the class path it was made with.
_basalt_cli_classpath() {
  local lib=$BASALT_REPO/basalt-cli/target/lib cp="" f
  local up=$BASALT_REPO/basalt-cli/target/cli-lib
  local -a first=(picocli basalt-api basalt-grpc grpc-api grpc-core grpc-stub grpc-protobuf grpc-protobuf-lite
    grpc-okhttp okio-jvm okio kotlin-stdlib grpc-netty-shaded grpc-context grpc-util protobuf-java guava
    failureaccess perfmark-api)
  local -A seen=()
  for f in "${first[@]}"; do
    for f in "$lib/$f"-[0-9]*.jar; do
      [[ -e $f ]] || continue
      seen[$f]=1
      if [[ -f $up/${f##*/} && $up/${f##*/} -nt $f ]]; then cp+=$up/${f##*/}:; else cp+=$f:; fi
    done
  done
  for f in "$lib"/*.jar; do [[ -n ${seen[$f]:-} ]] || cp+=$f:; done
  echo "${cp}$BASALT_REPO/basalt-cli/target/basalt-cli.jar"
}

# What a cache belongs to: the JVM uses a cache only with the JDK and the class path that made it.
_basalt_cli_aot_jdk() { echo "$JAVA_HOME $(stat -c %s.%Y "$JAVA_HOME/lib/modules" 2>/dev/null) $BASALT_CLI_CLASSPATH"; }

# True when the cache exists, was made by this JDK, and no jar of the class path is newer.
_basalt_cli_aot_fresh() {
  local cache=$1 target=$BASALT_REPO/basalt-cli/target
  [[ -s $cache && -f $cache.jdk && $(<"$cache.jdk") == "$(_basalt_cli_aot_jdk)" ]] &&
    [[ -z $(find "$target/basalt-cli.jar" "$target/lib" "$target/cli-lib" -newer "$cache" -print -quit 2>/dev/null) ]]
}

_basalt_cli_aot_build() {  # $1: the cache file
  local cache=$1 lock tmp
  exec {lock}>"$cache.lock"
  if [[ ${BASALT_CLI_AOT:-auto} == require ]]; then
    flock "$lock"
  elif ! flock -n "$lock"; then   # another command is making it: start without it, do not wait
    exec {lock}>&-
    return 0
  fi
  if ! _basalt_cli_aot_fresh "$cache"; then
    basalt_log "preparing the CLI's start-up cache (once per build, ~10 s)..."
    tmp=$cache.tmp.$$
    rm -f "$cache"
    if "$JAVA_HOME/bin/java" -XX:AOTCacheOutput="$tmp" -Xlog:aot=error -Xlog:cds=error "${_basalt_cli_flags[@]}" \
        dev.basalt.cli.StartupTraining >"$cache.log" 2>&1 && [[ -s $tmp ]]; then
      _basalt_cli_aot_jdk >"$cache.jdk"
      mv -f "$tmp" "$cache"
    else
      rm -f "$tmp" "$tmp.config"
      basalt_log "warning: could not make the CLI's start-up cache (see $cache.log); starting without it"
    fi
  fi
  exec {lock}>&-
}

basalt_cli_java_flags() {
  local cache=$BASALT_REPO/basalt-cli/target/basalt-cli.aot
  [[ ${BASALT_CLI_AOT:-auto} == off ]] || _basalt_cli_upgrade_jars
  _basalt_cli_base_flags
  BASALT_CLI_JAVA_FLAGS=("${_basalt_cli_flags[@]}")
  case ${BASALT_CLI_AOT:-auto} in
    off) return 0 ;;
    require) _basalt_cli_aot_fresh "$cache" || _basalt_cli_aot_build "$cache"
             BASALT_CLI_JAVA_FLAGS+=(-XX:AOTMode=on -XX:AOTCache="$cache") ;;
    *) _basalt_cli_aot_fresh "$cache" || _basalt_cli_aot_build "$cache"
       # a cache the JVM cannot use (another JDK, a rebuilt jar) is skipped without a word
       [[ -s $cache ]] && BASALT_CLI_JAVA_FLAGS+=(-XX:AOTCache="$cache" -Xlog:aot=off -Xlog:cds=off) ;;
  esac
  return 0
}
