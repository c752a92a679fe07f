package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.FileInfo;
import dev.basalt.vmm.agent.AgentClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * Everything done inside a live guest — execs and file operations — with the state checks
 * ({@link ManagedSandbox#acquire}), path validation and the one error translation
 * ({@link AgentErrors}) around each call.
 */
final class GuestOperations {
    private final SandboxRegistry registry;
    private final GuestFiles files;
    private final ExecRunner execs;

    GuestOperations(SandboxRegistry registry, GuestFiles files, ExecRunner execs) {
        this.registry = registry;
        this.files = files;
        this.execs = execs;
    }

    Duration ping(String id, Duration timeout) {
        return guest(id, "ping", agent -> agent.ping(timeout));
    }

    ExecResult exec(String id, ExecRequest request) {
        return withExec(id, request, agent -> execs.runBuffered(agent, request));
    }

    ExecResult exec(String id, ExecRequest request, ExecOutput output) {
        return withExec(id, request, agent -> execs.runStreaming(agent, request, output));
    }

    ExecProcess start(String id, ExecRequest request, ExecOutput output) {
        ManagedSandbox sandbox = registry.get(id);
        AgentClient agent = sandbox.acquire("exec " + request.argv().getFirst(), true);
        try {
            return execs.start(agent, request, output, () -> sandbox.release(true));
        } catch (RuntimeException e) {
            sandbox.release(true);
            throw AgentErrors.translate(e, sandbox, "exec " + request.argv().getFirst());
        }
    }

    private ExecResult withExec(String id, ExecRequest request, Function<AgentClient, ExecResult> body) {
        ManagedSandbox sandbox = registry.get(id);
        String what = "exec " + request.argv().getFirst();
        AgentClient agent = sandbox.acquire(what, true);
        try {
            return body.apply(agent);
        } catch (RuntimeException e) {
            throw AgentErrors.translate(e, sandbox, what);
        } finally {
            sandbox.release(true);
        }
    }

    void writeFile(String id, String path, InputStream data, int mode, dev.basalt.api.GuestUser owner) {
        String p = GuestPaths.require(path);
        guest(id, "write " + p, agent -> {
            files.write(agent, p, data, mode, owner);
            return null;
        });
    }

    FileInfo readFile(String id, String path, OutputStream sink) {
        String p = GuestPaths.require(path);
        return guest(id, "read " + p, agent -> files.read(agent, p, sink));
    }

    FileInfo stat(String id, String path) {
        String p = GuestPaths.require(path);
        return guest(id, "stat " + p, agent -> files.stat(agent, p));
    }

    List<FileInfo> listFiles(String id, String path) {
        String p = GuestPaths.require(path);
        return guest(id, "list " + p, agent -> files.list(agent, p));
    }

    void mkdir(String id, String path, dev.basalt.api.GuestUser owner) {
        String p = GuestPaths.require(path);
        guest(id, "mkdir " + p, agent -> {
            files.mkdir(agent, p, owner);
            return null;
        });
    }

    void removeFile(String id, String path, boolean recursive) {
        String p = GuestPaths.require(path);
        if (p.equals("/") || p.matches("/+")) {
            throw new BasaltException.InvalidArgument("refusing to remove the guest's root directory");
        }
        guest(id, "remove " + p, agent -> {
            files.remove(agent, p, recursive);
            return null;
        });
    }

    void rename(String id, String from, String to) {
        String f = GuestPaths.require(from);
        String t = GuestPaths.require(to);
        guest(id, "rename " + f, agent -> {
            files.rename(agent, f, t);
            return null;
        });
    }

    private <T> T guest(String id, String what, Function<AgentClient, T> body) {
        ManagedSandbox sandbox = registry.get(id);
        AgentClient agent = sandbox.acquire(what, false);
        try {
            return body.apply(agent);
        } catch (RuntimeException e) {
            throw AgentErrors.translate(e, sandbox, what);
        } finally {
            sandbox.release(false);
        }
    }
}
