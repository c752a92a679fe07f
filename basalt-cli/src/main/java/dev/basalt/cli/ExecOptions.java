package dev.basalt.cli;

import dev.basalt.api.ExecRequest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** How to run a command: shared by {@code run} and {@code exec}. */
final class ExecOptions {
    @Option(names = {"-e", "--env"}, description = "Environment variable NAME=VALUE (repeatable).")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = {"-w", "--workdir"}, description = "Working directory in the guest (default: /).")
    String workdir;

    @Option(names = "--timeout", description = "Kill the command after this many seconds (exit code 124).")
    Double timeoutSeconds;

    @Option(names = {"-i", "--interactive"}, description = "Forward this terminal's stdin to the command.")
    boolean interactive;

    @Option(names = {"-t", "--tty"}, description = "Run the command on a pseudo-terminal.")
    boolean tty;

    ExecRequest toRequest(List<String> argv) {
        Duration timeout = timeoutSeconds == null ? null : Duration.ofMillis(Math.round(timeoutSeconds * 1000));
        return new ExecRequest(argv, env, workdir, null, timeout, tty, null);
    }
}
