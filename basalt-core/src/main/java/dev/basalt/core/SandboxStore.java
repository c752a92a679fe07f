package dev.basalt.core;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.Machine;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
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
import java.util.TreeMap;

/**
 * The durable record of every sandbox of a daemon, in an embedded SQLite database
 * ({@code <stateDir>/basalt.db}, WAL mode). Written through on every lifecycle event, so a daemon
 * killed at any moment finds on restart exactly the sandboxes it had and can reattach to them.
 * Thread-safe (one connection, serialized).
 */
final class SandboxStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** 2: records hold the VM's config; schema-1 records are still read (see {@link Stored#config}). */
    private static final int SCHEMA = 2;
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE_FILE =
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");

    /** What is needed to rebuild a sandbox after a restart. */
    record Row(String id, Stored stored, SandboxState state, String failure, long vmmPid, Instant readyAt,
               Instant expiresAt) {}

    /**
     * The immutable part of a sandbox, stored as JSON: its spec, origin, creation time and the
     * config of its VM ({@code vm}), which is what a reattach rebuilds the VM from. Records of
     * schema 1 carry the image's files and the memory backing instead of {@code vm}; {@link #config}
     * rebuilds the same machine from them.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Stored(String image, int vcpus, int memoryMib, Map<String, String> labels, long bootTimeoutMillis,
                  boolean coldBoot, Long ttlMillis, String origin, String createdAt, VmConfig vm,
                  String kernel, String initrd, Boolean acpi, String cmdlineExtra, String memoryKind, String memoryPath,
                  String netMode, List<String> netAllow, List<String> netDeny, String netns, Map<Integer, Integer> ports) {

        static Stored of(ManagedSandbox sandbox) {
            SandboxSpec spec = sandbox.spec();
            SandboxInfo info = sandbox.info();
            NetworkPolicy net = spec.network();
            boolean networked = net.mode() != NetworkMode.NONE;
            Map<Integer, Integer> ports = new TreeMap<>();
            sandbox.portForwards().forEach(f -> ports.put(f.guestPort(), f.hostPort()));
            return new Stored(spec.image(), spec.vcpus(), spec.memoryMib(), spec.labels(), spec.bootTimeout().toMillis(),
                    spec.coldBoot(), spec.ttl() == null ? null : spec.ttl().toMillis(), info.origin(),
                    info.createdAt().toString(), sandbox.config(), null, null, null, null, null, null,
                    networked ? net.mode().cliName() : null, networked ? texts(net.allow()) : null, networked ? texts(net.deny()) : null,
                    sandbox.networkNamespace() == null ? null : sandbox.networkNamespace().toString(), ports.isEmpty() ? null : ports);
        }

        private static List<String> texts(List<EgressRule> rules) {
            return rules.stream().map(EgressRule::text).toList();
        }

        SandboxSpec spec() {
            return SandboxSpec.defaults().withImage(image).withVcpus(vcpus).withMemoryMib(memoryMib).withLabels(labels)
                    .withBootTimeout(Duration.ofMillis(bootTimeoutMillis)).withColdBoot(coldBoot)
                    .withTtl(ttlMillis == null ? null : Duration.ofMillis(ttlMillis)).withNetwork(network());
        }

        /** The sandbox's network policy as last set. */
        NetworkPolicy network() {
            if (netMode == null) {
                return NetworkPolicy.none();
            }
            return new NetworkPolicy(NetworkMode.parse(netMode), NetworkPolicy.parseAll(netAllow == null ? List.of() : netAllow),
                    NetworkPolicy.parseAll(netDeny == null ? List.of() : netDeny));
        }

        /** The config of the sandbox's VM ({@code id} names a VM of a schema-1 record). */
        VmConfig config(String id) {
            if (vm != null) {
                return vm;
            }
            MemoryBacking memory = switch (memoryKind == null ? "anonymous" : memoryKind) {
                case "shared" -> new MemoryBacking.SharedFile(Path.of(memoryPath));
                case "private" -> new MemoryBacking.PrivateFile(Path.of(memoryPath));
                default -> new MemoryBacking.Anonymous();
            };
            return new VmConfig(id, new Machine(vcpus, memoryMib, memory),
                    new Boot(Path.of(kernel), Path.of(initrd), cmdlineExtra, acpi == null || acpi), VmConfig.standardDevices());
        }
    }

    private final Connection db;

    private SandboxStore(Connection db) {
        this.db = db;
    }

    static SandboxStore open(Path stateDir) {
        try {
            StateFiles.privateDirectory(stateDir);   // the records name every sandbox, its labels and files
            Path file = stateDir.resolve("basalt.db");
            for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
                Path f = stateDir.resolve("basalt.db" + suffix);
                if (suffix.isEmpty() && !Files.exists(f)) {
                    Files.createFile(f, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
                } else if (Files.exists(f)) {
                    Files.setPosixFilePermissions(f, PRIVATE_FILE);   // SQLite gives its -wal and -shm the db's mode
                }
            }
            // sqlite-jdbc unpacks its native library into a temp dir and deletes it on exit; keep it in
            // a directory of this process under the state dir, and sweep those of killed daemons
            Path lib = Files.createDirectories(stateDir.resolve("lib"));
            StateFiles.sweep(lib, ".tmp-");
            if (System.getProperty("org.sqlite.tmpdir") == null) {
                System.setProperty("org.sqlite.tmpdir", Files.createDirectories(lib.resolve(StateFiles.tag())).toString());
            }
            Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
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
                if (schema == 1) {
                    try (Statement u = db.createStatement()) {
                        u.execute("UPDATE meta SET value = '" + SCHEMA + "' WHERE key = 'schema'");
                    }
                } else if (schema != SCHEMA) {
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
