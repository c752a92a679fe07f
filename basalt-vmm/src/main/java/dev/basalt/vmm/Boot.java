package dev.basalt.vmm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How a {@link VmConfig}'s guest boots. The backend adds its own kernel parameters (console,
 * panic behaviour, the VM's name as hostname) before {@code cmdlineExtra}.
 *
 * @param kernel       uncompressed kernel (vmlinux with a PVH entry)
 * @param initrd       initramfs, or null
 * @param cmdlineExtra kernel command line added after the backend's own parameters
 * @param acpi         whether the machine has ACPI (kernels without virtio-mmio command-line
 *                     discovery need it to find their devices)
 */
public record Boot(Path kernel, Path initrd, String cmdlineExtra, boolean acpi) {
    public Boot {
        Objects.requireNonNull(kernel, "kernel");
        cmdlineExtra = cmdlineExtra == null ? "" : cmdlineExtra.strip();
    }
}
