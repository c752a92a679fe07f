package dev.basalt.grpc;

import com.google.protobuf.ByteString;
import dev.basalt.api.BasaltException;
import dev.basalt.api.EventFilter;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.FileInfo;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.Sandboxes;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.grpc.v1.CheckpointRequest;
import dev.basalt.grpc.v1.ConsoleLogRequest;
import dev.basalt.grpc.v1.CreateRequest;
import dev.basalt.grpc.v1.DeleteSnapshotRequest;
import dev.basalt.grpc.v1.DownloadRequest;
import dev.basalt.grpc.v1.DownloadResponse;
import dev.basalt.grpc.v1.ForkRequest;
import dev.basalt.grpc.v1.InspectRequest;
import dev.basalt.grpc.v1.ListFilesRequest;
import dev.basalt.grpc.v1.ListRequest;
import dev.basalt.grpc.v1.ListSnapshotsRequest;
import dev.basalt.grpc.v1.MkdirRequest;
import dev.basalt.grpc.v1.PingRequest;
import dev.basalt.grpc.v1.PoolStatusRequest;
import dev.basalt.grpc.v1.RemoveFileRequest;
import dev.basalt.grpc.v1.RemoveRequest;
import dev.basalt.grpc.v1.RenameRequest;
import dev.basalt.grpc.v1.RestoreRequest;
import dev.basalt.grpc.v1.RunRequest;
import dev.basalt.grpc.v1.RunResponse;
import dev.basalt.grpc.v1.SandboxServiceGrpc;
import dev.basalt.grpc.v1.SetTtlRequest;
import dev.basalt.grpc.v1.SnapshotServiceGrpc;
import dev.basalt.grpc.v1.StatRequest;
import dev.basalt.grpc.v1.StopRequest;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The {@link Sandboxes} port over gRPC: a client of basaltd that behaves like the embedded manager,
 * errors included (each gRPC status comes back as the {@link BasaltException} subtype the server
 * mapped it from, with the server's message). Streams are flow-controlled end to end: a slow
 * {@link ExecOutput} or download sink slows the guest down, never fills memory.
 *
 * <p>{@link #close()} closes the channel; it does not remove the daemon's sandboxes.
 */
public final class RemoteSandboxes implements Sandboxes {
    /** Upload chunk size; the server accepts chunks up to 1 MiB. */
    static final int UPLOAD_CHUNK = 256 * 1024;
    private static final int BUFFERED_OUTPUT_LIMIT = 16 << 20;
    /** Largest message accepted from the daemon (it sends chunks of at most 1 MiB). */
    static final int MAX_INBOUND_MESSAGE_BYTES = 4 << 20;

    private final ManagedChannel channel;
    private final CallCredentials credentials;
    private final String target;
    private final SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes;
    private final SandboxServiceGrpc.SandboxServiceStub async;
    private final SnapshotServiceGrpc.SnapshotServiceBlockingStub snapshots;

    /** A client over {@code channel}, which it owns and shuts down on {@link #close()}. */
    public RemoteSandboxes(ManagedChannel channel) {
        this(channel, null);
    }

    /**
     * A client over {@code channel} (owned, shut down on {@link #close()}) that sends {@code credentials}
     * (e.g. a {@link BearerToken}) with every call; null for none.
     */
    public RemoteSandboxes(ManagedChannel channel, CallCredentials credentials) {
        this(channel, credentials, channel.authority());
    }

    private RemoteSandboxes(ManagedChannel channel, CallCredentials credentials, String target) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.credentials = credentials;
        this.target = target;
        this.sandboxes = SandboxServiceGrpc.newBlockingStub(channel).withCallCredentials(credentials);
        this.async = SandboxServiceGrpc.newStub(channel).withCallCredentials(credentials);
        this.snapshots = SnapshotServiceGrpc.newBlockingStub(channel).withCallCredentials(credentials);
    }

    /** A client of the basaltd listening on the unix socket {@code socket}. */
    public static RemoteSandboxes unixSocket(Path socket) {
        return connect("unix://" + socket.toAbsolutePath());
    }

    /** A {@code unix://} target's socket path, or null for any other target. */
    private static Path unixPath(String target) {
        return target.startsWith("unix://") ? Path.of(target.substring("unix://".length()))
                : target.startsWith("unix:") ? Path.of(target.substring("unix:".length())) : null;
    }

    /** A client of the basaltd listening on TCP {@code host:port} (plaintext). */
    public static RemoteSandboxes tcp(String host, int port) {
        return connect(host + ":" + port);
    }

    /**
     * A client of the basaltd listening on TCP {@code host:port} with TLS, trusting the certificate
     * authority in {@code caCert} (PEM; null: the JVM's default trust store) and sending the bearer
     * token {@code token} with every call.
     */
    public static RemoteSandboxes tls(String host, int port, Path caCert, BearerToken token) {
        return connect(host + ":" + port, tlsCredentials(caCert, token));
    }

    /** TLS channel credentials trusting {@code caCert} (null: the default trust store), with {@code token} (null: none). */
    public static ChannelCredentials tlsCredentials(Path caCert, BearerToken token) {
        TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
        if (caCert != null) {
            try {
                tls.trustManager(caCert.toFile());
            } catch (IOException | IllegalArgumentException e) {
                throw new BasaltException.InvalidArgument("cannot load the CA certificate " + caCert + ": " + e.getMessage(), e);
            }
        }
        ChannelCredentials credentials = tls.build();
        return token == null ? credentials : CompositeChannelCredentials.create(credentials, token);
    }

    /**
     * A client of the gRPC target {@code target}: {@code unix:///path} (over {@link UnixSocketChannel}) or
     * {@code host:port}, plaintext.
     */
    public static RemoteSandboxes connect(String target) {
        Path unix = unixPath(target);
        if (unix != null) {
            return new RemoteSandboxes(UnixSocketChannel.to(unix, MAX_INBOUND_MESSAGE_BYTES), null, target);
        }
        return connect(target, InsecureChannelCredentials.create());
    }

    /** A client of the gRPC target {@code target} with {@code credentials}. */
    public static RemoteSandboxes connect(String target, ChannelCredentials credentials) {
        return new RemoteSandboxes(Grpc.newChannelBuilder(target, credentials).maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .build(), null, target);
    }

    /** The daemon's image store, over this client's channel (closed with it). */
    public dev.basalt.api.Images images() {
        return new RemoteImages(channel, credentials, target);
    }

    /** Runs a blocking call, turning a {@link StatusRuntimeException} into a {@link BasaltException}. */
    private <T> T call(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw RemoteErrors.toException(e, target);
        }
    }

    @Override
    public SandboxInfo create(SandboxSpec spec) {
        return ProtoMapper.fromProto(call(() -> sandboxes.create(
                CreateRequest.newBuilder().setSpec(ProtoMapper.toProto(spec)).setWait(true).build())));
    }

    @Override
    public SandboxInfo createAsync(SandboxSpec spec) {
        return ProtoMapper.fromProto(call(() -> sandboxes.create(
                CreateRequest.newBuilder().setSpec(ProtoMapper.toProto(spec)).setWait(false).build())));
    }

    @Override
    public SandboxInfo inspect(String id) {
        return ProtoMapper.fromProto(call(() -> sandboxes.inspect(InspectRequest.newBuilder().setId(id).build())));
    }

    @Override
    public List<SandboxInfo> list() {
        return list(ListRequest.getDefaultInstance());
    }

    /** Sandboxes filtered by the server (states, labels), oldest first. */
    public List<SandboxInfo> list(ListRequest filter) {
        return call(() -> sandboxes.list(filter)).getSandboxesList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public Duration ping(String id, Duration timeout) {
        return ProtoMapper.duration(call(() -> sandboxes.ping(PingRequest.newBuilder().setId(id)
                .setTimeout(ProtoMapper.duration(timeout)).build())).getRoundTrip());
    }

    @Override
    public ExecResult exec(String id, ExecRequest request) {
        var out = new LimitedBuffer();
        var err = new LimitedBuffer();
        ExecResult r = run(id, request, new ExecOutput() {
            @Override public void stdout(byte[] chunk) { out.add(chunk); }
            @Override public void stderr(byte[] chunk) { err.add(chunk); }
        });
        return new ExecResult(r.exit(), out.bytes(), err.bytes(), out.truncated || err.truncated, r.duration());
    }

    @Override
    public ExecResult exec(String id, ExecRequest request, ExecOutput output) {
        return run(id, request, output);
    }

    private ExecResult run(String id, ExecRequest request, ExecOutput output) {
        RunRequest req = RunRequest.newBuilder().setId(id).setCommand(ProtoMapper.toProto(request)).build();
        Context.CancellableContext ctx = Context.current().withCancellation();
        Context previous = ctx.attach();
        try {
            Iterator<RunResponse> events = sandboxes.run(req);
            while (events.hasNext()) {
                RunResponse e = events.next();
                switch (e.getEventCase()) {
                    case STDOUT -> output.stdout(e.getStdout().toByteArray());
                    case STDERR -> output.stderr(e.getStderr().toByteArray());
                    case EXIT -> {
                        ExitStatus exit = ProtoMapper.fromProto(e.getExit());
                        return new ExecResult(exit, new byte[0], new byte[0], false,
                                ProtoMapper.duration(e.getExit().getDuration()));
                    }
                    case EVENT_NOT_SET -> { }
                }
            }
            throw new BasaltException.Unavailable("basaltd ended the Run of " + request.argv() + " without an exit status");
        } catch (StatusRuntimeException e) {
            throw RemoteErrors.toException(e, target);
        } catch (RuntimeException e) {
            ctx.cancel(e);                                      // the ExecOutput failed: the server kills the process
            throw e;
        } finally {
            ctx.detach(previous);
            ctx.cancel(null);
        }
    }

    @Override
    public ExecProcess start(String id, ExecRequest request, ExecOutput output) {
        return RemoteProcess.start(async, id, request, output);
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode) {
        Uploads.upload(async, id, path, data, mode, null);
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode, dev.basalt.api.GuestUser owner) {
        Uploads.upload(async, id, path, data, mode, owner);
    }

    @Override
    public FileInfo readFile(String id, String path, OutputStream sink) {
        Context.CancellableContext ctx = Context.current().withCancellation();
        Context previous = ctx.attach();
        try {
            Iterator<DownloadResponse> parts = sandboxes.download(DownloadRequest.newBuilder().setId(id).setPath(path).build());
            while (parts.hasNext()) {
                DownloadResponse part = parts.next();
                switch (part.getPartCase()) {
                    case CHUNK -> part.getChunk().writeTo(sink);
                    case INFO -> {
                        return ProtoMapper.fromProto(part.getInfo());
                    }
                    case PART_NOT_SET -> { }
                }
            }
            throw new BasaltException.Unavailable("basaltd ended the download of " + path + " without its metadata");
        } catch (StatusRuntimeException e) {
            throw RemoteErrors.toException(e, target);
        } catch (IOException e) {
            ctx.cancel(e);
            throw new BasaltException.Internal("writing the download of " + path + " failed: " + e.getMessage(), e);
        } finally {
            ctx.detach(previous);
            ctx.cancel(null);
        }
    }

    @Override
    public FileInfo stat(String id, String path) {
        return ProtoMapper.fromProto(call(() -> sandboxes.stat(StatRequest.newBuilder().setId(id).setPath(path).build())));
    }

    @Override
    public List<FileInfo> listFiles(String id, String path) {
        return call(() -> sandboxes.listFiles(ListFilesRequest.newBuilder().setId(id).setPath(path).build()))
                .getFilesList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public void mkdir(String id, String path) {
        call(() -> sandboxes.mkdir(MkdirRequest.newBuilder().setId(id).setPath(path).build()));
    }

    @Override
    public void mkdir(String id, String path, dev.basalt.api.GuestUser owner) {
        MkdirRequest.Builder b = MkdirRequest.newBuilder().setId(id).setPath(path);
        if (owner != null) {
            b.setOwner(ProtoMapper.toProto(owner));
        }
        call(() -> sandboxes.mkdir(b.build()));
    }

    @Override
    public void removeFile(String id, String path, boolean recursive) {
        call(() -> sandboxes.removeFile(RemoveFileRequest.newBuilder().setId(id).setPath(path).setRecursive(recursive).build()));
    }

    @Override
    public void rename(String id, String from, String to) {
        call(() -> sandboxes.rename(RenameRequest.newBuilder().setId(id).setFrom(from).setTo(to).build()));
    }

    @Override
    public String consoleLog(String id, int maxBytes) {
        return call(() -> sandboxes.consoleLog(ConsoleLogRequest.newBuilder().setId(id).setMaxBytes(maxBytes).build())).getText();
    }

    @Override
    public SandboxInfo stop(String id, Duration grace) {
        return ProtoMapper.fromProto(call(() -> sandboxes.stop(StopRequest.newBuilder().setId(id)
                .setGrace(ProtoMapper.duration(grace)).build())));
    }

    @Override
    public void remove(String id) {
        call(() -> sandboxes.remove(RemoveRequest.newBuilder().setId(id).build()));
    }

    @Override
    public SnapshotInfo checkpoint(String id, String snapshotName) {
        return ProtoMapper.fromProto(call(() -> snapshots.checkpoint(
                CheckpointRequest.newBuilder().setId(id).setName(snapshotName).build())));
    }

    @Override
    public SandboxInfo restore(String snapshotName, Map<String, String> labels) {
        return ProtoMapper.fromProto(call(() -> snapshots.restore(
                RestoreRequest.newBuilder().setName(snapshotName).putAllLabels(labels).build())));
    }

    @Override
    public List<SandboxInfo> fork(String id, int count) {
        return call(() -> snapshots.fork(ForkRequest.newBuilder().setId(id).setCount(count).build()))
                .getSandboxesList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public List<SnapshotInfo> snapshots() {
        return call(() -> snapshots.listSnapshots(ListSnapshotsRequest.getDefaultInstance()))
                .getSnapshotsList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public void deleteSnapshot(String snapshotName) {
        call(() -> snapshots.deleteSnapshot(DeleteSnapshotRequest.newBuilder().setName(snapshotName).build()));
    }

    @Override
    public List<PoolStats> pools() {
        return call(() -> snapshots.poolStatus(PoolStatusRequest.getDefaultInstance()))
                .getPoolsList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public List<dev.basalt.api.TemplateInfo> templates() {
        return call(() -> snapshots.listTemplates(dev.basalt.grpc.v1.ListTemplatesRequest.getDefaultInstance()))
                .getTemplatesList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public List<dev.basalt.api.TemplateInfo> pruneTemplates() {
        return call(() -> snapshots.pruneTemplates(dev.basalt.grpc.v1.PruneTemplatesRequest.getDefaultInstance()))
                .getTemplatesList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public SandboxInfo setTtl(String id, Duration ttl) {
        return ProtoMapper.fromProto(call(() -> sandboxes.setTtl(SetTtlRequest.newBuilder().setId(id)
                .setTtl(ProtoMapper.duration(ttl)).build())));
    }

    @Override
    public SandboxInfo pause(String id) {
        return ProtoMapper.fromProto(call(() -> sandboxes.pause(dev.basalt.grpc.v1.PauseRequest.newBuilder().setId(id).build())));
    }

    @Override
    public SandboxInfo resume(String id) {
        return ProtoMapper.fromProto(call(() -> sandboxes.resume(dev.basalt.grpc.v1.ResumeRequest.newBuilder().setId(id).build())));
    }

    @Override
    public void setNetworkPolicy(String id, dev.basalt.api.NetworkPolicy policy) {
        call(() -> sandboxes.setNetworkPolicy(dev.basalt.grpc.v1.SetNetworkPolicyRequest.newBuilder().setId(id)
                .setPolicy(ProtoMapper.toProto(policy)).build()));
    }

    @Override
    public dev.basalt.api.PortForward forwardPort(String id, int guestPort, int hostPort) {
        return ProtoMapper.fromProto(call(() -> sandboxes.forwardPort(dev.basalt.grpc.v1.ForwardPortRequest.newBuilder()
                .setId(id).setGuestPort(guestPort).setHostPort(hostPort).build())));
    }

    @Override
    public void unforwardPort(String id, int guestPort) {
        call(() -> sandboxes.unforwardPort(dev.basalt.grpc.v1.UnforwardPortRequest.newBuilder().setId(id)
                .setGuestPort(guestPort).build()));
    }

    @Override
    public List<dev.basalt.api.PortForward> portForwards(String id) {
        return call(() -> sandboxes.listPortForwards(dev.basalt.grpc.v1.ListPortForwardsRequest.newBuilder().setId(id).build()))
                .getForwardsList().stream().map(ProtoMapper::fromProto).toList();
    }

    @Override
    public dev.basalt.api.NetworkStats networkStats(String id) {
        return ProtoMapper.fromProto(call(() -> sandboxes.getNetworkStats(dev.basalt.grpc.v1.GetNetworkStatsRequest.newBuilder()
                .setId(id).build())));
    }

    /**
     * Streams the daemon's lifecycle events to {@code listener} on a gRPC thread, in order; closing the
     * returned subscription cancels the stream. A listener that is slow holds up only its own stream.
     */
    @Override
    public AutoCloseable subscribe(EventFilter filter, Consumer<SandboxEvent> listener) {
        Context.CancellableContext ctx = Context.current().withCancellation();
        ctx.run(() -> async.events(ProtoMapper.toProto(filter), new StreamObserver<>() {
            @Override public void onNext(dev.basalt.grpc.v1.SandboxEvent e) { listener.accept(ProtoMapper.fromProto(e)); }
            @Override public void onError(Throwable t) { }
            @Override public void onCompleted() { }
        }));
        return () -> ctx.cancel(null);
    }

    /** Shuts the channel down; the daemon and its sandboxes live on. */
    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Buffered exec output, capped like the embedded manager's (the excess is dropped and flagged). */
    private static final class LimitedBuffer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private boolean truncated;

        void add(byte[] chunk) {
            int room = BUFFERED_OUTPUT_LIMIT - bytes.size();
            if (chunk.length > room) {
                truncated = true;
            }
            bytes.write(chunk, 0, Math.min(room, chunk.length));
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }
    }

    static ByteString chunk(byte[] data, int off, int len) {
        return ByteString.copyFrom(data, off, len);
    }
}
