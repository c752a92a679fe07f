package dev.basalt.core;

import dev.basalt.vmm.LaunchPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How a manager contains the VMs it starts (see docs/SECURITY.md).
 *
 * @param confinement     each VMM runs as a uid of its own in new namespaces with only the files it
 *                        needs ({@link LaunchPolicy.Confinement}); null to start VMMs as this process's
 *                        user (the default when not root, which cannot confine)
 * @param cgroups         each sandbox gets cgroups capping its memory, processes, CPU and I/O weight
 *                        ({@link SandboxCgroups}); ignored where the host has no usable controllers
 * @param seccomp         each VMM filters its own system calls (QEMU's {@code -sandbox}: no fork/exec,
 *                        no privilege or scheduling changes); works for every user
 * @param allowedBootDirs directories a spec's own kernel and initramfs may come from; empty allows any
 *                        file this process can read (embedded use; basaltd allows only its images)
 */
public record Containment(LaunchPolicy.Confinement confinement, boolean cgroups, boolean seccomp,
                          List<Path> allowedBootDirs) {
    /** Where confined VMMs' uid locks live: one host-wide directory, so every manager sees every uid. */
    public static final Path UID_LOCKS = Path.of("/run/basalt/uids");

    public Containment {
        allowedBootDirs = List.copyOf(allowedBootDirs).stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    /** Everything this process can do: seccomp always, confinement and cgroups as root; any boot file. */
    public static Containment defaults() {
        boolean root = "root".equals(System.getProperty("user.name")) && Files.isDirectory(Path.of("/run"));
        return new Containment(root ? LaunchPolicy.Confinement.defaults(UID_LOCKS) : null, root, true, List.of());
    }

    /** No containment: VMMs run as this process's user, in its namespaces, unfiltered, with no cgroups. */
    public static Containment none() {
        return new Containment(null, false, false, List.of());
    }

    /**
     * Checks that a spec's own kernel or initramfs ({@code file}) lies in an allowed directory, its
     * links followed (a link in an allowed directory to a file elsewhere is refused).
     *
     * @throws dev.basalt.api.BasaltException.PermissionDenied if it does not
     */
    public void checkBootFile(Path file, String what) {
        if (file == null || allowedBootDirs.isEmpty()) {
            return;
        }
        Path real;
        try {
            real = file.toRealPath();
        } catch (java.io.IOException e) {
            throw new dev.basalt.api.BasaltException.InvalidArgument(what + " file " + file + " cannot be read: "
                    + e.getMessage(), e);
        }
        for (Path dir : allowedBootDirs) {
            try {
                if (real.startsWith(dir.toRealPath())) {
                    return;
                }
            } catch (java.io.IOException e) {
                // an allowed directory that does not exist allows nothing
            }
        }
        throw new dev.basalt.api.BasaltException.PermissionDenied(what + " file " + file + " is outside the directories "
                + "this Basalt boots files from (" + allowedBootDirs + "): put it there, or start basaltd with "
                + "--allow-boot-dir for its directory");
    }

    public Containment withAllowedBootDirs(List<Path> dirs) {
        return new Containment(confinement, cgroups, seccomp, dirs);
    }
}
