package dev.basalt.grpc;

import dev.basalt.api.BasaltException;
import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.Images;
import dev.basalt.api.PullRequest;
import dev.basalt.grpc.v1.BuildEvent;
import dev.basalt.grpc.v1.BuildImageRequest;
import dev.basalt.grpc.v1.ImageProgress;
import dev.basalt.grpc.v1.ImageServiceGrpc;
import dev.basalt.grpc.v1.ImportImageRequest;
import dev.basalt.grpc.v1.InspectImageRequest;
import dev.basalt.grpc.v1.ListImagesRequest;
import dev.basalt.grpc.v1.PullImageRequest;
import dev.basalt.grpc.v1.RemoveImageRequest;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The {@link Images} port of a basaltd, over the channel of a {@link RemoteSandboxes} (see
 * {@link RemoteSandboxes#images()}). Paths name files on the daemon's host.
 */
final class RemoteImages implements Images {
    private final ImageServiceGrpc.ImageServiceBlockingStub stub;
    private final String target;

    RemoteImages(ManagedChannel channel, CallCredentials credentials, String target) {
        this.stub = ImageServiceGrpc.newBlockingStub(channel).withCallCredentials(credentials);
        this.target = target;
    }

    private <T> T call(Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw RemoteErrors.toException(e, target);
        }
    }

    @Override
    public List<ImageInfo> list() {
        return call(() -> stub.listImages(ListImagesRequest.getDefaultInstance()).getImagesList().stream()
                .map(ImageMapper::fromProto).toList());
    }

    @Override
    public ImageInfo inspect(String name) {
        return ImageMapper.fromProto(call(() -> stub.inspectImage(InspectImageRequest.newBuilder().setName(name).build())));
    }

    @Override
    public void remove(String name) {
        call(() -> stub.removeImage(RemoveImageRequest.newBuilder().setName(name).build()));
    }

    @Override
    public ImageInfo pull(PullRequest request, Consumer<String> progress) {
        PullImageRequest.Builder b = PullImageRequest.newBuilder().setReference(request.reference());
        if (request.name() != null) {
            b.setName(request.name());
        }
        if (request.username() != null) {
            b.setUsername(request.username()).setPassword(request.password());
        }
        if (request.caCertificates() != null) {
            b.setCaCertificates(request.caCertificates().toString());
        }
        return progressUntilImage(() -> stub.pullImage(b.build()), progress);
    }

    @Override
    public ImageInfo importArchive(Path archive, String tag, String name, Consumer<String> progress) {
        ImportImageRequest.Builder b = ImportImageRequest.newBuilder().setPath(archive.toString()).setName(name);
        if (tag != null) {
            b.setTag(tag);
        }
        return progressUntilImage(() -> stub.importImage(b.build()), progress);
    }

    private ImageInfo progressUntilImage(Supplier<Iterator<ImageProgress>> call, Consumer<String> progress) {
        return call(() -> {
            Iterator<ImageProgress> events = call.get();
            while (events.hasNext()) {
                ImageProgress p = events.next();
                if (p.hasImage()) {
                    return ImageMapper.fromProto(p.getImage());
                }
                progress.accept(p.getLine());
            }
            throw new BasaltException.Unavailable("basaltd ended the call without an image");
        });
    }

    @Override
    public BuildResult build(BuildRequest request, ExecOutput output, Consumer<String> progress) {
        BuildImageRequest req = BuildImageRequest.newBuilder().setDockerfile(request.dockerfile().toString())
                .setContext(request.context().toString()).setName(request.name()).putAllBuildArgs(request.buildArgs())
                .setDiskMib(request.diskMib()).setNoCache(request.noCache()).build();
        return call(() -> {
            Iterator<BuildEvent> events = stub.buildImage(req);
            while (events.hasNext()) {
                BuildEvent e = events.next();
                switch (e.getEventCase()) {
                    case PROGRESS -> progress.accept(e.getProgress());
                    case STDOUT -> output.stdout(e.getStdout().toByteArray());
                    case STDERR -> output.stderr(e.getStderr().toByteArray());
                    case BUILT -> {
                        return new BuildResult.Built(ImageMapper.fromProto(e.getBuilt().getImage()), e.getBuilt().getSteps(),
                                e.getBuilt().getCachedSteps());
                    }
                    case FAILED -> {
                        return new BuildResult.Failed(e.getFailed().getLine(), e.getFailed().getStep(),
                                ProtoMapper.fromProto(e.getFailed().getExit()), e.getFailed().getOutputTail());
                    }
                    default -> { }
                }
            }
            throw new BasaltException.Unavailable("basaltd ended the build without a result");
        });
    }
}
