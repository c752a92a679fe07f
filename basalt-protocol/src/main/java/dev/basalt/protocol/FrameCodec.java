package dev.basalt.protocol;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes frames to bytes and decodes one complete payload to a {@link Message}.
 * Stateless and thread-safe; for a byte stream use {@link FrameDecoder}.
 */
public final class FrameCodec {
    private FrameCodec() {
    }

    /**
     * Encodes {@code frame} (length prefix included).
     *
     * @throws IllegalArgumentException if the payload exceeds {@link Protocol#MAX_PAYLOAD}
     */
    public static byte[] encode(Frame frame) {
        int size = 9 + payloadSize(frame.message());
        ByteBuffer buf = ByteBuffer.allocate(size);
        encode(frame, buf);
        return buf.array();
    }

    /**
     * Writes {@code frame} (length prefix included) at {@code dst}'s position, advancing it.
     *
     * @throws IllegalArgumentException if the payload exceeds {@link Protocol#MAX_PAYLOAD}
     * @throws BufferOverflowException  if {@code dst} has too little room
     */
    public static void encode(Frame frame, ByteBuffer dst) {
        int payload = payloadSize(frame.message());
        if (payload > Protocol.MAX_PAYLOAD) {
            throw new IllegalArgumentException(frame.message().type() + " payload of " + payload
                    + " bytes exceeds the " + Protocol.MAX_PAYLOAD + "-byte cap");
        }
        if (dst.remaining() < 9 + payload) {
            throw new BufferOverflowException();
        }
        dst.putInt(5 + payload).putInt(frame.streamId()).put((byte) frame.message().type().code());
        writePayload(frame.message(), dst);
    }

    /** The encoded size of {@code message}'s payload, in bytes. */
    public static int payloadSize(Message message) {
        return switch (message) {
            case Message.Hello m -> 4;
            case Message.Ping m -> 8;
            case Message.Window m -> 4;
            case Message.Exec m -> strsSize(m.argv()) + strsSize(m.env()) + strSize(m.cwd()) + 4 + 1 + 2 + 2 + 4 + 4;
            case Message.Stdin m -> 4 + m.data().length();
            case Message.Signal m -> 4;
            case Message.Resize m -> 4;
            case Message.FileWrite m -> strSize(m.path()) + 4 + 1 + 4 + 4;
            case Message.FileData m -> 4 + m.data().length();
            case Message.TunnelAccept m -> 2;
            case Message.TunnelData m -> 4 + m.data().length();
            case Message.TunnelEof m -> 0;
            case Message.TunnelOpened m -> 0;
            case Message.FileRead m -> strSize(m.path());
            case Message.Stat m -> strSize(m.path());
            case Message.ListDir m -> strSize(m.path());
            case Message.Mkdir m -> strSize(m.path()) + 4 + 1 + 4 + 4;
            case Message.Remove m -> strSize(m.path()) + 1;
            case Message.Rename m -> strSize(m.from()) + strSize(m.to());
            case Message.Identity m -> strSize(m.hostname()) + 8 + 4 + m.seed().length();
            case Message.HelloReply m -> 4 + strSize(m.agentVersion()) + strSize(m.kernelRelease());
            case Message.Pong m -> 8;
            case Message.Error m -> 2 + strSize(m.message());
            case Message.ExecStarted m -> 4;
            case Message.Stdout m -> 4 + m.data().length();
            case Message.Stderr m -> 4 + m.data().length();
            case Message.Exit m -> 5;
            case Message.StatResult m -> 1 + 4 + 8 + 8;
            case Message.DirEntries m -> {
                int n = 4;
                for (DirEntry e : m.entries()) {
                    n += strSize(e.name()) + 1 + 4 + 8 + 8;
                }
                yield n;
            }
            case Message.Cancel m -> 0;
            case Message.StdinClose m -> 0;
            case Message.FileEnd m -> 0;
            case Message.Shutdown m -> 0;
            case Message.Ok m -> 0;
        };
    }

    private static int strSize(String s) {
        return 4 + utf8Length(s);
    }

    private static int strsSize(List<String> list) {
        int n = 4;
        for (String s : list) {
            n += strSize(s);
        }
        return n;
    }

