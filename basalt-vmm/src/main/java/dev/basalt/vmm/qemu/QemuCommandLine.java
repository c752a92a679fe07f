package dev.basalt.vmm.qemu;

import dev.basalt.vmm.Accel;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.LaunchPolicy.InheritedFile;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the QEMU command line for one {@link VmConfig}: {@code -M microvm}, no firmware, no PCI,
 * virtio-mmio devices (one case per {@link Device} type), QMP on two sockets, all in the VM's run
 * directory. Boot flags are tuned for speed (see docs/ARCHITECTURE.md, "Boot flags").
 */
final class QemuCommandLine {
    /** Name of the virtio-serial port the guest agent opens. */
    static final String AGENT_PORT_NAME = "basalt.agent";
    /** Id of the RAM backend: part of the migration stream, so it must never change. */
    static final String RAM_ID = "basalt.ram";
    /** The descriptor an incoming state is inherited as. */
    static final int STATE_FD = 3;
    /** The descriptors a confined VMM gets its kernel, initramfs and memory file as. */
    private static final int KERNEL_FD = 4;
    private static final int INITRD_FD = 5;
    private static final int MEMORY_FD = 6;
    /** The first network device's TAP; the next ones follow. */
    private static final int TAP_FD = 7;
    /** The first descriptor a confined VMM gets disk files as (one per layer and top, in order). */
    private static final int DISK_FD = 10;
    /**
     * QEMU's own seccomp filter (with {@code LaunchPolicy.seccomp()}, the default): no obsolete system calls, no privilege changes, no
     * fork/exec, no changes to scheduling or resource limits from inside QEMU.
     */
    static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";
    /**
     * The CPU a TCG guest sees: everything QEMU can emulate except ERMS. With ERMS the guest kernel
     * clears and copies memory with {@code rep stosb}/{@code rep movsb}, which TCG runs one byte per
     * iteration; without it, {@code rep stosq}/{@code rep movsq}, 8 bytes per iteration. Measured in
     * the guest: {@code dd} of 128 MiB through a pipe 0.38–0.45 s → 0.07 s. Templates record it
     * (their key's format), since a saved guest kernel has chosen its copy routines already.
     */
    static final String TCG_CPU = "max,-erms";
    /** The TCG translation cache, MiB. */
    static final int TCG_CODE_CACHE_MIB = 128;

    /** A command line and the descriptors it refers to. */
    record Launch(List<String> args, List<InheritedFile> files) {}

    private final String qemuBinary;
    private final Accel accel;
    private final long hostTscKhz;

    QemuCommandLine(String qemuBinary, Accel accel, long hostTscKhz) {
        this.qemuBinary = qemuBinary;
        this.accel = accel;
        this.hostTscKhz = hostTscKhz;
    }

