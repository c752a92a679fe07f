package dev.basalt.cli;

import dev.basalt.api.ExecRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.OptionSpec;

/** How to run a command: shared by {@code run} and {@code exec}. */
final class ExecOptions {
    private final OptionSpec env;
    private final OptionSpec workdir;
    private final OptionSpec timeout;
    private final OptionSpec interactive;
    private final OptionSpec tty;

    ExecOptions(Verb verb) {
        env = verb.map("NAME=VALUE", "Environment variable NAME=VALUE (repeatable).", "-e", "--env");
        workdir = verb.option(String.class, "DIR", null, "Working directory in the guest (default: /).", "-w", "--workdir");
        timeout = verb.option(Double.class, "SECONDS", null, "Kill the command after this many seconds (exit code 124).",
                "--timeout");
        interactive = verb.flag("Forward this terminal's stdin to the command.", "-i", "--interactive");
        tty = verb.flag("Run the command on a pseudo-terminal.", "-t", "--tty");
    }

    boolean interactive() {
        return Verb.<Boolean>value(interactive);
    }

    boolean tty() {
        return Verb.<Boolean>value(tty);
    }

    ExecRequest toRequest(List<String> argv) {
        Double seconds = Verb.value(timeout);
        Duration limit = seconds == null ? null : Duration.ofMillis(Math.round(seconds * 1000));
        Map<String, String> variables = Verb.value(env);
        return new ExecRequest(argv, variables, Verb.value(workdir), null, limit, tty(), null);
    }
}
