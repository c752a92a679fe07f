package dev.basalt.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ImageInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Images the tests build themselves with real tools: an OCI layout made with umoci (two layers,
 * the second deleting a file of the first, a config with Env, WorkingDir and User), and copies of
 * it in other formats made with skopeo.
 */
public final class TestImages {
    private TestImages() {
    }

    /**
     * An OCI layout in {@code layout} with the image tagged {@code tag}: busybox as /bin/busybox and
     * /bin/sh, /etc/marker ("{@code marker}"), /etc/second, /home/user (uid 1000), and a config with
     * GREETING=hello, WorkingDir /home/user and User user. Layer 1 also had /etc/doomed; layer 2
     * deletes it (a whiteout).
     */
    public static Path ociLayout(Path layout, String tag, String marker) throws IOException {
        Path bundle = layout.resolveSibling(layout.getFileName() + "-bundle");
        String image = layout + ":" + tag;
        if (!Files.exists(layout.resolve("oci-layout"))) {
            run("umoci", "init", "--layout", layout.toString());
        }
        run("umoci", "new", "--image", image);
        run("umoci", "unpack", "--image", image, bundle.toString());
        Path rootfs = bundle.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createDirectories(rootfs.resolve("home/user"));
        Files.setAttribute(rootfs.resolve("home/user"), "unix:uid", 1000);
        Files.setAttribute(rootfs.resolve("home/user"), "unix:gid", 1000);
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        Files.createSymbolicLink(rootfs.resolve("bin/sh"), Path.of("busybox"));
        Files.writeString(rootfs.resolve("etc/marker"), marker);
        Files.writeString(rootfs.resolve("etc/doomed"), "deleted by layer 2");
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
        run("umoci", "repack", "--image", image, bundle.toString());
        deleteTree(bundle);
        run("umoci", "unpack", "--image", image, bundle.toString());
        Files.delete(bundle.resolve("rootfs/etc/doomed"));
        Files.writeString(bundle.resolve("rootfs/etc/second"), "from layer 2");
        run("umoci", "repack", "--image", image, bundle.toString());
        deleteTree(bundle);
        run("umoci", "config", "--image", image, "--config.env", "GREETING=hello", "--config.workingdir", "/home/user",
                "--config.user", "user", "--config.cmd", "sh");
        return layout;
    }

    /** {@code skopeo copy} from one transport to another ("oci:DIR:TAG", "docker-archive:FILE:NAME", ...). */
    public static void skopeo(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "--insecure-policy"));
        cmd.addAll(List.of(args));
        run(cmd.toArray(String[]::new));
    }

    public static String run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }

    static void deleteTree(Path p) {
        ImageStore.deleteTree(p);
    }

    /** Checks an image stored from {@link #ociLayout}: its exec defaults and its file system. */
    public static void assertImported(ImageService service, ImageInfo info) throws IOException {
        assertThat(info.config().env()).isEqualTo(Map.of("GREETING", "hello"));
        assertThat(info.config().workingDir()).isEqualTo("/home/user");
        assertThat(info.config().user()).isEqualTo("user");
        assertThat(info.config().cmd()).containsExactly("sh");
        Path fs = service.store().root().resolve("images").resolve(info.id()).resolve(ImageStore.ROOTFS);
        Debugfs debugfs = new Debugfs(fs);
        debugfs.check();
        assertThat(debugfs.read("/etc/marker")).isEqualTo("made by the test");
        assertThat(debugfs.read("/etc/second")).isEqualTo("from layer 2");
        assertThat(debugfs.ls("/etc")).doesNotContain("doomed").doesNotContain(".wh.");
        assertThat(debugfs.stat("/home/user")).contains("User:  1000");
        assertThat(debugfs.stat("/bin/sh")).contains("Fast link dest: \"busybox\"");
        assertThat(debugfs.stat("/bin/busybox")).contains("Size: " + Files.size(Path.of("/bin/busybox")));
    }

}
