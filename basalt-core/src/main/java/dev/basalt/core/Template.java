package dev.basalt.core;

import dev.basalt.vmm.Device;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import java.nio.file.Path;

/**
 * A published template (see {@link TemplateCache}): a saved VM whose RAM is {@code memoryFile} and
 * whose device state is {@code stateFile}.
 *
 * @param key        what VMs may be cloned from it
 * @param name       the key's hash, its directory name
 * @param memoryFile the guest RAM, never modified once published
 * @param stateFile  the device state, saved with {@code x-ignore-shared}
 * @param diskDir    where its disks' frozen layers are (see {@link Disks}), for a VM with disks
 */
record Template(TemplateKey key, String name, Path memoryFile, Path stateFile, Path diskDir) {

    /**
     * The config of a clone named {@code vmName}: the template's shape on a private mapping of its
     * memory, its disks the template's frozen chains (without tops: {@link Disks#attach} gives the
     * clone its own).
     */
    VmConfig cloneConfig(String vmName) {
        VmConfig config = key.shape().withName(vmName).withMemory(new MemoryBacking.PrivateFile(memoryFile));
        for (Device.Disk disk : config.devices(Device.Disk.class)) {
            config = config.withDevice(Disks.templateChain(diskDir, disk));
        }
        return config;
    }

    boolean hasDisks() {
        return !key.shape().devices(Device.Disk.class).isEmpty();
    }

    int memoryMib() {
        return key.shape().machine().memoryMib();
    }
}
