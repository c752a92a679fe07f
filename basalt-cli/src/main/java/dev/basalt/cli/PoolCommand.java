package dev.basalt.cli;

import dev.basalt.api.PoolStats;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code basalt pool}: warm and restore pool statistics. */
@Command(name = "pool", mixinStandardHelpOptions = true, description = "Show the warm pools (READY sandboxes) and restore pools (started VMs).")
final class PoolCommand extends BaseCommand {
    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    PoolCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        List<PoolStats> all = sandboxes().pools();
        if (json) {
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
