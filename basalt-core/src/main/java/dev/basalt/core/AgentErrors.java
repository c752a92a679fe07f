package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.agent.AgentDisconnectedException;
import dev.basalt.vmm.agent.AgentException;
import dev.basalt.vmm.agent.AgentTimeoutException;

/** Maps the guest agent's errors onto Basalt's error family, once, for every operation. */
final class AgentErrors {
    private AgentErrors() {
    }

    /**
     * @param sandbox  the sandbox the operation ran in (to explain a dead VM)
     * @param what     the operation, e.g. "read /etc/passwd"
     */
    static BasaltException translate(RuntimeException e, ManagedSandbox sandbox, String what) {
        String where = " (sandbox " + sandbox.id() + ")";
        return switch (e) {
            case BasaltException b -> b;
            case AgentTimeoutException t -> new BasaltException.TimedOut(what + " timed out" + where + ": " + t.getMessage(), t);
            case AgentDisconnectedException d -> {
                var info = sandbox.info();
                String reason = info.failure().map(f -> ": the sandbox FAILED: " + f)
                        .orElse(": " + d.getMessage() + " (state " + info.state() + ")");
                yield new BasaltException.Unavailable(what + " failed" + where + reason, d);
            }
            case AgentException a when a.code().isEmpty() ->
                    new BasaltException.Internal(what + " failed" + where + ": " + a.getMessage(), a);
            case AgentException a -> switch (a.code().orElseThrow()) {
                case NOT_FOUND -> new BasaltException.NotFound(a.getMessage() + where, a);
                case PERMISSION -> new BasaltException.PermissionDenied(a.getMessage() + where, a);
                case EXISTS -> new BasaltException.AlreadyExists(a.getMessage() + where, a);
                case INVALID_ARGUMENT, NOT_A_DIRECTORY, IS_A_DIRECTORY, NOT_EMPTY ->
                        new BasaltException.InvalidArgument(a.getMessage() + where, a);
                case NO_SPACE, RESOURCE_EXHAUSTED -> new BasaltException.ResourceExhausted(a.getMessage() + where, a);
                case CANCELLED -> new BasaltException.Unavailable(what + " was cancelled" + where, a);
                case BAD_FRAME, FRAME_TOO_LARGE, UNKNOWN_TYPE, UNSUPPORTED_VERSION, STREAM_BUSY, IO ->
                        new BasaltException.Internal(what + " failed" + where + ": " + a.getMessage(), a);
            };
            default -> new BasaltException.Internal(what + " failed" + where + ": " + e, e);
        };
    }
}