    /** The length of {@code s} in UTF-8 as {@link #encode} writes it. */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1; // a lone surrogate encodes as '?'
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static void writePayload(Message message, ByteBuffer b) {
        switch (message) {
            case Message.Hello m -> b.putInt((int) m.version());
            case Message.Ping m -> b.putLong(m.nonce());
            case Message.Window m -> b.putInt((int) m.increment());
            case Message.Exec m -> {
                putStrs(b, m.argv());
                putStrs(b, m.env());
                putStr(b, m.cwd());
                b.putInt((int) m.timeoutMs()).put((byte) m.flagBits())
                        .putShort((short) m.rows()).putShort((short) m.cols())
                        .putInt((int) m.uid()).putInt((int) m.gid());
            }
            case Message.Stdin m -> putBytes(b, m.data());
            case Message.Signal m -> b.putInt(m.signo());
            case Message.Resize m -> b.putShort((short) m.rows()).putShort((short) m.cols());
            case Message.FileWrite m -> {
                putStr(b, m.path());
                b.putInt((int) m.mode()).put((byte) m.flagBits()).putInt((int) m.uid()).putInt((int) m.gid());
            }
            case Message.FileData m -> putBytes(b, m.data());
            case Message.TunnelAccept m -> b.putShort((short) m.port());
            case Message.TunnelData m -> putBytes(b, m.data());
            case Message.TunnelEof m -> { }
            case Message.TunnelOpened m -> { }
            case Message.FileRead m -> putStr(b, m.path());
            case Message.Stat m -> putStr(b, m.path());
            case Message.ListDir m -> putStr(b, m.path());
            case Message.Mkdir m -> {
                putStr(b, m.path());
                b.putInt((int) m.mode()).put((byte) (m.asUser() ? 1 : 0)).putInt((int) m.uid()).putInt((int) m.gid());
            }
            case Message.Remove m -> {
                putStr(b, m.path());
                b.put((byte) (m.recursive() ? 1 : 0));
            }
            case Message.Rename m -> {
                putStr(b, m.from());
                putStr(b, m.to());
            }
            case Message.Identity m -> {
                putStr(b, m.hostname());
                b.putLong(m.timeNs());
                putBytes(b, m.seed());
            }
            case Message.HelloReply m -> {
                b.putInt((int) m.version());
                putStr(b, m.agentVersion());
                putStr(b, m.kernelRelease());
            }
            case Message.Pong m -> b.putLong(m.nonce());
            case Message.Error m -> {
                b.putShort((short) m.code().code());
                putStr(b, m.message());
            }
            case Message.ExecStarted m -> b.putInt(m.pid());
            case Message.Stdout m -> putBytes(b, m.data());
            case Message.Stderr m -> putBytes(b, m.data());
            case Message.Exit m -> b.put((byte) m.kind().code()).putInt(m.value());
            case Message.StatResult m -> b.put((byte) m.fileType().code()).putInt((int) m.mode())
                    .putLong(m.size()).putLong(m.mtimeMs());
            case Message.DirEntries m -> {
                b.putInt(m.entries().size());
                for (DirEntry e : m.entries()) {
                    putStr(b, e.name());
                    b.put((byte) e.type().code()).putInt((int) e.mode()).putLong(e.size()).putLong(e.mtimeMs());
                }
            }
            case Message.Cancel m -> { }
            case Message.StdinClose m -> { }
            case Message.FileEnd m -> { }
            case Message.Shutdown m -> { }
            case Message.Ok m -> { }
        }
    }

    private static void putBytes(ByteBuffer b, Bytes data) {
        b.putInt(data.length());
        data.writeTo(b);
    }

    private static void putStr(ByteBuffer b, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        b.putInt(utf8.length).put(utf8);
    }

    private static void putStrs(ByteBuffer b, List<String> list) {
        b.putInt(list.size());
        for (String s : list) {
            putStr(b, s);
        }
    }

    /**
     * Decodes the payload of one frame of type {@code typeCode}; the buffer's remaining
     * bytes are exactly the payload. Never throws: a bad payload yields a {@link FrameError}.
     */
    public static Decoded decode(int streamId, int typeCode, ByteBuffer payload) {
        MessageType type = MessageType.fromCode(typeCode);
        if (type == null) {
            return new FrameError(streamId, ErrorCode.UNKNOWN_TYPE, String.format("unknown message type 0x%02X", typeCode));
        }
        try {
            return new Frame(streamId, decodePayload(type, payload));
        } catch (MalformedFrameException e) {
            return new FrameError(streamId, e.code(), type + ": " + e.getMessage());
        } catch (RuntimeException e) {
            // a bug of this decoder, not of the frame (FrameFuzzTest hunts for these): the
            // channel still stays in sync, and the detail says what went wrong
            return new FrameError(streamId, ErrorCode.BAD_FRAME, type + ": decoder failure: " + e);
        }
    }

    /**
     * The inner decoder: the message in {@code payload} (its remaining bytes, consumed).
     * For any input it returns a message that {@link #encode(Frame)} accepts, or throws
     * {@link MalformedFrameException}; any other exception is a bug. Package-private for
     * the fuzz test, which must see what {@link #decode} would turn into {@code BAD_FRAME}.
     */
    static Message decodePayload(MessageType type, ByteBuffer payload) {
        PayloadReader r = new PayloadReader(payload);
        Message m = readPayload(type, r);
        r.end();
        int size = payloadSize(m);
        if (size > Protocol.MAX_PAYLOAD) {
            // only lenient UTF-8 grows a payload: each invalid byte becomes a 3-byte U+FFFD
            throw PayloadReader.bad("strings with invalid UTF-8 would encode again as " + size
                    + " bytes, above the " + Protocol.MAX_PAYLOAD + "-byte cap");
        }
        return m;
    }

