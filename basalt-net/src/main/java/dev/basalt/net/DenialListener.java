package dev.basalt.net;

/** Hears every refused DNS question and proxied connection; called on the thread that refused it, must not block. */
@FunctionalInterface
public interface DenialListener {
    void denied(Denial denial);

    DenialListener NONE = d -> { };
}
