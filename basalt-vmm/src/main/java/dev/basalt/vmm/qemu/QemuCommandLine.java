package dev.basalt.vmm.qemu;

import dev.basalt.vmm.Accel;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the QEMU command line for one VM: {@code -M microvm}, no firmware, no PCI, virtio-mmio
 * devices, the agent's virtio-serial port on a unix socket, QMP on another, the serial console
 * into a log file. Boot flags are tuned for speed (see docs/ARCHITECTURE.md, "Boot flags").
 */
public final class QemuCommandLine {
    /** Name of the virtio-serial port the guest agent opens. */
    public static final String AGENT_PORT_NAME = "basalt.agent";
    /** Id of the RAM backend: part of the migration stream, so it must never change. */
    static final String RAM_ID = "basalt.ram";
    /**
     * The CPU a TCG guest sees: everything QEMU can emulate except ERMS. With ERMS the guest kernel
     * clears and copies memory with {@code rep stosb}/{@code rep movsb}, which TCG runs one byte per
     * iteration; without it, {@code rep stosq}/{@code rep movsq}, 8 bytes per iteration. Measured in
     * the guest: {@code dd} of 128 MiB through a pipe 0.38–0.45 s → 0.07 s. Templates record it
     * (their key's format), since a saved guest kernel has chosen its copy routines already.
     */
    static final String TCG_CPU = "max,-erms";

    private final String qemuBinary;
    private final Accel accel;
    private final long hostTscKhz;

    public QemuCommandLine(String qemuBinary, Accel accel, long hostTscKhz) {
        this.qemuBinary = qemuBinary;
        this.accel = accel;
        this.hostTscKhz = hostTscKhz;
    }

    public List<String> build(VmSpec spec) {
        List<String> cmd = new ArrayList<>();
        cmd.add(qemuBinary);
        cmd.addAll(List.of("-name", "basalt-" + spec.name()));
        // rtc=on: the guest reads the wall clock from the CMOS RTC instead of probing for ~1 s.
        cmd.addAll(List.of("-M", "microvm,rtc=on,acpi=" + (spec.acpi() ? "on" : "off") + ",memory-backend=" + RAM_ID));
        cmd.addAll(List.of("-object", memoryBackend(spec)));
        cmd.addAll(List.of("-accel", accel.id()));
        cmd.addAll(List.of("-cpu", accel == Accel.KVM ? "host" : TCG_CPU));
        cmd.addAll(List.of("-m", spec.memoryMib() + "M"));
        cmd.addAll(List.of("-smp", Integer.toString(spec.vcpus())));
        cmd.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        cmd.addAll(List.of("-chardev", "file,id=console,path=" + spec.consoleLog()));
        cmd.addAll(List.of("-serial", "chardev:console"));
        cmd.addAll(List.of("-kernel", spec.kernel().toString()));
        if (spec.initrd() != null) {
            cmd.addAll(List.of("-initrd", spec.initrd().toString()));
        }
        cmd.addAll(List.of("-append", kernelCmdline(spec)));
        cmd.addAll(List.of("-device", "virtio-serial-device,max_ports=2"));
        cmd.addAll(List.of("-chardev", "socket,id=agent,path=" + spec.agentSocket() + ",server=on,wait=off"));
        cmd.addAll(List.of("-device", "virtserialport,chardev=agent,name=" + AGENT_PORT_NAME));
        cmd.addAll(List.of("-qmp", "unix:" + spec.qmpSocket() + ",server=on,wait=off"));
        cmd.addAll(List.of("-chardev", "socket,id=fdmon,path=" + spec.fdMonitorSocket() + ",server=on,wait=off"));
        cmd.addAll(List.of("-mon", "chardev=fdmon,mode=control"));
        if (spec.incoming() != null) {
            cmd.addAll(List.of("-incoming", "defer"));
        }
        return cmd;
    }

    /**
     * One memory backend with a fixed id for every VM, so any VM's migration stream loads into any
     * VM of the same shape, whatever its backing.
     */
    private static String memoryBackend(VmSpec spec) {
        String size = ",size=" + spec.memoryMib() + "M";
        return switch (spec.memory()) {
            case MemoryBacking.Anonymous a -> "memory-backend-ram,id=" + RAM_ID + size;
            case MemoryBacking.SharedFile f -> "memory-backend-file,id=" + RAM_ID + size + ",mem-path=" + f.path() + ",share=on";
            case MemoryBacking.PrivateFile f -> "memory-backend-file,id=" + RAM_ID + size + ",mem-path=" + f.path() + ",share=off";
        };
    }

    String kernelCmdline(VmSpec spec) {
        StringBuilder b = new StringBuilder("console=ttyS0 quiet panic=-1 reboot=t");
        // Without a known TSC frequency the kernel calibrates against the PIT, which under TCG
        // occasionally hangs the boot (seen in 1 of 12 boots).
        if (hostTscKhz > 0) {
            b.append(" tsc_early_khz=").append(hostTscKhz);
        }
        b.append(" basalt.hostname=").append(spec.name());
        if (!spec.cmdlineExtra().isEmpty()) {
            b.append(' ').append(spec.cmdlineExtra());
        }
        return b.toString();
    }
}
