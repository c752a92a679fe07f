package dev.basalt.vmm.agent;

import java.time.Duration;
import java.util.Objects;

/** A point in time by which an operation must finish; {@code timeout} is kept for messages. */
record Deadline(long atNanos, Duration timeout, String operation) {

    static Deadline in(Duration timeout, String operation) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        long nanos = timeout.compareTo(Duration.ofDays(365)) > 0 ? Duration.ofDays(365).toNanos() : timeout.toNanos();
        return new Deadline(System.nanoTime() + nanos, timeout, operation);
    }

    long remainingNanos() {
        return atNanos - System.nanoTime();
    }

    boolean expired() {
        return remainingNanos() <= 0;
    }

    AgentTimeoutException timeoutException() {
        return new AgentTimeoutException(operation, timeout);
    }
}
