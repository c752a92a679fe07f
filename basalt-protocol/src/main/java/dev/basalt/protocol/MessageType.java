package dev.basalt.protocol;

/** The message types of protocol version 1 with their wire codes. */
public enum MessageType {
    HELLO(0x01), PING(0x02), WINDOW(0x03), CANCEL(0x04),
    EXEC(0x10), STDIN(0x11), STDIN_CLOSE(0x12), SIGNAL(0x13), RESIZE(0x14),
    FILE_WRITE(0x20), FILE_DATA(0x21), FILE_END(0x22), FILE_READ(0x23),
    STAT(0x24), LIST(0x25), MKDIR(0x26), REMOVE(0x27), RENAME(0x28),
    SHUTDOWN(0x30), IDENTITY(0x31),
    TUNNEL_ACCEPT(0x40), TUNNEL_DATA(0x41), TUNNEL_EOF(0x42),
    OK(0x80), HELLO_REPLY(0x81), PONG(0x82), ERROR(0x8F),
    EXEC_STARTED(0x90), STDOUT(0x91), STDERR(0x92), EXIT(0x93),
    STAT_RESULT(0xA1), DIR_ENTRIES(0xA2),
    TUNNEL_OPENED(0xB0);

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    /** The u8 value on the wire. */
    public int code() {
        return code;
    }

    /** True for {@code STDIN}, {@code STDOUT}, {@code STDERR}, {@code FILE_DATA}, {@code TUNNEL_DATA}: frames that consume credit. */
    public boolean isData() {
        return this == STDIN || this == STDOUT || this == STDERR || this == FILE_DATA || this == TUNNEL_DATA;
    }

    /** The type with this wire code, or {@code null} if there is none. */
    public static MessageType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** The type of {@code message}. */
    public static MessageType of(Message message) {
        return switch (message) {
            case Message.Hello m -> HELLO;
            case Message.Ping m -> PING;
            case Message.Window m -> WINDOW;
            case Message.Cancel m -> CANCEL;
            case Message.Exec m -> EXEC;
            case Message.Stdin m -> STDIN;
            case Message.StdinClose m -> STDIN_CLOSE;
            case Message.Signal m -> SIGNAL;
            case Message.Resize m -> RESIZE;
            case Message.FileWrite m -> FILE_WRITE;
            case Message.FileData m -> FILE_DATA;
            case Message.FileEnd m -> FILE_END;
            case Message.FileRead m -> FILE_READ;
            case Message.Stat m -> STAT;
            case Message.ListDir m -> LIST;
            case Message.Mkdir m -> MKDIR;
            case Message.Remove m -> REMOVE;
            case Message.Rename m -> RENAME;
            case Message.Shutdown m -> SHUTDOWN;
            case Message.Identity m -> IDENTITY;
            case Message.TunnelAccept m -> TUNNEL_ACCEPT;
            case Message.TunnelData m -> TUNNEL_DATA;
            case Message.TunnelEof m -> TUNNEL_EOF;
            case Message.TunnelOpened m -> TUNNEL_OPENED;
            case Message.Ok m -> OK;
            case Message.HelloReply m -> HELLO_REPLY;
            case Message.Pong m -> PONG;
            case Message.Error m -> ERROR;
            case Message.ExecStarted m -> EXEC_STARTED;
            case Message.Stdout m -> STDOUT;
            case Message.Stderr m -> STDERR;
            case Message.Exit m -> EXIT;
            case Message.StatResult m -> STAT_RESULT;
            case Message.DirEntries m -> DIR_ENTRIES;
        };
    }
}
