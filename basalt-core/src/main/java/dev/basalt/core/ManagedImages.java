package dev.basalt.core;

import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.Images;
import dev.basalt.api.PullRequest;
import dev.basalt.image.ImageService;
import dev.basalt.image.ImageStore;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * The {@link Images} port of a {@link SandboxManager}: its image store ({@link ImageService}) and
 * Dockerfile builds, which run their steps in the manager's sandboxes ({@link ImageBuilder}).
 */
public final class ManagedImages implements Images {
    private final ImageService service;
    private final ImageBuilder builder;

    ManagedImages(ImageService service, ImageBuilder builder) {
        this.service = service;
        this.builder = builder;
    }

    /** The store itself (its files, content ids). */
    public ImageStore store() {
        return service.store();
    }

    /** The shipped Debian image {@code base}, built on first use (see {@link ImageService#ensureBase}). */
    public ImageInfo ensureBase(Consumer<String> progress) {
        return service.ensureBase(progress);
    }

    @Override
    public List<ImageInfo> list() {
        return service.list();
    }

    @Override
    public ImageInfo inspect(String name) {
        return service.inspect(name);
    }

    @Override
    public void remove(String name) {
        service.remove(name);
    }

    @Override
    public ImageInfo pull(PullRequest request, Consumer<String> progress) {
        return service.pull(request, progress);
    }

    @Override
    public ImageInfo importArchive(Path archive, String tag, String name, Consumer<String> progress) {
        return service.importArchive(archive, tag, name, progress);
    }

    @Override
    public BuildResult build(BuildRequest request, ExecOutput output, Consumer<String> progress) {
        return builder.build(request, output, progress);
    }
}
