package dev.basalt.protocol;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One message of protocol version 1: the payload of a {@link Frame}. One record per
 * message type of {@code docs/protocol.md}; each validates its fields on construction
 * (non-null, no NUL in strings, integers within their wire width, data within the
 * frame cap), so every instance can be encoded. Records are immutable and thread-safe.
 * u32 fields are {@code long}, u64 fields are {@code long} read as unsigned.
 */
public sealed interface Message {

    /** The wire type of this message. */
    default MessageType type() {
        return MessageType.of(this);
    }

    // ---- host -> guest ----

    /** {@code HELLO}: opens a connection; {@code version} is a u32. */
    record Hello(long version) implements Message {
        public Hello {
            Checks.u32("version", version);
        }
    }

    /** {@code PING}: answered by {@code PONG} with the same (unsigned 64-bit) nonce. */
    record Ping(long nonce) implements Message {
    }

    /** {@code WINDOW}: returns {@code increment} (u32, > 0) bytes of send credit. */
    record Window(long increment) implements Message {
        public Window {
            Checks.u32("increment", increment);
            if (increment == 0) {
                throw new IllegalArgumentException("increment must be > 0");
            }
        }
    }

    /** {@code CANCEL}: aborts the stream. */
    record Cancel() implements Message {
    }

    /**
     * {@code EXEC}: starts a process. An empty {@code argv} is a valid frame that the agent
     * rejects with {@code INVALID_ARGUMENT}; {@code timeoutMs} is a u32 (0 = none); {@code uid} and
     * {@code gid} (u32) are the user it runs as with {@link ExecFlag#USER}, else 0.
     */
    record Exec(List<String> argv, List<String> env, String cwd, long timeoutMs, Set<ExecFlag> flags,
                int rows, int cols, long uid, long gid) implements Message {
        public Exec {
            argv = Checks.strs("argv", argv);
            env = Checks.strs("env", env);
            Checks.str("cwd", cwd);
            Checks.u32("timeoutMs", timeoutMs);
            flags = Set.copyOf(Objects.requireNonNull(flags, "flags"));
            Checks.u16("rows", rows);
            Checks.u16("cols", cols);
            Checks.u32("uid", uid);
            Checks.u32("gid", gid);
        }

        /** True when {@code flag} is set. */
        public boolean has(ExecFlag flag) {
            return flags.contains(flag);
        }

        /** The flags byte. */
        public int flagBits() {
            return Checks.bits(flags, ExecFlag::bit);
        }

        static Set<ExecFlag> flagsOf(int bits) {
            return Checks.flags(ExecFlag.class, bits, ExecFlag::bit);
        }
    }

    /** {@code STDIN}: bytes for the process's stdin (data frame). */
    record Stdin(Bytes data) implements Message {
        public Stdin {
            Checks.data(data);
        }

        public Stdin(byte[] data) {
            this(Bytes.copyOf(data));
        }
    }

    /** {@code STDIN_CLOSE}: closes the process's stdin. */
    record StdinClose() implements Message {
    }

    /** {@code SIGNAL}: sends {@code signo} to the process group. */
    record Signal(int signo) implements Message {
    }

    /** {@code RESIZE}: changes the PTY size (u16 each). */
    record Resize(int rows, int cols) implements Message {
        public Resize {
            Checks.u16("rows", rows);
            Checks.u16("cols", cols);
        }
    }

    /**
     * {@code FILE_WRITE}: opens {@code path} for writing with permission bits {@code mode} (u32), as
     * {@code uid} / {@code gid} (u32) with {@link FileWriteFlag#USER}, else as root (and 0).
     */
    record FileWrite(String path, long mode, Set<FileWriteFlag> flags, long uid, long gid) implements Message {
        public FileWrite {
            Checks.str("path", path);
            Checks.u32("mode", mode);
            flags = Set.copyOf(Objects.requireNonNull(flags, "flags"));
            Checks.u32("uid", uid);
            Checks.u32("gid", gid);
        }

        /** The flags byte. */
        public int flagBits() {
            return Checks.bits(flags, FileWriteFlag::bit);
        }

        static Set<FileWriteFlag> flagsOf(int bits) {
            return Checks.flags(FileWriteFlag.class, bits, FileWriteFlag::bit);
        }
    }

    /** {@code FILE_DATA}: a chunk of file content, in either direction (data frame). */
    record FileData(Bytes data) implements Message {
        public FileData {
            Checks.data(data);
        }

        public FileData(byte[] data) {
            this(Bytes.copyOf(data));
        }
    }

    /** {@code FILE_END}: the end of file content, in either direction. */
    record FileEnd() implements Message {
    }

