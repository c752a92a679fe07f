package dev.basalt.cli;

import picocli.CommandLine;

/**
 * {@code basalt daemon}: basaltd in the foreground. Kept apart so that no other verb loads a server
 * class: a command line that names {@code daemon} gets the real command ({@link #command()}); the
 * verb list of {@code basalt --help} gets {@link Listed}, which only names and describes it.
 */
final class DaemonVerb {
    private DaemonVerb() {
    }

    static CommandLine command() {
        return new CommandLine(new dev.basalt.server.Main()).setCommandName("daemon");
    }

    /** The daemon verb as {@code basalt --help} lists it. */
    static final class Listed extends Verb {
        Listed(CliContext context) {
            super(context, "daemon", "Run basaltd, the Basalt daemon, in the foreground (basalt daemon --help: its options).");
        }

        @Override
        public Integer call() {
            throw new IllegalStateException("basalt daemon is chosen before parsing; this entry only lists it");
        }
    }
}
