package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dockerfile builds whose RUN steps run in real Basalt sandboxes: the result's files, config and
 * user; a rebuild of an unchanged Dockerfile from the cache; a change that re-runs only the steps
 * from it; a failing RUN with its exit code and output, storing nothing.
 */
@ExtendWith(RealVms.class)
class ImageBuildTest {
    private static final String DOCKERFILE = """
            FROM test/busybox-disk
            ARG WHO=world
            ENV APP=/srv/app GREETING="hi there"
            WORKDIR /srv/app
            COPY app.txt lib/ ./
            RUN echo "hello $WHO" > built.txt && chown -R user /srv/app && echo step-output
            USER user
            RUN id -u > /srv/app/uid-at-build; touch as-user
            CMD ["sh"]
            """;

    static final class Collect implements ExecOutput {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void stdout(byte[] chunk) {
            bytes.writeBytes(chunk);
        }

        @Override
        public synchronized void stderr(byte[] chunk) {
            bytes.writeBytes(chunk);
        }
    }

    @Test
    void buildsRunsRebuildsFromTheCacheAndStopsAtAFailingRun(SandboxManager m, @TempDir Path ctx) throws IOException {
        DiskImages.busybox(m.images().store());
        Files.writeString(ctx.resolve("Dockerfile"), DOCKERFILE);
        // unique to this run: the shared store must not hold this build's steps yet
        String run = Long.toHexString(System.nanoTime());
        Files.writeString(ctx.resolve("app.txt"), "the app " + run + "\n");
        Files.createDirectories(ctx.resolve("lib"));
        Files.writeString(ctx.resolve("lib/util.txt"), "util v1\n");
        String name = "test/built:" + ProcessHandle.current().pid();
        List<String> progress = new ArrayList<>();
        Collect output = new Collect();
        BuildResult result = m.images().build(BuildRequest.of(ctx, name), output, progress::add);
        assertThat(result).isInstanceOf(BuildResult.Built.class);
        ImageInfo image = ((BuildResult.Built) result).image();
        try {
            assertThat(output.bytes.toString()).contains("step-output");
            assertThat(progress).anyMatch(l -> l.startsWith("step 5/8: RUN echo \"hello $WHO\""));
            assertThat(image.config().workingDir()).isEqualTo("/srv/app");
            assertThat(image.config().user()).isEqualTo("user");
            assertThat(image.config().env()).containsEntry("GREETING", "hi there");
            assertThat(image.config().cmd()).containsExactly("sh");

            SandboxInfo s = m.create(SandboxSpec.defaults().withImage(name));
            try {
                var r = m.exec(s.id(), ExecRequest.of("sh", "-c", "id -u; pwd; echo $GREETING; cat built.txt app.txt"
                        + " util.txt uid-at-build; stat -c %u as-user; test -e /etc/marker && echo base-files"));
                assertThat(r.stdoutText()).isEqualTo("1000\n/srv/app\nhi there\nhello world\nthe app " + run + "\nutil v1\n1000\n1000\n"
                        + "base-files\n");
            } finally {
                m.remove(s.id());
            }

            // unchanged: every step from the cache, no VM
            progress.clear();
            long t0 = System.nanoTime();
            BuildResult again = m.images().build(BuildRequest.of(ctx, name), ExecOutput.discard(), progress::add);
            assertThat(((BuildResult.Built) again).image().id()).isEqualTo(image.id());
            assertThat(progress).allMatch(l -> l.endsWith("(cached)"));
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);

            // a changed file: the steps before the COPY come from the cache, the rest run again
            Files.writeString(ctx.resolve("lib/util.txt"), "util v2\n");
            BuildResult changed = m.images().build(BuildRequest.of(ctx, name), ExecOutput.discard(), l -> { });
            assertThat(((BuildResult.Built) changed).cachedSteps()).isEqualTo(0);  // no file step before the COPY
            assertThat(((BuildResult.Built) changed).image().id()).isNotEqualTo(image.id());
            Files.writeString(ctx.resolve("Dockerfile"), DOCKERFILE + "RUN echo one-more > more.txt\n");
            BuildResult longer = m.images().build(BuildRequest.of(ctx, name), ExecOutput.discard(), l -> { });
            assertThat(((BuildResult.Built) longer).cachedSteps()).isEqualTo(7);  // up to the last RUN
        } finally {
            m.images().remove(name);
        }

        // a failing RUN: its exit code and output, and nothing stored
        Files.writeString(ctx.resolve("Dockerfile"), "FROM test/busybox-disk\nRUN echo failing-output; exit 3\n");
        BuildResult failed = m.images().build(BuildRequest.of(ctx, "test/failed"), ExecOutput.discard(), l -> { });
        assertThat(failed).isInstanceOfSatisfying(BuildResult.Failed.class, f -> {
            assertThat(f.line()).isEqualTo(2);
            assertThat(f.exit()).isEqualTo(new ExitStatus.Exited(3));
            assertThat(f.outputTail()).contains("failing-output");
        });
        assertThat(m.images().store().find("test/failed")).isEmpty();
        Files.writeString(ctx.resolve("Dockerfile"), "FROM test/busybox-disk\nRUNN true\n");
        assertThatThrownBy(() -> m.images().build(BuildRequest.of(ctx, "test/failed"), ExecOutput.discard(), l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("line 2: unknown instruction 'RUNN'");
        assertThat(Files.list(RealVms.config().disksDir().resolve("sandboxes")).toList()).isEmpty();
        assertThat(m.list()).noneMatch(s -> s.labels().containsKey("basalt.build"));
    }
}
