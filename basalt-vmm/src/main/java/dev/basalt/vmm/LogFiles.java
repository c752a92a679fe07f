package dev.basalt.vmm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Reading the VM's log files (console, VMM output) for users and failure reasons. */
public final class LogFiles {
    private LogFiles() {
    }

    /**
     * The last {@code maxBytes} of a text file — together with its older half if it is a
     * {@link LogRing} — as text; empty if it does not exist or cannot be read.
     */
    public static String tail(Path file, int maxBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] newest = tailBytes(file, maxBytes);
        if (newest.length < maxBytes) {
            out.writeBytes(tailBytes(LogRing.previousOf(file), maxBytes - newest.length));
        }
        out.writeBytes(newest);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static byte[] tailBytes(Path file, int maxBytes) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            long start = Math.max(0, len - maxBytes);
            byte[] buf = new byte[(int) (len - start)];
            f.seek(start);
            f.readFully(buf);
            return buf;
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
