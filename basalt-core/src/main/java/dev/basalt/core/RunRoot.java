package dev.basalt.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory holding one sub-directory per live sandbox (sockets, console log, owner record).
 * Paths stay short because unix socket paths are limited to 107 bytes.
 *
 * <p>Each sandbox directory records which process owns it and its VMM's pid. {@link #reapOrphans()}
 * cleans up after owners that died without cleaning up (a crash, {@code kill -9}): it kills their
 * VMM if it somehow still runs and deletes the directory.
 */
public final class RunRoot {
    private static final Logger log = LoggerFactory.getLogger(RunRoot.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OWNER_FILE = "owner.json";
    /** This process, as every sandbox directory records it (read once: the start time costs a /proc read). */
    private static final long OWNER_PID = ProcessHandle.current().pid();
    private static final String OWNER_START = ProcessHandle.current().info().startInstant().map(Object::toString).orElse("");
    /** Names of the directories this class creates: sandbox ids (and template builders' "t…" ids). */
    private static final java.util.regex.Pattern SANDBOX_DIR = java.util.regex.Pattern.compile("t?[0-9a-f]{11,12}");

    private final Path root;

    public RunRoot(Path root) {
        this.root = root;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create run directory " + root + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return root;
    }

    /** Default location: {@code basalt.run} / {@code BASALT_RUN}, else /run/basalt for root, else a per-user dir. */
    public static Path defaultPath() {
        String configured = System.getProperty("basalt.run", System.getenv("BASALT_RUN"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        if ("root".equals(System.getProperty("user.name")) && Files.isDirectory(Path.of("/run"))) {
            return Path.of("/run/basalt");
        }
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            return Path.of(runtime, "basalt");
        }
        return Path.of("/tmp", "basalt-" + System.getProperty("user.name"));
    }

    /** Creates the private directory of a new sandbox. */
    public Path create(String id) {
        Path dir = root.resolve(id);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            writeOwner(dir, 0);
            return dir;
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create sandbox directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Records the VMM's pid so an orphaned VM can be found after a crash. */
    public void recordVmm(Path dir, long vmmPid) {
        try {
            writeOwner(dir, vmmPid);
        } catch (IOException e) {
            log.warn("cannot record VMM pid in {}: {}", dir, e.getMessage());
        }
    }

    private static void writeOwner(Path dir, long vmmPid) throws IOException {
        Map<String, Object> owner = Map.of("ownerPid", OWNER_PID, "ownerStart", OWNER_START, "vmmPid", vmmPid);
        Path tmp = dir.resolve(OWNER_FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), owner);
        Files.move(tmp, dir.resolve(OWNER_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The VMM pid recorded in a sandbox directory, 0 if none. */
    long recordedVmmPid(Path dir) {
        try {
            return JSON.readTree(dir.resolve(OWNER_FILE).toFile()).path("vmmPid").asLong();
        } catch (IOException e) {
            return 0;
        }
    }

    /** Deletes a sandbox directory and everything in it. */
    public void delete(Path dir) {
        deleteTree(dir);
    }

    /**
     * Removes the directories of sandboxes whose owner process is gone, killing their VMM first
     * if it still runs (matched by pid and by the directory in its command line, so an unrelated
     * process that reused the pid is never touched). Returns how many were reaped.
     */
    public int reapOrphans() {
        return reapOrphans(java.util.Set.of());
    }

    /** Like {@link #reapOrphans()}, but leaves the directories named in {@code keep} alone (a daemon reattaches to them). */
    public int reapOrphans(java.util.Set<String> keep) {
        int reaped = 0;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (Files.isDirectory(dir) && SANDBOX_DIR.matcher(name).matches() && !keep.contains(name) && isOrphan(dir)) {
                    killVmm(dir);
                    deleteTree(dir);
                    reaped++;
                }
            }
        } catch (IOException e) {
            log.warn("cannot scan {} for orphaned sandboxes: {}", root, e.getMessage());
        }
        if (reaped > 0) {
            log.info("cleaned up {} sandbox(es) left behind by dead Basalt processes", reaped);
        }
        return reaped;
    }

    private static boolean isOrphan(Path dir) {
        Path ownerFile = dir.resolve(OWNER_FILE);
        try {
            var owner = JSON.readTree(ownerFile.toFile());
            long pid = owner.path("ownerPid").asLong();
            String start = owner.path("ownerStart").asText();
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            return handle.isEmpty() || !handle.get().info().startInstant().map(Object::toString).orElse("").equals(start);
        } catch (IOException e) {
            // No readable owner record: orphaned only if it has been lying around for a while
            // (a live owner writes it right after creating the directory).
            try {
                return Files.getLastModifiedTime(dir).toInstant().isBefore(java.time.Instant.now().minus(Duration.ofMinutes(1)));
            } catch (IOException ignored) {
                return false;
            }
        }
    }

    private static void killVmm(Path dir) {
        long vmmPid;
        try {
            vmmPid = JSON.readTree(dir.resolve(OWNER_FILE).toFile()).path("vmmPid").asLong();
        } catch (IOException e) {
            vmmPid = 0;
        }
        if (vmmPid > 0) {
            ProcessHandle.of(vmmPid).filter(p -> names(p, dir)).ifPresent(p -> kill(p, dir));
        } else {
            // killed between launching the VMM and recording its pid: find it by its command line
            ProcessHandle.allProcesses().filter(p -> names(p, dir)).forEach(p -> kill(p, dir));
        }
    }

    /** True if {@code p}'s command line names {@code dir} (so a recycled pid is never touched). */
    private static boolean names(ProcessHandle p, Path dir) {
        return p.info().arguments().map(args -> String.join(" ", args).contains(dir + "/")).orElse(false);
    }

    private static void kill(ProcessHandle p, Path dir) {
        log.info("killing orphaned VMM pid {} of {}", p.pid(), dir.getFileName());
        p.destroyForcibly();
        p.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> null).join();
    }

    /** Deletes {@code dir} and everything below it; what cannot be deleted is logged, not thrown. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", dir, e.getMessage());
        }
    }
}
