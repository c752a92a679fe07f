package dev.basalt.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The image store: named root file systems on the host's disk. Layout under its root:
 * <pre>
 *   images/&lt;id&gt;/rootfs.ext4   the file system (read-only, mode 0444), never modified once stored
 *   images/&lt;id&gt;/image.json    what it is: size, source, creation time, exec defaults
 *   names/&lt;encoded name&gt;.json  a name and the id it stands for (several names may share an id)
 *   staging/&lt;random&gt;/          images being made (a lock file held by their maker)
 *   .lock                        serializes changes between processes
 * </pre>
 * Writes are atomic: an image is assembled in a staging directory, renamed into {@code images/}
 * and only then named (a name file written to a temporary file and renamed), under the store's
 * lock; a build or pull that dies leaves a staging directory that the next store to open
 * deletes, and nothing listed. Removing a name deletes the image's files once no name is left,
 * but a sandbox never loses its disk to that: its disk directory holds a hard link to the
 * image's file system ({@link #link}), which keeps the file alive for as long as it needs it.
 *
 * <p>Thread-safe; several processes may share one store.
 */
public final class ImageStore {
    private static final Logger log = LoggerFactory.getLogger(ImageStore.class);
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    /** The one file system image of a stored image. */
    public static final String ROOTFS = "rootfs.ext4";
    private static final String MANIFEST = "image.json";
    private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final Path root;
    private final Path images;
    private final Path names;
    private final Path staging;
    private final ReentrantLock lock;

    /** What {@code images/<id>/image.json} holds. */
    record Manifest(int format, String id, String source, Instant created, long sizeBytes, long fsBytes,
                    ImageConfig config) {
    }

    /** What {@code names/<name>.json} holds. */
    record NameEntry(String name, String id) {
    }

    private ImageStore(Path root) {
        this.root = root;
        this.images = root.resolve("images");
        this.names = root.resolve("names");
        this.staging = root.resolve("staging");
        this.lock = LOCKS.computeIfAbsent(root.toAbsolutePath().normalize(), k -> new ReentrantLock());
    }

    /**
     * Opens (creating if needed) the store in {@code root} and deletes what dead builds left
     * in its staging area.
     */
    public static ImageStore open(Path root) {
        ImageStore store = new ImageStore(root);
        try {
            Files.createDirectories(store.images);
            Files.createDirectories(store.names);
            Files.createDirectories(store.staging);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create the image store in " + root + ": " + e, e);
        }
        store.sweepStaging();
        return store;
    }

    public Path root() {
        return root;
    }

    /** Every named image, sorted by name. */
    public List<ImageInfo> list() {
        List<ImageInfo> out = new ArrayList<>();
        for (NameEntry entry : nameEntries()) {
            readManifest(entry.id()).ifPresent(m -> out.add(info(entry.name(), m)));
        }
        out.sort(Comparator.comparing(ImageInfo::name));
        return out;
    }

    /** The image of that name, if the store has it. */
    public Optional<ImageInfo> find(String name) {
        ImageInfo.requireValidName(name);
        return readName(name).flatMap(e -> readManifest(e.id()).map(m -> info(name, m)));
    }

    /**
     * The image of that name.
     *
     * @throws BasaltException.NotFound naming what the store does have
     */
    public ImageInfo inspect(String name) {
        return find(name).orElseThrow(() -> notFound(name));
    }

    /** The size of the file system an image holds (the least a disk for it may have), in bytes. */
    public long fileSystemBytes(String name) {
        ImageInfo info = inspect(name);
        return readManifest(info.id()).map(Manifest::fsBytes).orElseThrow(() -> notFound(name));
    }

    /**
     * The file system file of a stored image (read-only). A holder must link it ({@link #link}, or a
     * hard link of its own) before the image could be removed, to keep it.
     */
    public Path rootfs(ImageInfo info) {
        return images.resolve(info.id()).resolve(ROOTFS);
    }

