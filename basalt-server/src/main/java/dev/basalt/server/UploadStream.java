package dev.basalt.server;

import dev.basalt.api.BasaltException;
import dev.basalt.grpc.v1.UploadRequest;
import java.io.IOException;
import java.io.InputStream;

/**
 * The chunks of an Upload as the {@link InputStream} the core's {@code writeFile} reads. Any problem
 * (client cancelled, a message that is not a chunk, a chunk over the limit) is thrown as an
 * {@link IOException}, which makes the core abandon the upload atomically; a protocol violation is also
 * kept in {@link #violation()} so the client gets INVALID_ARGUMENT rather than the core's I/O error.
 */
final class UploadStream extends InputStream {
    private final Inbound<UploadRequest> in;
    private final int maxChunk;
    private byte[] current = new byte[0];
    private int position;
    private boolean eof;
    private long count;
    private BasaltException.InvalidArgument violation;

    UploadStream(Inbound<UploadRequest> in, int maxChunk) {
        this.in = in;
        this.maxChunk = maxChunk;
    }

    long count() {
        return count;
    }

    BasaltException.InvalidArgument violation() {
        return violation;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (position == current.length) {
            if (eof || !next()) {
                return -1;
            }
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        count += n;
        return n;
    }

    private boolean next() throws IOException {
        UploadRequest m;
        try {
            m = in.take();
        } catch (BasaltException e) {
            throw new IOException("the upload was cancelled by the client", e);
        }
        if (m == null) {
            eof = true;
            return false;
        }
        if (!m.hasChunk()) {
            violation = new BasaltException.InvalidArgument("an Upload message after the header must be a chunk");
            throw new IOException(violation.getMessage());
        }
        if (m.getChunk().size() > maxChunk) {
            violation = new BasaltException.InvalidArgument("upload chunk of " + m.getChunk().size()
                    + " bytes is over the limit of " + maxChunk + " bytes: send smaller chunks");
            throw new IOException(violation.getMessage());
        }
        current = m.getChunk().toByteArray();
        position = 0;
        return true;
    }
}
