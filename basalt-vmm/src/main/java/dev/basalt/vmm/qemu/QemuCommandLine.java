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
    /**
     * The CPU a TCG guest sees: everything QEMU can emulate except ERMS. With ERMS the guest kernel
     * clears and copies memory with {@code rep stosb}/{@code rep movsb}, which TCG runs one byte per
     * iteration; without it, {@code rep stosq}/{@code rep movsq}, 8 bytes per iteration. Measured in
     * the guest: {@code dd} of 128 MiB through a pipe 0.38–0.45 s → 0.07 s. Templates record it
     * (their key's format), since a saved guest kernel has chosen its copy routines already.
     */
    static final String TCG_CPU = "max,-erms";

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
     * QEMU waits for it ({@code -incoming defer}), inheriting it open as {@link #STATE_FD}.
     */
    Launch build(VmConfig config, QemuRunDir runDir, Path incomingState) {
        List<String> cmd = new ArrayList<>();
        List<InheritedFile> files = new ArrayList<>();
        var machine = config.machine();
        cmd.add(qemuBinary);
        cmd.addAll(List.of("-name", "basalt-" + config.name()));
        // rtc=on: the guest reads the wall clock from the CMOS RTC instead of probing for ~1 s.
        cmd.addAll(List.of("-M", "microvm,rtc=on,acpi=" + (config.boot().acpi() ? "on" : "off") + ",memory-backend=" + RAM_ID));
        cmd.addAll(List.of("-object", memoryBackend(machine.memoryMib(), machine.memory())));
        cmd.addAll(List.of("-accel", accel.id()));
        cmd.addAll(List.of("-cpu", accel == Accel.KVM ? "host" : TCG_CPU));
        cmd.addAll(List.of("-m", machine.memoryMib() + "M"));
        cmd.addAll(List.of("-smp", Integer.toString(machine.vcpus())));
        cmd.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        cmd.addAll(List.of("-kernel", config.boot().kernel().toString()));
        if (config.boot().initrd() != null) {
            cmd.addAll(List.of("-initrd", config.boot().initrd().toString()));
        }
        cmd.addAll(List.of("-append", kernelCmdline(config)));
        for (Device device : config.devices()) {
            cmd.addAll(device(device, runDir));
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

    /**
     * One device's options. QEMU-side ids are the device ids: chardev ids are not part of a
     * migration stream, and the virtio devices themselves carry no id (their section names come
     * from the bus), so states stay loadable when ids are added.
     */
    private static List<String> device(Device device, QemuRunDir runDir) {
        return switch (device) {
            // max_ports=2: 31 default ports cost ~34 ms of boot and 4 MB
            case Device.AgentPort p -> List.of("-device", "virtio-serial-device,max_ports=2",
                    "-chardev", "socket,id=" + p.id() + ",path=" + runDir.port(p.id()) + ",server=on,wait=off",
                    "-device", "virtserialport,chardev=" + p.id() + ",name=" + AGENT_PORT_NAME);
            case Device.Console c -> List.of("-chardev", "file,id=" + c.id() + ",path=" + runDir.console(c.id()),
                    "-serial", "chardev:" + c.id());
        };
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
