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
 */
public record SandboxInfo(String id, SandboxState state, SandboxSpec spec, String accel, long vmmPid,
                          Instant createdAt, Optional<Instant> readyAt, int execsInFlight,
                          Optional<String> failure, String origin, Optional<Instant> expiresAt) {
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
    }

    public Map<String, String> labels() {
        return spec.labels();
    }
}
