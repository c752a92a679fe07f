package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.Images;
import dev.basalt.api.PullRequest;
import dev.basalt.core.SandboxManager;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.image.TestImages;
import dev.basalt.vmm.Hypervisors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code basalt.v1.ImageService} end to end: a client over the wire imports an image built by umoci,
 * lists, inspects and removes it, sees a registry's refusal as the same exception, and builds a
 * Dockerfile whose RUN runs in a real sandbox of the daemon, its output streamed back.
 */
class GrpcImageTest {
    @TempDir
    Path tmp;

    @Test
    void theImageStoreOverTheWire() throws Exception {
        var config = GrpcVms.config().withStateDir(tmp.resolve("state")).withRunRoot(tmp.resolve("run"))
                .withShmDir(Path.of("/dev/shm", "bgrpci-" + ProcessHandle.current().pid()));
        String name = "basalt-image-test-" + ProcessHandle.current().pid();
        try (SandboxManager manager = new SandboxManager(config, Hypervisors.detect());
             BasaltServer server = new BasaltServer(InProcessServerBuilder.forName(name), manager,
                     ServerOptions.defaults().withImages(manager.images())).start();
             RemoteSandboxes client = new RemoteSandboxes(InProcessChannelBuilder.forName(name).build())) {
            Images images = client.images();
            Path layout = TestImages.ociLayout(tmp.resolve("layout"), "v1", "over the wire");
            List<String> progress = new ArrayList<>();
            ImageInfo imported = images.importArchive(layout, "v1", "wire/app:v1", progress::add);
            assertThat(progress).anyMatch(l -> l.startsWith("applying layer 1/2"));
            assertThat(images.list()).extracting(ImageInfo::name).containsExactly("wire/app:v1");
            assertThat(images.inspect("wire/app:v1")).isEqualTo(imported);
            assertThat(imported.config().user()).isEqualTo("user");

            assertThatThrownBy(() -> images.inspect("wire/none")).isInstanceOf(BasaltException.NotFound.class)
                    .hasMessageContaining("wire/none");
            assertThatThrownBy(() -> images.pull(PullRequest.of("127.0.0.1:1/none:v1"), l -> { }))
                    .isInstanceOf(BasaltException.Unavailable.class).hasMessageContaining("cannot connect to registry");

            Path ctx = Files.createDirectories(tmp.resolve("ctx"));
            Files.writeString(ctx.resolve("Dockerfile"), "FROM wire/app:v1\nUSER root\nRUN echo run-over-the-wire"
                    + " && echo built > /built\n");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BuildResult built = images.build(BuildRequest.of(ctx, "wire/built"), new ExecOutput() {
                @Override
                public synchronized void stdout(byte[] chunk) {
                    out.writeBytes(chunk);
                }

                @Override
                public void stderr(byte[] chunk) {
                }
            }, l -> { });
            assertThat(built).isInstanceOf(BuildResult.Built.class);
            assertThat(out.toString()).contains("run-over-the-wire");
            Files.writeString(ctx.resolve("Dockerfile"), "FROM wire/app:v1\nRUN exit 7\n");
            assertThat(images.build(BuildRequest.of(ctx, "wire/failed"), ExecOutput.discard(), l -> { }))
                    .isInstanceOfSatisfying(BuildResult.Failed.class, f -> assertThat(f.exit()).isEqualTo(new ExitStatus.Exited(7)));

            images.remove("wire/app:v1");
            images.remove("wire/built");
            assertThat(images.list()).isEmpty();
        } finally {
            GrpcVms.deleteTree(Path.of("/dev/shm", "bgrpci-" + ProcessHandle.current().pid()));
        }
    }
}
