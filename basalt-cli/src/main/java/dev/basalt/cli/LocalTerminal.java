package dev.basalt.cli;

import java.io.File;
import java.io.IOException;
import java.util.Optional;
import sun.misc.Signal;

/**
 * This process's controlling terminal in raw mode for an interactive guest shell ({@code -it}):
 * keystrokes (Ctrl-C included) go to the guest's pseudo-terminal unchanged, window size changes
 * are forwarded, and the original settings come back on close. Uses {@code stty} on /dev/tty:
 * the JDK has no terminal-mode API.
 */
final class LocalTerminal implements AutoCloseable {
    private static final File TTY = new File("/dev/tty");

    private final String savedSettings;

    private LocalTerminal(String savedSettings) {
        this.savedSettings = savedSettings;
    }

    /** The terminal in raw mode, if stdin is one; empty when input is a pipe or a file. */
    static Optional<LocalTerminal> rawIfInteractive() {
        if (System.console() == null || !TTY.canRead()) {
            return Optional.empty();
        }
        try {
            String saved = stty("-g").strip();
            stty("raw", "-echo");
            return Optional.of(new LocalTerminal(saved));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Rows and columns of the terminal, or 24×80 if unknown. */
    int[] size() {
        try {
            String[] parts = stty("size").strip().split("\\s+");
            return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        } catch (IOException | RuntimeException e) {
            return new int[] {24, 80};
        }
    }

    /** Calls {@code action} whenever the window is resized (SIGWINCH). */
    void onResize(Runnable action) {
        Signal.handle(new Signal("WINCH"), signal -> action.run());
    }

    @Override
    public void close() {
        try {
            stty(savedSettings);
        } catch (IOException e) {
            // the terminal is gone; nothing to restore
        }
    }

    private static String stty(String... args) throws IOException {
        String[] command = new String[args.length + 1];
        command[0] = "stty";
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectInput(TTY).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IOException("stty failed: " + out);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
