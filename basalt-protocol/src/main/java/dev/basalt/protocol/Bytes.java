package dev.basalt.protocol;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An immutable sequence of bytes carried by data messages ({@code STDIN}, {@code STDOUT},
 * {@code STDERR}, {@code FILE_DATA}). The array handed in is copied, and the array handed
 * out is a copy, so a {@code Bytes} can be shared freely between threads; use
 * {@link #asReadOnlyBuffer()} or {@link #writeTo} to read without copying.
 */
public final class Bytes {
    private static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] data;

    private Bytes(byte[] owned) {
        this.data = owned;
    }

    /** An empty sequence. */
    public static Bytes empty() {
        return EMPTY;
    }

    /** A copy of the whole array. */
    public static Bytes copyOf(byte[] data) {
        Objects.requireNonNull(data, "data");
        return data.length == 0 ? EMPTY : new Bytes(data.clone());
    }

    /** A copy of {@code length} bytes of {@code data} starting at {@code offset}. */
    public static Bytes copyOf(byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(data, "data").length);
        return length == 0 ? EMPTY : new Bytes(Arrays.copyOfRange(data, offset, offset + length));
    }

    /** A copy of the remaining bytes of {@code buffer}; the buffer's position moves to its limit. */
    public static Bytes copyOf(ByteBuffer buffer) {
        int n = buffer.remaining();
        if (n == 0) {
            return EMPTY;
        }
        byte[] copy = new byte[n];
        buffer.get(copy);
        return new Bytes(copy);
    }

    /** The number of bytes. */
    public int length() {
        return data.length;
    }

    /** True when there are no bytes. */
    public boolean isEmpty() {
        return data.length == 0;
    }

    /** A fresh copy of the bytes. */
    public byte[] toArray() {
        return data.clone();
    }

    /** A read-only view of the bytes, positioned at 0; no copy. */
    public ByteBuffer asReadOnlyBuffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** Puts every byte into {@code dst}. */
    public void writeTo(ByteBuffer dst) {
        dst.put(data);
    }

    /** Writes every byte to {@code out}. */
    public void writeTo(java.io.OutputStream out) throws java.io.IOException {
        out.write(data);
    }

    /** Lowercase hex of the bytes. */
    public String toHex() {
        return HexFormat.of().formatHex(data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes other && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return data.length <= 32 ? "hex:" + toHex() : data.length + " bytes";
    }
}
