package dev.basalt.vmm.qemu;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Accel;
import dev.basalt.vmm.LaunchPolicy.Confinement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plans the jail of a confined QEMU (see {@link Confinement}): a uid of its own, and a root file
 * system holding only {@code /usr} (QEMU, its libraries and firmware) and the dynamic loader's
 * cache read-only, the VM's run directory read-write (its sockets and console log), a few device
 * nodes, the descriptor shim, and a {@code /proc} of its own. Everything else it needs — kernel,
 * initramfs, memory and state files — it gets as descriptors the launcher opened.
 *
 * <p>The run directory becomes group-writable for the VM's gid with the sticky bit set: the VMM can
 * create its sockets and log there, but cannot touch the files the host keeps in it.
 */
final class Jailer {
    /** Where a uid candidate is taken from, per uid-lock directory: spreads concurrent launches. */
    private static final Map<Path, AtomicInteger> NEXT = new ConcurrentHashMap<>();
    private static final List<String> DEVICES = List.of("null", "zero", "urandom", "random");
    private static final List<String> ROOT_LINKS = List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");

    private final String qemuBinary;
    private final Accel accel;

    Jailer(String qemuBinary, Accel accel) {
        this.qemuBinary = qemuBinary;
        this.accel = accel;
    }

    /** The next uid to try for a VMM under {@code confinement}. */
    static int candidateUid(Confinement confinement) {
        AtomicInteger next = NEXT.computeIfAbsent(confinement.uidLocks(),
                k -> new AtomicInteger(new java.util.Random().nextInt(confinement.count())));
        return confinement.firstUid() + Math.floorMod(next.getAndIncrement(), confinement.count());
    }

    /** The jail of a VMM in {@code runDir} running as {@code uid}; prepares the directories it needs. */
    Jail plan(QemuRunDir runDir, int uid, Confinement confinement) {
        Path dir = runDir.dir();
        Path root = dir.resolve("jail");
        try {
            Files.createDirectories(confinement.uidLocks());
            Files.setPosixFilePermissions(confinement.uidLocks(), PosixFilePermissions.fromString("rwx------"));
            if (!Files.isDirectory(root)) {
                Files.createDirectory(root);
            }
            Files.setAttribute(dir, "unix:gid", uid);
            Files.setAttribute(dir, "unix:mode", 01770);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot prepare the jail of the VM in " + dir + ": " + e.getMessage(), e);
        }
        List<String> binds = new ArrayList<>();
        List<String> links = new ArrayList<>();
        binds.add("/usr:/usr:ro");
        if (Files.isRegularFile(Path.of("/etc/ld.so.cache"))) {
            binds.add("/etc/ld.so.cache:/etc/ld.so.cache:ro");
        }
        for (String top : ROOT_LINKS) {
            Path p = Path.of(top);
            if (Files.isSymbolicLink(p)) {
                try {
                    links.add(Files.readSymbolicLink(p) + ":" + top);
                } catch (IOException e) {
                    throw new BasaltException.Internal("cannot read the link " + p + ": " + e.getMessage(), e);
                }
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                binds.add(top + ":" + top + ":ro");
            }
        }
        Path qemuDir = Path.of(qemuBinary).toAbsolutePath().getParent();
        if (!qemuDir.startsWith("/usr")) {
            binds.add(qemuDir + ":" + qemuDir + ":ro");
        }
        binds.add(dir + ":" + dir + ":rw");
        Path shim = NativeLauncher.fdShim();
        binds.add(shim + ":" + shim + ":ro");
        List<String> devices = new ArrayList<>(DEVICES);
        if (accel == Accel.KVM) {
            devices.add("kvm");
        }
        return new Jail(root, uid, confinement.uidLocks().resolve(Integer.toString(uid)), binds, devices, links,
                dir.resolve("vmm.pid"), List.of("LD_PRELOAD=" + shim));
    }
}
