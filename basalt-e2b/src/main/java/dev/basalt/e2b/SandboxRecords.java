package dev.basalt.e2b;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link E2bSandbox} records of one daemon: in memory, and each in its own JSON file
 * ({@code <dir>/<id>.json}, mode 0600 since it holds the access token) written atomically, so a
 * restarted basaltd serves the same sandboxes with the same tokens. A directory of null keeps them
 * in memory only.
 */
public final class SandboxRecords {
    private static final Logger log = LoggerFactory.getLogger(SandboxRecords.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final ObjectMapper json;
    private final Map<String, E2bSandbox> records = new ConcurrentHashMap<>();

    /**
     * Loads the records in {@code dir} (created if missing), keeping those {@code exists} accepts
     * and deleting the files of the others.
     */
    public SandboxRecords(Path dir, ObjectMapper json, Predicate<String> exists) {
        this.dir = dir;
        this.json = json;
        if (dir == null) {
            return;
        }
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
                for (Path file : files) {
                    load(file, exists);
                }
            }
        } catch (IOException e) {
            throw new BasaltException.Unavailable("cannot use " + dir + " for the E2B sandbox records: " + e.getMessage(), e);
        }
    }

    private void load(Path file, Predicate<String> exists) throws IOException {
        E2bSandbox record;
        try {
            record = json.readValue(file.toFile(), E2bSandbox.class);
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring the unreadable E2B record {}: {}", file, e.toString());
            Files.deleteIfExists(file);
            return;
        }
        if (!file.getFileName().toString().equals(record.sandboxId() + ".json") || !exists.test(record.sandboxId())) {
            Files.deleteIfExists(file);
            return;
        }
        records.put(record.sandboxId(), record);
    }

    /** A new random access token: 32 bytes as hex. */
    public static String newToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public Optional<E2bSandbox> get(String sandboxId) {
        return Optional.ofNullable(records.get(sandboxId));
    }

    /** Stores (or replaces) a record, on disk first. */
    public void put(E2bSandbox record) {
        if (dir != null) {
            Path file = dir.resolve(record.sandboxId() + ".json");
            Path tmp = dir.resolve("." + record.sandboxId() + ".tmp");
            try {
                Files.deleteIfExists(tmp);
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                json.writeValue(tmp.toFile(), record);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                throw new BasaltException.Unavailable("cannot write the E2B record of " + record.sandboxId() + ": " + e.getMessage(), e);
            }
        }
        records.put(record.sandboxId(), record);
    }

    /** The record of a sandbox, made (with a new token, no env) if Basalt made it without the E2B API. */
    public E2bSandbox getOrCreate(String sandboxId, String templateId) {
        E2bSandbox existing = records.get(sandboxId);
        if (existing != null) {
            return existing;
        }
        synchronized (this) {
            existing = records.get(sandboxId);
            if (existing != null) {
                return existing;
            }
            E2bSandbox record = new E2bSandbox(sandboxId, newToken(), templateId, Map.of(), false, null, null);
            put(record);
            return record;
        }
    }

    /** Every record. */
    public java.util.Collection<E2bSandbox> all() {
        return java.util.List.copyOf(records.values());
    }

    /** Forgets a record (the sandbox is gone). */
    public void remove(String sandboxId) {
        records.remove(sandboxId);
        if (dir != null && E2bSandbox.isValidId(sandboxId)) {
            try {
                Files.deleteIfExists(dir.resolve(sandboxId + ".json"));
            } catch (IOException e) {
                log.warn("cannot delete the E2B record of {}: {}", sandboxId, e.toString());
            }
        }
    }
}
