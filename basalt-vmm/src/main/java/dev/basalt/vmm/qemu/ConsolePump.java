package dev.basalt.vmm.qemu;

import dev.basalt.vmm.LogRing;
import dev.basalt.vmm.agent.UnixSocketTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a VM's serial console in a bounded {@link LogRing}. QEMU serves the console on a unix
 * socket ({@code -chardev socket,server=on}); a virtual thread reads it and appends to the ring, so
 * the log on disk never exceeds its limit however much the guest writes ({@code yes > /dev/ttyS0}
 * grew a plain file by 5.2 MB in 20 s). While nobody is connected — between a basaltd's death and
 * the next one's reattach — QEMU drops what the guest writes instead of buffering it. A guest that
 * writes faster than the host keeps up is slowed down by its own UART, not by anyone else.
 *
 * <p>The ring's limit is {@code basalt.console.bytes} (system property) or
 * {@code BASALT_CONSOLE_BYTES}, default {@value #DEFAULT_BYTES} bytes, at least
 * {@link LogRing#MIN_BYTES}.
 */
final class ConsolePump {
    private static final Logger log = LoggerFactory.getLogger(ConsolePump.class);
    static final long DEFAULT_BYTES = 1 << 20;
    /** How long a VM's exit waits for the last console bytes to reach the ring. */
    static final Duration DRAIN = Duration.ofSeconds(1);
    private static final Duration CONNECT = Duration.ofSeconds(10);

    private ConsolePump() {
    }

    /** The configured ring size (see the class comment). */
    static long ringBytes() {
        String v = System.getProperty("basalt.console.bytes", System.getenv("BASALT_CONSOLE_BYTES"));
        if (v == null || v.isBlank()) {
            return DEFAULT_BYTES;
        }
        try {
            return Math.max(LogRing.MIN_BYTES, Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            log.warn("basalt.console.bytes / BASALT_CONSOLE_BYTES is not a number ('{}'): using {} bytes", v, DEFAULT_BYTES);
            return DEFAULT_BYTES;
        }
    }

    /**
     * Starts pumping the console socket {@code socket} of VM {@code vm} into the ring at
     * {@code logFile}; {@code drained} completes when the VM has closed the socket and everything
     * read is in the ring (or at once if the VM has no console socket, e.g. one started by an older
     * Basalt that wrote its console to a file itself). Closing the returned handle lets the console
     * go (the VM keeps running; QEMU drops its output until the next host connects).
     */
    static AutoCloseable start(String vm, Path socket, Path logFile, CompletableFuture<Void> drained) {
        if (!Files.exists(socket)) {
            drained.complete(null);
            return () -> { };
        }
        CompletableFuture<UnixSocketTransport> connection = new CompletableFuture<>();
        Thread.ofVirtual().name("console-" + vm).start(() -> {
            try (UnixSocketTransport in = UnixSocketTransport.connect(socket, CONNECT, vm);
                 LogRing ring = LogRing.open(logFile, ringBytes())) {
                connection.complete(in);
                ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
                while (in.read(buf.clear()) >= 0) {
                    ring.write(buf.flip());
                }
            } catch (IOException | RuntimeException e) {
                log.debug("sandbox {}: console pump ended: {}", vm, e.toString());
            } finally {
                connection.complete(null);
                drained.complete(null);
            }
        });
        return () -> {
            UnixSocketTransport in = connection.getNow(null);
            if (in != null) {
                in.close();
            } else {
                connection.thenAccept(c -> {
                    if (c != null) {
                        try {
                            c.close();
                        } catch (IOException e) {
                            log.debug("sandbox {}: closing the console", vm, e);
                        }
                    }
                });
            }
        };
    }
}
