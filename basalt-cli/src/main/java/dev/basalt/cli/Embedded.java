package dev.basalt.cli;

import dev.basalt.api.Sandboxes;
import dev.basalt.core.SandboxManager;

/** The embedded port (no daemon): the only class of the CLI's remote path that names the core. */
final class Embedded {
    private Embedded() {
    }

    static Sandboxes manager() {
        return SandboxManager.create();
    }
}
