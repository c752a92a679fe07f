package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.util.Objects;

/**
 * Pools to keep for sandboxes of one shape.
 *
 * @param spec    the shape (image, vCPUs, memory); must be servable from a template
 * @param warm    READY sandboxes kept waiting (create takes one without waiting)
 * @param standby VMM processes kept started and waiting for a state (a restore skips process start-up)
 */
public record PoolConfig(SandboxSpec spec, int warm, int standby) {
    public static final int MAX_POOL = 256;

    public PoolConfig {
        Objects.requireNonNull(spec, "spec");
        if (!spec.usesTemplate()) {
            throw new BasaltException.InvalidArgument("pools need a template-backed spec (no kernel/initrd override, no cold boot)");
        }
        if (warm < 0 || warm > MAX_POOL || standby < 0 || standby > MAX_POOL) {
            throw new BasaltException.InvalidArgument("pool sizes must be within 0.." + MAX_POOL + ", got warm=" + warm
                    + " standby=" + standby);
        }
    }
}
