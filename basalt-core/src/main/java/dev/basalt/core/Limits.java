package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.util.Collection;

/**
 * Manager-wide caps on the number of sandboxes and the memory they may claim together
 * (0 means no cap). Sandboxes that are STOPPED or FAILED but not removed do not count.
 */
final class Limits {
    private final int maxSandboxes;
    private final long maxMemoryMib;

    Limits(int maxSandboxes, long maxMemoryMib) {
        this.maxSandboxes = maxSandboxes;
        this.maxMemoryMib = maxMemoryMib;
    }

    /** Throws {@code ResourceExhausted} if one more sandbox of {@code spec} would break a cap. */
    void check(Collection<ManagedSandbox> existing, SandboxSpec spec) {
        var live = existing.stream().filter(s -> !s.state().isTerminal()).toList();
        if (maxSandboxes > 0 && live.size() >= maxSandboxes) {
            throw new BasaltException.ResourceExhausted("the limit of " + maxSandboxes
                    + " sandboxes is reached: remove some first");
        }
        long used = live.stream().mapToLong(s -> s.spec().memoryMib()).sum();
        if (maxMemoryMib > 0 && used + spec.memoryMib() > maxMemoryMib) {
            throw new BasaltException.ResourceExhausted("the memory limit of " + maxMemoryMib + " MiB would be exceeded: "
                    + used + " MiB are in use and the new sandbox asks for " + spec.memoryMib() + " MiB");
        }
    }
}
