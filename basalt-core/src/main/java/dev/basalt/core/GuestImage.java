package dev.basalt.core;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A bootable guest: kernel, initramfs (with the agent as /init) and how to boot them.
 *
 * @param name         image name ("default")
 * @param kernel       uncompressed vmlinux with a PVH entry
 * @param initrd       initramfs
 * @param acpi         boot with ACPI (kernels without virtio-mmio command-line discovery need it)
 * @param cmdlineExtra extra kernel parameters
 */
public record GuestImage(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra) {
    public GuestImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        cmdlineExtra = cmdlineExtra == null ? "" : cmdlineExtra;
    }
}
