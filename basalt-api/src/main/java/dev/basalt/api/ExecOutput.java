package dev.basalt.api;

/**
 * Receives the output of a started process as it arrives. Callbacks run on one thread, in order;
 * a slow callback slows the guest process down (flow control), never grows memory.
 */
public interface ExecOutput {

    /** A chunk of stdout (or terminal output for a PTY). The array is owned by the callee. */
    void stdout(byte[] chunk);

    /** A chunk of stderr. */
    void stderr(byte[] chunk);

    /**
     * Called once, before any output, when the process has started, with an action that kills it
     * (SIGKILL to its process group; it may be run from any thread, also after the process ended,
     * when it does nothing). The run then ends with the exit status of a killed process. The
     * embedded manager calls it (and so basaltd, which kills a Run whose client cancelled); a
     * client of basaltd does not: cancelling the call's gRPC context kills the process there.
     * The default ignores it.
     */
    default void started(Runnable kill) {
    }

    /** An output sink that drops everything. */
    static ExecOutput discard() {
        return new ExecOutput() {
            @Override public void stdout(byte[] chunk) { }
            @Override public void stderr(byte[] chunk) { }
        };
    }
}
