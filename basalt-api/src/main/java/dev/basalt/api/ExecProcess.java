package dev.basalt.api;

import java.time.Duration;

/**
 * A process started with {@link Sandboxes#start}: write its stdin, signal it, resize its terminal,
 * wait for its exit. Closing it kills the process if it is still running.
 */
public interface ExecProcess extends AutoCloseable {

    /** The guest pid. */
    int pid();

    /** Writes to the process's stdin, blocking while the guest has no room (flow control). */
    void writeStdin(byte[] data);

    /** Closes the process's stdin (the process sees end-of-file). */
    void closeStdin();

    /** Sends a signal (1..64) to the process group. */
    void signal(int signal);

    /** Resizes the pseudo-terminal; ignored for processes without a PTY. */
    void resize(int rows, int cols);

    /**
     * Waits for the exit.
     *
     * @throws BasaltException.TimedOut if it does not exit within {@code timeout} (the process keeps running)
     */
    ExitStatus awaitExit(Duration timeout);

    /** Kills the process group if still running and releases the stream. */
    @Override
    void close();
}
