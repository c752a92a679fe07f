package dev.basalt.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A bootable guest: kernel, initramfs (with the agent as /init) and how to boot them.
 *
 * @param name         image name ("default")
 * @param kernel       uncompressed vmlinux with a PVH entry
 * @param initrd       initramfs
 * @param acpi         boot with ACPI (kernels without virtio-mmio command-line discovery need it)
 * @param cmdlineExtra extra kernel parameters
 * @param id           identity of exactly this kernel + initrd + boot parameters (paths, sizes,
 *                     modification times): saved states only load into VMs booted from the same
 */
public record GuestImage(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra, String id) {
    public GuestImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(id, "id");
        cmdlineExtra = cmdlineExtra == null ? "" : cmdlineExtra;
    }

    /**
     * An image of these files, its identity computed from them now.
     *
     * @throws dev.basalt.api.BasaltException.InvalidArgument if a file is missing or unreadable
     */
    public static GuestImage of(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra) {
        String extra = cmdlineExtra == null ? "" : cmdlineExtra;
        return new GuestImage(name, kernel, initrd, acpi, extra, identity(name, kernel, initrd, acpi, extra));
    }

    private static String identity(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path file : new Path[] {kernel, initrd}) {
                Path real = file.toRealPath();
                sha.update((real + "|" + Files.size(real) + "|" + Files.getLastModifiedTime(real).toMillis() + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            sha.update((acpi + "|" + cmdlineExtra).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (IOException e) {
            throw new dev.basalt.api.BasaltException.InvalidArgument("image '" + name + "' files are unreadable: "
                    + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
