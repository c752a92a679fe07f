package dev.basalt.e2b.envd;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The JSON messages of envd's {@code process.Process} service, as the Connect protocol's JSON
 * codec carries them: lowerCamelCase fields, bytes in base64, 64-bit integers as strings, enums
 * by name, absent fields meaning their default. Written for Basalt from the protocol's public
 * description; unknown fields are ignored.
 */
public final class ProcessMessages {
    private ProcessMessages() {
    }

    /** What to run: {@code cmd} with {@code args}, extra environment and working directory. */
    public record ProcessConfig(String cmd, List<String> args, Map<String, String> envs, String cwd) {
        public ProcessConfig {
            args = args == null ? List.of() : List.copyOf(args);
            envs = envs == null ? Map.of() : Map.copyOf(envs);
        }
    }

    /** A terminal size. */
    public record Size(int cols, int rows) {
    }

    /** Run on a pseudo-terminal of this size. */
    public record Pty(Size size) {
    }

    public record StartRequest(ProcessConfig process, Pty pty, String tag, Boolean stdin) {
    }

    /** Names one process: by pid, or by the tag it was started with. */
    public record ProcessSelector(Integer pid, String tag) {
    }

    public record ConnectRequest(ProcessSelector process) {
    }

    public record ListRequest() {
    }

    public record ProcessInfo(ProcessConfig config, int pid, String tag) {
    }

    public record ListResponse(List<ProcessInfo> processes) {
    }

    public record StartEvent(int pid) {
    }

    /** One chunk of output: exactly one of the three is set. */
    public record DataEvent(byte[] stdout, byte[] stderr, byte[] pty) {
    }

    /**
     * How the process ended.
     *
     * @param exitCode its exit code, or -1 if a signal ended it
     * @param exited   true if it exited by itself
     * @param status   e.g. {@code exit status 1} or {@code signal: killed}
     * @param error    the same text for anything but a clean exit with code 0
     */
    public record EndEvent(int exitCode, boolean exited, String status, String error) {
    }

    public record KeepAlive() {
    }

    /** One event of a process stream: exactly one field is set. */
    public record ProcessEvent(StartEvent start, DataEvent data, EndEvent end, KeepAlive keepalive) {
        static ProcessEvent started(int pid) {
            return new ProcessEvent(new StartEvent(pid), null, null, null);
        }

        static ProcessEvent output(DataEvent data) {
            return new ProcessEvent(null, data, null, null);
        }

        static ProcessEvent ended(EndEvent end) {
            return new ProcessEvent(null, null, end, null);
        }
    }

    /** The response message of Start and Connect. */
    public record EventResponse(ProcessEvent event) {
        static final EventResponse KEEPALIVE = new EventResponse(new ProcessEvent(null, null, null, new KeepAlive()));
    }

    /** Input for a process: exactly one of the two is set. */
    public record ProcessInput(byte[] stdin, byte[] pty) {
    }

    public record SendInputRequest(ProcessSelector process, ProcessInput input) {
    }

    /** {@code signal} is an enum value: its name ({@code SIGNAL_SIGKILL}) or its number. */
    public record SendSignalRequest(ProcessSelector process, JsonNode signal) {
    }

    public record CloseStdinRequest(ProcessSelector process) {
    }

    public record UpdateRequest(ProcessSelector process, Pty pty) {
    }

    /** The empty response of SendInput, SendSignal, CloseStdin and Update. */
    public record Empty() {
        static final Empty INSTANCE = new Empty();
    }
}