    private static Message readPayload(MessageType type, PayloadReader r) {
        return switch (type) {
            case HELLO -> new Message.Hello(r.u32("version"));
            case PING -> new Message.Ping(r.i64("nonce"));
            case WINDOW -> {
                long inc = r.u32("increment");
                if (inc == 0) {
                    throw PayloadReader.bad("increment must be > 0");
                }
                yield new Message.Window(inc);
            }
            case CANCEL -> new Message.Cancel();
            case EXEC -> {
                List<String> argv = r.strs("argv");
                List<String> env = r.strs("env");
                String cwd = r.str("cwd");
                long timeout = r.u32("timeout_ms");
                int flags = r.u8("flags");
                int rows = r.u16("rows");
                int cols = r.u16("cols");
                long uid = r.u32("uid");
                long gid = r.u32("gid");
                checkFlags(flags, 0x0F, "EXEC");
                yield new Message.Exec(argv, env, cwd, timeout, Message.Exec.flagsOf(flags), rows, cols, uid, gid);
            }
            case STDIN -> new Message.Stdin(r.bytes("data"));
            case STDIN_CLOSE -> new Message.StdinClose();
            case SIGNAL -> new Message.Signal(r.i32("signo"));
            case RESIZE -> new Message.Resize(r.u16("rows"), r.u16("cols"));
            case FILE_WRITE -> {
                String path = r.str("path");
                long mode = r.u32("mode");
                int flags = r.u8("flags");
                long uid = r.u32("uid");
                long gid = r.u32("gid");
                checkFlags(flags, 0x07, "FILE_WRITE");
                yield new Message.FileWrite(path, mode, Message.FileWrite.flagsOf(flags), uid, gid);
            }
            case FILE_DATA -> new Message.FileData(r.bytes("data"));
            case TUNNEL_ACCEPT -> new Message.TunnelAccept(r.u16("port"));
            case TUNNEL_DATA -> new Message.TunnelData(r.bytes("data"));
            case TUNNEL_EOF -> new Message.TunnelEof();
            case TUNNEL_OPENED -> new Message.TunnelOpened();
            case FILE_END -> new Message.FileEnd();
            case FILE_READ -> new Message.FileRead(r.str("path"));
            case STAT -> new Message.Stat(r.str("path"));
            case LIST -> new Message.ListDir(r.str("path"));
            case MKDIR -> {
                String path = r.str("path");
                long mode = r.u32("mode");
                int flags = r.u8("flags");
                long uid = r.u32("uid");
                long gid = r.u32("gid");
                checkFlags(flags, 0x01, "MKDIR");
                yield new Message.Mkdir(path, mode, flags == 1, uid, gid);
            }
            case REMOVE -> new Message.Remove(r.str("path"), r.bool("recursive"));
            case RENAME -> new Message.Rename(r.str("from"), r.str("to"));
            case SHUTDOWN -> new Message.Shutdown();
            case IDENTITY -> new Message.Identity(r.str("hostname"), r.i64("time_ns"), r.bytes("seed"));
            case OK -> new Message.Ok();
            case HELLO_REPLY -> new Message.HelloReply(r.u32("version"), r.str("agent_version"), r.str("kernel_release"));
            case PONG -> new Message.Pong(r.i64("nonce"));
            case ERROR -> {
                int code = r.u16("code");
                ErrorCode ec = ErrorCode.fromCode(code);
                if (ec == null) {
                    throw PayloadReader.bad("unknown error code " + code);
                }
                yield new Message.Error(ec, r.str("message"));
            }
            case EXEC_STARTED -> new Message.ExecStarted(r.i32("pid"));
            case STDOUT -> new Message.Stdout(r.bytes("data"));
            case STDERR -> new Message.Stderr(r.bytes("data"));
            case EXIT -> new Message.Exit(enumValue(ExitKind.values(), r.u8("kind"), "kind"), r.i32("value"));
            case STAT_RESULT -> new Message.StatResult(enumValue(FileType.values(), r.u8("type"), "type"),
                    r.u32("mode"), r.i64("size"), r.i64("mtime_ms"));
            case DIR_ENTRIES -> {
                long count = r.count("entries", PayloadReader.MIN_ENTRY);
                List<DirEntry> entries = new ArrayList<>((int) count);
                for (int i = 0; i < count; i++) {
                    entries.add(new DirEntry(r.str("name"), enumValue(FileType.values(), r.u8("type"), "type"),
                            r.u32("mode"), r.i64("size"), r.i64("mtime_ms")));
                }
                yield new Message.DirEntries(entries);
            }
        };
    }

    private static void checkFlags(int flags, int known, String what) {
        if ((flags & ~known) != 0) {
            throw new MalformedFrameException(ErrorCode.INVALID_ARGUMENT,
                    String.format("%s flags 0x%02X has unknown bits", what, flags));
        }
    }

    private static <E extends Enum<E>> E enumValue(E[] values, int code, String what) {
        if (code >= values.length) {
            throw PayloadReader.bad(what + " " + code + " is not defined");
        }
        return values[code];
    }
}
