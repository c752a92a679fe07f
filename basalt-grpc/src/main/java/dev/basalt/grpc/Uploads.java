package dev.basalt.grpc;

import dev.basalt.api.BasaltException;
import dev.basalt.grpc.v1.SandboxServiceGrpc;
import dev.basalt.grpc.v1.UploadHeader;
import dev.basalt.grpc.v1.UploadRequest;
import dev.basalt.grpc.v1.UploadResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** The client side of the Upload RPC: header, then flow-controlled chunks; a failing source cancels the upload. */
final class Uploads {
    private Uploads() {
    }

    static long upload(SandboxServiceGrpc.SandboxServiceStub stub, String id, String path, InputStream data, int mode,
                       dev.basalt.api.GuestUser owner) {
        CompletableFuture<UploadResponse> result = new CompletableFuture<>();
        CompletableFuture<SendWindow<UploadRequest>> windowRef = new CompletableFuture<>();
        stub.upload(new ClientResponseObserver<UploadRequest, UploadResponse>() {
            private SendWindow<UploadRequest> window;

            @Override
            public void beforeStart(ClientCallStreamObserver<UploadRequest> requests) {
                window = new SendWindow<>(requests);
                windowRef.complete(window);
            }

            @Override
            public void onNext(UploadResponse value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
                window.finished(t);
            }

            @Override
            public void onCompleted() {
                window.finished(null);
                result.completeExceptionally(new BasaltException.Unavailable("basaltd ended the upload of " + path
                        + " without an answer"));
            }
        });
        SendWindow<UploadRequest> window = windowRef.join();
        try {
            UploadHeader.Builder header = UploadHeader.newBuilder().setId(id).setPath(path).setMode(mode);
            if (owner != null) {
                header.setOwner(ProtoMapper.toProto(owner));
            }
            window.send(UploadRequest.newBuilder().setHeader(header).build());
            byte[] buffer = new byte[RemoteSandboxes.UPLOAD_CHUNK];
            while (true) {
                int n = data.readNBytes(buffer, 0, buffer.length);
                if (n > 0) {
                    window.send(UploadRequest.newBuilder().setChunk(RemoteSandboxes.chunk(buffer, 0, n)).build());
                }
                if (n < buffer.length) {
                    break;
                }
            }
            window.complete();
        } catch (IOException e) {
            window.cancel("reading the upload source failed", e);
            throw new BasaltException.Internal("reading the data to upload to " + path + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            window.cancel("upload aborted by the client", e);
            throw e;
        }
        try {
            return result.get().getBytesWritten();
        } catch (ExecutionException e) {
            throw RemoteErrors.toException(e.getCause());
        } catch (InterruptedException e) {
            window.cancel("interrupted", e);
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while uploading " + path, e);
        }
    }
}
