package dev.basalt.api;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot in time of one sandbox, as returned by inspect and list.
 *
 * @param id        unique id (12 lowercase hex characters)
 * @param state     lifecycle state
 * @param spec      what the sandbox was created from
 * @param accel     the accelerator its VM runs on: "kvm" or "tcg"
 * @param vmmPid    pid of the VMM process on the host, 0 once it is gone
 * @param createdAt when create was called
 * @param readyAt   when the guest agent first answered, if it did
 * @param execsInFlight number of exec operations currently running
 * @param failure   why the sandbox FAILED (with the tail of the console), if it did
 * @param origin    how it came to be: {@code boot}, {@code template:<key>}, {@code snapshot:<name>} or
 *                  {@code fork:<parent id>}
 * @param expiresAt when its time to live runs out, if it has one
 * @param handedOutAt when the create that returned it was answered: {@code createdAt} for a sandbox
 *                  made for that create, later for one a warm pool had made in advance (what a
 *                  sandbox's age counts from); null means {@code createdAt}
 */
public record SandboxInfo(String id, SandboxState state, SandboxSpec spec, String accel, long vmmPid,
                          Instant createdAt, Optional<Instant> readyAt, int execsInFlight,
                          Optional<String> failure, String origin, Optional<Instant> expiresAt,
                          Instant handedOutAt) {

    /** A sandbox handed out when it was created (no pool in between). */
    public SandboxInfo(String id, SandboxState state, SandboxSpec spec, String accel, long vmmPid,
                       Instant createdAt, Optional<Instant> readyAt, int execsInFlight,
                       Optional<String> failure, String origin, Optional<Instant> expiresAt) {
        this(id, state, spec, accel, vmmPid, createdAt, readyAt, execsInFlight, failure, origin, expiresAt, createdAt);
    }

    public SandboxInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(accel, "accel");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(readyAt, "readyAt");
        Objects.requireNonNull(failure, "failure");
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(expiresAt, "expiresAt");
        handedOutAt = handedOutAt == null ? createdAt : handedOutAt;
    }

    public Map<String, String> labels() {
        return spec.labels();
    }
}
