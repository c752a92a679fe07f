package dev.basalt.e2b.envd;

import dev.basalt.e2b.E2bSandbox;

/**
 * One authenticated envd request: the sandbox it was routed to and the user it acts as.
 *
 * @param sandbox the E2B record of the sandbox
 * @param user    the guest user named by the request ({@code Authorization: Basic} or {@code ?username=}),
 *                or the default user
 */
public record EnvdContext(E2bSandbox sandbox, PasswdEntry user) {
    public String sandboxId() {
        return sandbox.sandboxId();
    }

    /** An absolute guest path: {@code path} itself, or relative to the user's home. */
    public String resolve(String path) {
        return GuestPaths.resolve(path, user.home());
    }
}
