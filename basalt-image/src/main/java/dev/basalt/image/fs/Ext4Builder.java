package dev.basalt.image.fs;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a root directory into an ext4 file system image without mounting anything
 * ({@code mkfs.ext4 -d}, Debian's e2fsprogs). The file system is made just big enough for the
 * tree plus some room; the guest agent grows it to the disk's size when it mounts it. Inode
 * tables and the journal are zeroed now (on the host the file stays sparse), so no guest ever
 * writes them in the background and clones of a template do not diverge on their own.
 */
public final class Ext4Builder {
    private static final Logger log = LoggerFactory.getLogger(Ext4Builder.class);
    static final long BLOCK = 4096;
    static final long INODE_SIZE = 256;
    /** Bytes per inode of the default ext4 type: new block groups of a grown file system get as many. */
    static final long BYTES_PER_INODE = 16384;
    static final long JOURNAL_MIB = 32;
    /** Room left free in the image for the first writes (the guest's disk is bigger anyway). */
    static final long SLACK = 32L << 20;

    private final String mkfs;

    /** Uses {@code mkfs.ext4} from the PATH (or /sbin, /usr/sbin). */
    public Ext4Builder() {
        this(findMkfs());
    }

    Ext4Builder(String mkfs) {
        this.mkfs = mkfs;
    }

    /** What a tree needs: its entries and the blocks their contents take. */
    record TreeSize(long entries, long dataBytes) {
    }

    /**
     * Writes the ext4 image of {@code tree} to {@code image} (replaced) and returns its size in bytes.
     *
     * @throws BasaltException.Internal if mkfs.ext4 is missing or fails
     */
    public long build(Path tree, Path image) throws IOException {
        TreeSize size = measure(tree);
        Files.createDirectories(image.toAbsolutePath().getParent());
        long inodes = Math.max(size.entries() + size.entries() / 4 + 1024, 4096);
        long bytes = size.dataBytes() + size.dataBytes() / 10 + inodes * INODE_SIZE + (JOURNAL_MIB << 20) + SLACK;
        for (int attempt = 0; ; attempt++) {
            bytes = roundUp(bytes, 4L << 20);
            long minInodes = bytes / BYTES_PER_INODE;
            List<String> cmd = new ArrayList<>(List.of(mkfs, "-q", "-F", "-t", "ext4", "-d", tree.toString(),
                    "-b", Long.toString(BLOCK), "-I", Long.toString(INODE_SIZE), "-m", "0", "-J", "size=" + JOURNAL_MIB,
                    "-E", "lazy_itable_init=0,lazy_journal_init=1,root_owner=0:0", "-L", "basalt-root"));
            if (inodes > minInodes) {
                cmd.addAll(List.of("-N", Long.toString(inodes)));
            } else {
                cmd.addAll(List.of("-i", Long.toString(BYTES_PER_INODE)));
            }
            cmd.addAll(List.of(image.toString(), (bytes >> 10) + "k"));
            Files.deleteIfExists(image);
            String out = run(cmd);
            if (out == null) {
                log.debug("ext4 image of {}: {} MiB, {} entries", tree, bytes >> 20, size.entries());
                return bytes;
            }
            Files.deleteIfExists(image);
            boolean full = out.contains("No space left") || out.contains("Could not allocate");
            if (!full || attempt == 3) {
                throw new BasaltException.Internal("mkfs.ext4 could not make the image's file system from " + tree
                        + ": " + out.strip());
            }
            bytes += bytes / 2;
            inodes += inodes / 2;
        }
    }

    /** Counts the entries of a tree and the bytes their contents take in 4 KiB blocks. */
    static TreeSize measure(Path tree) throws IOException {
        long[] sums = new long[2];
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                sums[0]++;
                sums[1] += BLOCK;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                sums[0]++;
                if (attrs.isRegularFile()) {
                    sums[1] += roundUp(attrs.size(), BLOCK);
                } else if (attrs.isSymbolicLink() && attrs.size() > 59) {
                    sums[1] += BLOCK;
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new TreeSize(sums[0], sums[1]);
    }

    /** Runs a command; null if it succeeded, else its output. */
    private static String run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return "timed out";
            }
            return p.exitValue() == 0 ? null : out + " (exit " + p.exitValue() + ")";
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd.getFirst(), e);
        }
    }

    static long roundUp(long n, long unit) {
        return (n + unit - 1) / unit * unit;
    }

    private static String findMkfs() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "mkfs.ext4"))) {
                return Path.of(dir, "mkfs.ext4").toString();
            }
        }
        throw new BasaltException.Internal("mkfs.ext4 not found: install Debian's e2fsprogs (apt-get install e2fsprogs)");
    }
}
