package dev.basalt.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The durable record of every sandbox of a daemon, in an embedded SQLite database
 * ({@code <stateDir>/basalt.db}, WAL mode). Written through on every lifecycle event, so a daemon
 * killed at any moment finds on restart exactly the sandboxes it had and can reattach to them.
 * Thread-safe (one connection, serialized).
 */
final class SandboxStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SCHEMA = 1;

    /** What is needed to rebuild a sandbox after a restart. */
    record Row(String id, Stored stored, SandboxState state, String failure, long vmmPid, Instant readyAt,
               Instant expiresAt) {}

    /** The immutable part of a sandbox, stored as JSON. */
    record Stored(String image, String kernel, String initrd, boolean acpi, String cmdlineExtra, String imageId,
                  int vcpus, int memoryMib, Map<String, String> labels, long bootTimeoutMillis, boolean coldBoot,
                  Long ttlMillis, String origin, String memoryKind, String memoryPath, String createdAt) {

        static Stored of(ManagedSandbox sandbox) {
            SandboxSpec spec = sandbox.spec();
            GuestImage image = sandbox.image();
            var memory = sandbox.vm() == null ? null : sandbox.vm().spec().memory();
            String kind = memory == null ? "anonymous" : switch (memory) {
                case dev.basalt.vmm.MemoryBacking.Anonymous a -> "anonymous";
                case dev.basalt.vmm.MemoryBacking.SharedFile f -> "shared";
                case dev.basalt.vmm.MemoryBacking.PrivateFile f -> "private";
            };
            String path = switch (memory) {
                case dev.basalt.vmm.MemoryBacking.SharedFile f -> f.path().toString();
                case dev.basalt.vmm.MemoryBacking.PrivateFile f -> f.path().toString();
                case null, default -> null;
            };
            SandboxInfo info = sandbox.info();
            return new Stored(image.name(), image.kernel().toString(), image.initrd().toString(), image.acpi(),
                    image.cmdlineExtra(), image.id(), spec.vcpus(), spec.memoryMib(), spec.labels(),
                    spec.bootTimeout().toMillis(), spec.coldBoot(), spec.ttl() == null ? null : spec.ttl().toMillis(),
                    info.origin(), kind, path, info.createdAt().toString());
        }

        SandboxSpec spec() {
            return SandboxSpec.defaults().withImage(image).withVcpus(vcpus).withMemoryMib(memoryMib).withLabels(labels)
                    .withBootTimeout(Duration.ofMillis(bootTimeoutMillis)).withColdBoot(coldBoot)
                    .withTtl(ttlMillis == null ? null : Duration.ofMillis(ttlMillis));
        }

        GuestImage guestImage() {
            return new GuestImage(image, Path.of(kernel), Path.of(initrd), acpi, cmdlineExtra, imageId);
        }

        dev.basalt.vmm.MemoryBacking memory() {
            return switch (memoryKind) {
                case "shared" -> new dev.basalt.vmm.MemoryBacking.SharedFile(Path.of(memoryPath));
                case "private" -> new dev.basalt.vmm.MemoryBacking.PrivateFile(Path.of(memoryPath));
                default -> new dev.basalt.vmm.MemoryBacking.Anonymous();
            };
        }
    }

    private final Connection db;

    private SandboxStore(Connection db) {
        this.db = db;
    }

    static SandboxStore open(Path stateDir) {
        try {
            Files.createDirectories(stateDir);
            // sqlite-jdbc unpacks its native library into a temp dir; keep it in the state dir, so a
            // killed daemon leaves no stray files in /tmp
            if (System.getProperty("org.sqlite.tmpdir") == null) {
                Path lib = Files.createDirectories(stateDir.resolve("lib"));
                System.setProperty("org.sqlite.tmpdir", lib.toString());
            }
            Connection db = DriverManager.getConnection("jdbc:sqlite:" + stateDir.resolve("basalt.db"));
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=NORMAL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS sandboxes (id TEXT PRIMARY KEY, stored TEXT NOT NULL, "
                        + "state TEXT NOT NULL, failure TEXT, vmm_pid INTEGER NOT NULL DEFAULT 0, "
                        + "ready_at TEXT, expires_at TEXT)");
                s.execute("INSERT OR IGNORE INTO meta VALUES ('schema', '" + SCHEMA + "')");
            }
            try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT value FROM meta WHERE key='schema'")) {
                int schema = r.next() ? Integer.parseInt(r.getString(1)) : SCHEMA;
                if (schema != SCHEMA) {
                    db.close();
                    throw new BasaltException.Internal("state database " + stateDir.resolve("basalt.db")
                            + " has schema " + schema + ", this Basalt speaks " + SCHEMA);
                }
            }
            return new SandboxStore(db);
        } catch (java.io.IOException | SQLException e) {
            throw new BasaltException.Internal("cannot open the state database in " + stateDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Inserts or replaces the whole record of a sandbox. The sandbox is read before the store's own
     * lock is taken, so the store never waits for a sandbox while holding its lock.
     */
    void save(ManagedSandbox sandbox) {
        SandboxInfo info = sandbox.info();
        String stored;
        try {
            stored = JSON.writeValueAsString(Stored.of(sandbox));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        long pid = sandbox.vm() == null ? 0 : sandbox.vm().pid();
        write(info, stored, pid);
    }

    private synchronized void write(SandboxInfo info, String stored, long pid) {
        try (PreparedStatement p = db.prepareStatement("INSERT OR REPLACE INTO sandboxes "
                + "(id, stored, state, failure, vmm_pid, ready_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, info.id());
            p.setString(2, stored);
            p.setString(3, info.state().name());
            p.setString(4, info.failure().orElse(null));
            p.setLong(5, pid);
            p.setString(6, info.readyAt().map(Instant::toString).orElse(null));
            p.setString(7, info.expiresAt().map(Instant::toString).orElse(null));
            p.executeUpdate();
        } catch (SQLException e) {
            throw new BasaltException.Internal("cannot record sandbox " + info.id() + ": " + e.getMessage(), e);
        }
    }

    synchronized void delete(String id) {
        try (PreparedStatement p = db.prepareStatement("DELETE FROM sandboxes WHERE id = ?")) {
            p.setString(1, id);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new BasaltException.Internal("cannot forget sandbox " + id + ": " + e.getMessage(), e);
        }
    }

    synchronized List<Row> loadAll() {
        List<Row> rows = new ArrayList<>();
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT id, stored, state, failure, vmm_pid, ready_at, expires_at FROM sandboxes")) {
            while (r.next()) {
                rows.add(new Row(r.getString(1), JSON.readValue(r.getString(2), Stored.class),
                        SandboxState.valueOf(r.getString(3)), r.getString(4), r.getLong(5), instant(r.getString(6)),
                        instant(r.getString(7))));
            }
            return rows;
        } catch (SQLException | JsonProcessingException e) {
            throw new BasaltException.Internal("cannot read the state database: " + e.getMessage(), e);
        }
    }

    private static Instant instant(String s) {
        return s == null ? null : Instant.parse(s);
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            // closing: nothing to do about it
        }
    }
}
