package dev.basalt.cli;

import dev.basalt.api.Sandboxes;
import java.util.concurrent.Callable;

/** Base of every verb: gives access to the {@link CliContext}. */
abstract class BaseCommand implements Callable<Integer> {
    protected final CliContext context;

    protected BaseCommand(CliContext context) {
        this.context = context;
    }

    protected Sandboxes sandboxes() {
        return context.sandboxes();
    }
}
