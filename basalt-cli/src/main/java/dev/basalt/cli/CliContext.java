package dev.basalt.cli;

import dev.basalt.api.Sandboxes;
import dev.basalt.core.SandboxManager;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * What a command runs against: the {@link Sandboxes} port and the terminal streams. Today the port
 * is an embedded {@link SandboxManager} created on first use (so `--help` boots nothing); a client
 * of the basaltd daemon will plug in here, behind the same port, without touching the commands.
 */
public final class CliContext implements AutoCloseable {
    private final Supplier<Sandboxes> factory;
    private final boolean embedded;
    private final PrintStream out;
    private final PrintStream err;
    private final InputStream in;
    private Sandboxes port;

    public CliContext(Supplier<Sandboxes> factory, boolean embedded, PrintStream out, PrintStream err, InputStream in) {
        this.factory = factory;
        this.embedded = embedded;
        this.out = out;
        this.err = err;
        this.in = in;
    }

    /** Embedded mode: sandboxes live inside this process and end with it. */
    static CliContext embeddedMode() {
        return new CliContext(SandboxManager::create, true, System.out, System.err, System.in);
    }

    synchronized Sandboxes sandboxes() {
        if (port == null) {
            port = factory.get();
        }
        return port;
    }

    /** True when sandboxes end with this process (no daemon). */
    boolean embedded() {
        return embedded;
    }

    PrintStream out() {
        return out;
    }

    PrintStream err() {
        return err;
    }

    InputStream in() {
        return in;
    }

    @Override
    public synchronized void close() {
        if (port != null && embedded) {
            port.close();
        }
    }
}
