package dev.basalt.core;

import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import dev.basalt.image.ImageStore;
import dev.basalt.image.fs.Ext4Builder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Root file system images for real-VM tests, in an image store shared by the test runs of this
 * machine ({@code basalt.test.store} / {@code BASALT_TEST_STORE}, default
 * {@code $BASALT_HOME/test-store}): images there are kept by the hash of their inputs, so the
 * Debian {@code base} (built with mmdebstrap, ~1.5 min) and the busybox disk image are made once.
 */
public final class DiskImages {
    /** A disk image of busybox: small and quick, for the disk mechanics. */
    public static final String BUSYBOX = "test/busybox-disk";

    private DiskImages() {
    }

    public static Path sharedStore() {
        return dev.basalt.image.TestStores.shared();
    }

    /**
     * {@link #BUSYBOX} in {@code store}, made if missing: busybox with its applets, /etc/marker,
     * a user {@code user} (uid 1000, home /home/user), and a config with GREETING=hello.
     */
    public static ImageInfo busybox(ImageStore store) {
        try {
            byte[] busybox = Files.readAllBytes(Path.of("/bin/busybox"));
            String id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(busybox), 0, 12) + "b00b1e01";
            if (store.hasContent(id)) {
                return store.tag(id, BUSYBOX);
            }
            try (ImageStore.Staging staging = store.stage()) {
                Path tree = staging.scratch("rootfs");
                for (String d : List.of("bin", "etc", "root", "tmp", "home/user", "proc", "sys", "dev", "run")) {
                    Files.createDirectories(tree.resolve(d));
                }
                Files.setAttribute(tree.resolve("tmp"), "unix:mode", 01777);
                Files.setAttribute(tree.resolve("home/user"), "unix:uid", 1000);
                Files.setAttribute(tree.resolve("home/user"), "unix:gid", 1000);
                Files.write(tree.resolve("bin/busybox"), busybox);
                Files.setAttribute(tree.resolve("bin/busybox"), "unix:mode", 0755);
                Process list = new ProcessBuilder("/bin/busybox", "--list").start();
                for (String applet : new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (!applet.isBlank() && !applet.equals("busybox")) {
                        Files.createSymbolicLink(tree.resolve("bin").resolve(applet.strip()), Path.of("busybox"));
                    }
                }
                Files.writeString(tree.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                        + "user:x:1000:1000::/home/user:/bin/sh\n");
                Files.writeString(tree.resolve("etc/group"), "root:x:0:\nuser:x:1000:\n");
                Files.writeString(tree.resolve("etc/marker"), "from the image\n");
                long fs = new Ext4Builder().build(tree, staging.rootfs());
                return staging.commit(BUSYBOX, id, "test: busybox on a disk",
                        new ImageConfig(Map.of("GREETING", "hello"), "", "", List.of(), List.of("sh")), fs);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
