package dev.basalt.net.host;

/** Closing sockets and channels on paths where a failure to close changes nothing. */
public final class Closing {
    private Closing() {}

    /** Closes {@code c}, ignoring what it throws (it is being abandoned anyway). */
    public static void quietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // already closed or broken: nothing left to release
        }
    }
}
