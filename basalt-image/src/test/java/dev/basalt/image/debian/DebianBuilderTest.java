package dev.basalt.image.debian;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import dev.basalt.image.Debugfs;
import dev.basalt.image.ImageService;
import dev.basalt.image.ImageStore;
import dev.basalt.image.TestStores;
import dev.basalt.image.fs.Ext4Builder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped {@code base} image, really built with mmdebstrap from Debian's mirror (once: the
 * shared test store keeps it by its inputs hash), and a recipe that cannot be built.
 */
class DebianBuilderTest {
    @TempDir
    Path tmp;

    @Test
    void baseHasWhatTheIssuePromises() throws IOException {
        ImageService service = ImageService.open(TestStores.shared());
        List<String> progress = new ArrayList<>();
        ImageInfo base = service.ensureBase(progress::add);
        assertThat(base.name()).isEqualTo("base");
        assertThat(base.source()).startsWith("debian bookworm");
        assertThat(base.config().env()).containsEntry("LANG", "C.UTF-8");
        assertThat(progress).allMatch(l -> l.startsWith("building image base") || l.startsWith("making the file system"));

        Debugfs fs = new Debugfs(service.store().root().resolve("images").resolve(base.id()).resolve(ImageStore.ROOTFS));
        fs.check();
        for (String tool : List.of("/usr/bin/bash", "/usr/bin/python3", "/usr/bin/git", "/usr/bin/curl", "/usr/bin/ps",
                "/usr/bin/ls", "/etc/ssl/certs/ca-certificates.crt")) {
            assertThat(fs.stat(tool)).as(tool).contains("Inode:");
        }
        assertThat(fs.ls("/usr/lib/python3/dist-packages")).contains("pip");
        assertThat(fs.ls("/usr/lib/python3.11")).contains("venv");
        assertThat(fs.read("/etc/passwd")).contains("user:x:1000:1000::/home/user:/bin/bash");
        assertThat(fs.stat("/home/user")).contains("User:  1000");
        assertThat(fs.ls("/dev")).doesNotContain("console").doesNotContain("null");
        assertThat(fs.ls("/usr/share/man")).doesNotContain("man1");

        // the second time: the stored image, at once
        progress.clear();
        long t0 = System.nanoTime();
        assertThat(service.ensureBase(progress::add).id()).isEqualTo(base.id());
        assertThat(progress).isEmpty();
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
    }

    @Test
    void aRecipeThatCannotBeBuiltSaysWhyAndLeavesNothing() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        DebianRecipe base = DebianRecipe.base();
        DebianRecipe bad = new DebianRecipe(base.suite(), base.mirrors().subList(0, 1), List.of("no-such-package-basalt"),
                List.of(), ImageConfig.empty());
        assertThatThrownBy(() -> new DebianBuilder(store, new Ext4Builder()).ensure(bad, "broken", l -> { }))
                .isInstanceOf(BasaltException.Unavailable.class).hasMessageContaining("mmdebstrap failed")
                .hasMessageContaining("no-such-package-basalt");
        assertThat(store.list()).isEmpty();
        try (Stream<Path> s = Files.list(tmp.resolve("store/staging"))) {
            assertThat(s).isEmpty();
        }
    }
}
