package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.VmHandle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of copy-on-write disks ({@link Device.Disk}). Every holder of a disk — a sandbox, a
 * template, a snapshot — has a directory of its own holding <em>hard links</em> to every layer of
 * its chain, named by position ({@code layer-0.raw}, {@code layer-1.qcow2}, …) and, for a running
 * VM, its writable {@code top-N.qcow2} (N = layers below it). A qcow2 file's header names its
 * backing file by that relative name, which means the same in every holder's directory, so each
 * directory is a self-contained chain; the VMM itself is given the chain node by node and never
 * follows those names. Deleting a holder's directory removes its links only: a layer lives as long
 * as any holder links it, so deleting a snapshot, a template or an image never breaks a sandbox.
 *
 * <p>Layers are never written once they are in a chain (mode 0444). A clone never copies one: it
 * gets an empty top (a copy of its template's prototype top, ~200 KB, or a fresh one from
 * {@code qemu-img create}).
 */
final class Disks {
    private static final Logger log = LoggerFactory.getLogger(Disks.class);
    /** The device id of a sandbox's root disk. */
    static final String ROOT = "root";
    /** A template's empty top that its clones copy. */
    static final String PROTOTYPE = "clone-top.qcow2";

    /** A template's disk directory younger than this is never reaped (it may be being published). */
    private static final java.time.Duration TEMPLATE_GRACE = java.time.Duration.ofMinutes(10);

    private final Path root;
    private final Path sandboxes;
    private final Path templates;

    Disks(Path root) {
        this.root = root.toAbsolutePath();
        this.sandboxes = root.resolve("sandboxes");
        this.templates = root.resolve("templates");
        try {
            Files.createDirectories(sandboxes);
            Files.createDirectories(templates);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create the disk directory " + root + ": " + e.getMessage(), e);
        }
    }

    /** Where all the disk files are. */
    Path root() {
        return root;
    }

    /** The directory of sandbox {@code id}'s disk files. */
    Path sandboxDir(String id) {
        return sandboxes.resolve(id);
    }

    /** The directory of template {@code name}'s disk layers. */
    Path templateDir(String name) {
        return templates.resolve(name);
    }

    static String layerName(int index, Path file) {
        return "layer-" + index + (index == 0 && !file.getFileName().toString().endsWith(".qcow2") ? ".raw" : ".qcow2");
    }

    static String topName(int layersBelow) {
        return "top-" + layersBelow + ".qcow2";
    }

