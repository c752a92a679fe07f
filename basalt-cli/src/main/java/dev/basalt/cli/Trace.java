package dev.basalt.cli;

/**
 * Where a one-shot command's time goes: with {@code BASALT_CLI_TRACE=1} each phase (picocli models,
 * the choice of port, the channel, the command) prints its milliseconds since {@code main} to stderr.
 * Costs nothing otherwise. Used to find what to cut (docs/BENCHMARKS.md, "CLI start-up").
 */
final class Trace {
    private static final boolean ON = System.getenv("BASALT_CLI_TRACE") != null;
    private static final long T0 = System.nanoTime();

    private Trace() {
    }

    static void at(String phase) {
        if (ON) {
            System.err.printf("basalt: trace %6.1f ms  %s%n", (System.nanoTime() - T0) / 1e6, phase);
        }
    }
}
