package dev.basalt.server;

import com.google.protobuf.ByteString;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.FileInfo;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import dev.basalt.grpc.ProtoMapper;
import dev.basalt.grpc.v1.ConsoleLogRequest;
import dev.basalt.grpc.v1.ConsoleLogResponse;
import dev.basalt.grpc.v1.CreateRequest;
import dev.basalt.grpc.v1.DownloadRequest;
import dev.basalt.grpc.v1.DownloadResponse;
import dev.basalt.grpc.v1.ExecResponse;
import dev.basalt.grpc.v1.EventsRequest;
import dev.basalt.grpc.v1.ExecStart;
import dev.basalt.grpc.v1.InspectRequest;
import dev.basalt.grpc.v1.ListFilesRequest;
import dev.basalt.grpc.v1.ListFilesResponse;
import dev.basalt.grpc.v1.ListRequest;
import dev.basalt.grpc.v1.ListResponse;
import dev.basalt.grpc.v1.MkdirRequest;
import dev.basalt.grpc.v1.MkdirResponse;
import dev.basalt.grpc.v1.PingRequest;
import dev.basalt.grpc.v1.PingResponse;
import dev.basalt.grpc.v1.RemoveFileRequest;
import dev.basalt.grpc.v1.RemoveFileResponse;
import dev.basalt.grpc.v1.RemoveRequest;
import dev.basalt.grpc.v1.RemoveResponse;
import dev.basalt.grpc.v1.RenameRequest;
import dev.basalt.grpc.v1.RenameResponse;
import dev.basalt.grpc.v1.RunRequest;
import dev.basalt.grpc.v1.RunResponse;
import dev.basalt.grpc.v1.Sandbox;
import dev.basalt.grpc.v1.SandboxServiceGrpc;
import dev.basalt.grpc.v1.SetTtlRequest;
import dev.basalt.grpc.v1.StatRequest;
import dev.basalt.grpc.v1.Started;
import dev.basalt.grpc.v1.StopRequest;
import dev.basalt.grpc.v1.UploadRequest;
import dev.basalt.grpc.v1.UploadResponse;
import io.grpc.stub.StreamObserver;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code basalt.v1.SandboxService} over the {@link Sandboxes} port: translation only. Unary calls run
 * on the server's executor; streaming calls run on a virtual thread of their own, with flow control in
 * both directions ({@link Outbound}, {@link Inbound}) and cancellation wired to the work: a cancelled
 * Run or Exec kills the guest process, a cancelled Upload leaves no file, a cancelled Download stops
 * reading.
 */
final class SandboxService extends SandboxServiceGrpc.SandboxServiceImplBase {
    static final int MAX_CHUNK = 1 << 20;
    private static final Duration FOREVER = Duration.ofDays(3650);
    private static final Duration DEFAULT_GRACE = Duration.ofSeconds(10);
    private static final Duration DEFAULT_PING = Duration.ofSeconds(5);
    private static final int DEFAULT_CONSOLE_BYTES = 64 * 1024;

    private final Sandboxes sandboxes;

    SandboxService(Sandboxes sandboxes) {
        this.sandboxes = sandboxes;
    }

    /**
     * Runs a unary call's body on a virtual thread of its own and answers with its value or its error.
     * The server runs its callbacks directly on the transport's threads (one thread hop per call instead
     * of one per callback), so nothing that may block runs in a handler itself.
     */
    static <T> void unary(StreamObserver<T> observer, Supplier<T> body) {
        worker("grpc-unary", () -> {
            T value;
            try {
                value = body.get();
            } catch (Throwable t) {
                answer(observer, null, t);
                return;
            }
            answer(observer, value, null);
        });
    }

    private static <T> void answer(StreamObserver<T> observer, T value, Throwable error) {
        try {
            if (error != null) {
                observer.onError(StatusMapping.toStatus(error).asRuntimeException());
            } else {
                observer.onNext(value);
                observer.onCompleted();
            }
        } catch (RuntimeException e) {
            // the client cancelled meanwhile (gRPC throws CANCELLED): nobody is left to answer
        }
    }

