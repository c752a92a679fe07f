package dev.basalt.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.agent.AgentClient;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
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
    /**
     * Bumped when the template layout or the machine's CPU change in ways the key's shape does not
     * show (2: TCG guests without ERMS; 3: the key hashes the whole VM config).
     */
    static final int FORMAT = 3;
    private static final int KEEP = 8;

    private final Path root;
    private final Disks disks;
    private final Hypervisor hypervisor;
    private final RunRoot runRoot;
    private final SandboxBuilder builder;
    /** Slots for the template VMs of networked sandboxes. */
    private final SandboxNetwork network;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    /** Template keys by image id and size: every create asks for one. */
    private final Map<String, TemplateKey> keys = new ConcurrentHashMap<>();
    /** What the template of a key boots: its config with the disk chains it starts from (the image's files). */
    private final Map<TemplateKey, VmConfig> sources = new ConcurrentHashMap<>();
    /** Each key's name, hashed once: every create from a template asks for it. */
    private final Map<TemplateKey, String> names = new ConcurrentHashMap<>();

    TemplateCache(Path shmDir, Disks disks, Hypervisor hypervisor, RunRoot runRoot, SandboxBuilder builder,
                  SandboxNetwork network) {
        this.network = network;
        this.root = shmDir.resolve("templates");
        this.disks = disks;
        this.hypervisor = hypervisor;
        this.runRoot = runRoot;
        this.builder = builder;
        try {
            StateFiles.privateDirectory(root);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create template directory " + root + ": " + e.getMessage(), e);
        }
        StateFiles.sweep(root, ".t");   // templates a killed process was saving (".<key>.lock" files stay)
    }

    /** The key of the template that VMs of this image and spec are cloned from. */
    TemplateKey key(GuestImage image, SandboxSpec spec) {
        String rootId = image.root() == null ? "" : image.root().id() + "|" + image.diskBytes(spec);
        // a template with a disk is tied to the directory its layer is in: managers with other state
        // directories (basaltd and an embedded CLI sharing /dev/shm) get templates of their own
        String identity = image.root() == null ? image.id() : image.id() + "|disks " + disks.root();
        return keys.computeIfAbsent(image.name() + "|" + image.id() + "|" + spec.vcpus() + "|" + spec.memoryMib()
                + "|" + spec.network().mode().hasNic() + "|" + rootId, k -> {
                    VmConfig source = image.vmConfig("", spec, new MemoryBacking.Anonymous());
                    TemplateKey made = new TemplateKey(FORMAT, image.name(), identity, hypervisor.version(),
                            hypervisor.accel().id(), source);
                    sources.putIfAbsent(made, source);
                    return made;
                });
    }

    /** Where the template of {@code key} lives (published or not yet). */
    Template location(TemplateKey key) {
        String name = names.computeIfAbsent(key, TemplateKey::hash);
        Path dir = root.resolve(name);
        return new Template(key, name, dir.resolve("memory.ram"), dir.resolve("state.bin"), disks.templateDir(name));
    }

    /** The template of {@code key}, booting and saving it first if there is none yet. */
    Template get(TemplateKey key) {
        Template template = location(key);
        if (published(template)) {
            return template;
        }
        synchronized (locks.computeIfAbsent(template.name(), k -> new Object())) {
            try (FileChannel lock = FileChannel.open(root.resolve("." + template.name() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 var held = lock.lock()) {
                if (!published(template)) {
                    create(template);
                }
                return template;
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot lock template " + template.name() + ": " + e.getMessage(), e);
            }
        }
    }

    /** True if the template exists; marks it used. */
    private boolean published(Template template) {
        Path meta = template.memoryFile().resolveSibling("template.json");
        if (!Files.isRegularFile(meta) || template.hasDisks() && !disks.templateReady(template.name())) {
            return false;
        }
        try {
            Files.setLastModifiedTime(meta, FileTime.from(Instant.now()));
        } catch (IOException e) {
            log.debug("cannot touch {}", meta);
        }
        return true;
    }

    /** Boots the template's VM once with its RAM in a shared file, waits for the agent, saves the device state. */
    private void create(Template template) throws IOException {
        TemplateKey key = template.key();
        int memoryMib = template.memoryMib();
        HostResources.checkShmRoom(root, memoryMib + HostResources.SHM_MARGIN_MIB, "the template of image " + key.image()
                + " (" + memoryMib + " MiB, which its clones may fill)");
        long start = System.nanoTime();
        // a template whose disk files went missing is made again (its clones keep their mappings)
        RunRoot.deleteTree(template.memoryFile().getParent());
        Path tmp = Files.createTempDirectory(root, ".t" + template.name() + StateFiles.tag() + ".");
        String id = "t" + SandboxIds.next().substring(1);
        VmConfig source = sources.getOrDefault(key, key.shape());
        var config = source.withName(id).withMemory(new MemoryBacking.SharedFile(tmp.resolve("memory.ram")));
        SandboxSpec spec = SandboxSpec.defaults().withVcpus(config.machine().vcpus()).withMemoryMib(memoryMib)
                .withBootTimeout(Duration.ofMinutes(2));
        Path runDir = runRoot.create(id);
        ManagedSandbox builderVm = new ManagedSandbox(id, spec, disks.attach(id, config), runDir, hypervisor,
                "template-build", event -> { });
        boolean published = false;
        try {
            if (SandboxNetwork.hasNic(config)) {   // its guest reaches nothing: it only boots to be saved
                builderVm.networkNamespace(network.attach(id, SandboxNetwork.NOTHING));
            }
            builder.forBoot(builderVm);
            AgentClient agent = builderVm.freeze("save a template of");
            if (!config.devices(Device.Disk.class).isEmpty()) {
                warmPageCache(agent);
            }
            agent.ping(Duration.ofSeconds(10));      // every byte the host sent has been read by the guest
            builderVm.vm().saveState(tmp.resolve("state.bin"));
            // the VM is done: its disk, flushed by the save, becomes the template's frozen layer
            builderVm.vm().kill();
            for (Device.Disk disk : builderVm.config().devices(Device.Disk.class)) {
                disks.publishTemplate(id, template.name(), disk);
            }
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("template.json").toFile(), Map.of(
                    "name", template.name(), "key", key, "createdAt", Instant.now().toString()));
            CrashPoint.reach("template-saved");
            Files.move(tmp, template.memoryFile().getParent(), StandardCopyOption.ATOMIC_MOVE);
            published = true;
            log.info("template {} of image {} ({} vCPU, {} MiB) saved in {} ms", template.name(), key.image(),
                    config.machine().vcpus(), memoryMib, (System.nanoTime() - start) / 1_000_000);
        } catch (RuntimeException | IOException e) {
            RunRoot.deleteTree(tmp);
            disks.deleteTemplate(template.name());
            throw e instanceof BasaltException b ? b : new BasaltException.Unavailable("cannot build the template of image "
                    + key.image() + ": " + e.getMessage() + builderVm.diagnostics(), e);
        } finally {
            builderVm.retire();
            if (builderVm.vm() != null) {
                builderVm.vm().kill();
            }
            network.detach(id);
            runRoot.delete(builderVm.dir());
            disks.delete(id);
            if (!published) {
                disks.deleteTemplate(template.name());
            }
        }
        evictOld();
    }

    /**
     * Runs what a sandbox of a disk image runs first ({@code true}, and {@code python3} where there
     * is one) in the template's VM, so that the dynamic loader, libc and the interpreter are in the
     * page cache its clones inherit with its memory, instead of being read through the disk by each
     * clone. A program the image lacks just fails.
     */
    private static void warmPageCache(AgentClient agent) {
        for (List<String> argv : List.of(List.of("true"), List.of("true"), List.of("python3", "-c", "pass"))) {
            try (var exec = agent.exec(dev.basalt.vmm.agent.ExecSpec.of(argv.toArray(String[]::new)))) {
                exec.awaitExit(Duration.ofSeconds(60));
            } catch (RuntimeException e) {
                log.debug("template warm-up `{}`: {}", String.join(" ", argv), e.getMessage());
            }
        }
    }

    /** Keeps the {@value #KEEP} most recently used templates; clones of evicted ones keep running. */
    private void evictOld() {
        try (var dirs = Files.list(root)) {
            var templates = dirs.filter(d -> Files.isRegularFile(d.resolve("template.json")))
                    .sorted(Comparator.comparing((Path d) -> lastUse(d)).reversed()).toList();
            for (Path old : templates.subList(Math.min(KEEP, templates.size()), templates.size())) {
                log.info("evicting template {}", old.getFileName());
                RunRoot.deleteTree(old);
                disks.deleteTemplate(old.getFileName().toString());
            }
        } catch (IOException e) {
            log.debug("cannot evict templates: {}", e.getMessage());
        }
    }

    /** The published templates, most recently used first, with the memory each holds now. */
    java.util.List<dev.basalt.api.TemplateInfo> list() {
        try (var dirs = Files.list(root)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("template.json")))
                    .sorted(Comparator.comparing((Path d) -> lastUse(d)).reversed())
                    .map(TemplateCache::describe).filter(java.util.Objects::nonNull).toList();
        } catch (IOException e) {
            throw new BasaltException.Unavailable("cannot list the templates in " + root + ": " + e.getMessage(), e);
        }
    }

    /** Deletes every published template no other thread or process is building; returns them. */
    java.util.List<dev.basalt.api.TemplateInfo> prune() {
        java.util.List<dev.basalt.api.TemplateInfo> removed = new java.util.ArrayList<>();
        for (dev.basalt.api.TemplateInfo t : list()) {
            synchronized (locks.computeIfAbsent(t.key(), k -> new Object())) {
                try (FileChannel lock = FileChannel.open(root.resolve("." + t.key() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     var held = lock.tryLock()) {
                    if (held != null) {
                        RunRoot.deleteTree(root.resolve(t.key()));
                        removed.add(t);
                        log.info("template {} of image {} deleted ({} on /dev/shm given back)", t.key(), t.image(),
                                t.shmBytes());
                    }
                } catch (IOException | java.nio.channels.OverlappingFileLockException e) {
                    log.warn("cannot delete template {}: {}", t.key(), e.toString());
                }
            }
        }
        return removed;
    }

    private static dev.basalt.api.TemplateInfo describe(Path dir) {
        try {
            var json = JSON.readTree(dir.resolve("template.json").toFile());
            long bytes = ZeroPages.allocatedBytes(dir.resolve("memory.ram"))
                    + Files.size(dir.resolve("state.bin"));
            Instant created = Instant.parse(json.path("createdAt").asText(Instant.EPOCH.toString()));
            var key = json.path("key");
            var machine = key.path("shape").path("machine");
            return new dev.basalt.api.TemplateInfo(dir.getFileName().toString(), key.path("image").asText("?"),
                    machine.path("vcpus").asInt(), machine.path("memoryMib").asInt(), bytes, created,
                    lastUse(dir).toInstant());
        } catch (IOException | RuntimeException e) {
            return null;                    // deleted meanwhile, or not a template of this version
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
