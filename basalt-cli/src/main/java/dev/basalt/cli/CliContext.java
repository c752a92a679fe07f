package dev.basalt.cli;

import dev.basalt.api.Sandboxes;
import dev.basalt.grpc.RemoteSandboxes;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What a command runs against: the {@link Sandboxes} port and the terminal streams. The port is
 * chosen on first use (so {@code --help} connects to nothing): basaltd at {@code --host} or
 * {@code $BASALT_HOST} if given, else basaltd on its default unix socket if one answers there, else
 * an embedded manager whose sandboxes live only as long as this process (made by {@link Embedded}, so
 * that a command talking to basaltd loads none of the core's classes).
 */
public final class CliContext implements AutoCloseable {
    /** The {@code --host} value that means "no daemon, even if one answers on the default socket". */
    static final String EMBEDDED = "embedded";

    private final Supplier<Sandboxes> fixed;
    private final PrintStream out;
    private final PrintStream err;
    private final InputStream in;
    private String host;
    private Sandboxes port;
    private boolean embedded;

    /** A context over a given port (tests, tools); {@code embedded} tells whether its sandboxes end with the process. */
    public CliContext(Supplier<Sandboxes> port, boolean embedded, PrintStream out, PrintStream err, InputStream in) {
        this.fixed = port;
        this.embedded = embedded;
        this.out = out;
        this.err = err;
        this.in = in;
    }

    /** The context of the {@code basalt} command: daemon if reachable, embedded otherwise. */
    static CliContext detect() {
        return new CliContext(null, true, System.out, System.err, System.in);
    }

    /** Sets the daemon to talk to ({@code unix:/path}, {@code /path} or {@code host:port}); before first use. */
    synchronized void host(String target) {
        this.host = target;
    }

    synchronized Sandboxes sandboxes() {
        if (port == null) {
            port = fixed != null ? fixed.get() : choose();
        }
        return port;
    }

    private Sandboxes choose() {
        String target = host != null ? host : System.getenv("BASALT_HOST");
        if (target == null || target.isBlank()) {
            Path socket = dev.basalt.grpc.DaemonSocket.defaultPath();
            if (answers(socket)) {
                target = "unix://" + socket;
            }
        }
        if (target == null || target.isBlank() || target.equals(EMBEDDED)) {
            embedded = true;
            return Embedded.manager();
        }
        embedded = false;
        String grpcTarget = grpcTarget(target);
        if (!grpcTarget.startsWith("unix:")) {
            Logging.quietTransport();                   // TCP and TLS go through netty
        }
        Trace.at("chose remote");
        try {
            return RemoteSandboxes.connect(grpcTarget);
        } finally {
            Trace.at("channel built");
        }
    }

    /** {@code unix:/p}, {@code /p} → {@code unix:///p}; {@code host:port} stays. */
    static String grpcTarget(String target) {
        if (target.startsWith("unix://")) {
            return target;
        }
        if (target.startsWith("unix:")) {
            return "unix://" + Path.of(target.substring(5)).toAbsolutePath();
        }
        if (target.startsWith("/") || target.startsWith(".")) {
            return "unix://" + Path.of(target).toAbsolutePath();
        }
        return target;
    }

    private static boolean answers(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The image store: the embedded manager's, or the daemon's (its paths are the daemon host's). */
    synchronized dev.basalt.api.Images images() {
        Sandboxes s = sandboxes();
        if (s instanceof RemoteSandboxes r) {
            return r.images();
        }
        return Embedded.images(s);
    }

    /**
     * Before a sandbox of {@code image} is made: the shipped {@code base} is built here if this process
     * is the one that will build it (embedded), so its progress line shows (a minute or two, once).
     */
    void prepareImage(String image) {
        if (image.equals("base") && !(sandboxes() instanceof RemoteSandboxes)) {
            Embedded.ensureBase(sandboxes(), line -> err.println("basalt: " + line));
        }
    }

    /** True when sandboxes end with this process (no daemon). */
    synchronized boolean embedded() {
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

    /** True when this command's stdin is the process's own and a terminal (not a pipe or a file). */
    boolean stdinIsTerminal() {
        if (in != System.in) {
            return false;
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (port != null && (embedded || fixed == null)) {
            port.close();   // embedded: removes its sandboxes; remote: closes the channel only
        }
    }
}
