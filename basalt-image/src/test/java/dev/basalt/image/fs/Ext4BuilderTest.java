package dev.basalt.image.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.image.Debugfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real mkfs.ext4 on real trees; the result read back with e2fsprogs' own tools, nothing mounted. */
class Ext4BuilderTest {
    @TempDir
    Path tmp;

    @Test
    void theTreeArrivesWithOwnersModesAndLinks() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Files.createDirectories(tree.resolve("home/user"));
        Files.writeString(tree.resolve("home/user/notes"), "mine");
        Files.setAttribute(tree.resolve("home/user/notes"), "unix:uid", 1000);
        Files.setAttribute(tree.resolve("home/user"), "unix:uid", 1000);
        Files.writeString(tree.resolve("tool"), "#!/bin/sh\n");
        Files.setAttribute(tree.resolve("tool"), "unix:mode", 04755);
        Files.createSymbolicLink(tree.resolve("link"), Path.of("/tool"));
        Files.createLink(tree.resolve("tool2"), tree.resolve("tool"));
        Path image = tmp.resolve("rootfs.ext4");

        long size = new Ext4Builder().build(tree, image);

        assertThat(Files.size(image)).isEqualTo(size);
        assertThat(size).isLessThan(128L << 20);     // just what the files need plus room
        Debugfs fs = new Debugfs(image);
        fs.check();
        assertThat(fs.read("/home/user/notes")).isEqualTo("mine");
        assertThat(fs.stat("/home/user/notes")).contains("User:  1000");
        assertThat(fs.stat("/tool")).contains("Mode:  04755");
        assertThat(fs.stat("/link")).contains("Fast link dest: \"/tool\"");
        assertThat(fs.stat("/tool2")).contains("Links: 2");
    }

    @Test
    void aBigTreeGetsAFileSystemItFits() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        byte[] mib = new byte[1 << 20];
        new java.util.Random(1).nextBytes(mib);
        for (int i = 0; i < 64; i++) {
            Files.write(tree.resolve("f" + i), mib);
        }
        for (int i = 0; i < 20_000; i++) {
            Files.writeString(tree.resolve("small" + i), "x");
        }
        Path image = tmp.resolve("rootfs.ext4");
        new Ext4Builder().build(tree, image);
        Debugfs fs = new Debugfs(image);
        fs.check();
        assertThat(fs.stat("/f63")).contains("Size: 1048576");
        assertThat(fs.stat("/small19999")).contains("Size: 1");
    }
}