    static void worker(String name, Runnable body) {
        Thread.ofVirtual().name(name).start(body);
    }

    // ---- lifecycle ----

    /** Create; a sandbox whose client went away before it got the answer is removed (nobody knows its id). */
    @Override
    public void create(CreateRequest request, StreamObserver<Sandbox> observer) {
        var call = (io.grpc.stub.ServerCallStreamObserver<Sandbox>) observer;
        call.setOnCancelHandler(() -> { });
        unary(observer, () -> {
            var spec = ProtoMapper.fromProto(request.getSpec());
            SandboxInfo info = request.getWait() ? sandboxes.create(spec) : sandboxes.createAsync(spec);
            if (call.isCancelled()) {
                sandboxes.remove(info.id());
                throw new BasaltException.Unavailable("the client cancelled the create: sandbox " + info.id() + " was removed");
            }
            return ProtoMapper.toProto(info);
        });
    }

    @Override
    public void inspect(InspectRequest request, StreamObserver<Sandbox> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.inspect(Validation.id(request.getId()))));
    }

    @Override
    public void list(ListRequest request, StreamObserver<ListResponse> observer) {
        unary(observer, () -> {
            Set<SandboxState> states = EnumSet.noneOf(SandboxState.class);
            request.getStatesList().forEach(s -> states.add(ProtoMapper.fromProto(s)));
            Map<String, String> labels = request.getLabelsMap();
            var b = ListResponse.newBuilder();
            for (SandboxInfo info : sandboxes.list()) {
                if ((states.isEmpty() || states.contains(info.state()))
                        && info.labels().entrySet().containsAll(labels.entrySet())) {
                    b.addSandboxes(ProtoMapper.toProto(info));
                }
            }
            return b.build();
        });
    }

    @Override
    public void stop(StopRequest request, StreamObserver<Sandbox> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.stop(Validation.id(request.getId()),
                request.hasGrace() ? Validation.notNegative(ProtoMapper.duration(request.getGrace()), "stop grace")
                        : DEFAULT_GRACE)));
    }

    @Override
    public void remove(RemoveRequest request, StreamObserver<RemoveResponse> observer) {
        unary(observer, () -> {
            sandboxes.remove(Validation.id(request.getId()));
            return RemoveResponse.getDefaultInstance();
        });
    }

    @Override
    public void ping(PingRequest request, StreamObserver<PingResponse> observer) {
        unary(observer, () -> {
            Duration timeout = request.hasTimeout() ? Validation.positive(ProtoMapper.duration(request.getTimeout()), "ping timeout")
                    : DEFAULT_PING;
            return PingResponse.newBuilder().setRoundTrip(ProtoMapper.duration(sandboxes.ping(Validation.id(request.getId()),
                    timeout))).build();
        });
    }

    @Override
    public void consoleLog(ConsoleLogRequest request, StreamObserver<ConsoleLogResponse> observer) {
        unary(observer, () -> ConsoleLogResponse.newBuilder().setText(sandboxes.consoleLog(Validation.id(request.getId()),
                request.getMaxBytes() == 0 ? DEFAULT_CONSOLE_BYTES
                        : Validation.nonNegative(request.getMaxBytes(), "max_bytes"))).build());
    }

    @Override
    public void setTtl(SetTtlRequest request, StreamObserver<Sandbox> observer) {
        unary(observer, () -> {
            if (!request.hasTtl()) {
                throw new BasaltException.InvalidArgument("SetTtl needs a ttl");
            }
            return ProtoMapper.toProto(sandboxes.setTtl(Validation.id(request.getId()), ProtoMapper.duration(request.getTtl())));
        });
    }

    @Override
    public void pause(dev.basalt.grpc.v1.PauseRequest request, StreamObserver<Sandbox> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.pause(Validation.id(request.getId()))));
    }

    @Override
    public void resume(dev.basalt.grpc.v1.ResumeRequest request, StreamObserver<Sandbox> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.resume(Validation.id(request.getId()))));
    }

    @Override
    public void setNetworkPolicy(dev.basalt.grpc.v1.SetNetworkPolicyRequest request,
                                 StreamObserver<dev.basalt.grpc.v1.SetNetworkPolicyResponse> observer) {
        unary(observer, () -> {
            if (!request.hasPolicy()) {
                throw new BasaltException.InvalidArgument("SetNetworkPolicy needs a policy");
            }
            sandboxes.setNetworkPolicy(Validation.id(request.getId()), ProtoMapper.fromProto(request.getPolicy()));
            return dev.basalt.grpc.v1.SetNetworkPolicyResponse.getDefaultInstance();
        });
    }

    @Override
    public void forwardPort(dev.basalt.grpc.v1.ForwardPortRequest request, StreamObserver<dev.basalt.grpc.v1.PortForward> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.forwardPort(Validation.id(request.getId()), request.getGuestPort(),
                request.getHostPort())));
    }

    @Override
    public void unforwardPort(dev.basalt.grpc.v1.UnforwardPortRequest request,
                              StreamObserver<dev.basalt.grpc.v1.UnforwardPortResponse> observer) {
        unary(observer, () -> {
            sandboxes.unforwardPort(Validation.id(request.getId()), request.getGuestPort());
            return dev.basalt.grpc.v1.UnforwardPortResponse.getDefaultInstance();
        });
    }

    @Override
    public void listPortForwards(dev.basalt.grpc.v1.ListPortForwardsRequest request,
                                 StreamObserver<dev.basalt.grpc.v1.ListPortForwardsResponse> observer) {
        unary(observer, () -> dev.basalt.grpc.v1.ListPortForwardsResponse.newBuilder().addAllForwards(
                sandboxes.portForwards(Validation.id(request.getId())).stream().map(ProtoMapper::toProto).toList()).build());
    }

    @Override
    public void getNetworkStats(dev.basalt.grpc.v1.GetNetworkStatsRequest request, StreamObserver<dev.basalt.grpc.v1.NetworkStats> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.networkStats(Validation.id(request.getId()))));
    }

    /** Lifecycle events until the client cancels; the listener blocks while the client is slow (the core drops it past its bound). */
    @Override
    public void events(EventsRequest request, StreamObserver<dev.basalt.grpc.v1.SandboxEvent> observer) {
        Outbound<dev.basalt.grpc.v1.SandboxEvent> out = new Outbound<>(observer);
        worker("grpc-events", () -> {
            try {
                AutoCloseable subscription = sandboxes.subscribe(ProtoMapper.fromProto(request),
                        e -> out.send(ProtoMapper.toProto(e)));
                out.onCancel(() -> {
                    try {
                        subscription.close();
                    } catch (Exception e) {
                        // already closed
                    }
                });
            } catch (RuntimeException e) {
                out.fail(e);
            }
        });
    }

    // ---- commands ----

    /**
     * Run: the port's streamed {@code exec} on a worker thread, output forwarded with flow control.
     * When the client cancels, the process is killed: through the kill action the port hands to
     * {@link ExecOutput#started} (so even a process that prints nothing ends), and a chunk that
     * arrives after the cancellation fails its callback, which cancels the process too.
     */
    @Override
    public void run(RunRequest request, StreamObserver<RunResponse> observer) {
        Outbound<RunResponse> out = new Outbound<>(observer);
        worker("grpc-run", () -> out.finishWith(() -> {
            String id = Validation.id(request.getId());
            ExecRequest exec = ProtoMapper.fromProto(request.getCommand());
            long start = System.nanoTime();
            ExecOutput output = cancellable(out, b -> RunResponse.newBuilder().setStdout(b).build(),
                    b -> RunResponse.newBuilder().setStderr(b).build());
            ExitStatus exit = sandboxes.exec(id, exec, output).exit();
            out.send(RunResponse.newBuilder().setExit(ProtoMapper.toProto(exit,
                    Duration.ofNanos(System.nanoTime() - start))).build());
        }));
    }

    /**
     * Output forwarded to a server stream; a cancellation by the client kills the process (through
     * the kill action of {@link ExecOutput#started}), and a chunk sent after it throws.
     */
    private static <T> ExecOutput cancellable(Outbound<T> out, Function<ByteString, T> stdout, Function<ByteString, T> stderr) {
        return new ExecOutput() {
            @Override
            public void started(Runnable kill) {
                out.onCancel(kill);
            }

            @Override
            public void stdout(byte[] chunk) {
                if (!out.send(stdout.apply(ByteString.copyFrom(chunk)))) {
                    throw new BasaltException.Unavailable("the client cancelled the call");
                }
            }

            @Override
            public void stderr(byte[] chunk) {
                if (!out.send(stderr.apply(ByteString.copyFrom(chunk)))) {
                    throw new BasaltException.Unavailable("the client cancelled the call");
                }
            }
        };
    }

    @Override
    public StreamObserver<dev.basalt.grpc.v1.ExecRequest> exec(StreamObserver<ExecResponse> observer) {
        Outbound<ExecResponse> out = new Outbound<>(observer);
        Inbound<dev.basalt.grpc.v1.ExecRequest> in = new Inbound<>(out.call());
        out.onCancel(() -> in.fail(new IllegalStateException("cancelled by the client")));
        worker("grpc-exec", () -> out.finishWith(() -> {
            dev.basalt.grpc.v1.ExecRequest first = in.take();
            if (first == null || !first.hasStart()) {
                throw new BasaltException.InvalidArgument("the first Exec message must be 'start' (sandbox id and command)");
            }
            ExecStart start = first.getStart();
            ExecRequest exec = ProtoMapper.fromProto(start.getCommand()).withStdin(null);
            long began = System.nanoTime();
            CountDownLatch startedSent = new CountDownLatch(1);
            ExecOutput output = output(out, b -> ExecResponse.newBuilder().setStdout(b).build(),
                    b -> ExecResponse.newBuilder().setStderr(b).build(), startedSent);
            try (ExecProcess process = sandboxes.start(Validation.id(start.getId()), exec, output)) {
                out.onCancel(process::close);
                if (start.getRows() > 0 && start.getCols() > 0) {
                    process.resize(start.getRows(), start.getCols());
                }
                out.send(ExecResponse.newBuilder().setStarted(Started.newBuilder().setPid(process.pid())).build());
                startedSent.countDown();
                worker("grpc-exec-input-" + process.pid(), () -> pumpInput(in, process, out));
                ExitStatus exit = process.awaitExit(FOREVER);
                in.close();
                out.send(ExecResponse.newBuilder().setExit(ProtoMapper.toProto(exit,
                        Duration.ofNanos(System.nanoTime() - began))).build());
            } finally {
                startedSent.countDown();
                in.close();
            }
        }));
        return in;
    }

    /** Applies the client's stdin, close, resize and signal messages until the stream ends or the process exits. */
    private static void pumpInput(Inbound<dev.basalt.grpc.v1.ExecRequest> in, ExecProcess process, Outbound<ExecResponse> out) {
        try {
            dev.basalt.grpc.v1.ExecRequest m;
            while ((m = in.take()) != null) {
                switch (m.getEventCase()) {
                    case STDIN -> process.writeStdin(m.getStdin().toByteArray());
                    case CLOSE_STDIN -> process.closeStdin();
                    case RESIZE -> process.resize(m.getResize().getRows(), m.getResize().getCols());
                    case SIGNAL -> process.signal(m.getSignal());
                    case START -> throw new BasaltException.InvalidArgument("Exec got a second 'start' message: "
                            + "one stream runs one process");
                    case EVENT_NOT_SET -> throw new BasaltException.InvalidArgument("Exec got an empty message");
                }
            }
        } catch (BasaltException.InvalidArgument e) {
            out.fail(e);                 // a malformed request ends the call and kills the process
            process.close();
        } catch (RuntimeException e) {
            // the client went away or the process ended: the cancel hook or the exit handles it
        }
    }

    /**
     * An {@link ExecOutput} that forwards chunks as messages, blocking while the client is not ready,
     * which back-pressures the guest. Once the call is cancelled chunks are dropped (the process is being killed).
     */
    private static <T> ExecOutput output(Outbound<T> out, Function<ByteString, T> stdout, Function<ByteString, T> stderr,
                                         CountDownLatch after) {
        return new ExecOutput() {
            @Override
            public void stdout(byte[] chunk) {
                await(after);
                out.send(stdout.apply(ByteString.copyFrom(chunk)));
            }

            @Override
            public void stderr(byte[] chunk) {
                await(after);
                out.send(stderr.apply(ByteString.copyFrom(chunk)));
            }
        };
    }

    private static void await(CountDownLatch latch) {
        if (latch == null) {
            return;
        }
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- files ----

    @Override
    public StreamObserver<UploadRequest> upload(StreamObserver<UploadResponse> observer) {
        Outbound<UploadResponse> out = new Outbound<>(observer);
        Inbound<UploadRequest> in = new Inbound<>(out.call());
        out.onCancel(() -> in.fail(new IllegalStateException("cancelled by the client")));
        worker("grpc-upload", () -> out.finishWith(() -> {
            UploadRequest first = in.take();
            if (first == null || !first.hasHeader()) {
                throw new BasaltException.InvalidArgument("the first Upload message must be the header (sandbox id, path, mode)");
            }
            var header = first.getHeader();
            UploadStream data = new UploadStream(in, MAX_CHUNK);
            try {
                sandboxes.writeFile(Validation.id(header.getId()), header.getPath(), data,
                        header.getMode() == 0 ? 0644 : Validation.mode(header.getMode()),
                        header.hasOwner() ? ProtoMapper.fromProto(header.getOwner()) : null);
            } catch (RuntimeException e) {
                throw data.violation() != null ? data.violation() : e;
            }
            out.send(UploadResponse.newBuilder().setBytesWritten(data.count()).build());
        }));
        return in;
    }

    @Override
    public void download(DownloadRequest request, StreamObserver<DownloadResponse> observer) {
        Outbound<DownloadResponse> out = new Outbound<>(observer);
        worker("grpc-download", () -> out.finishWith(() -> {
            OutputStream chunks = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    for (int at = off; at < off + len; at += MAX_CHUNK) {
                        int n = Math.min(MAX_CHUNK, off + len - at);
                        if (!out.send(DownloadResponse.newBuilder().setChunk(ByteString.copyFrom(b, at, n)).build())) {
                            throw new IOException("the client cancelled the download");
                        }
                    }
                }
            };
            OutputStream sink = new BufferedOutputStream(chunks, 256 * 1024);
            FileInfo info = sandboxes.readFile(Validation.id(request.getId()), request.getPath(), sink);
            sink.flush();
            out.send(DownloadResponse.newBuilder().setInfo(ProtoMapper.toProto(info)).build());
        }));
    }

    @Override
    public void stat(StatRequest request, StreamObserver<dev.basalt.grpc.v1.FileInfo> observer) {
        unary(observer, () -> ProtoMapper.toProto(sandboxes.stat(Validation.id(request.getId()), request.getPath())));
    }

    @Override
    public void listFiles(ListFilesRequest request, StreamObserver<ListFilesResponse> observer) {
        unary(observer, () -> ListFilesResponse.newBuilder().addAllFiles(sandboxes.listFiles(Validation.id(request.getId()), request.getPath())
                .stream().map(ProtoMapper::toProto).toList()).build());
    }

    @Override
    public void removeFile(RemoveFileRequest request, StreamObserver<RemoveFileResponse> observer) {
        unary(observer, () -> {
            sandboxes.removeFile(Validation.id(request.getId()), request.getPath(), request.getRecursive());
            return RemoveFileResponse.getDefaultInstance();
        });
    }

    @Override
    public void rename(RenameRequest request, StreamObserver<RenameResponse> observer) {
        unary(observer, () -> {
            sandboxes.rename(Validation.id(request.getId()), request.getFrom(), request.getTo());
            return RenameResponse.getDefaultInstance();
        });
    }

    @Override
    public void mkdir(MkdirRequest request, StreamObserver<MkdirResponse> observer) {
        unary(observer, () -> {
            sandboxes.mkdir(Validation.id(request.getId()), request.getPath(),
                    request.hasOwner() ? ProtoMapper.fromProto(request.getOwner()) : null);
            return MkdirResponse.getDefaultInstance();
        });
    }
}
