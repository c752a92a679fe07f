package dev.basalt.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageStoreTest {
    @TempDir
    Path tmp;

    private static final ImageConfig CONFIG = new ImageConfig(Map.of("LANG", "C.UTF-8"), "/work", "user",
            List.of(), List.of("bash"));

    private ImageInfo store(ImageStore store, String name, String id, String content) throws IOException {
        try (ImageStore.Staging s = store.stage()) {
            Files.createDirectories(s.rootfs().getParent());
            Files.writeString(s.rootfs(), content);
            return s.commit(name, id, "test", CONFIG, content.length());
        }
    }

    @Test
    void storedImagesAreListedNamedLinkedAndRemoved() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        ImageInfo a = store(store, "127.0.0.1:5000/team/app:v2", "0123456789abcdef", "fs-a");
        store(store, "base", "fedcba9876543210", "fs-b");

        assertThat(store.list()).extracting(ImageInfo::name).containsExactly("127.0.0.1:5000/team/app:v2", "base");
        ImageInfo got = store.inspect("127.0.0.1:5000/team/app:v2");
        assertThat(got.id()).isEqualTo("0123456789abcdef");
        assertThat(got.config()).isEqualTo(CONFIG);
        assertThat(got.created()).isEqualTo(a.created());
        assertThat(store.fileSystemBytes("base")).isEqualTo(4);
        Path fs = store.root().resolve("images/0123456789abcdef/rootfs.ext4");
        assertThat(Files.getAttribute(fs, "unix:mode")).isEqualTo(0100444);

        // a second name for the same content; removing one name keeps it
        store.tag("0123456789abcdef", "app:latest");
        store.remove("127.0.0.1:5000/team/app:v2");
        assertThat(store.inspect("app:latest").id()).isEqualTo("0123456789abcdef");

        // a sandbox's link outlives the image
        Path disk = tmp.resolve("store/../disks/sandbox1");
        Path link = store.link("app:latest", disk);
        store.remove("app:latest");
        assertThat(fs).doesNotExist();
        assertThat(Files.readString(link)).isEqualTo("fs-a");
        assertThat(store.list()).extracting(ImageInfo::name).containsExactly("base");
        assertThatThrownBy(() -> store.inspect("app:latest")).isInstanceOf(BasaltException.NotFound.class)
                .hasMessageContaining("no image 'app:latest'").hasMessageContaining("it has: base");
        assertThatThrownBy(() -> store.remove("app:latest")).isInstanceOf(BasaltException.NotFound.class);
    }

    @Test
    void badNamesAreRefused() {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        for (String bad : List.of("a/../b", "../etc", "a/..", "/abs", "UPPER", "a//b", "a:b:c", "", "a/.hidden", "x".repeat(256))) {
            assertThatThrownBy(() -> store.inspect(bad)).as(bad).isInstanceOf(BasaltException.InvalidArgument.class)
                    .hasMessageContaining("is invalid");
        }
    }

    @Test
    void unfinishedImagesLeaveNothingListedAndAreSweptAway() throws Exception {
        Path root = tmp.resolve("store");
        ImageStore store = ImageStore.open(root);
        try (ImageStore.Staging s = store.stage()) {
            Files.writeString(s.scratch("rootfs").resolve("half"), "made");
            assertThat(store.list()).isEmpty();
        }   // closed without commit: gone
        assertThat(children(root.resolve("staging"))).isEmpty();

        // a maker that died: its staging directory has no live lock
        Path dead = Files.createDirectories(root.resolve("staging/dead-maker/work"));
        Files.writeString(dead.resolve("x"), "x");
        // a maker that lives in another process: its lock is held
        Path live = Files.createDirectories(root.resolve("staging/live-maker"));
        Process holder = new ProcessBuilder("python3", "-c", "import fcntl,sys,time\n"
                + "f=open(sys.argv[1],'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
                live.resolve(".lock").toString()).start();
        try {
            assertThat(new BufferedReader(new InputStreamReader(holder.getInputStream())).readLine()).isEqualTo("locked");
            ImageStore.open(root);
            assertThat(children(root.resolve("staging"))).containsExactly("live-maker");
        } finally {
            holder.destroyForcibly().waitFor();
        }
        ImageStore.open(root);
        assertThat(children(root.resolve("staging"))).isEmpty();
        assertThat(store.list()).isEmpty();
    }

    private static List<String> children(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
