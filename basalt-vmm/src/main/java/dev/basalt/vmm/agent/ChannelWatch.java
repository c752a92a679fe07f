package dev.basalt.vmm.agent;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The deadlines that keep a guest from wedging its agent channel: the guest's end is reachable by
 * guest root (a {@code pidfd_getfd} of PID 1's port descriptor), so the host cannot assume that
 * what it reads is in step with the agent, or that anyone reads what it writes. One shared timer
 * thread checks every channel twice a second and reports the first broken rule:
 * <ul>
 *   <li>a frame that has begun must be complete within {@code frameDeadline} (a truncated frame
 *       otherwise swallows every later answer as its payload);</li>
 *   <li>a write must finish within {@code writeStall} (a guest that stops reading would otherwise hold
 *       the channel's write lock forever);</li>
 *   <li>while an operation waits and nothing has been read for {@code probeAfter}, a {@code PING} is
 *       sent, which must be answered within {@code probeTimeout} (an agent that no longer sees the
 *       host's frames answers nothing, and every call would wait for its own, long, timeout).</li>
 * </ul>
 * The clock is {@link System#nanoTime()}; 0 means "not running" for the two start times.
 *
 * @param frameDeadline how long a frame may take from its first byte to its last
 * @param writeStall    how long one frame's write may take
 * @param probeAfter    silence, while a stream is open, after which the agent is pinged
 * @param probeTimeout  how long the agent has to answer that ping
 * @param junkLimit     frames for streams that are not open, or malformed ones, tolerated per
 *                      {@link #JUNK_WINDOW}; more is a flood
 */
record ChannelWatch(Duration frameDeadline, Duration writeStall, Duration probeAfter, Duration probeTimeout,
                    int junkLimit) {
    /** The window {@code junkLimit} counts in. */
    static final Duration JUNK_WINDOW = Duration.ofSeconds(10);
    /**
     * What a channel to a real guest gets. Honest frames are at most ~33 KB and written at once;
     * a {@code PING} is answered by the agent's event loop whatever the guest runs; the margins are
     * for a guest whose CPU is starved (a TCG guest on a saturated host).
     */
    static final ChannelWatch DEFAULTS = new ChannelWatch(Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(3), Duration.ofSeconds(10), 1000);
    private static final long TICK_MILLIS = 500;
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r ->
            Thread.ofPlatform().daemon().name("agent-channel-watch").unstarted(r));

    ChannelWatch {
        Objects.requireNonNull(frameDeadline, "frameDeadline");
        Objects.requireNonNull(writeStall, "writeStall");
        Objects.requireNonNull(probeAfter, "probeAfter");
        Objects.requireNonNull(probeTimeout, "probeTimeout");
        if (junkLimit < 1) {
            throw new IllegalArgumentException("junkLimit must be >= 1");
        }
    }

    /** Runs {@code check} twice a second until the returned future is cancelled. */
    static ScheduledFuture<?> every(Runnable check) {
        return TIMER.scheduleWithFixedDelay(check, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The state of one channel the checks read; written by its reader and writers. */
    static final class State {
        volatile long frameStartedAt;
        volatile long lastReadAt = System.nanoTime();
        volatile long writeStartedAt;
        volatile boolean probing;
        /** The host paused the guest on purpose (a save, a user's pause): no deadline runs. */
        volatile boolean guestPaused;
        /** How often the guest was paused: a probe that spans a pause proves nothing. */
        volatile int pauses;
        private long junkWindowStart = System.nanoTime();
        private int junk;

        /** Counts one junk frame; true if the window's limit is now exceeded. Reader thread only. */
        boolean junk(int limit) {
            long now = System.nanoTime();
            if (now - junkWindowStart > JUNK_WINDOW.toNanos()) {
                junkWindowStart = now;
                junk = 0;
            }
            return ++junk > limit;
        }
    }

    /**
     * The broken rule, as the reason the channel is given up, or null. {@code waiting}: some
     * operation waits for the agent.
     */
    String check(State s, boolean waiting, long now) {
        if (s.guestPaused) {
            return null;
        }
        long frame = s.frameStartedAt;
        if (frame != 0 && now - frame > frameDeadline.toNanos()) {
            return "a frame from the guest has been incomplete for " + seconds(now - frame)
                    + ": the channel is out of step (a truncated or forged frame)";
        }
        long write = s.writeStartedAt;
        if (write != 0 && now - write > writeStall.toNanos()) {
            return "the guest has not read the agent channel for " + seconds(now - write);
        }
        return null;
    }

    /** True when a liveness probe is due. */
    boolean probeDue(State s, boolean waiting, long now) {
        return waiting && !s.probing && !s.guestPaused && now - s.lastReadAt > probeAfter.toNanos();
    }

    /**
     * The host paused ({@code true}) or resumed the guest: while paused no deadline runs, and on
     * resume every clock restarts, so the guest's time off is not held against it.
     */
    static void guestPaused(State s, boolean paused) {
        if (!paused) {
            long now = System.nanoTime();
            s.lastReadAt = now;
            if (s.frameStartedAt != 0) {
                s.frameStartedAt = now;
            }
            if (s.writeStartedAt != 0) {
                s.writeStartedAt = now;
            }
        }
        if (paused) {
            s.pauses++;
        }
        s.guestPaused = paused;
    }

    private static String seconds(long nanos) {
        return String.format("%.1f s", nanos / 1e9);
    }
}
