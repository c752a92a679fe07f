package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.util.Collection;

/**
 * Manager-wide caps on the number of sandboxes (0: no cap) and the memory they may claim together:
 * each sandbox claims its guest RAM plus {@link HostResources#VMM_OVERHEAD_MIB} for its VMM, whether
 * its guest has touched that memory yet or not, so that the host never promises more than it holds
 * (0: the host's total memory less {@link #HOST_RESERVE_MIB} for itself and Basalt). Sandboxes that
 * are STOPPED or FAILED but not removed do not count; PAUSED ones count as sandboxes but
 * claim no memory.
 */
final class Limits {
    /** Memory kept for the host and Basalt itself when the cap is derived from the host's total. */
    static final long HOST_RESERVE_MIB = 1024;
    private final int maxSandboxes;
    private final long maxMemoryMib;

    Limits(int maxSandboxes, long maxMemoryMib) {
        this.maxSandboxes = maxSandboxes;
        long total = HostResources.totalMib();
        this.maxMemoryMib = maxMemoryMib > 0 ? maxMemoryMib : total > 0 ? Math.max(total - HOST_RESERVE_MIB, 0) : 0;
    }

    /** Throws {@code ResourceExhausted} if one more sandbox of {@code spec} would break a cap. */
    void check(Collection<ManagedSandbox> existing, SandboxSpec spec) {
        var live = existing.stream().filter(s -> !s.state().isTerminal()).toList();
        if (maxSandboxes > 0 && live.size() >= maxSandboxes) {
            throw new BasaltException.ResourceExhausted("the limit of " + maxSandboxes
                    + " sandboxes is reached: remove some first");
        }
        long used = live.stream().filter(s -> s.state() != dev.basalt.api.SandboxState.PAUSED)
                .mapToLong(s -> claim(s.spec())).sum();
        if (maxMemoryMib > 0 && used + claim(spec) > maxMemoryMib) {
            throw new BasaltException.ResourceExhausted("the memory limit of " + maxMemoryMib + " MiB would be exceeded: "
                    + used + " MiB are claimed and the new sandbox claims " + claim(spec) + " MiB (" + spec.memoryMib()
                    + " MiB of guest RAM and " + HostResources.VMM_OVERHEAD_MIB + " MiB for its VMM): remove sandboxes "
                    + "or raise the limit (ManagerConfig.withLimits, basalt daemon --max-memory)");
        }
    }

    private static long claim(SandboxSpec spec) {
        return spec.memoryMib() + (long) HostResources.VMM_OVERHEAD_MIB;
    }
}
