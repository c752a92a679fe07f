package dev.basalt.server;

import dev.basalt.api.SandboxEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * basaltd's lifecycle log: one line per sandbox event, each naming the sandbox, through SLF4J (the
 * daemon's configuration sends it to stderr): created, stopping, stopped, failed (a warning), TTL
 * changed, expired. Ready and removed are logged by the manager itself, with the boot time and origin.
 */
final class LifecycleLog {
    private static final Logger log = LoggerFactory.getLogger("dev.basalt.server.Lifecycle");

    private LifecycleLog() {
    }

    static void log(SandboxEvent event) {
        if (event.kind() == SandboxEvent.Kind.READY || event.kind() == SandboxEvent.Kind.REMOVED) {
            return;
        }
        String detail = event.detail().isEmpty() ? "" : ": " + event.detail();
        if (event.kind() == SandboxEvent.Kind.FAILED) {
            log.warn("sandbox {} {} ({}){}", event.sandboxId(), "failed", event.state(), detail);
        } else {
            log.info("sandbox {} {} ({}){}", event.sandboxId(), event.kind().name().toLowerCase(java.util.Locale.ROOT)
                    .replace('_', ' '), event.state(), detail);
        }
    }

    static void closeQuietly(AutoCloseable subscription) {
        try {
            subscription.close();
        } catch (Exception e) {
            log.debug("closing the lifecycle subscription: {}", e.toString());
        }
    }
}
