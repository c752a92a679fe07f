package dev.basalt.vmm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Reading the VM's log files (console, VMM output) for users and failure reasons. */
public final class LogFiles {
    private LogFiles() {
    }

    /** The last {@code maxBytes} of a text file; empty if it does not exist or cannot be read. */
    public static String tail(Path file, int maxBytes) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            long start = Math.max(0, len - maxBytes);
            byte[] buf = new byte[(int) (len - start)];
            f.seek(start);
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
