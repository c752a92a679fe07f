package dev.basalt.server;

import static dev.basalt.server.SandboxService.unary;
import static dev.basalt.server.SandboxService.worker;

import com.google.protobuf.ByteString;
import dev.basalt.api.BasaltException;
import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.Images;
import dev.basalt.api.PullRequest;
import dev.basalt.grpc.ImageMapper;
import dev.basalt.grpc.ProtoMapper;
import dev.basalt.grpc.v1.BuildBuilt;
import dev.basalt.grpc.v1.BuildEvent;
import dev.basalt.grpc.v1.BuildFailed;
import dev.basalt.grpc.v1.BuildImageRequest;
import dev.basalt.grpc.v1.ImageProgress;
import dev.basalt.grpc.v1.ImageServiceGrpc;
import dev.basalt.grpc.v1.ImportImageRequest;
import dev.basalt.grpc.v1.InspectImageRequest;
import dev.basalt.grpc.v1.ListImagesRequest;
import dev.basalt.grpc.v1.ListImagesResponse;
import dev.basalt.grpc.v1.PullImageRequest;
import dev.basalt.grpc.v1.RemoveImageRequest;
import dev.basalt.grpc.v1.RemoveImageResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/** {@code basalt.v1.ImageService} over the {@link Images} port: translation only. */
final class ImageService extends ImageServiceGrpc.ImageServiceImplBase {
    private final Images images;

    ImageService(Images images) {
        this.images = images;
    }

    @Override
    public void listImages(ListImagesRequest request, StreamObserver<ListImagesResponse> observer) {
        unary(observer, () -> ListImagesResponse.newBuilder().addAllImages(images.list().stream()
                .map(ImageMapper::toProto).toList()).build());
    }

    @Override
    public void inspectImage(InspectImageRequest request, StreamObserver<dev.basalt.grpc.v1.Image> observer) {
        unary(observer, () -> ImageMapper.toProto(images.inspect(request.getName())));
    }

    @Override
    public void removeImage(RemoveImageRequest request, StreamObserver<RemoveImageResponse> observer) {
        unary(observer, () -> {
            images.remove(request.getName());
            return RemoveImageResponse.getDefaultInstance();
        });
    }

    @Override
    public void pullImage(PullImageRequest request, StreamObserver<ImageProgress> observer) {
        Outbound<ImageProgress> out = new Outbound<>(observer);
        worker("grpc-pull", () -> out.finishWith(() -> {
            PullRequest pull = new PullRequest(request.getReference(), blankToNull(request.getName()),
                    blankToNull(request.getUsername()), request.getUsername().isEmpty() ? null : request.getPassword(),
                    request.getCaCertificates().isEmpty() ? null : Path.of(request.getCaCertificates()));
            var image = images.pull(pull, lines(out));
            out.send(ImageProgress.newBuilder().setImage(ImageMapper.toProto(image)).build());
        }));
    }

    @Override
    public void importImage(ImportImageRequest request, StreamObserver<ImageProgress> observer) {
        Outbound<ImageProgress> out = new Outbound<>(observer);
        worker("grpc-import", () -> out.finishWith(() -> {
            var image = images.importArchive(Path.of(request.getPath()), blankToNull(request.getTag()), request.getName(),
                    lines(out));
            out.send(ImageProgress.newBuilder().setImage(ImageMapper.toProto(image)).build());
        }));
    }

    @Override
    public void buildImage(BuildImageRequest request, StreamObserver<BuildEvent> observer) {
        Outbound<BuildEvent> out = new Outbound<>(observer);
        worker("grpc-build", () -> out.finishWith(() -> {
            BuildRequest build = new BuildRequest(Path.of(request.getDockerfile()), Path.of(request.getContext()),
                    request.getName(), request.getBuildArgsMap(), request.getDiskMib(), request.getNoCache());
            ExecOutput output = new ExecOutput() {
                @Override
                public void stdout(byte[] chunk) {
                    sendOrCancel(out, BuildEvent.newBuilder().setStdout(ByteString.copyFrom(chunk)).build());
                }

                @Override
                public void stderr(byte[] chunk) {
                    sendOrCancel(out, BuildEvent.newBuilder().setStderr(ByteString.copyFrom(chunk)).build());
                }

                @Override
                public void started(Runnable kill) {
                    out.onCancel(kill);
                }
            };
            BuildResult result = images.build(build, output,
                    line -> sendOrCancel(out, BuildEvent.newBuilder().setProgress(line).build()));
            out.send(switch (result) {
                case BuildResult.Built b -> BuildEvent.newBuilder().setBuilt(BuildBuilt.newBuilder()
                        .setImage(ImageMapper.toProto(b.image())).setSteps(b.steps()).setCachedSteps(b.cachedSteps())).build();
                case BuildResult.Failed f -> BuildEvent.newBuilder().setFailed(BuildFailed.newBuilder().setLine(f.line())
                        .setStep(f.step()).setExit(ProtoMapper.toProto(f.exit(), Duration.ZERO))
                        .setOutputTail(f.outputTail())).build();
            });
        }));
    }

    private static Consumer<String> lines(Outbound<ImageProgress> out) {
        return line -> sendOrCancel(out, ImageProgress.newBuilder().setLine(line).build());
    }

    private static <T> void sendOrCancel(Outbound<T> out, T message) {
        if (!out.send(message)) {
            throw new BasaltException.Unavailable("the client cancelled the call");
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
