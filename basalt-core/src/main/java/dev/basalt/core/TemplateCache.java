package dev.basalt.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.agent.AgentClient;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Templates: one booted-and-saved VM per image and size, from which every later sandbox of that
 * shape is cloned. A template is {@code <shm>/templates/<key>/} holding {@code memory.ram} (the
 * guest RAM, written by the guest itself through a shared mapping), {@code state.bin} (device state
 * saved with {@code x-ignore-shared}, ~60 KB) and {@code template.json}. Clones map the memory file
 * privately (copy-on-write), so they share its pages until they write them.
 *
 * <p>A template file is never modified once published: replacing one means a new key or a delete
 * followed by a new directory (clones keep their mapping of the deleted file). Creation is guarded
 * by a file lock, so several processes share templates safely.
 */
final class TemplateCache {
    private static final Logger log = LoggerFactory.getLogger(TemplateCache.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bumped when the template layout or the machine's devices or CPU change (2: TCG guests without ERMS). */
    private static final int FORMAT = 2;
    private static final int KEEP = 8;

    /** A published template. */
    record Template(String key, Path memoryFile, Path stateFile, GuestImage image, int vcpus, int memoryMib) {}

    private final Path root;
    private final Hypervisor hypervisor;
    private final RunRoot runRoot;
    private final SandboxBuilder builder;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    /** Template keys by image id and size: a key is a hash, and every create asks for one. */
    private final Map<String, String> keys = new ConcurrentHashMap<>();

    TemplateCache(Path shmDir, Hypervisor hypervisor, RunRoot runRoot, SandboxBuilder builder) {
        this.root = shmDir.resolve("templates");
        this.hypervisor = hypervisor;
        this.runRoot = runRoot;
        this.builder = builder;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create template directory " + root + ": " + e.getMessage(), e);
        }
    }

    String key(GuestImage image, SandboxSpec spec) {
        return keys.computeIfAbsent(image.id() + "|" + spec.vcpus() + "|" + spec.memoryMib(), k -> computeKey(image, spec));
    }

    private String computeKey(GuestImage image, SandboxSpec spec) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((FORMAT + "|" + image.id() + "|" + hypervisor.version() + "|" + hypervisor.accel().id() + "|"
                    + spec.vcpus() + "|" + spec.memoryMib()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The template for this image and size, booting and saving it first if there is none yet. */
    Template get(GuestImage image, SandboxSpec spec) {
        String key = key(image, spec);
        Template existing = published(key, image, spec);
        if (existing != null) {
            return existing;
        }
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            try (FileChannel lock = FileChannel.open(root.resolve("." + key + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 var held = lock.lock()) {
                existing = published(key, image, spec);
                return existing != null ? existing : create(key, image, spec);
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot lock template " + key + ": " + e.getMessage(), e);
            }
        }
    }

    private Template published(String key, GuestImage image, SandboxSpec spec) {
        Path dir = root.resolve(key);
        Path meta = dir.resolve("template.json");
        if (!Files.isRegularFile(meta)) {
            return null;
        }
        try {
            Files.setLastModifiedTime(meta, FileTime.from(Instant.now()));
        } catch (IOException e) {
            log.debug("cannot touch {}", meta);
        }
        return new Template(key, dir.resolve("memory.ram"), dir.resolve("state.bin"), image, spec.vcpus(), spec.memoryMib());
    }

    /** Boots the image once with its RAM in a shared file, waits for the agent, saves the device state. */
    private Template create(String key, GuestImage image, SandboxSpec spec) throws IOException {
        HostResources.checkShmRoom(root, spec.memoryMib() + SnapshotOps.SHM_MARGIN_MIB, "the template of image "
                + image.name() + " (" + spec.memoryMib() + " MiB, which its clones may fill)");
        long start = System.nanoTime();
        Path tmp = Files.createTempDirectory(root, "." + key + ".");
        String id = "t" + SandboxIds.next().substring(1);
        ManagedSandbox builderVm = new ManagedSandbox(id, spec, image, runRoot.create(id), hypervisor.accel().id(),
                "template-build", event -> { });
        try {
            builder.forBoot(builderVm, image, spec.withBootTimeout(Duration.ofMinutes(2)),
                    new MemoryBacking.SharedFile(tmp.resolve("memory.ram")));
            AgentClient agent = builderVm.freeze("save a template of");
            agent.ping(Duration.ofSeconds(10));      // every byte the host sent has been read by the guest
            builderVm.vm().saveState(tmp.resolve("state.bin"));
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("template.json").toFile(), Map.of(
                    "key", key, "image", image.name(), "imageId", image.id(), "vmm", hypervisor.version(),
                    "accel", hypervisor.accel().id(), "vcpus", spec.vcpus(), "memoryMib", spec.memoryMib(),
                    "createdAt", Instant.now().toString()));
            Files.move(tmp, root.resolve(key), StandardCopyOption.ATOMIC_MOVE);
            log.info("template {} of image {} ({} vCPU, {} MiB) saved in {} ms", key, image.name(), spec.vcpus(),
                    spec.memoryMib(), (System.nanoTime() - start) / 1_000_000);
        } catch (RuntimeException | IOException e) {
            RunRoot.deleteTree(tmp);
            throw e instanceof BasaltException b ? b : new BasaltException.Unavailable("cannot build the template of image "
                    + image.name() + ": " + e.getMessage() + builderVm.diagnostics(), e);
        } finally {
            builderVm.retire();
            if (builderVm.vm() != null) {
                builderVm.vm().kill();
            }
            runRoot.delete(builderVm.dir());
        }
        evictOld();
        return published(key, image, spec);
    }

    /** Keeps the {@value #KEEP} most recently used templates; clones of evicted ones keep running. */
    private void evictOld() {
        try (var dirs = Files.list(root)) {
            var templates = dirs.filter(d -> Files.isRegularFile(d.resolve("template.json")))
                    .sorted(Comparator.comparing((Path d) -> lastUse(d)).reversed()).toList();
            for (Path old : templates.subList(Math.min(KEEP, templates.size()), templates.size())) {
                log.info("evicting template {}", old.getFileName());
                RunRoot.deleteTree(old);
            }
        } catch (IOException e) {
            log.debug("cannot evict templates: {}", e.getMessage());
        }
    }

    private static FileTime lastUse(Path dir) {
        try {
            return Files.getLastModifiedTime(dir.resolve("template.json"));
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }
}
