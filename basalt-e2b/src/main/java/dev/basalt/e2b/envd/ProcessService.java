package dev.basalt.e2b.envd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.connect.Call;
import dev.basalt.e2b.connect.ConnectRouter;
import dev.basalt.e2b.connect.StreamSink;
import dev.basalt.e2b.envd.ProcessMessages.CloseStdinRequest;
import dev.basalt.e2b.envd.ProcessMessages.ConnectRequest;
import dev.basalt.e2b.envd.ProcessMessages.Empty;
import dev.basalt.e2b.envd.ProcessMessages.EventResponse;
import dev.basalt.e2b.envd.ProcessMessages.ListRequest;
import dev.basalt.e2b.envd.ProcessMessages.ListResponse;
import dev.basalt.e2b.envd.ProcessMessages.ProcessConfig;
import dev.basalt.e2b.envd.ProcessMessages.ProcessInfo;
import dev.basalt.e2b.envd.ProcessMessages.SendInputRequest;
import dev.basalt.e2b.envd.ProcessMessages.SendSignalRequest;
import dev.basalt.e2b.envd.ProcessMessages.StartRequest;
import dev.basalt.e2b.envd.ProcessMessages.UpdateRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * envd's {@code process.Process} over the port's interactive processes: Start, Connect, List,
 * SendInput, CloseStdin, SendSignal and Update. Commands run as the call's user, with its login
 * environment (HOME, USER, LOGNAME, SHELL), under the sandbox's envVars and the call's envs. A started process runs until it exits, whatever
 * happens to the streams watching it; the Start call's {@code Connect-Timeout-Ms} is its time
 * limit (the process group is killed when it passes), as in envd.
 */
final class ProcessService {
    static final String SERVICE = "process.Process";
    /** The longest time limit the agent takes (its timeout is 32-bit milliseconds). */
    private static final Duration MAX_TIMEOUT = Duration.ofMillis(0xFFFF_FFFFL);

    private final Sandboxes port;
    private final Map<String, ProcessTable> tables = new ConcurrentHashMap<>();

    ProcessService(Sandboxes port) {
        this.port = port;
    }

    void register(ConnectRouter<EnvdContext> router) {
        router.serverStream(SERVICE, "Start", StartRequest.class, EventResponse.KEEPALIVE, this::start)
                .serverStream(SERVICE, "Connect", ConnectRequest.class, EventResponse.KEEPALIVE, this::connect)
                .unary(SERVICE, "List", ListRequest.class, this::list)
                .unary(SERVICE, "SendInput", SendInputRequest.class, this::sendInput)
                .unary(SERVICE, "CloseStdin", CloseStdinRequest.class, this::closeStdin)
                .unary(SERVICE, "SendSignal", SendSignalRequest.class, this::sendSignal)
                .unary(SERVICE, "Update", UpdateRequest.class, this::update);
    }

    private ProcessTable table(String sandboxId) {
        return tables.computeIfAbsent(sandboxId, id -> new ProcessTable());
    }

    void forget(String sandboxId) {
        tables.remove(sandboxId);
    }

    private void start(Call<EnvdContext> call, StartRequest request, StreamSink<EventResponse> sink) {
        EnvdContext ctx = call.context();
        ProcessConfig config = request.process();
        if (config == null || config.cmd() == null || config.cmd().isEmpty()) {
            throw new BasaltException.InvalidArgument("process.cmd is empty: give the program to run");
        }
        List<String> argv = new ArrayList<>();
        argv.add(config.cmd());
        argv.addAll(config.args());
        Map<String, String> env = new HashMap<>(ctx.user().loginEnv());
        env.putAll(ctx.sandbox().envVars());
        env.putAll(config.envs());
        String cwd = config.cwd() == null || config.cwd().isEmpty() ? ctx.user().home() : ctx.resolve(config.cwd());
        boolean pty = request.pty() != null;
        ExecRequest exec = new ExecRequest(argv, env, cwd, null, call.timeout().filter(t -> !t.isZero())
                .map(t -> t.compareTo(MAX_TIMEOUT) > 0 ? MAX_TIMEOUT : t).orElse(null), pty, ctx.user().asGuestUser());
        TrackedProcess tracked = new TrackedProcess(config, request.tag(), pty);
        ExecProcess process;
        try {
            process = port.start(ctx.sandboxId(), exec, tracked);
        } catch (RuntimeException e) {
            tracked.abandon();
            throw e;
        }
        if (pty && request.pty().size() != null && request.pty().size().rows() > 0 && request.pty().size().cols() > 0) {
            process.resize(request.pty().size().rows(), request.pty().size().cols());
        }
        if (!pty && Boolean.FALSE.equals(request.stdin())) {
            process.closeStdin();
        }
        tracked.announce(process, sink);
        table(ctx.sandboxId()).add(tracked);
        follow(tracked, sink);
    }

