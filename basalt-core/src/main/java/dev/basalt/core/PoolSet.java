package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The warm pools (READY sandboxes) and restore pools (started VMs waiting for a state) of every
 * configured template, keyed by template key.
 */
final class PoolSet implements AutoCloseable {
    /** What the pools need from the manager. */
    interface Factory {
        /** A READY, unregistered sandbox cloned from the template of {@code key}. */
        ManagedSandbox warmSandbox(TemplateKey key, SandboxSpec spec);

        /** A VM running the template's state, its agent connected (see {@link Standby}). */
        Standby standbyVm(TemplateKey key, SandboxSpec spec);

        void disposeSandbox(ManagedSandbox sandbox);

        void disposeStandby(Standby standby);
    }

    private record Pools(SandboxSpec spec, RefillingPool<ManagedSandbox> warm, RefillingPool<Standby> standby) {}

    private final Map<String, Pools> byKey = new ConcurrentHashMap<>();

    /**
     * Checks that the pools fit in memory and starts filling them.
     *
     * @throws BasaltException.ResourceExhausted if they cannot fit in the host's available memory
     */
    PoolSet(List<PoolConfig> configs, ImageCatalog images, TemplateCache templates, Factory factory) {
        long needMib = 0;
        for (PoolConfig c : configs) {
            needMib += (long) c.warm() * (c.spec().memoryMib() + HostResources.VMM_OVERHEAD_MIB)
                    + (long) c.standby() * HostResources.VMM_OVERHEAD_MIB;
        }
        long available = HostResources.availableMib();
        if (available > 0 && needMib > available) {
            throw new BasaltException.ResourceExhausted("the configured pools need up to " + needMib
                    + " MiB but the host has " + available + " MiB available: make them smaller");
        }
        for (PoolConfig c : configs) {
            TemplateKey templateKey = templates.key(images.resolve(c.spec()), c.spec());
            String key = templateKey.hash();
            if (byKey.containsKey(key)) {
                throw new BasaltException.InvalidArgument("two pool configurations for the same template (image "
                        + c.spec().image() + ", " + c.spec().vcpus() + " vCPU, " + c.spec().memoryMib() + " MiB)");
            }
            byKey.put(key, new Pools(c.spec(),
                    new RefillingPool<>("warm-" + key, c.warm(), () -> factory.warmSandbox(templateKey, c.spec()),
                            factory::disposeSandbox),
                    new RefillingPool<>("standby-" + key, c.standby(), () -> factory.standbyVm(templateKey, c.spec()),
                            factory::disposeStandby)));
        }
    }

    Optional<ManagedSandbox> takeWarm(String key) {
        Pools p = byKey.get(key);
        return p == null ? Optional.empty() : p.warm().poll();
    }

    Optional<Standby> takeStandby(String key) {
        Pools p = byKey.get(key);
        return p == null ? Optional.empty() : p.standby().poll();
    }

    List<PoolStats> stats() {
        List<PoolStats> all = new ArrayList<>();
        byKey.forEach((key, p) -> all.add(new PoolStats(key, p.spec().image(), p.spec().vcpus(), p.spec().memoryMib(),
                p.warm().target(), p.warm().ready(), p.standby().target(), p.standby().ready(),
                p.warm().hits(), p.warm().misses())));
        return all;
    }

    @Override
    public void close() {
        byKey.values().forEach(p -> {
            p.warm().close();
            p.standby().close();
        });
    }
}
