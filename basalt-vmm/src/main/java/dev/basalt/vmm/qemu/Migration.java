package dev.basalt.vmm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Libc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Saving and loading VM state through QEMU's migration, to and from a file. QEMU 7.2 has no
 * {@code file:} migration URI: a state is saved into a descriptor Basalt passes over a second QMP
 * socket ({@link FdMonitor}), and loaded from a descriptor QEMU inherits open on the state file
 * (see {@link QemuCommandLine#STATE_FD}); neither forks helper processes from QEMU (loading a
 * template's state: 0.8 instead of 4.8 ms with {@code exec:cat}). With
 * {@code x-ignore-shared} the stream leaves out RAM that lives in a shared file (templates: ~60 KB
 * of device state instead of the whole RAM).
 */
final class Migration {
    private static final long TIMEOUT_NANOS = 120_000_000_000L;

    private Migration() {
    }

    /** The name a state file's descriptor is passed under ({@code getfd}). */
    private static final String STATE_FD_NAME = "basalt-state";

    /** No throttling: the stream goes to a local file, not over a network. */
    private static final long UNLIMITED_BYTES_PER_SECOND = 1L << 40;

    /**
     * Stops the VM and saves its state into {@code file}: through a descriptor passed over the VM's
     * second QMP socket ({@link FdMonitor}) when it has one, else through {@code exec:cat} (a VM
     * started before Basalt gave VMs that socket).
     */
    static void save(QmpClient qmp, Path fdMonitorSocket, Path file, boolean ignoreShared) {
        qmp.execute("stop", Map.of());
        setIgnoreShared(qmp, ignoreShared);
        qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", UNLIMITED_BYTES_PER_SECOND));
        if (!Files.exists(fdMonitorSocket)) {
            qmp.execute("migrate", Map.of("uri", "exec:cat > " + shellQuote(file)));
            await(qmp, "save state to " + file);
            return;
        }
        try (FdMonitor monitor = FdMonitor.connect(fdMonitorSocket)) {
            int fd = FdMonitor.Native.create(file);
            try {
                monitor.passFd(fd, STATE_FD_NAME);
            } finally {
                Libc.close(fd);   // QEMU holds its own copy now
            }
            monitor.execute("migrate", Map.of("uri", "fd:" + STATE_FD_NAME));
            await(qmp, "save state to " + file);
        }
    }

    /** Loads the state QEMU inherited open as descriptor {@code fd} ({@code file} names it in errors). */
    static void load(QmpClient qmp, int fd, Path file, boolean ignoreShared) {
        setIgnoreShared(qmp, ignoreShared);
        qmp.execute("migrate-incoming", Map.of("uri", "fd:" + fd));
        await(qmp, "load state from " + file);
    }

    private static void setIgnoreShared(QmpClient qmp, boolean on) {
        qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                List.of(Map.of("capability", "x-ignore-shared", "state", on))));
    }

    /**
     * Cancels an outgoing migration that is still going (its starter died) and waits until it has
     * stopped; nothing if none is. The VM stays paused: a save pauses it before it starts.
     */
    static void cancelOutgoing(QmpClient qmp) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        boolean cancelled = false;
        while (true) {
            String state = qmp.execute("query-migrate", Map.of()).path("status").asText("none");
            switch (state) {
                case "none", "completed", "failed", "cancelled" -> {
                    return;
                }
                default -> {
                    if (!cancelled) {
                        qmp.execute("migrate_cancel", Map.of());
                        cancelled = true;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new BasaltException.TimedOut("an outgoing migration is still '" + state
                                + "' 10 s after it was cancelled");
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new BasaltException.Unavailable("interrupted while cancelling a migration");
                    }
                }
            }
        }
    }

    /** Polls {@code query-migrate} until the migration completed; throws with QEMU's reason if it failed. */
    private static void await(QmpClient qmp, String what) {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            JsonNode status = qmp.execute("query-migrate", Map.of());
            String state = status.path("status").asText("");
            switch (state) {
                case "completed" -> {
                    return;
                }
                case "failed", "cancelled" -> throw new BasaltException.Internal("cannot " + what + ": migration "
                        + state + (status.has("error-desc") ? ": " + status.path("error-desc").asText() : ""));
                default -> {
                    if (System.nanoTime() > deadline) {
                        throw new BasaltException.TimedOut("cannot " + what + ": migration still '" + state
                                + "' after " + TIMEOUT_NANOS / 1_000_000_000 + " s");
                    }
                    Thread.onSpinWait();
                    try {
                        Thread.sleep(0, 250_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new BasaltException.Unavailable("interrupted while waiting to " + what);
                    }
                }
            }
        }
    }

    /** Single-quotes a path for QEMU's {@code exec:} (run by /bin/sh). */
    static String shellQuote(Path path) {
        return "'" + path.toString().replace("'", "'\\''") + "'";
    }
}
