package dev.basalt.api;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A convenience handle on one sandbox: the {@link Sandboxes} operations bound to an id.
 * Closing it removes the sandbox, so try-with-resources gives a sandbox exactly the lifetime
 * of a block:
 *
 * <pre>{@code
 * try (Sandbox sandbox = Sandbox.create(manager, SandboxSpec.defaults())) {
 *     ExecResult result = sandbox.exec("uname", "-a");
 * }
 * }</pre>
 */
public final class Sandbox implements AutoCloseable {
    private final Sandboxes port;
    private final String id;

    public Sandbox(Sandboxes port, String id) {
        this.port = Objects.requireNonNull(port, "port");
        this.id = Objects.requireNonNull(id, "id");
    }

    /** Creates a sandbox on {@code port} and returns a handle on it. */
    public static Sandbox create(Sandboxes port, SandboxSpec spec) {
        return new Sandbox(port, port.create(spec).id());
    }

    public String id() { return id; }

    public SandboxInfo inspect() { return port.inspect(id); }

    public Duration ping() { return port.ping(id, Duration.ofSeconds(5)); }

    public ExecResult exec(String... argv) { return port.exec(id, ExecRequest.of(argv)); }

    public ExecResult exec(ExecRequest request) { return port.exec(id, request); }

    public ExecResult exec(ExecRequest request, ExecOutput output) { return port.exec(id, request, output); }

    public ExecProcess start(ExecRequest request, ExecOutput output) { return port.start(id, request, output); }

    public void writeFile(String path, InputStream data, int mode) { port.writeFile(id, path, data, mode); }

    public void writeFile(String path, byte[] data) { port.writeFile(id, path, new ByteArrayInputStream(data), 0644); }

    public FileInfo readFile(String path, OutputStream sink) { return port.readFile(id, path, sink); }

    public byte[] readFile(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        port.readFile(id, path, out);
        return out.toByteArray();
    }

    public FileInfo stat(String path) { return port.stat(id, path); }

    public List<FileInfo> listFiles(String path) { return port.listFiles(id, path); }

    public void mkdir(String path) { port.mkdir(id, path); }

    public void removeFile(String path, boolean recursive) { port.removeFile(id, path, recursive); }

    public void rename(String from, String to) { port.rename(id, from, to); }

    public String consoleLog(int maxBytes) { return port.consoleLog(id, maxBytes); }

    public SandboxInfo stop(Duration grace) { return port.stop(id, grace); }

    /** Removes the sandbox. */
    @Override
    public void close() { port.remove(id); }

    @Override
    public String toString() { return "Sandbox[" + id + "]"; }
}
