package dev.basalt.protocol;

import java.util.List;

/**
 * The canonical text of a frame, as used by {@code protocol/vectors.txt}:
 * {@code TYPE_NAME stream=<id>} then the payload fields in wire order as {@code name=value}
 * (integers in decimal, u32/u64 unsigned; {@code bytes} as {@code hex:...}; {@code str} as a
 * JSON string literal; {@code strs} as a JSON array; DIR_ENTRIES as
 * {@code entries=[{name,type,mode,size,mtime_ms},...]}). Also handy in logs.
 */
public final class CanonicalText {
    private CanonicalText() {
    }

    /** The canonical text of {@code frame}. */
    public static String format(Frame frame) {
        StringBuilder sb = new StringBuilder(64);
        Message message = frame.message();
        sb.append(message.type().name()).append(" stream=").append(Integer.toUnsignedString(frame.streamId()));
        switch (message) {
            case Message.Hello m -> field(sb, "version", m.version());
            case Message.Ping m -> sb.append(" nonce=").append(Long.toUnsignedString(m.nonce()));
            case Message.Window m -> field(sb, "increment", m.increment());
            case Message.Exec m -> {
                sb.append(" argv=");
                json(sb, m.argv());
                sb.append(" env=");
                json(sb, m.env());
                sb.append(" cwd=");
                json(sb, m.cwd());
                field(sb, "timeout_ms", m.timeoutMs());
                field(sb, "flags", m.flagBits());
                field(sb, "rows", m.rows());
                field(sb, "cols", m.cols());
                field(sb, "uid", m.uid());
                field(sb, "gid", m.gid());
            }
            case Message.Stdin m -> hex(sb, m.data());
            case Message.Signal m -> field(sb, "signo", m.signo());
            case Message.Resize m -> {
                field(sb, "rows", m.rows());
                field(sb, "cols", m.cols());
            }
            case Message.FileWrite m -> {
                strField(sb, "path", m.path());
                field(sb, "mode", m.mode());
                field(sb, "flags", m.flagBits());
                field(sb, "uid", m.uid());
                field(sb, "gid", m.gid());
            }
            case Message.FileData m -> hex(sb, m.data());
            case Message.TunnelAccept m -> field(sb, "port", m.port());
            case Message.TunnelData m -> hex(sb, m.data());
            case Message.FileRead m -> strField(sb, "path", m.path());
            case Message.Stat m -> strField(sb, "path", m.path());
            case Message.ListDir m -> strField(sb, "path", m.path());
            case Message.Mkdir m -> {
                strField(sb, "path", m.path());
                field(sb, "mode", m.mode());
                field(sb, "flags", m.asUser() ? 1 : 0);
                field(sb, "uid", m.uid());
                field(sb, "gid", m.gid());
            }
            case Message.Remove m -> {
                strField(sb, "path", m.path());
                field(sb, "recursive", m.recursive() ? 1 : 0);
            }
            case Message.Rename m -> {
                strField(sb, "from", m.from());
                strField(sb, "to", m.to());
            }
            case Message.Identity m -> {
                strField(sb, "hostname", m.hostname());
                field(sb, "time_ns", m.timeNs());
                sb.append(" seed=hex:").append(m.seed().toHex());
            }
            case Message.HelloReply m -> {
                field(sb, "version", m.version());
                strField(sb, "agent_version", m.agentVersion());
                strField(sb, "kernel_release", m.kernelRelease());
            }
            case Message.Pong m -> sb.append(" nonce=").append(Long.toUnsignedString(m.nonce()));
            case Message.Error m -> {
                field(sb, "code", m.code().code());
                strField(sb, "message", m.message());
            }
            case Message.ExecStarted m -> field(sb, "pid", m.pid());
            case Message.Stdout m -> hex(sb, m.data());
            case Message.Stderr m -> hex(sb, m.data());
            case Message.Exit m -> {
                field(sb, "kind", m.kind().code());
                field(sb, "value", m.value());
            }
            case Message.StatResult m -> {
                field(sb, "type", m.fileType().code());
                field(sb, "mode", m.mode());
                sb.append(" size=").append(Long.toUnsignedString(m.size()));
                field(sb, "mtime_ms", m.mtimeMs());
            }
            case Message.DirEntries m -> {
                sb.append(" entries=[");
                for (int i = 0; i < m.entries().size(); i++) {
                    DirEntry e = m.entries().get(i);
                    sb.append(i == 0 ? "{" : ",{");
                    json(sb, e.name());
                    sb.append(',').append(e.type().code()).append(',').append(e.mode())
                            .append(',').append(Long.toUnsignedString(e.size())).append(',').append(e.mtimeMs()).append('}');
                }
                sb.append(']');
            }
            case Message.Cancel m -> { }
            case Message.StdinClose m -> { }
            case Message.FileEnd m -> { }
            case Message.Shutdown m -> { }
            case Message.Ok m -> { }
            case Message.TunnelEof m -> { }
            case Message.TunnelOpened m -> { }
        }
        return sb.toString();
    }

    private static void field(StringBuilder sb, String name, long value) {
        sb.append(' ').append(name).append('=').append(value);
    }

    private static void strField(StringBuilder sb, String name, String value) {
        sb.append(' ').append(name).append('=');
        json(sb, value);
    }

    private static void hex(StringBuilder sb, Bytes data) {
        sb.append(" data=hex:").append(data.toHex());
    }

    private static void json(StringBuilder sb, List<String> values) {
        sb.append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            json(sb, values.get(i));
        }
        sb.append(']');
    }

    /** Appends {@code s} as a JSON string literal (short escapes, {@code \\u00xx} for other controls). */
    static void json(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
