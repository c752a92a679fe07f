package dev.basalt.core;

import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.Machine;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A bootable guest: kernel, initramfs (with the agent as /init) and how to boot them, and for an
 * image of the image store its root file system, which the VM gets as a copy-on-write disk.
 *
 * @param name         image name ("default", or a store image's name)
 * @param kernel       uncompressed vmlinux with a PVH entry
 * @param initrd       initramfs
 * @param acpi         boot with ACPI (kernels without virtio-mmio command-line discovery need it)
 * @param cmdlineExtra extra kernel parameters
 * @param id           identity of exactly this kernel + initrd + boot parameters (paths, sizes,
 *                     modification times): saved states only load into VMs booted from the same
 * @param root         the root file system on a disk, or null for the initramfs's own
 */
public record GuestImage(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra, String id,
                         RootImage root) {
    /** The kernel command-line word that makes the agent switch into the root disk (the VM's first disk). */
    static final String ROOT_WORD = "basalt.root=/dev/vda";

    /**
     * A root file system from the image store.
     *
     * @param id      the store's content id (a disk's base identity)
     * @param rootfs  the store's file of it (raw ext4), which sandboxes link
     * @param fsBytes the file system's size: the least a disk for it may have
     * @param config  defaults for commands run in it
     */
    public record RootImage(String id, Path rootfs, long fsBytes, dev.basalt.api.ImageConfig config) {
        public RootImage {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(rootfs, "rootfs");
            Objects.requireNonNull(config, "config");
        }
    }

    public GuestImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(id, "id");
        cmdlineExtra = cmdlineExtra == null ? "" : cmdlineExtra;
    }

    /** The same boot files, named {@code name}, with its root file system on a disk. */
    public GuestImage withRoot(String imageName, RootImage rootImage) {
        String extra = (cmdlineExtra + " " + ROOT_WORD).strip();
        return new GuestImage(imageName, kernel, initrd, acpi, extra, identity(imageName, kernel, initrd, acpi, extra),
                rootImage);
    }

    /**
     * An image of these files, its identity computed from them now.
     *
     * @throws dev.basalt.api.BasaltException.InvalidArgument if a file is missing or unreadable
     */
    public static GuestImage of(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra) {
        String extra = cmdlineExtra == null ? "" : cmdlineExtra;
        return new GuestImage(name, kernel, initrd, acpi, extra, identity(name, kernel, initrd, acpi, extra), null);
    }

    /** How this image boots. */
    public Boot boot() {
        return new Boot(kernel, initrd, cmdlineExtra, acpi);
    }

    /**
     * The config of a VM of this image with the spec's size: the one place a {@link VmConfig} is
     * made from an image. Every other VM (a template's clone, a restored or forked one, one
     * reattached after a restart) reuses a config made here, with its own name and memory.
     */
    public VmConfig vmConfig(String vmName, SandboxSpec spec, MemoryBacking memory) {
        List<Device> devices = new ArrayList<>(VmConfig.standardDevices());
        if (root != null) {
            // the chain the sandbox's disk starts from: the store's file, linked by Disks.attach
            devices.add(new Device.Disk(Disks.ROOT, root.id(), List.of(root.rootfs()), null, diskBytes(spec)));
        }
        VmConfig config = new VmConfig(vmName, new Machine(spec.vcpus(), spec.memoryMib(), memory), boot(), devices);
        return spec.network().mode().hasNic() ? SandboxNetwork.withNic(config) : config;
    }

    /** The root disk's size for {@code spec}: what it asks for, else {@link SandboxSpec#DEFAULT_DISK_MIB}. */
    public long diskBytes(SandboxSpec spec) {
        return (spec.diskMib() > 0 ? spec.diskMib() : SandboxSpec.DEFAULT_DISK_MIB) * (1L << 20);
    }

    /**
     * The identity of the files a {@link Boot} names, as of now (paths, sizes, modification times):
     * a saved state loads only into a VM booted from the same.
     *
     * @throws dev.basalt.api.BasaltException.InvalidArgument if a file is missing or unreadable
     */
    public static String identity(String name, Boot boot) {
        return identity(name, boot.kernel(), boot.initrd(), boot.acpi(), boot.cmdlineExtra());
    }

    private static String identity(String name, Path kernel, Path initrd, boolean acpi, String cmdlineExtra) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path file : new Path[] {kernel, initrd}) {
                if (file == null) {
                    continue;
                }
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
