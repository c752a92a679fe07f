package dev.basalt.vmm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How a VMM process starts, apart from what it runs: whether it dies with the launching process,
 * its CPU priority, the descriptors it inherits, and the confinement it starts in (user, cgroups,
 * network namespace). A backend adds the descriptors its devices and an incoming state need
 * ({@link #withFiles}); everything is applied by a small launcher program before the VMM's own
 * code runs (no shell).
 *
 * @param dieWithParent     SIGKILL the VMM when the launching process dies (embedded use); false for
 *                          a daemon whose VMs outlive it
 * @param background        start at the lowest CPU priority ({@code SCHED_IDLE}): a VM prepared for a
 *                          pool, raised by {@link VmHandle#toForeground()} when it is handed out
 * @param files             descriptors the VMM inherits, opened by the launcher before anything else
 * @param runAs             the user and group the VMM runs as, or null to keep the launcher's
 * @param cgroups           cgroup directories the VMM joins (one per cgroup v1 hierarchy, or one v2 dir)
 * @param networkNamespace  a network namespace the VMM joins (e.g. {@code /run/netns/NAME}), or null
 * @param confinement       confine the VMM (a uid of its own, new namespaces, a file system holding only
 *                          what it needs), or null to start it as the launching user in the host's view
 * @param seccomp           turn on the VMM's own system-call filter (for QEMU, {@code -sandbox}); it
 *                          forbids helper processes, so only VMs that never need one may run without
 */
public record LaunchPolicy(boolean dieWithParent, boolean background, List<InheritedFile> files,
                           Credentials runAs, List<Path> cgroups, Path networkNamespace, Confinement confinement,
                           boolean seccomp) {

    /**
     * How a VMM is confined: it runs as a user and group of its own, taken from
     * {@code firstUid .. firstUid + count - 1} (a uid is in use while the VMM holding the lock file
     * {@code <uidLocks>/<uid>} lives, whichever process started it), in new mount, pid, ipc and uts
     * namespaces whose file system holds only what the backend says the VMM needs, with no
     * capabilities and {@code no_new_privs}. Needs root.
     */
    public record Confinement(Path uidLocks, int firstUid, int count) {
        public Confinement {
            Objects.requireNonNull(uidLocks, "uidLocks");
            if (firstUid < 1000 || count < 1 || (long) firstUid + count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("confinement uids must be a range above 999, got " + firstUid
                        + " + " + count);
            }
        }

        /** The default range: 2^24 uids from 1,500,000,000, far from any real account; locks in {@code dir}. */
        public static Confinement defaults(Path dir) {
            return new Confinement(dir, 1_500_000_000, 1 << 24);
        }
    }

    /** A user and group id (supplementary groups are dropped, and so are capabilities). */
    public record Credentials(int uid, int gid) {
        public Credentials {
            if (uid < 0 || gid < 0) {
                throw new IllegalArgumentException("uid and gid must be >= 0");
            }
        }
    }

    public LaunchPolicy {
        files = List.copyOf(files);
        cgroups = List.copyOf(cgroups);
        Set<Integer> fds = new HashSet<>();
        for (InheritedFile f : files) {
            if (!fds.add(f.fd())) {
                throw new IllegalArgumentException("descriptor " + f.fd() + " is inherited twice");
            }
        }
    }

    /** A VM that dies with this process (embedded managers). */
    public static LaunchPolicy diesWithParent() {
        return new LaunchPolicy(true, false, List.of(), null, List.of(), null, null, true);
    }

    /** A VM that outlives this process (a daemon's, reattached after a restart). */
    public static LaunchPolicy outlivesParent() {
        return new LaunchPolicy(false, false, List.of(), null, List.of(), null, null, true);
    }

    public LaunchPolicy inBackground(boolean background) {
        return new LaunchPolicy(dieWithParent, background, files, runAs, cgroups, networkNamespace, confinement, seccomp);
    }

    /** This policy with {@code more} descriptors added. */
    public LaunchPolicy withFiles(List<InheritedFile> more) {
        List<InheritedFile> all = new ArrayList<>(files);
        all.addAll(more);
        return new LaunchPolicy(dieWithParent, background, all, runAs, cgroups, networkNamespace, confinement, seccomp);
    }

    public LaunchPolicy withRunAs(Credentials runAs) {
        return new LaunchPolicy(dieWithParent, background, files, runAs, cgroups, networkNamespace, confinement, seccomp);
    }

    public LaunchPolicy withCgroups(List<Path> cgroups) {
        return new LaunchPolicy(dieWithParent, background, files, runAs, cgroups, networkNamespace, confinement, seccomp);
    }

    public LaunchPolicy confined(Confinement confinement) {
        return new LaunchPolicy(dieWithParent, background, files, runAs, cgroups, networkNamespace, confinement, seccomp);
    }

    public LaunchPolicy withSeccomp(boolean on) {
        return new LaunchPolicy(dieWithParent, background, files, runAs, cgroups, networkNamespace, confinement, on);
    }

    public LaunchPolicy withNetworkNamespace(Path networkNamespace) {
        return new LaunchPolicy(dieWithParent, background, files, runAs, cgroups, networkNamespace, confinement, seccomp);
    }

    /**
     * A file the VMM inherits open as descriptor {@code fd}.
     *
     * @param fd     the descriptor number in the VMM, 3 or more
     * @param path   the file
     * @param access how it is opened ({@link Access#WRITE} creates it 0600 and truncates it)
     */
    public record InheritedFile(int fd, Path path, Access access) {
        /**
         * Read-only; write-only (created 0600, truncated); read-write; read-write, created 0600 if
         * missing; {@code TAP}: {@code path} names a TAP device in the VMM's network namespace, which
         * the launcher attaches through {@code /dev/net/tun} once it has joined that namespace (no
         * packet information, virtio-net headers on), so that the VMM needs neither the device node
         * nor any privilege.
         */
        public enum Access { READ, WRITE, READ_WRITE, CREATE_READ_WRITE, TAP }

        public InheritedFile {
            if (fd < 3) {
                throw new IllegalArgumentException("inherited descriptors start at 3, got " + fd);
            }
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(access, "access");
        }
    }
}
