package dev.basalt.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What to create. Start from {@link #defaults()} and use the {@code with*} methods.
 *
 * @param image        name of a guest image known to the manager ("default" is built by the project)
 * @param kernel       optional kernel (an uncompressed vmlinux with a PVH entry) overriding the image's
 * @param initrd       optional initramfs overriding the image's; must contain the Basalt agent as /init
 * @param vcpus        number of virtual CPUs, 1..64 (and at most the manager's limit)
 * @param memoryMib    guest memory in MiB, 64..65536 (and at most what the host can give)
 * @param labels       free-form key/value labels, keys {@code [a-zA-Z0-9._/-]{1,63}}, values up to 255 chars
 * @param bootTimeout  how long to wait for the guest agent before the sandbox is FAILED
 * @param coldBoot     boot the kernel from scratch instead of cloning the image's template (slower;
 *                     always the case with a kernel or initrd override)
 * @param ttl          remove the sandbox this long after it was created; null for no limit
 * @param network      its network: {@link NetworkPolicy#none()} (the default: no NIC), open, allow-listed,
 *                     or proxied (see {@link NetworkMode})
 * @param diskMib      size of the root disk in MiB for an image of the image store (its file system is
 *                     grown to it; sparse on the host); 0 for the default ({@value #DEFAULT_DISK_MIB}).
 *                     Images whose root is in RAM (the busybox {@code default}) take no disk.
 */
public record SandboxSpec(String image, Path kernel, Path initrd, int vcpus, int memoryMib,
                          Map<String, String> labels, Duration bootTimeout, boolean coldBoot, Duration ttl,
                          NetworkPolicy network, int diskMib) {

    public static final int MIN_MEMORY_MIB = 64;
    public static final int MAX_MEMORY_MIB = 65536;
    public static final int MAX_VCPUS = 64;
    public static final Duration MAX_TTL = Duration.ofDays(365);
    private static final Pattern LABEL_KEY = Pattern.compile("[a-zA-Z0-9._/-]{1,63}");
    /** The root disk's size when the spec says none. */
    public static final int DEFAULT_DISK_MIB = 4096;
    /** The largest root disk (1 TiB; sparse on the host, so only what the guest writes takes room). */
    public static final int MAX_DISK_MIB = 1 << 20;

    public SandboxSpec {
        Objects.requireNonNull(image, "image");
        ImageInfo.requireValidName(image);
        if (diskMib < 0 || diskMib > MAX_DISK_MIB) {
            throw new BasaltException.InvalidArgument("disk size must be between 1 and " + MAX_DISK_MIB
                    + " MiB (0: the default), got " + diskMib + " MiB");
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new BasaltException.InvalidArgument("vcpus must be between 1 and " + MAX_VCPUS + ", got " + vcpus);
        }
        if (memoryMib < MIN_MEMORY_MIB || memoryMib > MAX_MEMORY_MIB) {
            throw new BasaltException.InvalidArgument("memory must be between " + MIN_MEMORY_MIB + " and "
                    + MAX_MEMORY_MIB + " MiB, got " + memoryMib + " MiB");
        }
        labels = Map.copyOf(Objects.requireNonNull(labels, "labels"));
        labels.forEach((k, v) -> {
            if (!LABEL_KEY.matcher(k).matches()) {
                throw new BasaltException.InvalidArgument("label key '" + k + "' is invalid: use 1-63 of [a-zA-Z0-9._/-]");
            }
            if (v.length() > 255) {
                throw new BasaltException.InvalidArgument("label '" + k + "' value is longer than 255 characters");
            }
        });
        Objects.requireNonNull(bootTimeout, "bootTimeout");
        if (bootTimeout.isNegative() || bootTimeout.isZero()) {
            throw new BasaltException.InvalidArgument("boot timeout must be positive, got " + bootTimeout);
        }
        if (ttl != null && (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0)) {
            throw new BasaltException.InvalidArgument("ttl must be between 1 ms and " + MAX_TTL.toDays() + " days, got " + ttl);
        }
        network = network == null ? NetworkPolicy.none() : network;
    }

    /** A spec without a network (as before networking existed). */
    public SandboxSpec(String image, Path kernel, Path initrd, int vcpus, int memoryMib, Map<String, String> labels,
                       Duration bootTimeout, boolean coldBoot, Duration ttl) {
        this(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, NetworkPolicy.none(), 0);
    }

    /** A spec with the default root disk (as before disks existed). */
    public SandboxSpec(String image, Path kernel, Path initrd, int vcpus, int memoryMib, Map<String, String> labels,
                       Duration bootTimeout, boolean coldBoot, Duration ttl, NetworkPolicy network) {
        this(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, 0);
    }

    /** The default image, 1 vCPU, 256 MiB, no labels, 60 s boot timeout. */
    public static SandboxSpec defaults() {
        return new SandboxSpec("default", null, null, 1, 256, Map.of(), Duration.ofSeconds(60), false, null);
    }

    public SandboxSpec withImage(String image) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withKernel(Path kernel) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withInitrd(Path initrd) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withVcpus(int vcpus) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withMemoryMib(int memoryMib) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withLabels(Map<String, String> labels) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withColdBoot(boolean coldBoot) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    /** The root disk's size in MiB (images of the image store); 0 for the default. */
    public SandboxSpec withDiskMib(int diskMib) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    public SandboxSpec withTtl(Duration ttl) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    /** This spec with a network policy (see {@link NetworkPolicy}); null means none. */
    public SandboxSpec withNetwork(NetworkPolicy network) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }

    /** True if this spec can be served by cloning the image's template. */
    public boolean usesTemplate() {
        return !coldBoot && kernel == null && initrd == null;
    }

    public SandboxSpec withBootTimeout(Duration bootTimeout) {
        return new SandboxSpec(image, kernel, initrd, vcpus, memoryMib, labels, bootTimeout, coldBoot, ttl, network, diskMib);
    }
}
