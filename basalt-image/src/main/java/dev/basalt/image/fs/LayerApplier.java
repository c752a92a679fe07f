package dev.basalt.image.fs;

import dev.basalt.api.BasaltException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies image layers (tar archives, plain or gzip) to a root directory, in order, with the
 * OCI rules: {@code .wh.NAME} deletes NAME of the layers below, {@code .wh..wh..opq} empties its
 * directory of what the layers below put there; a later entry replaces an earlier one.
 *
 * <p>Layers are hostile input. An entry with a {@code ..} component is refused; symlinks in
 * the way of an entry are followed inside the root only ({@link RootedPaths}), and the entry's
 * own name is never followed, so an absolute symlink cannot redirect a write to the host; hard
 * links must point at a file inside the root; device nodes are refused (the guest's /dev is
 * the kernel's devtmpfs); the bytes written are counted against a limit and the archive is
 * refused when it would go past it. Ownership, modes (setuid included) and modification times
 * are kept; extended attributes are not. Needs root (files keep their owners). One instance
 * per root directory, used from one thread.
 */
public final class LayerApplier {
    private static final Logger log = LoggerFactory.getLogger(LayerApplier.class);
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    /** What an entry costs besides its contents: ext4 spends about this on its inode. */
    static final long INODE_COST = 256;
    /** Entries one layer may have (each is remembered until the layer ends). */
    static final int MAX_ENTRIES = 1_000_000;
    /** Free room the host file system must keep while layers are written. */
    static final long HOST_RESERVE = 256L << 20;
    private static final long SPACE_CHECK_EVERY = 64L << 20;

    private final Path root;
    private final long maxBytes;
    private long bytes;
    private long nextSpaceCheck;
    private final Map<Path, FileTime> dirTimes = new HashMap<>();

    /**
     * @param root     the directory the image's root file system is assembled in (must exist)
     * @param maxBytes the most the layers together may write (file contents plus a fixed cost per entry)
     */
    public LayerApplier(Path root, long maxBytes) {
        this.root = root;
        this.maxBytes = maxBytes;
    }

    /** What the layers applied so far wrote, in bytes as counted against the limit. */
    public long bytes() {
        return bytes;
    }

    /**
     * Applies one layer.
     *
     * @param layer the layer's tar archive, uncompressed ({@link #decompressed}); read to its end
     * @param what  names the layer in errors ("layer 2 of 127.0.0.1:5000/app:v1 (sha256:…)")
     * @throws BasaltException.InvalidArgument for a malformed or hostile archive
     * @throws BasaltException.ResourceExhausted when the layers write more than the limit
     */
    public void apply(InputStream layer, String what) {
        Set<String> ownEntries = new HashSet<>();
        try {
            TarArchiveInputStream tar = new TarArchiveInputStream(layer);
            TarArchiveEntry entry;
            while ((entry = nextEntry(tar, what)) != null) {
                applyEntry(tar, entry, ownEntries, what);
            }
            layer.transferTo(OutputStream.nullOutputStream()); // the rest, for digest checks upstream
        } catch (BasaltException e) {
            throw e;
        } catch (AccessDeniedException e) {
            throw new BasaltException.PermissionDenied(what + ": cannot set the owner of " + e.getFile()
                    + ": importing images needs root (files keep their owners)", e);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument(what + ": cannot apply the layer: " + e, e);
        }
    }

    /** Sets the directories' modification times (creating their entries changed them). Call once, last. */
    public void finish() throws IOException {
        List<Map.Entry<Path, FileTime>> dirs = new ArrayList<>(dirTimes.entrySet());
        dirs.sort(Comparator.comparingInt((Map.Entry<Path, FileTime> e) -> e.getKey().getNameCount()).reversed());
        for (Map.Entry<Path, FileTime> e : dirs) {
            if (Files.isDirectory(e.getKey(), LinkOption.NOFOLLOW_LINKS)) {
                setTimes(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * A layer's tar stream: gunzipped if the bytes are gzip, as they are if plain tar.
     *
     * @throws BasaltException.InvalidArgument for zstd, which Basalt does not read
     */
    public static InputStream decompressed(InputStream in, String what) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, 64 * 1024);
        buffered.mark(4);
        byte[] magic = buffered.readNBytes(4);
        buffered.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(buffered, 64 * 1024);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            throw new BasaltException.InvalidArgument(what + " is zstd-compressed, which Basalt does not read yet;"
                    + " use a gzip or uncompressed image");
        }
        return buffered;
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, String what) {
        try {
            return tar.getNextEntry();
        } catch (BasaltException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new BasaltException.InvalidArgument(what + " is not a valid tar archive: " + e.getMessage(), e);
        }
    }

    private void applyEntry(TarArchiveInputStream tar, TarArchiveEntry e, Set<String> ownEntries, String what)
            throws IOException {
        List<String> parts = RootedPaths.components(e.getName(), what);
        if (parts.isEmpty()) {
            if (e.isDirectory()) {
                setMetadata(root, e, what);
                dirTimes.put(root, FileTime.from(e.getModTime().toInstant()));
            }
            return;
        }
        count(INODE_COST, what);
        if (ownEntries.size() >= MAX_ENTRIES) {
            throw new BasaltException.ResourceExhausted(what + " has more than " + MAX_ENTRIES + " entries; the image"
                    + " is refused");
        }
        String name = parts.getLast();
        List<String> parentParts = RootedPaths.parent(root, parts, true, what);
        Path parent = RootedPaths.join(root, parentParts);
        if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            throw new BasaltException.InvalidArgument(what + ": '" + e.getName() + "' lies below something that is not"
                    + " a directory");
        }
        String parentKey = String.join("/", parentParts);
        if (name.equals(OPAQUE)) {
            emptyDirectory(parent, parentKey, ownEntries);
            return;
        }
        if (name.startsWith(WHITEOUT)) {
            String gone = name.substring(WHITEOUT.length());
            if (gone.isEmpty() || gone.equals(".") || gone.equals("..")) {
                throw new BasaltException.InvalidArgument(what + ": whiteout '" + e.getName() + "' names no file");
            }
            if (!ownEntries.contains(key(parentKey, gone))) {
                removeTree(parent.resolve(gone));
            }
            return;
        }
        Path target = parent.resolve(name);
        ownEntries.add(key(parentKey, name));
        if (e.isCharacterDevice() || e.isBlockDevice()) {
            throw new BasaltException.InvalidArgument(what + ": '" + e.getName() + "' is a "
                    + (e.isBlockDevice() ? "block" : "character") + " device node (" + e.getDevMajor() + ","
                    + e.getDevMinor() + "); images may not contain device nodes, the guest's /dev is the kernel's");
        }
        if (e.isDirectory()) {
            BasicFileAttributes old = attributes(target);
            if (old != null && !old.isDirectory()) {
                removeTree(target);
                old = null;
            }
            if (old == null) {
                Files.createDirectory(target);
            }
            setMetadata(target, e, what);
            dirTimes.put(target, FileTime.from(e.getModTime().toInstant()));
            return;
        }
        removeTree(target);
        if (e.isSymbolicLink()) {
            String link = e.getLinkName();
            if (link.isEmpty() || link.indexOf('\0') >= 0 || link.length() > 4095) {
                throw new BasaltException.InvalidArgument(what + ": symlink '" + e.getName() + "' has an invalid target");
            }
            Files.createSymbolicLink(target, Path.of(link));
            setMetadata(target, e, what);
        } else if (e.isLink()) {
            List<String> linked = RootedPaths.components(e.getLinkName(), what);
            if (linked.isEmpty()) {
                throw new BasaltException.InvalidArgument(what + ": hard link '" + e.getName() + "' points at the root");
            }
            Path existing = RootedPaths.join(root, RootedPaths.parent(root, linked, false, what)).resolve(linked.getLast());
            BasicFileAttributes attrs = attributes(existing);
            if (attrs == null || attrs.isDirectory() || !existing.normalize().startsWith(root)) {
                throw new BasaltException.InvalidArgument(what + ": hard link '" + e.getName() + "' points at '"
                        + e.getLinkName() + "', which is not a file the image has");
            }
            Files.createLink(target, existing);
        } else if (e.isFIFO()) {
            mkfifo(target, e.getMode() & 07777, what);
            // owners only: setting a mode or times through Java opens the file, which blocks on a FIFO
            Files.setAttribute(target, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(target, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
        } else if (e.isFile()) {
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS)) {
                copy(tar, out, what);
            }
            setMetadata(target, e, what);
        } else {
            log.debug("{}: skipping '{}' (tar type {})", what, e.getName(), e.isGlobalPaxHeader() ? "pax" : "other");
        }
    }

    private void copy(InputStream in, OutputStream out, String what) throws IOException {
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            count(n, what);
            out.write(buf, 0, n);
        }
    }

    private void count(long n, String what) throws IOException {
        bytes += n;
        if (bytes > maxBytes) {
            throw new BasaltException.ResourceExhausted(what + " makes the image larger than its limit of "
                    + (maxBytes >> 20) + " MiB (the most a disk may hold); the image is refused");
        }
        if (bytes >= nextSpaceCheck) {
            nextSpaceCheck = bytes + SPACE_CHECK_EVERY;
            long free = Files.getFileStore(root).getUsableSpace();
            if (free < HOST_RESERVE + SPACE_CHECK_EVERY) {
                throw new BasaltException.ResourceExhausted(what + ": the host file system of " + root + " has only "
                        + (free >> 20) + " MiB free; the image is refused");
            }
        }
    }

    private void setMetadata(Path p, TarArchiveEntry e, String what) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
        if (!e.isSymbolicLink()) {
            Files.setAttribute(p, "unix:mode", e.getMode() & 07777, LinkOption.NOFOLLOW_LINKS);
            setTimes(p, FileTime.from(e.getModTime().toInstant()));
        }
    }

    private static void setTimes(Path p, FileTime t) throws IOException {
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, t, null);
    }

    private static void mkfifo(Path target, int mode, String what) throws IOException {
        Process p = new ProcessBuilder("mkfifo", "-m", Integer.toOctalString(mode), "--", target.toString())
                .redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo " + target + ": " + out);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making a FIFO for " + what, ie);
        }
    }

    /** Removes what the layers below put in {@code dir}, keeping this layer's own entries. */
    private void emptyDirectory(Path dir, String dirKey, Set<String> ownEntries) throws IOException {
        List<Path> children;
        try (var list = Files.list(dir)) {
            children = list.toList();
        }
        for (Path child : children) {
            if (!ownEntries.contains(key(dirKey, child.getFileName().toString()))) {
                removeTree(child);
            }
        }
    }

    private static String key(String dirKey, String name) {
        return dirKey.isEmpty() ? name : dirKey + "/" + name;
    }

    private static BasicFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Deletes {@code p} and, if it is a directory (not a symlink to one), everything below it. */
    static void removeTree(Path p) throws IOException {
        BasicFileAttributes attrs = attributes(p);
        if (attrs == null) {
            return;
        }
        if (attrs.isDirectory()) {
            List<Path> children;
            try (var list = Files.list(p)) {
                children = list.toList();
            }
            for (Path child : children) {
                removeTree(child);
            }
        }
        try {
            Files.delete(p);
        } catch (NoSuchFileException ignored) {
            // gone already
        } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
            throw new IOException("cannot remove " + p + ": " + e, e);
        }
    }
}