    /**
     * Gives the VM of sandbox {@code id} its own disk: the disk of {@code config}, a chain without a
     * top (handed over by an image, template, snapshot or parent), is linked into the sandbox's
     * directory and gets an empty top there: a copy of the template's prototype when the chain is a
     * template's (a ~200 KB copy), else one made with qemu-img. Returns the config naming the
     * sandbox's files. A config without disks is returned as it is.
     */
    VmConfig attach(String id, VmConfig config) {
        List<Device.Disk> disks = config.devices(Device.Disk.class);
        if (disks.isEmpty()) {
            return config;
        }
        if (disks.size() > 1) {
            throw new BasaltException.InvalidArgument("a VM has one disk (its root) at most; got " + disks.size());
        }
        Path dir = sandboxDir(id);
        VmConfig out = config;
        try {
            Files.createDirectories(dir);
            for (Device.Disk disk : disks) {
                if (disk.top() != null) {
                    throw new IllegalArgumentException("disk " + disk.id() + " already has a top");
                }
                Path prototype = disk.layers().isEmpty() ? null : disk.layers().getLast().resolveSibling(PROTOTYPE);
                if (prototype != null && !Files.isRegularFile(prototype)) {
                    prototype = null;
                }
                Device.Disk linked = link(disk, dir);
                Path top = dir.resolve(topName(linked.layers().size()));
                if (prototype != null) {
                    Files.copy(prototype, top, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    createTop(linked, top);
                }
                out = out.withDevice(linked.withTop(top));
            }
            return out;
        } catch (IOException | RuntimeException e) {
            RunRoot.deleteTree(dir);
            throw e instanceof BasaltException b ? b
                    : new BasaltException.Internal("cannot make the disk of sandbox " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Freezes the disks of a paused VM, whose config is {@code current}, at this instant (see
     * {@link VmHandle#freezeDisk}): each top
     * becomes the chain's last layer, linked as {@code layer-N} in the holder's directory, and the
     * VM writes a new, empty top from now on. Returns the VM's new config.
     */
    VmConfig freeze(VmHandle vm, VmConfig current, Path dir) {
        VmConfig config = current;
        for (Device.Disk disk : current.devices(Device.Disk.class)) {
            int n = disk.layers().size();
            Path frozen = dir.resolve(layerName(n, disk.top()));
            Path newTop = dir.resolve(topName(n + 1));
            try {
                Files.createLink(frozen, disk.top());
                Device.Disk next = disk.frozen();
                next = new Device.Disk(next.id(), next.base(), replaceLast(next.layers(), frozen), null, next.sizeBytes());
                createTop(next, newTop);
                vm.freezeDisk(next.withTop(newTop));
                // the VMM keeps the old top open; its chain now names the layer's link
                Files.delete(disk.top());
                readOnly(frozen);
                config = config.withDevice(next.withTop(newTop));
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot freeze disk " + disk.id() + " of " + config.name() + ": "
                        + e.getMessage(), e);
            }
        }
        return config;
    }

    /**
     * Links the chains of {@code config}'s disks, without their tops, into {@code dir} (a snapshot's):
     * the config a restore starts from, naming only {@code dir}'s files.
     */
    static VmConfig keep(VmConfig config, Path dir) {
        VmConfig out = config;
        try {
            for (Device.Disk disk : config.devices(Device.Disk.class)) {
                Files.createDirectories(dir);
                out = out.withDevice(link(disk.withTop(null), dir));
            }
            return out;
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot keep the disk layers in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Turns the disk of a template's builder VM (stopped for good, its state saved) into the
     * template's: its directory becomes the template's, its top the last layer, and an empty
     * prototype top is made for the clones. Returns the template's frozen chain.
     */
    Device.Disk publishTemplate(String builderId, String templateName, Device.Disk disk) throws IOException {
        Path from = sandboxDir(builderId);
        Path to = templateDir(templateName);
        RunRoot.deleteTree(to);     // a leftover of a template that was evicted or failed
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        Device.Disk moved = disk.relocated(p -> to.resolve(p.getFileName()));
        int n = moved.layers().size();
        Path layer = to.resolve(layerName(n, moved.top()));
        Files.move(moved.top(), layer, StandardCopyOption.ATOMIC_MOVE);
        readOnly(layer);
        Device.Disk chain = new Device.Disk(moved.id(), moved.base(), append(moved.layers(), layer), null, moved.sizeBytes());
        createTop(chain, to.resolve(PROTOTYPE));
        return chain;
    }

    /** A template's frozen chain for {@code shape} (its layers, by position, in {@code dir}; no top). */
    static Device.Disk templateChain(Path dir, Device.Disk shape) {
        List<Path> layers = new ArrayList<>();
        for (int i = 0; ; i++) {
            Path raw = dir.resolve("layer-" + i + ".raw");
            Path qcow2 = dir.resolve("layer-" + i + ".qcow2");
            if (Files.exists(raw, LinkOption.NOFOLLOW_LINKS)) {
                layers.add(raw);
            } else if (Files.exists(qcow2, LinkOption.NOFOLLOW_LINKS)) {
                layers.add(qcow2);
            } else {
                break;
            }
        }
        return new Device.Disk(shape.id(), shape.base(), layers, null, shape.sizeBytes());
    }

    /** Whether a template's disk files are complete (its prototype top is written last). */
    boolean templateReady(String name) {
        return Files.isRegularFile(templateDir(name).resolve(PROTOTYPE));
    }

    /** Deletes sandbox {@code id}'s disk files (its links; layers others link stay). */
    void delete(String id) {
        RunRoot.deleteTree(sandboxDir(id));
    }

    void deleteTemplate(String name) {
        RunRoot.deleteTree(templateDir(name));
    }

    /**
     * Deletes the disk directories no live sandbox or template owns any more (what a manager killed
     * with SIGKILL left): a sandbox's when {@code sandboxAlive} says no, a template's when
     * {@code templateAlive} says no.
     */
    void reap(Predicate<String> sandboxAlive, Predicate<String> templateAlive) {
        reapIn(sandboxes, sandboxAlive);
        reapIn(templates, name -> templateAlive.test(name) || young(templates.resolve(name)));
    }

    private static boolean young(Path dir) {
        try {
            return Files.getLastModifiedTime(dir).toInstant().isAfter(java.time.Instant.now().minus(TEMPLATE_GRACE));
        } catch (IOException e) {
            return false;
        }
    }

    private static void reapIn(Path dir, Predicate<String> alive) {
        try (var list = Files.list(dir)) {
            for (Path p : list.toList()) {
                String name = p.getFileName().toString();
                if (!alive.test(name)) {
                    log.info("deleting the disk files of {}, which is gone", name);
                    RunRoot.deleteTree(p);
                }
            }
        } catch (IOException e) {
            log.debug("cannot list {}: {}", dir, e.getMessage());
        }
    }

    /** {@code disk}'s layers hard-linked into {@code dir} by position (an existing link is kept). */
    private static Device.Disk link(Device.Disk disk, Path dir) throws IOException {
        List<Path> linked = new ArrayList<>();
        for (int i = 0; i < disk.layers().size(); i++) {
            Path source = disk.layers().get(i);
            Path target = dir.resolve(layerName(i, source));
            if (!source.equals(target) && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createLink(target, source);
                } catch (FileSystemException e) {
                    if (e.getReason() == null || !e.getReason().contains("cross-device")) {
                        throw e;
                    }
                    // another file system (an image store elsewhere): a sparse copy, once per holder
                    log.warn("{} is on another file system than {}: copying it (keep the image store and the"
                            + " state directory on one file system to avoid this)", source, dir);
                    run(List.of("cp", "--sparse=always", "--reflink=auto", source.toString(), target.toString()));
                    readOnly(target);
                }
            }
            linked.add(target);
        }
        return new Device.Disk(disk.id(), disk.base(), linked, null, disk.sizeBytes());
    }

    /** An empty qcow2 file of the disk's size on its last layer (named relatively: see the class comment). */
    private static void createTop(Device.Disk chain, Path top) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        if (!chain.layers().isEmpty()) {
            Path below = chain.layers().getLast();
            cmd.addAll(List.of("-F", below.getFileName().toString().endsWith(".qcow2") ? "qcow2" : "raw",
                    "-b", below.getFileName().toString(), "-u"));
        }
        cmd.addAll(List.of(top.toString(), Long.toString(chain.sizeBytes())));
        run(cmd);
    }

    private static void run(List<String> cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot run " + cmd.getFirst() + " (install Debian's qemu-utils): "
                    + e.getMessage(), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    private static void readOnly(Path file) throws IOException {
        Files.setAttribute(file, "unix:mode", 0444);
    }

    private static List<Path> append(List<Path> list, Path last) {
        List<Path> out = new ArrayList<>(list);
        out.add(last);
        return out;
    }

    private static List<Path> replaceLast(List<Path> list, Path last) {
        List<Path> out = new ArrayList<>(list);
        out.set(out.size() - 1, last);
        return out;
    }
}
