package dev.basalt.api;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A {@link Sandboxes} that passes every call to another one: the base of decorators (metrics,
 * auditing, access checks), which override only what they change. The one place the port is
 * forwarded method by method; each method has exactly the delegate's contract and preconditions.
 * {@link #close()} closes the delegate unless a subclass says otherwise.
 */
public abstract class ForwardingSandboxes implements Sandboxes {
    private final Sandboxes delegate;

    protected ForwardingSandboxes(Sandboxes delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The port calls go to. */
    public Sandboxes delegate() {
        return delegate;
    }

    @Override
    public SandboxInfo create(SandboxSpec spec) {
        return delegate.create(spec);
    }

    @Override
    public SandboxInfo createAsync(SandboxSpec spec) {
        return delegate.createAsync(spec);
    }

    @Override
    public SandboxInfo inspect(String id) {
        return delegate.inspect(id);
    }

    @Override
    public List<SandboxInfo> list() {
        return delegate.list();
    }

    @Override
    public Duration ping(String id, Duration timeout) {
        return delegate.ping(id, timeout);
    }

    @Override
    public ExecResult exec(String id, ExecRequest request) {
        return delegate.exec(id, request);
    }

    @Override
    public ExecResult exec(String id, ExecRequest request, ExecOutput output) {
        return delegate.exec(id, request, output);
    }

    @Override
    public ExecProcess start(String id, ExecRequest request, ExecOutput output) {
        return delegate.start(id, request, output);
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode) {
        delegate.writeFile(id, path, data, mode);
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode, GuestUser owner) {
        delegate.writeFile(id, path, data, mode, owner);
    }

    @Override
    public FileInfo readFile(String id, String path, OutputStream sink) {
        return delegate.readFile(id, path, sink);
    }

    @Override
    public FileInfo stat(String id, String path) {
        return delegate.stat(id, path);
    }

    @Override
    public List<FileInfo> listFiles(String id, String path) {
        return delegate.listFiles(id, path);
    }

    @Override
    public void mkdir(String id, String path) {
        delegate.mkdir(id, path);
    }

    @Override
    public void mkdir(String id, String path, GuestUser owner) {
        delegate.mkdir(id, path, owner);
    }

    @Override
    public void removeFile(String id, String path, boolean recursive) {
        delegate.removeFile(id, path, recursive);
    }

    @Override
    public void rename(String id, String from, String to) {
        delegate.rename(id, from, to);
    }

    @Override
    public String consoleLog(String id, int maxBytes) {
        return delegate.consoleLog(id, maxBytes);
    }

    @Override
    public SandboxInfo stop(String id, Duration grace) {
        return delegate.stop(id, grace);
    }

    @Override
    public void remove(String id) {
        delegate.remove(id);
    }

    @Override
    public SnapshotInfo checkpoint(String id, String snapshotName) {
        return delegate.checkpoint(id, snapshotName);
    }

    @Override
    public SandboxInfo restore(String snapshotName, Map<String, String> labels) {
        return delegate.restore(snapshotName, labels);
    }

    @Override
    public List<SandboxInfo> fork(String id, int count) {
        return delegate.fork(id, count);
    }

    @Override
    public List<SnapshotInfo> snapshots() {
        return delegate.snapshots();
    }

    @Override
    public void deleteSnapshot(String snapshotName) {
        delegate.deleteSnapshot(snapshotName);
    }

    @Override
    public List<PoolStats> pools() {
        return delegate.pools();
    }

    @Override
    public List<TemplateInfo> templates() {
        return delegate.templates();
    }

    @Override
    public List<TemplateInfo> pruneTemplates() {
        return delegate.pruneTemplates();
    }

    @Override
    public AutoCloseable subscribe(EventFilter filter, Consumer<SandboxEvent> listener) {
        return delegate.subscribe(filter, listener);
    }

    @Override
    public SandboxInfo setTtl(String id, Duration ttl) {
        return delegate.setTtl(id, ttl);
    }

    @Override
    public SandboxInfo pause(String id) {
        return delegate.pause(id);
    }

    @Override
    public SandboxInfo resume(String id) {
        return delegate.resume(id);
    }

    @Override
    public void setNetworkPolicy(String id, NetworkPolicy policy) {
        delegate.setNetworkPolicy(id, policy);
    }

    @Override
    public PortForward forwardPort(String id, int guestPort, int hostPort) {
        return delegate.forwardPort(id, guestPort, hostPort);
    }

    @Override
    public void unforwardPort(String id, int guestPort) {
        delegate.unforwardPort(id, guestPort);
    }

    @Override
    public List<PortForward> portForwards(String id) {
        return delegate.portForwards(id);
    }

    @Override
    public NetworkStats networkStats(String id) {
        return delegate.networkStats(id);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