    /**
     * The command line of {@code config} running in {@code runDir}; with an {@code incomingState}
     * QEMU waits for it ({@code -incoming defer}), inheriting it open as {@link #STATE_FD}. With
     * {@code handIn} (a confined VMM, which may open nothing of the host's) the kernel, initramfs
     * and memory file are inherited descriptors too, named {@code /proc/self/fd/N} (the launcher's
     * descriptor shim answers those opens).
     */
    Launch build(VmConfig config, QemuRunDir runDir, Path incomingState, boolean handIn, boolean seccomp) {
        List<String> cmd = new ArrayList<>();
        List<InheritedFile> files = new ArrayList<>();
        var machine = config.machine();
        Path kernel = config.boot().kernel();
        Path initrd = config.boot().initrd();
        MemoryBacking memory = machine.memory();
        if (handIn) {
            kernel = handIn(files, KERNEL_FD, kernel, InheritedFile.Access.READ);
            initrd = initrd == null ? null : handIn(files, INITRD_FD, initrd, InheritedFile.Access.READ);
            memory = switch (memory) {
                case MemoryBacking.Anonymous a -> a;
                case MemoryBacking.SharedFile f ->
                        new MemoryBacking.SharedFile(handIn(files, MEMORY_FD, f.path(), InheritedFile.Access.CREATE_READ_WRITE));
                case MemoryBacking.PrivateFile f ->
                        new MemoryBacking.PrivateFile(handIn(files, MEMORY_FD, f.path(), InheritedFile.Access.READ));
            };
        }
        cmd.add(qemuBinary);
        cmd.addAll(List.of("-name", "basalt-" + config.name()));
        // rtc=on: the guest reads the wall clock from the CMOS RTC instead of probing for ~1 s.
        cmd.addAll(List.of("-M", "microvm,rtc=on,acpi=" + (config.boot().acpi() ? "on" : "off") + ",memory-backend=" + RAM_ID));
        cmd.addAll(List.of("-object", memoryBackend(machine.memoryMib(), memory)));
        // a TCG VM's code cache grows up to 1 GiB by default; 128 MiB bounds QEMU's memory (its cgroup
        // counts on it), and translation flushes and refills it when it is full
        cmd.addAll(List.of("-accel", accel == Accel.KVM ? "kvm" : "tcg,tb-size=" + TCG_CODE_CACHE_MIB));
        cmd.addAll(List.of("-cpu", accel == Accel.KVM ? "host" : TCG_CPU));
        cmd.addAll(List.of("-m", machine.memoryMib() + "M"));
        cmd.addAll(List.of("-smp", Integer.toString(machine.vcpus())));
        cmd.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        if (seccomp) {
            cmd.addAll(List.of("-sandbox", SANDBOX));
        }
        cmd.addAll(List.of("-kernel", kernel.toString()));
        if (initrd != null) {
            cmd.addAll(List.of("-initrd", initrd.toString()));
        }
        cmd.addAll(List.of("-append", kernelCmdline(config)));
        int taps = 0;
        for (Device device : config.devices()) {
            if (device instanceof Device.Network n) {
                // the launcher attaches the TAP (in the slot's namespace, as root) and hands it in:
                // the VMM opens no device node and needs no privilege for it
                int fd = TAP_FD + taps++;
                files.add(new InheritedFile(fd, Path.of(n.tap()), InheritedFile.Access.TAP));
                cmd.addAll(List.of("-netdev", "tap,id=" + n.id() + ",fd=" + fd,
                        "-device", "virtio-net-device,netdev=" + n.id() + ",mac=" + n.mac()));
                continue;
            }
            cmd.addAll(device(device, runDir, handIn ? files : null));
        }
        cmd.addAll(List.of("-qmp", "unix:" + runDir.qmp() + ",server=on,wait=off"));
        cmd.addAll(List.of("-chardev", "socket,id=fdmon,path=" + runDir.fdMonitor() + ",server=on,wait=off"));
        cmd.addAll(List.of("-mon", "chardev=fdmon,mode=control"));
        if (incomingState != null) {
            files.add(new InheritedFile(STATE_FD, incomingState, InheritedFile.Access.READ));
            cmd.addAll(List.of("-incoming", "defer"));
        }
        return new Launch(cmd, files);
    }

    /** Adds {@code file} as inherited descriptor {@code fd}; returns the name the VMM opens it by. */
    private static Path handIn(List<InheritedFile> files, int fd, Path file, InheritedFile.Access access) {
        files.add(new InheritedFile(fd, file, access));
        return Path.of("/proc/self/fd/" + fd);
    }

    /**
     * One device's options. QEMU-side ids are the device ids: chardev ids are not part of a
     * migration stream, and the virtio devices themselves carry no id (their section names come
     * from the bus), so states stay loadable when ids are added.
     */
    private static List<String> device(Device device, QemuRunDir runDir, List<InheritedFile> handIn) {
        return switch (device) {
            // max_ports=2: 31 default ports cost ~34 ms of boot and 4 MB
            case Device.AgentPort p -> List.of("-device", "virtio-serial-device,max_ports=2",
                    "-chardev", "socket,id=" + p.id() + ",path=" + runDir.port(p.id()) + ",server=on,wait=off",
                    "-device", "virtserialport,chardev=" + p.id() + ",name=" + AGENT_PORT_NAME);
            case Device.Network n -> throw new IllegalStateException("network devices are built with their descriptor");
            // a socket the host drains into a bounded ring (ConsolePump), not a file the guest can grow
            case Device.Console c -> List.of("-chardev", "socket,id=" + c.id() + ",path=" + runDir.consoleSocket(c.id())
                            + ",server=on,wait=off", "-serial", "chardev:" + c.id());
            case Device.Disk d -> disk(d, handIn);
        };
    }

