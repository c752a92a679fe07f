package dev.basalt.grpc;

import java.nio.file.Path;

/** Where basaltd listens by default, so that the daemon and its clients agree without configuration. */
public final class DaemonSocket {
    private DaemonSocket() {
    }

    /** {@code /run/basalt/basaltd.sock} for root, else under {@code $XDG_RUNTIME_DIR} (or /tmp/basalt-USER). */
    public static Path defaultPath() {
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of("/run/basalt/basaltd.sock");
        }
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        return runtime != null && !runtime.isBlank() ? Path.of(runtime, "basalt", "basaltd.sock")
                : Path.of("/tmp", "basalt-" + System.getProperty("user.name"), "basaltd.sock");
    }
}
