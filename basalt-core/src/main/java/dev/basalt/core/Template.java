package dev.basalt.core;

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
 */
record Template(TemplateKey key, String name, Path memoryFile, Path stateFile) {

    /** The config of a clone named {@code vmName}: the template's shape on a private mapping of its memory. */
    VmConfig cloneConfig(String vmName) {
        return key.shape().withName(vmName).withMemory(new MemoryBacking.PrivateFile(memoryFile));
    }

    int memoryMib() {
        return key.shape().machine().memoryMib();
    }
}