    /**
     * Hard-links the image's file system into {@code dir} as {@code rootfs-<id>.ext4} (if it is not
     * there yet) and returns the link: the caller's own reference, which stays valid whatever
     * happens to the image's name. {@code dir} must be on the store's file system.
     *
     * @throws BasaltException.NotFound if there is no such image
     */
    public Path link(String name, Path dir) {
        return locked(() -> {
            ImageInfo info = inspect(name);
            Path source = images.resolve(info.id()).resolve(ROOTFS);
            Path target = dir.resolve("rootfs-" + info.id() + ".ext4");
            try {
                Files.createDirectories(dir);
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createLink(target, source);
                }
                return target;
            } catch (FileSystemException e) {
                throw new BasaltException.Internal("cannot link image " + name + " into " + dir + " (" + e.getReason()
                        + "): the image store " + root + " and the disk directories must be on one file system", e);
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot link image " + name + " into " + dir + ": " + e, e);
            }
        });
    }

    /**
     * Removes a name; the image's files go when no other name refers to them. Sandboxes that
     * use it keep their disks (they hold their own links to the file system).
     *
     * @throws BasaltException.NotFound if there is no such image
     */
    public void remove(String name) {
        ImageInfo.requireValidName(name);
        locked(() -> {
            NameEntry entry = readName(name).orElseThrow(() -> notFound(name));
            try {
                Files.delete(nameFile(name));
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot remove image " + name + ": " + e, e);
            }
            if (nameEntries().stream().noneMatch(e -> e.id().equals(entry.id()))) {
                deleteContent(entry.id());
            }
            log.info("removed image {} ({})", name, entry.id());
            return null;
        });
    }

    /**
     * Whether the store holds content with this id (an image made from the same inputs), whatever
     * its names; such content can be named with {@link #tag} instead of being made again.
     */
    public boolean hasContent(String id) {
        return readManifest(id).isPresent();
    }

    /**
     * Names existing content (replacing what the name meant before).
     *
     * @throws BasaltException.NotFound if there is no content with that id
     */
    public ImageInfo tag(String id, String name) {
        ImageInfo.requireValidName(name);
        return locked(() -> {
            Manifest m = readManifest(id).orElseThrow(() -> new BasaltException.NotFound("no image content " + id));
            writeName(name, id);
            return info(name, m);
        });
    }

    /**
     * A staging area for a new image: assemble its root file system there, then {@link Staging#commit}.
     * Closing an uncommitted staging area deletes it.
     */
    public Staging stage() {
        Path dir = staging.resolve(UUID.randomUUID().toString());
        try {
            Files.createDirectories(dir);
            FileChannel lockFile = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held = lockFile.tryLock();
            if (held == null) {
                lockFile.close();
                throw new IOException("staging directory " + dir + " is locked");
            }
            return new Staging(dir, lockFile);
        } catch (IOException e) {
            deleteTree(dir);
            throw new BasaltException.Internal("cannot make a staging directory in " + staging + ": " + e, e);
        }
    }

    /** An image being made. Not thread-safe. */
    public final class Staging implements AutoCloseable {
        private final Path dir;
        private final FileChannel lockFile;
        private boolean done;

        private Staging(Path dir, FileChannel lockFile) {
            this.dir = dir;
            this.lockFile = lockFile;
        }

        /** A scratch directory for the image's root tree (or anything else the maker needs). */
        public Path scratch(String name) throws IOException {
            Path p = dir.resolve("work").resolve(name);
            Files.createDirectories(p);
            return p;
        }

        /** Where the image's file system must be written. */
        public Path rootfs() {
            return dir.resolve("image").resolve(ROOTFS);
        }

        /**
         * Stores the file system written to {@link #rootfs} under {@code id} and names it {@code name};
         * if content with that id exists already (made meanwhile by someone else) it is kept and named.
         *
         * @param fsBytes the file system's size (the least a disk for it may have)
         */
        public ImageInfo commit(String name, String id, String source, ImageConfig config, long fsBytes) {
            ImageInfo.requireValidName(name);
            if (!id.matches("[a-f0-9]{16,64}")) {
                throw new IllegalArgumentException("image id must be 16-64 lowercase hex digits: " + id);
            }
            Path content = dir.resolve("image");
            try {
                Path fs = rootfs();
                Files.setAttribute(fs, "unix:mode", 0444);
                long size = allocated(fs);
                Manifest m = new Manifest(1, id, source, Instant.now(), size, fsBytes, config);
                JSON.writeValue(content.resolve(MANIFEST).toFile(), m);
                return locked(() -> {
                    Path target = images.resolve(id);
                    if (!Files.exists(target.resolve(MANIFEST))) {
                        deleteTree(target); // a remnant without its manifest
                        try {
                            Files.move(content, target, StandardCopyOption.ATOMIC_MOVE);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                    writeName(name, id);
                    done = true;
                    log.info("stored image {} ({}, {} MiB, {})", name, id, size >> 20, source);
                    return info(name, readManifest(id).orElse(m));
                });
            } catch (IOException | UncheckedIOException e) {
                throw new BasaltException.Internal("cannot store image " + name + ": " + e, e);
            } finally {
                close();
            }
        }

        /** Deletes the staging area (a no-op after commit except for the leftovers). */
        @Override
        public void close() {
            try {
                lockFile.close();
            } catch (IOException ignored) {
                // the lock goes with the descriptor
            }
            deleteTree(dir);
            if (!done) {
                log.debug("discarded staging area {}", dir);
            }
        }
    }

    private void sweepStaging() {
        List<Path> dirs;
        try (var list = Files.list(staging)) {
            dirs = list.toList();
        } catch (IOException e) {
            return;
        }
        for (Path dir : dirs) {
            try (FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock held = ch.tryLock();
                if (held == null) {
                    continue; // a live maker
                }
                held.release();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                continue; // made by this process
            } catch (IOException e) {
                // no lock file: a dead maker's
            }
            log.info("deleting what an interrupted image build left: {}", dir);
            deleteTree(dir);
        }
    }

    private <T> T locked(Supplier<T> action) {
        lock.lock();
        try (FileChannel ch = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            return action.get();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot lock the image store " + root + ": " + e, e);
        } finally {
            lock.unlock();
        }
    }

    private void writeName(String name, String id) {
        Path file = nameFile(name);
        Path tmp = names.resolve("." + UUID.randomUUID() + ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), new NameEntry(name, id));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteTree(tmp);
            throw new BasaltException.Internal("cannot name image " + name + ": " + e, e);
        }
        log.debug("image name {} -> {}", name, id);
    }

    private Path nameFile(String name) {
        return names.resolve(URLEncoder.encode(name, StandardCharsets.UTF_8) + ".json");
    }

    private Optional<NameEntry> readName(String name) {
        try {
            NameEntry e = JSON.readValue(nameFile(name).toFile(), NameEntry.class);
            return e.name().equals(name) ? Optional.of(e) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private List<NameEntry> nameEntries() {
        List<NameEntry> out = new ArrayList<>();
        try (var list = Files.list(names)) {
            for (Path p : list.toList()) {
                String file = p.getFileName().toString();
                if (!file.endsWith(".json") || file.startsWith(".")) {
                    continue;
                }
                String name = URLDecoder.decode(file.substring(0, file.length() - 5), StandardCharsets.UTF_8);
                try {
                    ImageInfo.requireValidName(name);
                } catch (BasaltException e) {
                    continue;
                }
                readName(name).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot list the image store " + root + ": " + e, e);
        }
        return out;
    }

    private Optional<Manifest> readManifest(String id) {
        if (!id.matches("[a-f0-9]{16,64}")) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(images.resolve(id).resolve(MANIFEST).toFile(), Manifest.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void deleteContent(String id) {
        Path dir = images.resolve(id);
        Path doomed = staging.resolve("removed-" + id + "-" + UUID.randomUUID());
        try {
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot remove image content " + id + ": " + e, e);
        }
        deleteTree(doomed);
    }

    private static ImageInfo info(String name, Manifest m) {
        return new ImageInfo(name, m.id(), m.sizeBytes(), m.source(), m.created(), m.config());
    }

    private BasaltException.NotFound notFound(String name) {
        List<String> have = nameEntries().stream().map(NameEntry::name).sorted().toList();
        return new BasaltException.NotFound("no image '" + name + "' in the image store " + root
                + (have.isEmpty() ? " (it is empty)" : " (it has: " + String.join(", ", have) + ")"));
    }

    /** The disk space a (sparse) file takes, from {@code du}: Java's file attributes have no st_blocks. */
    static long allocated(Path file) throws IOException {
        Process p = new ProcessBuilder("du", "--block-size=1", "-s", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (p.waitFor() == 0 && out.matches("[0-9]+\\s.*")) {
                return Long.parseLong(out.split("\\s")[0]);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Files.size(file);
    }

    static void deleteTree(Path p) {
        try {
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                try (var list = Files.list(p)) {
                    for (Path child : list.toList()) {
                        deleteTree(child);
                    }
                }
            }
            Files.deleteIfExists(p);
        } catch (DirectoryNotEmptyException | FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            log.warn("cannot delete {}: {}", p, e.toString());
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", p, e.toString());
        }
    }
}