    private void connect(Call<EnvdContext> call, ConnectRequest request, StreamSink<EventResponse> sink) {
        TrackedProcess tracked = table(call.context().sandboxId()).any(request.process());
        tracked.connect(sink);
        follow(tracked, sink);
    }

    /** Returns when the process has ended (its end event sent) or the stream closed. */
    private static void follow(TrackedProcess tracked, StreamSink<EventResponse> sink) {
        CompletableFuture.anyOf(tracked.end(), sink.closed()).join();
    }

    private ListResponse list(Call<EnvdContext> call, ListRequest request) {
        List<ProcessInfo> processes = new ArrayList<>();
        for (TrackedProcess p : table(call.context().sandboxId()).running()) {
            processes.add(new ProcessInfo(p.config(), p.pid(), p.tag()));
        }
        return new ListResponse(processes);
    }

    private Empty sendInput(Call<EnvdContext> call, SendInputRequest request) {
        TrackedProcess tracked = table(call.context().sandboxId()).running(request.process());
        if (request.input() == null) {
            throw new BasaltException.InvalidArgument("input is missing: give stdin or pty bytes");
        }
        byte[] data = request.input().stdin() != null ? request.input().stdin() : request.input().pty();
        if (data == null) {
            throw new BasaltException.InvalidArgument("input is empty: give stdin or pty bytes");
        }
        if (data.length > 0) {
            tracked.process().writeStdin(data);
        }
        return Empty.INSTANCE;
    }

    private Empty closeStdin(Call<EnvdContext> call, CloseStdinRequest request) {
        table(call.context().sandboxId()).running(request.process()).process().closeStdin();
        return Empty.INSTANCE;
    }

    private Empty sendSignal(Call<EnvdContext> call, SendSignalRequest request) {
        TrackedProcess tracked = table(call.context().sandboxId()).running(request.process());
        tracked.process().signal(signal(request.signal()));
        return Empty.INSTANCE;
    }

    private Empty update(Call<EnvdContext> call, UpdateRequest request) {
        TrackedProcess tracked = table(call.context().sandboxId()).running(request.process());
        if (request.pty() != null && request.pty().size() != null) {
            tracked.process().resize(request.pty().size().rows(), request.pty().size().cols());
        }
        return Empty.INSTANCE;
    }

    /** The Signal enum: {@code SIGNAL_SIGKILL} (9) and {@code SIGNAL_SIGTERM} (15), by name or number. */
    static int signal(JsonNode value) {
        if (value != null && value.isTextual()) {
            return switch (value.asText()) {
                case "SIGNAL_SIGKILL" -> 9;
                case "SIGNAL_SIGTERM" -> 15;
                default -> throw new BasaltException.InvalidArgument("signal '" + value.asText()
                        + "' is unknown: use SIGNAL_SIGKILL or SIGNAL_SIGTERM");
            };
        }
        if (value != null && value.canConvertToInt() && (value.asInt() == 9 || value.asInt() == 15)) {
            return value.asInt();
        }
        throw new BasaltException.InvalidArgument("signal " + value + " is not one envd sends: use SIGNAL_SIGKILL (9) or SIGNAL_SIGTERM (15)");
    }
}
