package dev.basalt.net.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Copies two sockets into each other until both directions end, each direction on a virtual
 * thread of its own. The end of one direction is passed on as a half-close (the peer reads EOF
 * and may still answer); an error in either closes both sockets, which ends the other direction.
 */
final class Splice {
    private static final int BUFFER = 64 * 1024;

    private Splice() {}

    /** Starts copying; both sockets are closed when it is done, then {@code done} runs. Returns at once. */
    static void start(Socket a, Socket b, String name, Runnable done) {
        AtomicInteger open = new AtomicInteger(2);
        Thread.ofVirtual().name(name + ">").start(() -> copy(a, b, open, done));
        Thread.ofVirtual().name(name + "<").start(() -> copy(b, a, open, done));
    }

    private static void copy(Socket from, Socket to, AtomicInteger open, Runnable done) {
        boolean clean = false;
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[BUFFER];
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
            clean = true;
        } catch (IOException e) {
            // a reset or a closed socket: end both directions
        } finally {
            if (!clean) {
                closeQuietly(from);
                closeQuietly(to);
            }
            if (open.decrementAndGet() == 0) {
                closeQuietly(from);
                closeQuietly(to);
                done.run();
            }
        }
    }

    /**
     * Copies {@code aIn → bOut} and {@code bIn → aOut} on two virtual threads; the end of one
     * direction is passed on with {@code bHalfClose} / {@code aHalfClose}; when both directions
     * are over, or either fails, {@code closeAll} runs (once).
     */
    static void streams(InputStream aIn, OutputStream bOut, IoAction bHalfClose, InputStream bIn, OutputStream aOut,
                        Runnable aHalfClose, Runnable closeAll, String name) {
        AtomicInteger open = new AtomicInteger(2);
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable closeOnce = () -> {
            if (closed.compareAndSet(false, true)) {
                closeAll.run();
            }
        };
        Thread.ofVirtual().name(name + ">").start(() -> pump(aIn, bOut, bHalfClose, open, closeOnce));
        Thread.ofVirtual().name(name + "<").start(() -> pump(bIn, aOut, aHalfClose::run, open, closeOnce));
    }

    /** An action that may throw an {@link IOException}. */
    interface IoAction {
        void run() throws IOException;
    }

    private static void pump(InputStream from, OutputStream to, IoAction halfClose, AtomicInteger open, Runnable closeAll) {
        try {
            byte[] buf = new byte[BUFFER];
            for (int n; (n = from.read(buf)) >= 0; ) {
                to.write(buf, 0, n);
                to.flush();
            }
            halfClose.run();
            if (open.decrementAndGet() == 0) {
                closeAll.run();
            }
        } catch (IOException | RuntimeException e) {
            closeAll.run();
        }
    }

    static void closeQuietly(Socket s) {
        dev.basalt.net.host.Closing.quietly(s);
    }
}
