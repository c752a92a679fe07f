package dev.basalt.image;

import java.nio.file.Path;

/**
 * The image store tests share across runs for images that take long to build (the Debian
 * {@code base}): {@code basalt.test.store} / {@code BASALT_TEST_STORE}, by default
 * {@code $BASALT_HOME/test-store} (~/.cache/basalt/test-store). Images there are cached by the hash
 * of their inputs like any store's, so a run after the first builds nothing.
 */
public final class TestStores {
    private TestStores() {
    }

    public static Path shared() {
        String configured = System.getProperty("basalt.test.store");
        if (configured == null || configured.isBlank() || configured.startsWith("${")) {
            configured = System.getenv("BASALT_TEST_STORE");
        }
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String home = System.getenv("BASALT_HOME");
        if (home == null || home.isBlank()) {
            home = System.getProperty("user.home") + "/.cache/basalt";
        }
        return Path.of(home, "test-store");
    }
}
