package dev.basalt.core;

/**
 * A test hook for the crash-window tests: when the system property {@code basalt.test.crashAt}
 * names a point this process reaches, it prints {@code basalt-crash-point NAME} on stderr and waits
 * there for ever, so that a test can {@code kill -9} it inside exactly that window (a checkpoint
 * with the VM paused, a fork with its children half-made, ...). Without the property it costs one
 * property read. The points: {@code checkpoint-saved} and {@code fork-saved} (state written, VM still
 * paused), {@code restore-started} (a VM started for a state, not loaded yet: restores and fork
 * children), {@code clone-started} and {@code boot-started} (a create's VM launched, not yet READY),
 * {@code template-saved} (a template's files written, not yet published), {@code upload-streaming}
 * (part of a file sent to the guest), {@code pause-saved} (a pause's state saved and recorded, its VM
 * not yet ended).
 */
final class CrashPoint {
    private static final String PROPERTY = "basalt.test.crashAt";

    private CrashPoint() {
    }

    /** {@code data}, stopping at {@code upload-streaming} when the second chunk is read, if armed. */
    static java.io.InputStream upload(java.io.InputStream data) {
        if (!armed("upload-streaming")) {
            return data;
        }
        return new java.io.FilterInputStream(data) {
            private int reads;

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                if (++reads == 2) {
                    reach("upload-streaming");
                }
                return super.read(b, off, len);
            }
        };
    }

    /** True if this process is to stop at {@code point}. */
    static boolean armed(String point) {
        return point.equals(System.getProperty(PROPERTY));
    }

    /** Stops here for ever if {@code point} is armed. */
    static void reach(String point) {
        if (!armed(point)) {
            return;
        }
        // stderr, not the log: the test reads this line, whatever the logging set-up
        System.err.println("basalt-crash-point " + point);
        System.err.flush();
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                // waiting to be killed; nothing else ends this
            }
        }
    }
}
