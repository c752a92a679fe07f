package dev.basalt.image.debian;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageInfo;
import dev.basalt.image.ImageStore;
import dev.basalt.image.fs.Ext4Builder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds {@link DebianRecipe}s into the {@link ImageStore} with Debian's {@code mmdebstrap}
 * (root, network access to the mirror). The result is stored under its inputs hash, so a recipe
 * is built once; a build that fails or is interrupted leaves nothing (its staging area goes).
 */
public final class DebianBuilder {
    private static final Logger log = LoggerFactory.getLogger(DebianBuilder.class);
    /** A Debian build that has not finished in this time is stopped. */
    static final long TIMEOUT_MINUTES = 30;

    private final ImageStore store;
    private final Ext4Builder ext4;

    public DebianBuilder(ImageStore store, Ext4Builder ext4) {
        this.store = store;
        this.ext4 = ext4;
    }

    /**
     * The image {@code name} made from {@code recipe}: the stored one if the store has an image of
     * that name from the same inputs, else built now (a progress line first: it takes a minute or two).
     */
    public ImageInfo ensure(DebianRecipe recipe, String name, Consumer<String> progress) {
        String id = recipe.inputsHash(mmdebstrapVersion());
        Optional<ImageInfo> named = store.find(name);
        if (named.isPresent() && named.get().id().equals(id)) {
            return named.get();
        }
        if (store.hasContent(id)) {
            return store.tag(id, name);
        }
        return build(recipe, name, id, progress);
    }

    private ImageInfo build(DebianRecipe recipe, String name, String id, Consumer<String> progress) {
        progress.accept("building image " + name + " (Debian " + recipe.suite() + " with mmdebstrap, "
                + recipe.packages().size() + " packages; takes a minute or two, once)...");
        long t0 = System.nanoTime();
        try (ImageStore.Staging staging = store.stage()) {
            Path tree = staging.scratch("rootfs");
            Path logFile = staging.scratch("log").resolve("mmdebstrap.log");
            List<String> cmd = new ArrayList<>(List.of("mmdebstrap", "--quiet", "--mode=root", "--variant=minbase",
                    "--format=directory", "--skip=output/dev"));
            if (!recipe.packages().isEmpty()) {
                cmd.add("--include=" + String.join(",", recipe.packages()));
            }
            for (String c : recipe.commands()) {
                cmd.add("--customize-hook=chroot \"$1\" sh -ec " + shellQuote(c));
            }
            // what a sandbox does not need: documentation, man pages, translations; apt's lists
            for (String exclude : List.of("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*")) {
                cmd.add("--dpkgopt=path-exclude=" + exclude);
            }
            cmd.add("--dpkgopt=path-include=/usr/share/doc/*/copyright");
            cmd.add(recipe.suite());
            cmd.add(tree.toString());
            cmd.addAll(recipe.mirrors());
            run(cmd, logFile);
            clearDev(tree);
            progress.accept("making the file system of " + name + "...");
            long fsBytes = ext4.build(tree, staging.rootfs());
            String source = "debian " + recipe.suite() + " (" + String.join(" ", recipe.packages()) + ")";
            ImageInfo info = staging.commit(name, id, source, recipe.config(), fsBytes);
            log.info("built image {} in {} s", name, (System.nanoTime() - t0) / 1_000_000_000);
            return info;
        } catch (IOException e) {
            throw new BasaltException.Internal("building image " + name + " failed: " + e.getMessage(), e);
        }
    }

    /** The guest's /dev is the kernel's devtmpfs: the nodes mmdebstrap made for its chroot go. */
    private static void clearDev(Path tree) throws IOException {
        Path dev = tree.resolve("dev");
        if (Files.isDirectory(dev)) {
            try (var list = Files.list(dev)) {
                for (Path p : list.toList()) {
                    if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        try (var sub = Files.walk(p)) {
                            for (Path q : sub.sorted(java.util.Comparator.reverseOrder()).toList()) {
                                Files.delete(q);
                            }
                        }
                    } else {
                        Files.delete(p);
                    }
                }
            }
        }
    }

    private static void run(List<String> cmd, Path logFile) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot run mmdebstrap (install Debian's mmdebstrap: apt-get install"
                    + " mmdebstrap): " + e.getMessage(), e);
        }
        try {
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new BasaltException.TimedOut("mmdebstrap did not finish within " + TIMEOUT_MINUTES + " minutes");
            }
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while building a Debian image", e);
        }
        if (p.exitValue() != 0) {
            String out = Files.readString(logFile, StandardCharsets.UTF_8);
            String tail = out.length() > 3000 ? out.substring(out.length() - 3000) : out;
            throw new BasaltException.Unavailable("mmdebstrap failed (exit " + p.exitValue() + "): " + tail.strip());
        }
    }

    /** mmdebstrap's version (part of every recipe's inputs). */
    static String mmdebstrapVersion() {
        try {
            Process p = new ProcessBuilder("mmdebstrap", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? out : "unknown";
        } catch (IOException e) {
            throw new BasaltException.Internal("mmdebstrap not found: install Debian's mmdebstrap (apt-get install"
                    + " mmdebstrap)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
