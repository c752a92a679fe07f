package dev.basalt.cli;

import dev.basalt.api.TemplateInfo;
import java.util.List;
import picocli.CommandLine.Model.OptionSpec;

/** {@code basalt templates}: the templates sandboxes are cloned from; {@code basalt templates prune} deletes them. */
final class TemplatesCommand extends Verb {
    private final OptionSpec json;

    TemplatesCommand(CliContext context) {
        super(context, "templates", "List the templates sandboxes are cloned from, with the memory each holds on "
                + "/dev/shm; `templates prune` deletes them.");
        json = flag("Print a JSON array.", "--json");
        subcommand(new Prune(context));
    }

    @Override
    public Integer call() {
        print(context, sandboxes().templates(), value(json));
        return 0;
    }

    static void print(CliContext context, List<TemplateInfo> templates, boolean json) {
        if (json) {
            context.out().println(Views.json(templates.stream().map(Views::template).toList()));
            return;
        }
        String format = "%-16s  %-10s  %4s  %7s  %8s  %s%n";
        context.out().printf(format, "TEMPLATE", "IMAGE", "CPUS", "MEMORY", "SHM", "LAST USED");
        for (TemplateInfo t : templates) {
            context.out().printf(format, t.key(), t.image(), t.vcpus(), t.memoryMib() + "M", Views.size(t.shmBytes()),
                    Views.age(t.lastUsedAt()) + " ago");
        }
    }

    /** {@code basalt templates prune}. */
    static final class Prune extends Verb {
        private final OptionSpec json;

        Prune(CliContext context) {
            super(context, "prune", "Delete every template not being built (running sandboxes keep their memory; the "
                    + "next create of an image boots its template again).");
            json = flag("Print the deleted templates as a JSON array.", "--json");
        }

        @Override
        public Integer call() {
            List<TemplateInfo> removed = sandboxes().pruneTemplates();
            if (Verb.<Boolean>value(json)) {
                print(context, removed, true);
            } else {
                long bytes = removed.stream().mapToLong(TemplateInfo::shmBytes).sum();
                context.out().println("deleted " + removed.size() + " template(s), " + Views.size(bytes) + " of /dev/shm");
            }
            return 0;
        }
    }
}