    /**
     * A disk: one read-only node per layer, each qcow2 layer backed by the node below it (named
     * here, so QEMU never follows the file names in the images' headers), and the writable top on
     * the last; the virtio-blk device is attached to the top's node, {@link #topNode}.
     */
    private static List<String> disk(Device.Disk d, List<InheritedFile> handIn) {
        if (d.top() == null) {
            throw new IllegalArgumentException("disk " + d.id() + " has no writable top");
        }
        List<String> args = new ArrayList<>();
        int fd = DISK_FD + (handIn == null ? 0 : (int) handIn.stream().filter(f -> f.fd() >= DISK_FD).count());
        String below = null;
        for (int i = 0; i < d.layers().size(); i++) {
            Path layer = d.layers().get(i);
            String file = handIn == null ? layer.toString() : handIn(handIn, fd++, layer, InheritedFile.Access.READ).toString();
            String fileNode = d.id() + "-f" + i;
            String node = layerNode(d, i);
            // locking=off: a layer is never written again (Basalt's rule, mode 0444), while the VM that froze it may
            // keep it open read-write, which QEMU's image locks would hold against every clone that reads it
            args.addAll(List.of("-blockdev", "driver=file,node-name=" + fileNode + ",filename=" + escape(file)
                    + ",read-only=on,locking=off"));
            args.addAll(List.of("-blockdev", "driver=" + format(layer) + ",node-name=" + node + ",file=" + fileNode
                    + ",read-only=on" + (below == null ? "" : ",backing=" + below)));
            below = node;
        }
        String top = handIn == null ? d.top().toString()
                : handIn(handIn, fd, d.top(), InheritedFile.Access.READ_WRITE).toString();
        String topFile = d.id() + "-ft" + d.layers().size();
        // cache.direct=on (O_DIRECT): the guest's writes go past the host's page cache, which would be charged to
        // the VM's cgroup and, dirty, get its QEMU killed at the cgroup's memory cap (a guest filling its disk did)
        args.addAll(List.of("-blockdev", "driver=file,node-name=" + topFile + ",filename=" + escape(top)
                + ",cache.direct=on"));
        args.addAll(List.of("-blockdev", "driver=qcow2,node-name=" + topNode(d) + ",file=" + topFile
                + (below == null ? "" : ",backing=" + below)));
        args.addAll(List.of("-device", "virtio-blk-device,drive=" + topNode(d)));
        return args;
    }

    /** The block node of a disk's layer {@code i}. */
    static String layerNode(Device.Disk d, int i) {
        return d.id() + "-l" + i;
    }

    /**
     * The block node of a disk's writable top. A top frozen while the VM runs keeps its node name
     * and becomes the backing of the new top, whose name counts one layer more.
     */
    static String topNode(Device.Disk d) {
        return d.id() + "-t" + d.layers().size();
    }

    /** A layer's format: the bottom one is a raw file system image ({@code .raw}, {@code .ext4}), the rest qcow2. */
    static String format(Path layer) {
        String name = layer.getFileName().toString();
        return name.endsWith(".raw") || name.endsWith(".ext4") || name.endsWith(".img") ? "raw" : "qcow2";
    }

    /** A value in QEMU's option syntax, where a comma is written twice. */
    private static String escape(String value) {
        return value.replace(",", ",,");
    }

    /**
     * One memory backend with a fixed id for every VM, so any VM's migration stream loads into any
     * VM of the same shape, whatever its backing.
     */
    private static String memoryBackend(int memoryMib, MemoryBacking memory) {
        String size = ",size=" + memoryMib + "M";
        return switch (memory) {
            case MemoryBacking.Anonymous a -> "memory-backend-ram,id=" + RAM_ID + size;
            case MemoryBacking.SharedFile f -> "memory-backend-file,id=" + RAM_ID + size + ",mem-path=" + f.path() + ",share=on";
            case MemoryBacking.PrivateFile f -> "memory-backend-file,id=" + RAM_ID + size + ",mem-path=" + f.path() + ",share=off";
        };
    }

    String kernelCmdline(VmConfig config) {
        StringBuilder b = new StringBuilder("console=ttyS0 quiet panic=-1 reboot=t");
        // Without a known TSC frequency the kernel calibrates against the PIT, which under TCG
        // occasionally hangs the boot (seen in 1 of 12 boots).
        if (hostTscKhz > 0) {
            b.append(" tsc_early_khz=").append(hostTscKhz);
        }
        b.append(" basalt.hostname=").append(config.name());
        if (!config.boot().cmdlineExtra().isEmpty()) {
            b.append(' ').append(config.boot().cmdlineExtra());
        }
        return b.toString();
    }
}
