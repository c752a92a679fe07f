package dev.basalt.vmm;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a hypervisor needs to build one VM: its machine, how it boots and its devices. It is
 * immutable and serialisable (Jackson), persisted with each sandbox and each saved state, and the
 * only thing a reattach, restore or fork rebuilds a VM from: a VM made from a saved state uses the
 * saved VM's config with its own {@linkplain #withName name} and {@linkplain #withMemory memory}.
 *
 * @param name    short unique name: the guest's hostname at boot, the VMM's process title
 * @param machine processors and memory
 * @param boot    kernel, initramfs and command line
 * @param devices the devices, ids unique
 */
public record VmConfig(String name, Machine machine, Boot boot, List<Device> devices) {
    public VmConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(boot, "boot");
        devices = List.copyOf(devices);
        Set<String> ids = new HashSet<>();
        for (Device d : devices) {
            if (!ids.add(d.id())) {
                throw new IllegalArgumentException("two devices with id '" + d.id() + "'");
            }
        }
    }

    /** The standard devices every Basalt VM has: the agent's port and the serial console. */
    public static List<Device> standardDevices() {
        return List.of(new Device.AgentPort("agent"), new Device.Console("console"));
    }

    public VmConfig withName(String name) {
        return new VmConfig(name, machine, boot, devices);
    }

    public VmConfig withMemory(MemoryBacking memory) {
        return new VmConfig(name, machine.withMemory(memory), boot, devices);
    }

    /** This config with the device of {@code device}'s id replaced by it. */
    public VmConfig withDevice(Device device) {
        boolean found = devices.stream().anyMatch(d -> d.id().equals(device.id()));
        if (!found) {
            throw new IllegalArgumentException("no device with id '" + device.id() + "'");
        }
        return new VmConfig(name, machine, boot, devices.stream().map(d -> d.id().equals(device.id()) ? device : d).toList());
    }

    /** The devices of one type, in order. */
    public <D extends Device> List<D> devices(Class<D> type) {
        return devices.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /**
     * What a saved state of this VM depends on: the config without its name, with anonymous memory
     * and every device reduced to its {@linkplain Device#shape shape}. Two VMs of equal shapes load
     * each other's states.
     */
    public VmConfig shape() {
        return new VmConfig("", machine.withMemory(new MemoryBacking.Anonymous()), boot,
                devices.stream().map(Device::shape).toList());
    }
}
