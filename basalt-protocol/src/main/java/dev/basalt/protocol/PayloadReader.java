package dev.basalt.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the primitive types of the protocol from one payload; any field running past
 * the end throws {@link MalformedFrameException} ({@code BAD_FRAME}). Strings are
 * decoded leniently: invalid UTF-8 becomes U+FFFD (file names on Linux are bytes), unless
 * the string would then no longer fit in a frame.
 */
final class PayloadReader {
    private final ByteBuffer buf;

    PayloadReader(ByteBuffer payload) {
        this.buf = payload;
    }

    private void need(int n, String what) {
        if (buf.remaining() < n) {
            throw bad(what + " runs past the end of the payload");
        }
    }

    static MalformedFrameException bad(String detail) {
        return new MalformedFrameException(ErrorCode.BAD_FRAME, detail);
    }

    int u8(String what) {
        need(1, what);
        return buf.get() & 0xFF;
    }

    int u16(String what) {
        need(2, what);
        return buf.getShort() & 0xFFFF;
    }

    long u32(String what) {
        need(4, what);
        return buf.getInt() & 0xFFFF_FFFFL;
    }

    int i32(String what) {
        need(4, what);
        return buf.getInt();
    }

    long i64(String what) {
        need(8, what);
        return buf.getLong();
    }

    boolean bool(String what) {
        int v = u8(what);
        if (v > 1) {
            throw bad(what + " must be 0 or 1, got " + v);
        }
        return v == 1;
    }

    Bytes bytes(String what) {
        int n = length(what);
        ByteBuffer slice = buf.slice(buf.position(), n);
        buf.position(buf.position() + n);
        return Bytes.copyOf(slice);
    }

    private int length(String what) {
        long n = u32(what + " length");
        if (n > buf.remaining()) {
            throw bad(what + " of " + n + " bytes runs past the end of the payload");
        }
        return (int) n;
    }

    String str(String what) {
        int n = length(what);
        int start = buf.position();
        for (int i = start; i < start + n; i++) {
            if (buf.get(i) == 0) {
                throw bad(what + " contains a NUL byte");
            }
        }
        String s;
        if (buf.hasArray()) {
            s = new String(buf.array(), buf.arrayOffset() + start, n, StandardCharsets.UTF_8);
        } else {
            byte[] tmp = new byte[n];
            buf.get(start, tmp);
            s = new String(tmp, StandardCharsets.UTF_8);
        }
        // a decoded string is never longer than n chars; above n/3 its U+FFFDs may not fit
        if (n > Protocol.MAX_PAYLOAD / 3 && FrameCodec.utf8Length(s) > Protocol.MAX_PAYLOAD) {
            throw bad(what + " of " + n + " bytes holds invalid UTF-8 that would encode again above the "
                    + Protocol.MAX_PAYLOAD + "-byte cap");
        }
        buf.position(start + n);
        return s;
    }

    List<String> strs(String what) {
        long count = u32(what + " count");
        if (count * 4 > buf.remaining()) {
            throw bad(what + " count " + count + " runs past the end of the payload");
        }
        List<String> out = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            out.add(str(what + "[" + i + "]"));
        }
        return out;
    }

    /** Minimum wire size of one DIR_ENTRIES entry (empty name). */
    static final int MIN_ENTRY = 4 + 1 + 4 + 8 + 8;

    long count(String what, int minEach) {
        long count = u32(what + " count");
        if (count * minEach > buf.remaining()) {
            throw bad(what + " count " + count + " runs past the end of the payload");
        }
        return count;
    }

    void end() {
        if (buf.hasRemaining()) {
            throw bad(buf.remaining() + " trailing bytes after the last field");
        }
    }
}
