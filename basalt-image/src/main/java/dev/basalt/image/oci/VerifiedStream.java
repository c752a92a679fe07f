package dev.basalt.image.oci;

import dev.basalt.api.BasaltException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Reads a blob while hashing it: more bytes than its descriptor's size, or a different digest
 * or size at the end of the stream, fail the read with a message naming the blob. Whoever
 * consumes the blob must read it to its end (or the check never runs).
 */
public final class VerifiedStream extends FilterInputStream {
    private final Digest expected;
    private final long size;
    private final String what;
    private final MessageDigest hasher;
    private long read;
    private boolean checked;

    /**
     * @param size the size the blob must have, or -1 if unknown (then only the digest is checked)
     * @param what names the blob in errors
     */
    public VerifiedStream(InputStream in, Digest expected, long size, String what) {
        super(in);
        this.expected = expected;
        this.size = size;
        this.what = what;
        this.hasher = expected.newHasher();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
            check();
            return -1;
        }
        hasher.update(b, off, n);
        read += n;
        if (size >= 0 && read > size) {
            throw new BasaltException.InvalidArgument(what + " is larger than the " + size + " bytes its descriptor says;"
                    + " the image is refused");
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[8192];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void check() {
        if (checked) {
            return;
        }
        checked = true;
        if (size >= 0 && read != size) {
            throw new BasaltException.InvalidArgument(what + " has " + read + " bytes, its descriptor says " + size
                    + "; the image is refused");
        }
        String got = HexFormat.of().formatHex(hasher.digest());
        if (!got.equals(expected.hex())) {
            throw new BasaltException.InvalidArgument(what + " does not match its digest: expected " + expected
                    + ", got " + expected.algorithm() + ":" + got + "; the image is refused");
        }
    }
}
