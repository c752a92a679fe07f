package dev.basalt.api;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * The image store's port: root file systems that sandboxes boot from (on a copy-on-write disk).
 * The embedded store implements it; the gRPC client is the same port over the wire. Every
 * method throws a {@link BasaltException}. Methods are thread-safe, and may run at any time.
 */
public interface Images {

    /** Every image, sorted by name. */
    List<ImageInfo> list();

    /**
     * One image.
     *
     * @throws BasaltException.NotFound if the store has no image of that name
     */
    ImageInfo inspect(String name);

    /**
     * Removes an image's name; its files go once no other name refers to them. Sandboxes that use
     * it keep running and keep their disks.
     *
     * @throws BasaltException.NotFound if the store has no image of that name
     */
    void remove(String name);

    /**
     * Pulls an image from a registry and stores it. Atomic: a pull that fails or is interrupted
     * leaves nothing. Content the store has already (same config digest) is not downloaded again.
     *
     * @param progress receives a line for each step that does work
     * @throws BasaltException.NotFound if the registry has no such image
     * @throws BasaltException.PermissionDenied if the registry refuses the (missing) credentials
     * @throws BasaltException.InvalidArgument for an image Basalt cannot run (another platform, a
     *         blob that does not match its digest, a hostile layer)
     * @throws BasaltException.Unavailable or {@code TimedOut} for a registry that fails or stalls
     */
    ImageInfo pull(PullRequest request, Consumer<String> progress);

    /**
     * Imports an image from a file on the store's host: an OCI image layout (directory or tar)
     * or a {@code docker save} archive. Atomic like {@link #pull}.
     *
     * @param archive the directory or tar file
     * @param tag     which image of the archive (its ref name or RepoTag); null if it has one
     * @param name    the name to store it under
     */
    ImageInfo importArchive(Path archive, String tag, String name, Consumer<String> progress);

    /**
     * Builds an image from a Dockerfile: each RUN runs in a sandbox (no docker needed), its output
     * streams to {@code output}; the steps' results are cached by their inputs, so an unchanged
     * Dockerfile builds again in seconds. Progress lines ("step 3/7: RUN ...") go to {@code progress}.
     * Atomic like {@link #pull}: a failed build stores nothing under the name.
     *
     * @return the image, or the RUN step that failed with its exit status
     * @throws BasaltException.InvalidArgument for a Dockerfile Basalt cannot build (named by line), a
     *         COPY source outside the context, an unknown FROM image
     */
    BuildResult build(BuildRequest request, ExecOutput output, Consumer<String> progress);
}
