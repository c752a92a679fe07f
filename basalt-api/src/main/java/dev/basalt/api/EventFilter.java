package dev.basalt.api;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Which events a subscriber wants.
 *
 * @param sandboxId only events of this sandbox; null for all sandboxes
 * @param kinds     only these kinds; empty for all kinds
 */
public record EventFilter(String sandboxId, Set<SandboxEvent.Kind> kinds) {
    public EventFilter {
        kinds = kinds == null || kinds.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(kinds));
    }

    /** Every event of every sandbox. */
    public static EventFilter all() {
        return new EventFilter(null, Set.of());
    }

    /** Every event of one sandbox. */
    public static EventFilter of(String sandboxId) {
        return new EventFilter(Objects.requireNonNull(sandboxId, "sandboxId"), Set.of());
    }

    public boolean matches(SandboxEvent event) {
        return (sandboxId == null || sandboxId.equals(event.sandboxId()))
                && (kinds.isEmpty() || kinds.contains(event.kind()));
    }
}
