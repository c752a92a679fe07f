package dev.basalt.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI's logging: Basalt's own messages go through SLF4J to logback, on stderr (the CLI's
 * {@code logback.xml}: warnings only, since the CLI prints nothing but the command's output; INFO for
 * {@code basalt daemon}, DEBUG with {@code -v}). A remote verb logs nothing, so logback is not even
 * started: netty, which would pick SLF4J and so start logback (~60 ms of XML configuration), is
 * pointed at {@code java.util.logging} like the rest of gRPC.
 */
final class Logging {
    /** Held: java.util.logging keeps only weak references to loggers, and a collected one loses its level. */
    private static final java.util.logging.Logger BOOTSTRAP =
            java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

    private Logging() {
    }

    /**
     * netty (inside grpc-netty-shaded) logs through java.util.logging, as gRPC itself does; its
     * bootstrap's warning about a TCP option a unix socket does not have (every connection) is dropped.
     */
    static void quietTransport() {
        io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
                io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
        BOOTSTRAP.setLevel(java.util.logging.Level.SEVERE);
    }

    /** What a foreground daemon shows: where it listens, one line per sandbox lifecycle event. */
    static void daemon() {
        ((Logger) LoggerFactory.getLogger("dev.basalt")).setLevel(Level.INFO);
    }

    static void verbose() {
        ((Logger) LoggerFactory.getLogger("dev.basalt")).setLevel(Level.DEBUG);
    }
}
