package dev.basalt.e2b.connect;

import dev.basalt.api.BasaltException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One message of a Connect streaming body: a flags byte, a 32-bit big-endian length and that many
 * bytes of JSON. Flag {@link #END_STREAM} marks the server's last message, which carries the
 * outcome of the call instead of a response.
 *
 * @param flags the flags byte
 * @param data  the message bytes
 */
public record Envelope(int flags, byte[] data) {
    /** The message is compressed (refused: this server speaks identity only). */
    public static final int COMPRESSED = 0x01;
    /** The end-of-stream message. */
    public static final int END_STREAM = 0x02;
    /** Bytes before the message: flags and length. */
    public static final int PREFIX = 5;

    public Envelope {
        if (flags < 0 || flags > 0xFF) {
            throw new IllegalArgumentException("flags must fit in a byte, got " + flags);
        }
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /**
     * Reads one envelope, or returns null at a clean end of input (no byte of a next envelope).
     *
     * @throws BasaltException.InvalidArgument for a truncated envelope or one larger than {@code maxBytes}
     *         (its bytes are not read)
     */
    public static Envelope read(InputStream in, int maxBytes) throws IOException {
        int flags = in.read();
        if (flags < 0) {
            return null;
        }
        byte[] length = readFully(in, 4, "the length of an envelope");
        long size = ((length[0] & 0xFFL) << 24) | ((length[1] & 0xFF) << 16) | ((length[2] & 0xFF) << 8) | (length[3] & 0xFF);
        if (size > maxBytes) {
            throw new BasaltException.InvalidArgument("message of " + size + " bytes is larger than the limit of " + maxBytes + " bytes");
        }
        return new Envelope(flags, readFully(in, (int) size, "a message of " + size + " bytes"));
    }

    /** Writes this envelope (not flushed). */
    public void write(OutputStream out) throws IOException {
        byte[] frame = new byte[PREFIX + data.length];
        frame[0] = (byte) flags;
        frame[1] = (byte) (data.length >>> 24);
        frame[2] = (byte) (data.length >>> 16);
        frame[3] = (byte) (data.length >>> 8);
        frame[4] = (byte) data.length;
        System.arraycopy(data, 0, frame, PREFIX, data.length);
        out.write(frame);
    }

    private static byte[] readFully(InputStream in, int n, String what) throws IOException {
        byte[] buf = in.readNBytes(n);
        if (buf.length < n) {
            throw new BasaltException.InvalidArgument("the request body ends inside " + what
                    + " (" + buf.length + " of " + n + " bytes)", new EOFException());
        }
        return buf;
    }
}
