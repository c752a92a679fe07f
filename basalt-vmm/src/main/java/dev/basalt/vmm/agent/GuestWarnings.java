package dev.basalt.vmm.agent;

import org.slf4j.Logger;

/**
 * Warnings a guest causes (bad frames, frames for streams that are not open), rate-limited per
 * channel: a burst of {@value #BURST} lines, then one per {@value #REFILL_MILLIS} ms, each line naming
 * the sandbox; suppressed lines are counted and the count is reported with the next line let through.
 * A guest can therefore add at most a few lines a second to the host's log, whatever it sends.
 * Thread-safe.
 */
final class GuestWarnings {
    static final int BURST = 5;
    static final long REFILL_MILLIS = 10_000;

    private final Logger log;
    private final String sandbox;
    private double tokens = BURST;
    private long refilledAt = System.nanoTime();
    private long suppressed;

    GuestWarnings(Logger log, String sandbox) {
        this.log = log;
        this.sandbox = sandbox;
    }

    /** Logs {@code format} (SLF4J style) as a warning about this sandbox, unless over the rate. */
    void warn(String format, Object... args) {
        long dropped;
        synchronized (this) {
            long now = System.nanoTime();
            tokens = Math.min(BURST, tokens + (now - refilledAt) / 1e6 / REFILL_MILLIS);
            refilledAt = now;
            if (tokens < 1) {
                suppressed++;
                return;
            }
            tokens -= 1;
            dropped = suppressed;
            suppressed = 0;
        }
        if (log.isWarnEnabled()) {
            String line = org.slf4j.helpers.MessageFormatter.arrayFormat(format, args).getMessage();
            log.warn("sandbox {}: {}{}", sandbox, line,
                    dropped == 0 ? "" : " (" + dropped + " more such warnings about this sandbox were suppressed)");
        }
    }

    /** Warnings not logged since the last one that was. */
    synchronized long suppressed() {
        return suppressed;
    }
}
