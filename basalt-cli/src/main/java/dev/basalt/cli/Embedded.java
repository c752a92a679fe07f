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

    /** The embedded manager's image store. */
    static dev.basalt.api.Images images(Sandboxes port) {
        if (port instanceof SandboxManager m) {
            return m.images();
        }
        throw new dev.basalt.api.BasaltException.Unavailable("this client has no image store");
    }

    /** Builds the shipped {@code base} now if the embedded store lacks it, its progress to {@code progress}. */
    static void ensureBase(Sandboxes port, java.util.function.Consumer<String> progress) {
        if (port instanceof SandboxManager m && m.images().store().find("base").isEmpty()) {
            m.images().ensureBase(progress);
        }
    }
}
