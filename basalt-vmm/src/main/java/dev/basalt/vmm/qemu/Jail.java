package dev.basalt.vmm.qemu;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where and as whom a confined VMM runs: the launcher's jail options (see basalt-launch.c).
 *
 * @param root     an empty directory that becomes the VMM's root (a tmpfs) in its mount namespace
 * @param uid      the user and group id it runs as
 * @param uidLock  the lock file that marks {@code uid} as taken while the VMM lives
 * @param binds    {@code SRC:DST:ro|rw} binds into the jail
 * @param devices  device nodes of /dev it gets
 * @param symlinks {@code TARGET:LINK} links in the jail
 * @param pidFile  where the launcher writes the VMM's host pid
 * @param env      {@code NAME=VALUE} variables for the VMM
 */
record Jail(Path root, int uid, Path uidLock, List<String> binds, List<String> devices, List<String> symlinks,
            Path pidFile, List<String> env) {
    Jail {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(uidLock, "uidLock");
        Objects.requireNonNull(pidFile, "pidFile");
        binds = List.copyOf(binds);
        devices = List.copyOf(devices);
        symlinks = List.copyOf(symlinks);
        env = List.copyOf(env);
    }

    /** The launcher's options for this jail. */
    List<String> launcherOptions() {
        var o = new java.util.ArrayList<String>();
        o.addAll(List.of("--lock", uidLock.toString(), "--jail", root.toString(), "--pid-file", pidFile.toString()));
        binds.forEach(b -> o.addAll(List.of("--bind", b)));
        devices.forEach(d -> o.addAll(List.of("--dev", d)));
        symlinks.forEach(l -> o.addAll(List.of("--symlink", l)));
        env.forEach(e -> o.addAll(List.of("--env", e)));
        return o;
    }
}
