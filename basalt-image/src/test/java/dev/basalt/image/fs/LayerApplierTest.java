package dev.basalt.image.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layers applied to a real directory, hostile ones included (runs as root, as image imports do). */
class LayerApplierTest {
    @TempDir
    Path tmp;
    Path root;
    Path outside;

    @BeforeEach
    void dirs() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("victim"), "untouched");
    }

    private void apply(LayerApplier a, byte[] layer) throws IOException {
        try (InputStream in = LayerApplier.decompressed(new ByteArrayInputStream(layer), "test layer")) {
            a.apply(in, "test layer");
        }
    }

    private LayerApplier applier() {
        return new LayerApplier(root, 64 << 20);
    }

    @Test
    void filesDirectoriesLinksOwnersAndModesArrive() throws IOException {
        LayerApplier a = applier();
        apply(a, new TarBuilder().dir("usr", 0755).dir("usr/bin", 0755)
                .file("usr/bin/tool", "#!/bin/sh\n", 04755, 0, 0)
                .file("home/user/notes", "mine", 0600, 1000, 1000)
                .symlink("bin", "usr/bin")
                .hardlink("usr/bin/tool2", "usr/bin/tool")
                .fifo("run/pipe")
                .gzip());
        a.finish();
        assertThat(Files.readString(root.resolve("usr/bin/tool"))).isEqualTo("#!/bin/sh\n");
        assertThat(Files.getAttribute(root.resolve("usr/bin/tool"), "unix:mode")).isEqualTo(0104755);
        assertThat(Files.getAttribute(root.resolve("home/user/notes"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(root.resolve("home/user/notes"), "unix:mode")).isEqualTo(0100600);
        assertThat(Files.readSymbolicLink(root.resolve("bin"))).isEqualTo(Path.of("usr/bin"));
        assertThat(Files.getAttribute(root.resolve("usr/bin/tool2"), "unix:ino"))
                .isEqualTo(Files.getAttribute(root.resolve("usr/bin/tool"), "unix:ino"));
        assertThat((int) Files.getAttribute(root.resolve("run/pipe"), "unix:mode") & 0170000).isEqualTo(0010000);
    }

    @Test
    void laterLayersReplaceAndWhiteOut() throws IOException {
        LayerApplier a = applier();
        apply(a, new TarBuilder().file("etc/a", "1").file("etc/b", "1").file("opt/x/old", "1").file("opt/x/keep", "1")
                .file("var/dir/f", "1").build());
        apply(a, new TarBuilder().file("etc/a", "2").file("etc/.wh.b", "").file("opt/x/new", "2")
                .file("opt/x/.wh..wh..opq", "").file("var/dir", "now a file").build());
        assertThat(Files.readString(root.resolve("etc/a"))).isEqualTo("2");
        assertThat(root.resolve("etc/b")).doesNotExist();
        try (Stream<Path> list = Files.list(root.resolve("opt/x"))) {
            assertThat(list.map(p -> p.getFileName().toString())).containsExactly("new");
        }
        assertThat(Files.readString(root.resolve("var/dir"))).isEqualTo("now a file");
    }

    @Test
    void entriesBelowSymlinksStayInsideTheRoot() throws IOException {
        LayerApplier a = applier();
        // absolute and relative symlinks that point out of the root, then writes through them
        apply(a, new TarBuilder().symlink("abs", outside.toString()).symlink("rel", "../../../../" + outside)
                .symlink("slash", "/").build());
        apply(a, new TarBuilder().file("abs/victim", "pwned").file("rel/victim", "pwned").file("slash/etc/passwd", "x")
                .build());
        assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("untouched");
        // the writes landed inside the root, where the guest will see them
        assertThat(Files.readString(root.resolve(outside.toString().substring(1)).resolve("victim"))).isEqualTo("pwned");
        assertThat(Files.readString(root.resolve("etc/passwd"))).isEqualTo("x");
        // the entry's own name is never followed: replacing a symlink replaces the link
        apply(a, new TarBuilder().symlink("f", outside.resolve("victim").toString()).build());
        apply(a, new TarBuilder().file("f", "replaced").build());
        assertThat(Files.isSymbolicLink(root.resolve("f"))).isFalse();
        assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("untouched");
    }

    @Test
    void hostileEntriesAreRefusedByName() {
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().file("../escape", "x").build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("'../escape'")
                .hasMessageContaining("leave the image's root");
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().file("a/../../escape", "x").build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("'..'");
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().device("dev/sda", true, 8, 0).build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("block device")
                .hasMessageContaining("dev/sda");
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().device("dev/mem", false, 1, 1).build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("character device");
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().hardlink("h", "../../" + outside + "/victim").build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("'..'");
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().hardlink("h", "no/such/file").build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("not a file the image has");
        assertThat(outside.resolve("victim")).hasContent("untouched");
        assertThat(root.resolve("escape")).doesNotExist();
        assertThat(tmp.resolve("escape")).doesNotExist();
    }

    @Test
    void aHardLinkToASymlinkLinksTheSymlinkNotItsTarget() throws IOException {
        LayerApplier a = applier();
        apply(a, new TarBuilder().symlink("s", outside.resolve("victim").toString()).hardlink("h", "s").build());
        assertThat(Files.isSymbolicLink(root.resolve("h"))).isTrue();
        assertThat((int) Files.getAttribute(outside.resolve("victim"), "unix:nlink")).isEqualTo(1);
    }

    @Test
    void symlinkLoopsEnd() {
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().symlink("a", "b").symlink("b", "a")
                .file("a/x", "1").build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("too many levels");
    }

    @Test
    void aLayerBiggerThanTheLimitIsRefused() {
        LayerApplier small = new LayerApplier(root, 100_000);
        String big = "x".repeat(200_000);
        assertThatThrownBy(() -> apply(small, new TarBuilder().file("big", big).gzip()))
                .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("larger than its limit");
    }

    @Test
    void garbageAndZstdAreNamed() {
        assertThatThrownBy(() -> apply(applier(), new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 1, 2}))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("zstd");
        byte[] truncated = java.util.Arrays.copyOf(new TarBuilder().file("f", "x".repeat(5000)).gzip(), 40);
        assertThatThrownBy(() -> apply(applier(), truncated)).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("test layer");
    }

    @Test
    void entriesUnderAFileAreRefused() {
        assertThatThrownBy(() -> apply(applier(), new TarBuilder().file("f", "1").file("f/g", "2").build()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("not a directory");
        assertThat(Files.exists(root.resolve("f"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }
}
