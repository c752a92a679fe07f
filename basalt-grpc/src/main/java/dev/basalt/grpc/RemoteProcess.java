package dev.basalt.grpc;

import com.google.protobuf.ByteString;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExitStatus;
import dev.basalt.grpc.v1.CloseStdin;
import dev.basalt.grpc.v1.ExecRequest;
import dev.basalt.grpc.v1.ExecResponse;
import dev.basalt.grpc.v1.ExecStart;
import dev.basalt.grpc.v1.Resize;
import dev.basalt.grpc.v1.SandboxServiceGrpc;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An {@link ExecProcess} over the bidirectional Exec RPC. Output callbacks run on a gRPC thread, one
 * message at a time: a slow {@link ExecOutput} stops the next message from being requested, which
 * back-pressures the server and, through it, the guest. Closing before the exit cancels the call,
 * and the server kills the process.
 */
final class RemoteProcess implements ExecProcess, ClientResponseObserver<ExecRequest, ExecResponse> {
    private final ExecOutput output;
    private final CompletableFuture<Integer> pid = new CompletableFuture<>();
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private SendWindow<ExecRequest> window;

    private RemoteProcess(ExecOutput output) {
        this.output = output;
    }

    static RemoteProcess start(SandboxServiceGrpc.SandboxServiceStub stub, String id, dev.basalt.api.ExecRequest request,
                               ExecOutput output) {
        RemoteProcess process = new RemoteProcess(output);
        stub.exec(process);
        process.window.send(ExecRequest.newBuilder().setStart(ExecStart.newBuilder().setId(id)
                .setCommand(ProtoMapper.toProto(request.withStdin(null)))).build());
        try {
            process.pid.get();
            return process;
        } catch (ExecutionException e) {
            throw RemoteErrors.toException(e.getCause());
        } catch (InterruptedException e) {
            process.close();
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while starting " + request.argv(), e);
        }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ExecRequest> requests) {
        window = new SendWindow<>(requests);
    }

    @Override
    public void onNext(ExecResponse event) {
        switch (event.getEventCase()) {
            case STARTED -> pid.complete(event.getStarted().getPid());
            case STDOUT -> output.stdout(event.getStdout().toByteArray());
            case STDERR -> output.stderr(event.getStderr().toByteArray());
            case EXIT -> exit.complete(ProtoMapper.fromProto(event.getExit()));
            case EVENT_NOT_SET -> { }
        }
    }

    @Override
    public void onError(Throwable t) {
        BasaltException e = RemoteErrors.toException(t);
        pid.completeExceptionally(e);
        exit.completeExceptionally(e);
        window.finished(t);
    }

    @Override
    public void onCompleted() {
        window.finished(null);
        var lost = new BasaltException.Unavailable("basaltd ended the process stream without an exit status");
        pid.completeExceptionally(lost);
        exit.completeExceptionally(lost);
    }

    @Override
    public int pid() {
        return pid.join();
    }

    @Override
    public void writeStdin(byte[] data) {
        for (int off = 0; off < data.length; off += RemoteSandboxes.UPLOAD_CHUNK) {
            int n = Math.min(RemoteSandboxes.UPLOAD_CHUNK, data.length - off);
            window.send(ExecRequest.newBuilder().setStdin(ByteString.copyFrom(data, off, n)).build());
        }
    }

    @Override
    public void closeStdin() {
        window.send(ExecRequest.newBuilder().setCloseStdin(CloseStdin.getDefaultInstance()).build());
    }

    @Override
    public void signal(int signal) {
        if (signal < 1 || signal > 64) {
            throw new BasaltException.InvalidArgument("signal must be 1..64, got " + signal);
        }
        window.send(ExecRequest.newBuilder().setSignal(signal).build());
    }

    @Override
    public void resize(int rows, int cols) {
        if (rows < 1 || rows > 0xFFFF || cols < 1 || cols > 0xFFFF) {
            throw new BasaltException.InvalidArgument("terminal size must be 1..65535, got " + rows + "x" + cols);
        }
        window.send(ExecRequest.newBuilder().setResize(Resize.newBuilder().setRows(rows).setCols(cols)).build());
    }

    @Override
    public ExitStatus awaitExit(Duration timeout) {
        try {
            return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new BasaltException.TimedOut("process " + pid() + " did not exit within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw RemoteErrors.toException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while waiting for process " + pid(), e);
        }
    }

    @Override
    public void close() {
        if (exit.isDone()) {
            window.complete();
        } else {
            window.cancel("process closed by the client", null);
        }
    }
}
