package dev.basalt.cli;

import dev.basalt.api.BasaltException;

/**
 * Exit codes of {@code basalt} when Basalt itself fails (as opposed to the command run in the sandbox).
 * {@code basalt run} and {@code basalt exec} otherwise exit with the command's own code, like
 * {@code docker run}: 125 is Basalt's failure, 127 a program not found in the guest.
 */
final class ExitCodes {
    static final int BASALT_FAILED = 125;
    static final int PROGRAM_NOT_FOUND = 127;
    static final int USAGE = 2;

    private ExitCodes() {
    }

    static int of(BasaltException e) {
        return switch (e) {
            case BasaltException.InvalidArgument i -> USAGE;
            case BasaltException.NotFound n -> 3;
            case BasaltException.WrongState w -> 4;
            case BasaltException.Unavailable u -> 5;
            case BasaltException.TimedOut t -> 6;
            case BasaltException.ResourceExhausted r -> 7;
            case BasaltException.AlreadyExists a -> 8;
            case BasaltException.PermissionDenied p -> 9;
            case BasaltException.Internal i -> BASALT_FAILED;
        };
    }
}
