package dev.basalt.vmm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything a hypervisor needs to boot one VM.
 *
 * @param name          short unique name (used for the process title and logs)
 * @param kernel        uncompressed kernel (vmlinux with a PVH entry)
 * @param initrd        initramfs, or null
 * @param cmdlineExtra  kernel command line added after Basalt's own parameters
 * @param vcpus         virtual CPUs
 * @param memoryMib     guest memory
 * @param acpi          whether the machine has ACPI (kernels without virtio-mmio cmdline
 *                      discovery need it to find their devices)
 * @param runDir        an existing, private directory for the VM's sockets and logs
 * @param dieWithParent kill the VM when the launching process dies (embedded use); false for a
 *                      daemon that reattaches after a restart
 * @param memory        where the guest RAM lives
 * @param incoming      the saved state this VM starts paused for, instead of booting: QEMU waits for it
 *                      ({@code -incoming defer}) and inherits the file open, so loading it needs no
 *                      helper process; null to boot
 * @param background    start at a low CPU priority: a VM prepared for a pool, raised by
 *                      {@link VmHandle#toForeground()} when the pool hands it out
 */
public record VmSpec(String name, Path kernel, Path initrd, String cmdlineExtra, int vcpus, int memoryMib,
                     boolean acpi, Path runDir, boolean dieWithParent, MemoryBacking memory, Path incoming,
                     boolean background) {
    public VmSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(runDir, "runDir");
        Objects.requireNonNull(memory, "memory");
        cmdlineExtra = cmdlineExtra == null ? "" : cmdlineExtra.strip();
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be >= 1");
        }
        if (memoryMib < 16) {
            throw new IllegalArgumentException("memoryMib must be >= 16");
        }
    }

    /** A VM that boots from scratch in anonymous memory. */
    public VmSpec(String name, Path kernel, Path initrd, String cmdlineExtra, int vcpus, int memoryMib,
                  boolean acpi, Path runDir, boolean dieWithParent) {
        this(name, kernel, initrd, cmdlineExtra, vcpus, memoryMib, acpi, runDir, dieWithParent,
                new MemoryBacking.Anonymous(), null, false);
    }

    /** The unix socket the guest agent's virtio-serial port is connected to. */
    public Path agentSocket() {
        return runDir.resolve("agent.sock");
    }

    /** The QMP control socket. */
    public Path qmpSocket() {
        return runDir.resolve("qmp.sock");
    }

    /**
     * A second QMP socket, over which a file descriptor can be passed to QEMU (saving state straight
     * into a file). VMs started by Basalt before it existed have none.
     */
    public Path fdMonitorSocket() {
        return runDir.resolve("qmp-fd.sock");
    }

    /** The serial console log (kernel and init messages). */
    public Path consoleLog() {
        return runDir.resolve("console.log");
    }

    /** QEMU's own stdout/stderr. */
    public Path vmmLog() {
        return runDir.resolve("vmm.log");
    }
}
