package dev.basalt.vmm;

import java.util.Objects;

/**
 * The machine part of a {@link VmConfig}: processors and memory.
 *
 * @param vcpus     virtual CPUs, at least 1
 * @param memoryMib guest RAM in MiB, at least 16
 * @param memory    where the guest RAM lives
 */
public record Machine(int vcpus, int memoryMib, MemoryBacking memory) {
    public Machine {
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be >= 1, got " + vcpus);
        }
        if (memoryMib < 16) {
            throw new IllegalArgumentException("memoryMib must be >= 16, got " + memoryMib);
        }
        Objects.requireNonNull(memory, "memory");
    }

    public Machine withMemory(MemoryBacking memory) {
        return new Machine(vcpus, memoryMib, memory);
    }
}
