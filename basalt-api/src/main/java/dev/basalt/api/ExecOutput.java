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

    /** An output sink that drops everything. */
    static ExecOutput discard() {
        return new ExecOutput() {
            @Override public void stdout(byte[] chunk) { }
            @Override public void stderr(byte[] chunk) { }
        };
    }
}
