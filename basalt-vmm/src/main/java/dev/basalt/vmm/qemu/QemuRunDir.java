package dev.basalt.vmm.qemu;

import java.nio.file.Path;

/**
 * The files of one QEMU VM in its run directory: control sockets, device sockets and logs. The
 * backend's own business; the core only knows the directory.
 */
record QemuRunDir(Path dir) {
    /** The QMP control socket. */
    Path qmp() {
        return dir.resolve("qmp.sock");
    }

    /**
     * A second QMP socket, over which a file descriptor can be passed to QEMU (saving state straight
     * into a file). VMs started by Basalt before it existed have none.
     */
    Path fdMonitor() {
        return dir.resolve("qmp-fd.sock");
    }

    /** The unix socket behind the virtio-serial port of device {@code id}. */
    Path port(String id) {
        return dir.resolve(id + ".sock");
    }

    /** The log (a {@link dev.basalt.vmm.LogRing}) of the serial console of device {@code id}. */
    Path console(String id) {
        return dir.resolve(id + ".log");
    }

    /** The unix socket QEMU serves the serial console of device {@code id} on. */
    Path consoleSocket(String id) {
        return dir.resolve(id + ".sock");
    }

    /** QEMU's own stdout/stderr (and the launcher's). */
    Path vmmLog() {
        return dir.resolve("vmm.log");
    }
}
