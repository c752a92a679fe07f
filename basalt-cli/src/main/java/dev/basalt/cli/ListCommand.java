package dev.basalt.cli;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxState;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import picocli.CommandLine.Model.OptionSpec;

/** {@code basalt ls}: list sandboxes, like {@code docker ps}. */
final class ListCommand extends Verb {
    private final OptionSpec json;
    private final OptionSpec all;
    private final OptionSpec quiet;
    private final OptionSpec filters;

    ListCommand(CliContext context) {
        super(context, "ls", "List live sandboxes (-a: also STOPPED and FAILED ones).");
        aliases("list");
        json = flag("Print a JSON array.", "--json");
        all = flag("Also the sandboxes that are STOPPED or FAILED.", "-a", "--all");
        quiet = flag("Only the ids, one per line.", "-q", "--quiet");
        filters = list("KEY=VALUE", "Only sandboxes with label=K=V, label=K or state=STATE (repeatable: all must match).",
                "-f", "--filter");
    }

    @Override
    public Integer call() {
        Predicate<SandboxInfo> wanted = filter();
        List<SandboxInfo> shown = sandboxes().list().stream().filter(wanted).toList();
        if (Verb.<Boolean>value(quiet)) {
            shown.forEach(s -> context.out().println(s.id()));
            return 0;
        }
        if (Verb.<Boolean>value(json)) {
            context.out().println(Views.json(shown.stream().map(Views::sandbox).toList()));
            return 0;
        }
        String format = "%-12s  %-8s  %-10s  %4s  %7s  %5s  %s%n";
        context.out().printf(format, "ID", "STATE", "IMAGE", "CPUS", "MEMORY", "AGE", "LABELS");
        for (SandboxInfo s : shown) {
            context.out().printf(format, s.id(), s.state(), s.spec().image(), s.spec().vcpus(),
                    s.spec().memoryMib() + "M", Views.age(s.handedOutAt()), Views.labels(s.labels()));
        }
        return 0;
    }

    /** -a and every --filter, checked before anything is asked of the daemon. */
    private Predicate<SandboxInfo> filter() {
        boolean stateFiltered = false;
        Predicate<SandboxInfo> p = s -> true;
        List<String> given = value(filters);
        for (String f : given) {
            int eq = f.indexOf('=');
            if (eq < 0) {
                throw new BasaltException.InvalidArgument("--filter '" + f + "' has no '=': use label=KEY=VALUE, "
                        + "label=KEY or state=STATE");
            }
            String key = f.substring(0, eq);
            String value = f.substring(eq + 1);
            switch (key) {
                case "label" -> {
                    int eq2 = value.indexOf('=');
                    String k = eq2 < 0 ? value : value.substring(0, eq2);
                    String v = eq2 < 0 ? null : value.substring(eq2 + 1);
                    p = p.and(s -> v == null ? s.labels().containsKey(k) : v.equals(s.labels().get(k)));
                }
                case "state" -> {
                    SandboxState state = state(value);
                    stateFiltered = true;
                    p = p.and(s -> s.state() == state);
                }
                default -> throw new BasaltException.InvalidArgument("--filter '" + f + "': unknown key '" + key
                        + "'; use label=KEY=VALUE, label=KEY or state=STATE");
            }
        }
        // a state filter names the states it wants; otherwise only live sandboxes unless -a
        return Verb.<Boolean>value(all) || stateFiltered ? p : p.and(s -> !s.state().isTerminal());
    }

    private static SandboxState state(String name) {
        try {
            return SandboxState.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BasaltException.InvalidArgument("--filter state=" + name + ": not a state; use one of "
                    + java.util.Arrays.toString(SandboxState.values()));
        }
    }
}