    /**
     * {@code TUNNEL_ACCEPT}: opens a stream that carries the next TCP connection a guest program
     * makes to {@code 127.0.0.1:port} (the agent listens there from the first such request on);
     * the agent answers {@code TUNNEL_OPENED} when one arrives (port 0: {@code INVALID_ARGUMENT}).
     */
    record TunnelAccept(int port) implements Message {
        public TunnelAccept {
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException("port must be a u16, got " + port);
            }
        }
    }

    /** {@code TUNNEL_DATA}: bytes of a tunnelled connection, in either direction (data frame). */
    record TunnelData(Bytes data) implements Message {
        public TunnelData {
            Checks.data(data);
        }

        public TunnelData(byte[] data) {
            this(Bytes.copyOf(data));
        }
    }

    /** {@code TUNNEL_EOF}: the sender's side of a tunnelled connection will send nothing more (a half-close). */
    record TunnelEof() implements Message {
    }

    /** {@code TUNNEL_OPENED}: a guest program connected; the tunnel's data follows. */
    record TunnelOpened() implements Message {
    }

    /** {@code FILE_READ}: asks for a file's content. */
    record FileRead(String path) implements Message {
        public FileRead {
            Checks.str("path", path);
        }
    }

    /** {@code STAT}: asks for a path's metadata (symlinks not followed). */
    record Stat(String path) implements Message {
        public Stat {
            Checks.str("path", path);
        }
    }

    /** {@code LIST}: asks for a directory's entries. */
    record ListDir(String path) implements Message {
        public ListDir {
            Checks.str("path", path);
        }
    }

    /**
     * {@code MKDIR}: creates a directory and its parents with {@code mode} (u32); with
     * {@code asUser} (flag 0x01) as {@code uid} / {@code gid} (u32): its permissions, owned by it.
     */
    record Mkdir(String path, long mode, boolean asUser, long uid, long gid) implements Message {
        public Mkdir {
            Checks.str("path", path);
            Checks.u32("mode", mode);
            Checks.u32("uid", uid);
            Checks.u32("gid", gid);
        }

        /** As root. */
        public Mkdir(String path, long mode) {
            this(path, mode, false, 0, 0);
        }
    }

    /** {@code REMOVE}: removes a file, symlink or (empty, unless recursive) directory. */
    record Remove(String path, boolean recursive) implements Message {
        public Remove {
            Checks.str("path", path);
        }
    }

    /** {@code RENAME}: {@code rename(2)} from one path to another. */
    record Rename(String from, String to) implements Message {
        public Rename {
            Checks.str("from", from);
            Checks.str("to", to);
        }
    }

    /** {@code SHUTDOWN}: powers the guest off after answering {@code OK}. */
    record Shutdown() implements Message {
    }

    /**
     * {@code IDENTITY}: gives a restored or forked VM its own hostname, wall clock
     * ({@code timeNs}, an i64 of nanoseconds since the epoch) and entropy {@code seed}.
     * Only the wire rules are checked here; the agent answers {@code INVALID_ARGUMENT}
     * for a hostname that is not 1–64 bytes of {@code [A-Za-z0-9-]}, {@code timeNs <= 0}
     * or a seed outside 32–512 bytes.
     */
    record Identity(String hostname, long timeNs, Bytes seed) implements Message {
        public Identity {
            Checks.str("hostname", hostname);
            Checks.bytes("seed", seed);
        }

        public Identity(String hostname, long timeNs, byte[] seed) {
            this(hostname, timeNs, Bytes.copyOf(seed));
        }
    }

    // ---- guest -> host ----

    /** {@code OK}: the request succeeded (terminal). */
    record Ok() implements Message {
    }

    /** {@code HELLO_REPLY}: the agent's protocol version (u32), own version and kernel release. */
    record HelloReply(long version, String agentVersion, String kernelRelease) implements Message {
        public HelloReply {
            Checks.u32("version", version);
            Checks.str("agentVersion", agentVersion);
            Checks.str("kernelRelease", kernelRelease);
        }
    }

    /** {@code PONG}: the nonce of the {@code PING} it answers. */
    record Pong(long nonce) implements Message {
    }

    /** {@code ERROR}: the stream failed (terminal). */
    record Error(ErrorCode code, String message) implements Message {
        public Error {
            Objects.requireNonNull(code, "code");
            Checks.str("message", message);
        }
    }

    /** {@code EXEC_STARTED}: the process runs with this pid. */
    record ExecStarted(int pid) implements Message {
    }

    /** {@code STDOUT}: process output (data frame). */
    record Stdout(Bytes data) implements Message {
        public Stdout {
            Checks.data(data);
        }

        public Stdout(byte[] data) {
            this(Bytes.copyOf(data));
        }
    }

    /** {@code STDERR}: process error output (data frame). */
    record Stderr(Bytes data) implements Message {
        public Stderr {
            Checks.data(data);
        }

        public Stderr(byte[] data) {
            this(Bytes.copyOf(data));
        }
    }

    /** {@code EXIT}: how the process ended (terminal). */
    record Exit(ExitKind kind, int value) implements Message {
        public Exit {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** {@code STAT_RESULT}: metadata; {@code mode} is a u32, {@code size} an unsigned u64. */
    record StatResult(FileType fileType, long mode, long size, long mtimeMs) implements Message {
        public StatResult {
            Objects.requireNonNull(fileType, "fileType");
            Checks.u32("mode", mode);
        }
    }

    /** {@code DIR_ENTRIES}: some entries of a directory (more may follow, then {@code OK}). */
    record DirEntries(List<DirEntry> entries) implements Message {
        public DirEntries {
            entries = List.copyOf(Objects.requireNonNull(entries, "entries"));
        }
    }
}
