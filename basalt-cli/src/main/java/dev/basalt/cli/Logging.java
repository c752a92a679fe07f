package dev.basalt.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Switches Basalt's log level at run time (quiet by default: the CLI prints only the command's output). */
final class Logging {
    private Logging() {
    }

    /** What a foreground daemon shows: one line per lifecycle step. */
    static void info() {
        ((Logger) LoggerFactory.getLogger("dev.basalt")).setLevel(Level.INFO);
    }

    static void verbose() {
        ((Logger) LoggerFactory.getLogger("dev.basalt")).setLevel(Level.DEBUG);
    }
}
