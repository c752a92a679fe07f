package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cgroup per sandbox, below this process's own cgroup in each hierarchy ({@code <own>/basalt/<id>}),
 * so the host's limits on this process still hold: memory (guest RAM plus {@link #OVERHEAD_MIB} for
 * QEMU), processes ({@link #MAX_PIDS}), CPU time (a quota of one CPU per vCPU) and, where the I/O
 * scheduler offers one, an I/O weight. cgroup v2 is used where its controllers are enabled, else the
 * v1 hierarchies (memory, pids, cpu, blkio); a host with neither gets no caps (said once in the log).
 * The VMM joins its groups as it starts ({@link dev.basalt.vmm.LaunchPolicy#cgroups()}); a group is
 * removed when its VM has exited, and groups of dead sandboxes are swept when a manager starts.
 */
final class SandboxCgroups {
    private static final Logger log = LoggerFactory.getLogger(SandboxCgroups.class);
    /** QEMU's own memory beside the guest's: code cache (bounded by {@code tb-size}), heap, libraries. */
    static final int OVERHEAD_MIB = 256;
    static final int MAX_PIDS = 128;
    private static final long CPU_PERIOD_US = 100_000;
    private static final int IO_WEIGHT = 100;
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final List<String> V1_CONTROLLERS = List.of("memory", "pids", "cpu", "blkio");
    /** A group this young may belong to a VM being started right now: never swept. */
    private static final Duration SWEEP_GRACE = Duration.ofMinutes(1);

    /** The parent directories (one per hierarchy, or the one v2 directory) sandbox groups go into. */
    private final Map<String, Path> parents;
    private final boolean v2;
    /** Removals waiting for a VM's exit, by sandbox id. */
    private final Map<String, CompletableFuture<Void>> removals = new java.util.concurrent.ConcurrentHashMap<>();

    private SandboxCgroups(Map<String, Path> parents, boolean v2) {
        this.parents = parents;
        this.v2 = v2;
    }

    /** Groups below this process's own, or none if {@code enabled} is false or the host has no controllers. */
    static SandboxCgroups detect(boolean enabled) {
        if (!enabled) {
            return new SandboxCgroups(Map.of(), false);
        }
        try {
            Map<String, String> own = ownPaths();
            String unified = own.get("");
            Path v2Dir = unified == null ? null : ROOT.resolve(unified.substring(1));
            if (v2Dir != null && Files.isRegularFile(ROOT.resolve("cgroup.controllers"))
                    && Files.readString(ROOT.resolve("cgroup.controllers")).contains("memory")) {
                Path parent = v2Dir.resolve("basalt");
                Files.createDirectories(parent);
                write(parent.resolve("cgroup.subtree_control"), "+memory +pids +cpu +io");
                return new SandboxCgroups(Map.of("", parent), true);
            }
            Map<String, Path> parents = new LinkedHashMap<>();
            for (String controller : V1_CONTROLLERS) {
                Path mount = ROOT.resolve(controller);
                String path = own.get(controller);
                if (path != null && Files.isRegularFile(mount.resolve("cgroup.procs"))) {
                    Path parent = mount.resolve(path.substring(1)).resolve("basalt");
                    Files.createDirectories(parent);
                    parents.put(controller, parent);
                }
            }
            if (parents.isEmpty()) {
                log.warn("no cgroup controllers found: sandboxes run without host-side memory, process and CPU caps");
            }
            return new SandboxCgroups(parents, false);
        } catch (IOException | RuntimeException e) {
            log.warn("cgroups unusable ({}): sandboxes run without host-side memory, process and CPU caps", e.getMessage());
            return new SandboxCgroups(Map.of(), false);
        }
    }

    /** This process's cgroup path per controller ("" for the v2 hierarchy), from /proc/self/cgroup. */
    private static Map<String, String> ownPaths() throws IOException {
        Map<String, String> paths = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length == 3) {
                for (String controller : f[1].split(",")) {
                    paths.put(controller, f[2]);
                }
            }
        }
        return paths;
    }

    /** True if sandboxes get caps on this host. */
    boolean active() {
        return !parents.isEmpty();
    }

    /**
     * Creates the groups of sandbox {@code id} with the caps of {@code spec}; returns the directories
     * its VMM joins (empty when inactive). A VM that {@code mapsTemplate} (a template's clone) may fault
     * in the template's memory file as well as its own copies of those pages: the first VM to touch a
     * page of a tmpfs file is charged for it, so such a VM's memory cap counts the guest's RAM twice.
     * Waits first for the groups of an earlier VM of the same sandbox (before a pause) to be gone.
     *
     * @throws BasaltException.Internal if a group cannot be made
     */
    List<Path> create(String id, SandboxSpec spec, boolean mapsTemplate) {
        CompletableFuture<Void> earlier = removals.remove(id);
        if (earlier != null) {
            earlier.join();
        }
        List<Path> groups = new ArrayList<>();
        long memoryBytes = ((long) spec.memoryMib() * (mapsTemplate ? 2 : 1) + OVERHEAD_MIB) << 20;
        long quota = CPU_PERIOD_US * spec.vcpus();
        try {
            for (var e : parents.entrySet()) {
                Path group = e.getValue().resolve(id);
                Files.createDirectories(group);
                groups.add(group);
                if (v2) {
                    write(group.resolve("memory.max"), Long.toString(memoryBytes));
                    write(group.resolve("memory.swap.max"), "0");
                    write(group.resolve("pids.max"), Integer.toString(MAX_PIDS));
                    write(group.resolve("cpu.max"), quota + " " + CPU_PERIOD_US);
                    writeIfPresent(group.resolve("io.weight"), "default " + IO_WEIGHT);
                    continue;
                }
                switch (e.getKey()) {
                    case "memory" -> write(group.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
                    case "pids" -> write(group.resolve("pids.max"), Integer.toString(MAX_PIDS));
                    case "cpu" -> {
                        write(group.resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_US));
                        write(group.resolve("cpu.cfs_quota_us"), Long.toString(quota));
                    }
                    case "blkio" -> {
                        writeIfPresent(group.resolve("blkio.weight"), Integer.toString(IO_WEIGHT));
                        writeIfPresent(group.resolve("blkio.bfq.weight"), Integer.toString(IO_WEIGHT));
                    }
                    default -> { }
                }
            }
            return groups;
        } catch (IOException | RuntimeException e) {
            remove(id);
            throw new BasaltException.Internal("cannot make the cgroups of sandbox " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes the groups of sandbox {@code id} once its VM has {@code exited}, on a thread of its own; a
     * later {@link #create} for the same sandbox (a resume) waits for that removal instead of racing it.
     */
    void removeWhenExited(String id, CompletableFuture<Integer> exited) {
        CompletableFuture<Void> removal = exited.thenRunAsync(() -> remove(id), Thread.ofVirtual()::start);
        removals.put(id, removal);
        removal.thenRun(() -> removals.remove(id, removal));
    }

    /** Removes the groups of sandbox {@code id}; its VM must have exited (a group with processes stays). */
    void remove(String id) {
        for (Path parent : parents.values()) {
            Path group = parent.resolve(id);
            for (int attempt = 0; attempt < 50 && Files.isDirectory(group); attempt++) {
                try {
                    Files.delete(group);   // rmdir: a cgroup's files go with it
                } catch (IOException e) {
                    sleep();               // the last process may be exiting still
                }
            }
            if (Files.isDirectory(group)) {
                log.warn("sandbox {}: cgroup {} still has processes; left for the next sweep", id, group);
            }
        }
    }

    /** Removes groups that belong to no sandbox in {@code keep}, have no process and are not brand new. */
    void sweep(Set<String> keep) {
        for (Path parent : parents.values()) {
            try (Stream<Path> groups = Files.list(parent)) {
                for (Path group : groups.filter(Files::isDirectory).toList()) {
                    String name = group.getFileName().toString();
                    if (keep.contains(name) || young(group) || !Files.readString(group.resolve("cgroup.procs")).isBlank()) {
                        continue;
                    }
                    try {
                        Files.delete(group);
                        log.info("removed the cgroup of gone sandbox {}", name);
                    } catch (IOException e) {
                        log.debug("cannot remove {}: {}", group, e.getMessage());
                    }
                }
            } catch (IOException e) {
                log.debug("cannot sweep {}: {}", parent, e.getMessage());
            }
        }
    }

    private static boolean young(Path group) throws IOException {
        FileTime made = Files.getLastModifiedTime(group);
        return made.toInstant().isAfter(Instant.now().minus(SWEEP_GRACE));
    }

    private static void write(Path file, String value) throws IOException {
        Files.writeString(file, value);
    }

    private static void writeIfPresent(Path file, String value) {
        if (Files.exists(file)) {
            try {
                write(file, value);
            } catch (IOException e) {
                log.debug("cannot set {}: {}", file, e.getMessage());
            }
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
