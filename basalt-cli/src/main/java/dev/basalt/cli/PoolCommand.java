package dev.basalt.cli;

import dev.basalt.api.PoolStats;
import java.util.List;
import picocli.CommandLine.Model.OptionSpec;

/** {@code basalt pool}: warm and restore pool statistics. */
final class PoolCommand extends Verb {
    private final OptionSpec json;

    PoolCommand(CliContext context) {
        super(context, "pool", "Show the warm pools (READY sandboxes) and restore pools (started VMs).");
        json = flag("Print a JSON array.", "--json");
    }

    @Override
    public Integer call() {
        List<PoolStats> all = sandboxes().pools();
        if (Verb.<Boolean>value(json)) {
            context.out().println(Views.json(all));
            return 0;
        }
        String format = "%-16s  %-10s  %4s  %7s  %11s  %14s  %6s  %6s%n";
        context.out().printf(format, "TEMPLATE", "IMAGE", "CPUS", "MEMORY", "WARM", "STANDBY", "HITS", "MISSES");
        for (PoolStats p : all) {
            context.out().printf(format, p.template(), p.image(), p.vcpus(), p.memoryMib() + "M",
                    p.warmReady() + "/" + p.warmTarget(), p.standbyReady() + "/" + p.standbyTarget(), p.hits(), p.misses());
        }
        if (all.isEmpty()) {
            context.out().println("(no pools configured)");
        }
        return 0;
    }
}
