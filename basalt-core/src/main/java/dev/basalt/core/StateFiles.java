package dev.basalt.core;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files Basalt keeps on the host: private directories ({@link #privateDirectory}), and temporary
 * files and directories that name the process writing them, so that what a killed
 * process left half-written can be told from what a live one is writing. A name carries
 * {@code .tmp-<pid>-<start>} ({@link #tag()}: the pid and the process's start time in
 * milliseconds, so a recycled pid does not keep a dead writer's files alive). {@link #sweep}
 * deletes the entries of a directory whose writer is gone — at the start of every manager, which
 * is how a {@code kill -9} in the middle of a checkpoint, a fork or a template save leaks nothing.
 */
final class StateFiles {
    private static final Logger log = LoggerFactory.getLogger(StateFiles.class);
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE_DIR =
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
    private static final Pattern TAG = Pattern.compile("\\.tmp-(\\d+)-(\\d+)");
    /** Temporary names from before they carried a tag: swept once this old. */
    private static final Duration UNTAGGED_AGE = Duration.ofHours(1);
    private static final String CURRENT = ".tmp-" + ProcessHandle.current().pid() + "-"
            + startMillis(ProcessHandle.current()).orElse(0L);

    private StateFiles() {
    }

    /**
     * Creates {@code dir} (and its parents) if needed and makes it 0700: state that holds a guest's
     * memory, files or records is readable by nobody else. A directory owned by another user is left
     * as it is (logged).
     */
    static Path privateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        try {
            Files.setPosixFilePermissions(dir, PRIVATE_DIR);
        } catch (IOException e) {
            log.warn("cannot make {} private (0700): {}", dir, e.getMessage());
        }
        return dir;
    }

    /** This process's tag, to put in the name of a temporary file or directory. */
    static String tag() {
        return CURRENT;
    }

    /**
     * Deletes the entries of {@code dir} whose name starts with {@code prefix} and that were left by a
     * process that is gone (tagged), or that carry no tag and are older than an hour (an older
     * Basalt's). Returns how many it deleted; problems are logged, never thrown.
     */
    static int sweep(Path dir, String prefix) {
        int swept = 0;
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path entry : entries) {
                if (leftBehind(entry)) {
                    log.info("deleting {}, left half-written by a Basalt process that is gone", entry);
                    RunRoot.deleteTree(entry);
                    swept++;
                }
            }
        } catch (IOException e) {
            log.warn("cannot sweep temporary files in {}: {}", dir, e.getMessage());
        }
        return swept;
    }

    private static boolean leftBehind(Path entry) {
        Matcher m = TAG.matcher(entry.getFileName().toString());
        if (!m.find()) {
            try {
                return Files.getLastModifiedTime(entry).toInstant().isBefore(Instant.now().minus(UNTAGGED_AGE));
            } catch (IOException e) {
                return false;
            }
        }
        long pid = Long.parseLong(m.group(1));
        long start = Long.parseLong(m.group(2));
        Optional<ProcessHandle> writer = ProcessHandle.of(pid);
        return writer.isEmpty() || startMillis(writer.get()).map(s -> s != start).orElse(false);
    }

    private static Optional<Long> startMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli);
    }
}
