package dev.basalt.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One lifecycle event of one sandbox, as delivered by {@link Sandboxes#subscribe}.
 *
 * @param sandboxId the sandbox
 * @param kind      what happened
 * @param state     the sandbox's state right after the event
 * @param at        when it happened
 * @param detail    human-readable detail (the failure reason, the origin, the new expiry...), may be empty
 */
public record SandboxEvent(String sandboxId, Kind kind, SandboxState state, Instant at, String detail) {

    /** The closed set of lifecycle events. */
    public enum Kind {
        /** Create accepted; the sandbox is STARTING. */
        CREATED,
        /** The guest agent answered; the sandbox is READY. */
        READY,
        /** A stop began (user, TTL or shutdown). */
        STOPPING,
        /** The VM is gone after a stop. */
        STOPPED,
        /** The VM died or never became ready; {@code detail} says why. */
        FAILED,
        /** The sandbox was removed and forgotten. */
        REMOVED,
        /** The sandbox's time to live was set or extended; {@code detail} holds the new expiry. */
        TTL_CHANGED,
        /** The time to live ran out; the sandbox is being removed. */
        EXPIRED,
        /** The sandbox's state was saved and its VM stopped; it is PAUSED. */
        PAUSED,
        /** A paused sandbox runs again under the same id; it is READY. */
        RESUMED
    }

    public SandboxEvent {
        Objects.requireNonNull(sandboxId, "sandboxId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(at, "at");
        detail = detail == null ? "" : detail;
    }
}
