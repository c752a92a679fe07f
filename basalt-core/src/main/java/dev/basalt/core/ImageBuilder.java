package dev.basalt.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.PullRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.image.ImageService;
import dev.basalt.image.ImageStore;
import dev.basalt.image.dockerfile.BuildContext;
import dev.basalt.image.dockerfile.BuildPlan;
import dev.basalt.image.dockerfile.Dockerfile;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.VmConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dockerfile builds in Basalt's own sandboxes (no docker daemon): the uncached steps run in one
 * VM booted on the FROM image (or on the disk a cached step left); after each RUN or COPY the
 * guest syncs and its disk is frozen live, and the frozen chain is kept in the build cache
 * ({@code <stateDir>/build-cache/<step key>/}, hard links) under the step's key ({@link BuildPlan}),
 * so the next build of an unchanged prefix starts from there. The result is the last chain
 * flattened into one ext4 file ({@code qemu-img convert}, {@code e2fsck}, {@code resize2fs -M}),
 * stored in the image store atomically. A RUN that fails ends the build with its exit status.
 */
final class ImageBuilder {
    private static final Logger log = LoggerFactory.getLogger(ImageBuilder.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Cached steps kept (the least recently made go first). */
    static final int CACHE_KEEP = 64;
    private static final int TAIL = 4096;
    private static final int BUILD_MEMORY_MIB = 1024;

    private final BuildSandboxes manager;
    private final ImageService images;
    private final Path cacheDir;

    ImageBuilder(BuildSandboxes manager, ImageService images, Path cacheDir) {
        this.manager = manager;
        this.images = images;
        this.cacheDir = cacheDir;
    }

    BuildResult build(BuildRequest request, ExecOutput output, Consumer<String> progress) {
        Dockerfile file = Dockerfile.parse(read(request.dockerfile()), request.dockerfile().getFileName().toString());
        BuildContext context = new BuildContext(request.context());
        String from = BuildPlan.baseImage(file, request.buildArgs());
        ImageInfo base = resolveFrom(from, progress);
        int diskMib = request.diskMib() > 0 ? request.diskMib() : SandboxSpec.DEFAULT_DISK_MIB;
        BuildPlan plan;
        try {
            plan = BuildPlan.plan(file, context, request.buildArgs(), base.id() + " disk " + diskMib, base.config());
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read the build context " + request.context() + ": " + e, e);
        }
        List<BuildPlan.Step> steps = plan.steps();
        String imageId = plan.key().substring(0, 32);
        ImageStore store = images.store();
        if (!request.noCache() && store.hasContent(imageId)) {
            for (int i = 0; i < steps.size(); i++) {
                progress.accept(stepLine(i, steps) + " (cached)");
            }
            return new BuildResult.Built(store.tag(imageId, request.name()), steps.size(), steps.size());
        }
        // start after the last step whose result is cached
        int resume = 0;
        Device.Disk chain = null;
        for (int i = steps.size() - 1; i >= 0 && !request.noCache(); i--) {
            if (steps.get(i).changesFiles()) {
                chain = cached(steps.get(i).key());
                if (chain != null) {
                    resume = i + 1;
                    break;
                }
            }
        }
        for (int i = 0; i < resume; i++) {
            progress.accept(stepLine(i, steps) + " (cached)");
        }
        List<BuildPlan.Step> todo = steps.subList(resume, steps.size());
        if (todo.stream().anyMatch(BuildPlan.Step::changesFiles)) {
            SandboxSpec spec = SandboxSpec.defaults().withImage(base.name()).withDiskMib(diskMib)
                    .withMemoryMib(BUILD_MEMORY_MIB).withColdBoot(true).withLabels(Map.of("basalt.build", request.name()));
            GuestImage image = manager.resolve(spec);
            if (chain == null) {
                chain = image.vmConfig("", spec, new dev.basalt.vmm.MemoryBacking.Anonymous())
                        .devices(Device.Disk.class).getFirst();
            }
            progress.accept("starting a sandbox of " + base.name() + " for the build...");
            SandboxInfo sandbox = manager.createOnChain(spec, image, chain);
            try {
                for (int i = resume; i < steps.size(); i++) {
                    BuildPlan.Step step = steps.get(i);
                    progress.accept(stepLine(i, steps));
                    if (!step.changesFiles()) {
                        continue;
                    }
                    BuildResult.Failed failed = run(sandbox.id(), step, context, output);
                    if (failed != null) {
                        return failed;
                    }
                    chain = keep(step.key(), freeze(sandbox.id()));
                }
            } finally {
                manager.remove(sandbox.id());
            }
        } else {
            for (int i = resume; i < steps.size(); i++) {
                progress.accept(stepLine(i, steps));
            }
        }
        progress.accept("storing image " + request.name() + "...");
        ImageInfo info = commit(request.name(), imageId, chain, base, plan.config(),
                "dockerfile " + request.dockerfile().toAbsolutePath());
        return new BuildResult.Built(info, steps.size(), resume);
    }

    private static String stepLine(int i, List<BuildPlan.Step> steps) {
        return "step " + (i + 1) + "/" + steps.size() + ": " + steps.get(i).text();
    }

    /** The FROM image: in the store, or pulled from its registry; {@code base} is built if need be. */
    private ImageInfo resolveFrom(String from, Consumer<String> progress) {
        try {
            ImageInfo.requireValidName(from);
            var found = images.store().find(from);
            if (found.isPresent()) {
                return found.get();
            }
            if (from.equals(ImageService.BASE)) {
                return images.ensureBase(progress);
            }
        } catch (BasaltException.InvalidArgument e) {
            // not a store name: maybe a reference with a digest
        }
        if (!from.contains("/")) {
            throw new BasaltException.InvalidArgument("FROM " + from + ": no such image in the image store (list them"
                    + " with `basalt images`; pull, import or build it first, or name it by its registry)");
        }
        progress.accept("pulling " + from + "...");
        return images.pull(PullRequest.of(from), progress);
    }

    /** Runs one RUN or COPY step; returns the failure of a RUN that did not succeed. */
    private BuildResult.Failed run(String id, BuildPlan.Step step, BuildContext context, ExecOutput output) {
        switch (step) {
            case BuildPlan.RunStep r -> {
                manager.mkdir(id, r.workdir());
                Tail tail = new Tail(output);
                ExecRequest request = ExecDefaults.apply(new ImageConfig(Map.of(), r.workdir(), r.user(), List.of(), List.of()),
                        ExecRequest.of(r.argv()).withEnv(r.env()));
                ExecResult result = manager.execAsIs(id, request, tail);
                if (!result.exit().success()) {
                    return new BuildResult.Failed(r.line(), r.text(), result.exit(), tail.text());
                }
            }
            case BuildPlan.CopyStep c -> copy(id, c);
            case BuildPlan.ConfigStep s -> { }
        }
        return null;
    }

    private void copy(String id, BuildPlan.CopyStep c) {
        List<String> written = new ArrayList<>();
        try {
            for (BuildContext.Entry e : c.entries()) {
                int mode = (int) Files.getAttribute(e.source(), "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
                if (e.directory()) {
                    manager.mkdir(id, e.destination());
                    asRoot(id, "chmod " + Integer.toOctalString(mode) + " -- \"$1\"", e.destination());
                } else if (e.symlink()) {
                    asRoot(id, "mkdir -p -- \"$(dirname -- \"$2\")\" && ln -sfn -- \"$1\" \"$2\"",
                            Files.readSymbolicLink(e.source()).toString(), e.destination());
                } else {
                    try (InputStream in = Files.newInputStream(e.source(), LinkOption.NOFOLLOW_LINKS)) {
                        manager.writeFile(id, e.destination(), in, mode);
                    }
                }
                written.add(e.destination());
            }
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("Dockerfile line " + c.line() + ": cannot read the build context: " + e, e);
        }
        for (int from = 0; from < written.size(); from += 200) {
            List<String> batch = written.subList(from, Math.min(written.size(), from + 200));
            if (c.chown() != null) {
                asRoot(id, "chown -h \"$0\" -- \"$@\"", prepend(c.chown(), batch));
            }
            if (c.chmod() != null) {
                asRoot(id, "chmod \"$0\" -- \"$@\"", prepend(c.chmod(), batch));
            }
        }
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> out = new ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }

    private void asRoot(String id, String script, String... args) {
        asRoot(id, script, List.of(args));
    }

    /** {@code sh -c script} with {@code args} as $0 (or $1...) as root; fails the build with its words. */
    private void asRoot(String id, String script, List<String> args) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", script));
        if (!script.contains("$0")) {
            argv.add("sh");
        }
        argv.addAll(args);
        ExecResult r = manager.execAsIs(id, ExecRequest.of(argv), ExecOutput.discard());
        if (!r.exit().success()) {
            ExecResult again = manager.exec(id, ExecRequest.of(argv));
            throw new BasaltException.InvalidArgument("build step helper `" + script + "` failed in the sandbox: "
                    + again.stderrText().strip());
        }
    }

    /** The guest syncs; its disk is frozen; the chain without the new top is returned. */
    private Device.Disk freeze(String id) {
        manager.execAsIs(id, ExecRequest.of(ExecDefaults.AGENT, "--sync"), ExecOutput.discard());
        VmConfig config = manager.freezeDisks(id);
        return config.devices(Device.Disk.class).getFirst().withTop(null);
    }

    /** The chain cached for a step key, or null. */
    private Device.Disk cached(String key) {
        Path meta = cacheDir.resolve(key).resolve("chain.json");
        try {
            Device.Disk disk = (Device.Disk) JSON.readValue(meta.toFile(), Device.class);
            for (Path layer : disk.layers()) {
                if (!Files.isRegularFile(layer)) {
                    return null;
                }
            }
            Files.setLastModifiedTime(meta, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
            return disk;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Keeps a step's chain in the cache (its own links) and returns it as named there. */
    private Device.Disk keep(String key, Device.Disk chain) {
        Path dir = cacheDir.resolve(key);
        Path tmp = cacheDir.resolve("." + key + "." + System.nanoTime());
        try {
            Files.createDirectories(cacheDir);
            VmConfig kept = Disks.keep(new VmConfig("cache", new dev.basalt.vmm.Machine(1, 64,
                    new dev.basalt.vmm.MemoryBacking.Anonymous()), new dev.basalt.vmm.Boot(Path.of("/"), null, "", false),
                    List.of(chain)), tmp);
            Device.Disk linked = kept.devices(Device.Disk.class).getFirst();
            Device.Disk named = linked.relocated(p -> dir.resolve(p.getFileName()));
            JSON.writerFor(Device.class).writeValue(tmp.resolve("chain.json").toFile(), named);
            RunRoot.deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            evict();
            return named;
        } catch (IOException e) {
            RunRoot.deleteTree(tmp);
            log.warn("cannot cache build step {}: {}", key, e.toString());
            return chain;
        }
    }

    private void evict() {
        try (var list = Files.list(cacheDir)) {
            List<Path> entries = list.filter(p -> Files.isRegularFile(p.resolve("chain.json")))
                    .sorted(Comparator.comparing((Path p) -> p.resolve("chain.json").toFile().lastModified()).reversed())
                    .toList();
            for (Path old : entries.subList(Math.min(CACHE_KEEP, entries.size()), entries.size())) {
                RunRoot.deleteTree(old);
            }
        } catch (IOException e) {
            log.debug("cannot evict build cache entries: {}", e.toString());
        }
    }

    /**
     * Stores the build's result: the chain flattened into one ext4 file and shrunk to what its files
     * need, or (no step changed a file) the FROM image's own file with the new config.
     */
    private ImageInfo commit(String name, String id, Device.Disk chain, ImageInfo base, ImageConfig config, String source) {
        ImageStore store = images.store();
        try (ImageStore.Staging staging = store.stage()) {
            Path out = staging.rootfs();
            Files.createDirectories(out.getParent());
            long fsBytes;
            if (chain == null) {
                Files.createLink(out, store.rootfs(base));
                fsBytes = store.fileSystemBytes(base.name());
            } else {
                Path last = chain.layers().getLast();
                run(List.of("qemu-img", "convert", "-O", "raw", last.toString(), out.toString()), 0);
                run(List.of("e2fsck", "-fy", out.toString()), 1);   // replays the journal; 1: errors fixed
                run(List.of("resize2fs", "-M", out.toString()), 0);
                fsBytes = fileSystemBytes(out);
                try (FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
                    ch.truncate(fsBytes);
                }
            }
            return staging.commit(name, id, source, config, fsBytes);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot store the built image " + name + ": " + e.getMessage(), e);
        }
    }

    /** An ext4 image's size from its superblock (dumpe2fs). */
    private static long fileSystemBytes(Path image) throws IOException {
        String out = run(List.of("dumpe2fs", "-h", image.toString()), 0);
        long blocks = 0;
        long size = 0;
        for (String line : out.split("\n")) {
            if (line.startsWith("Block count:")) {
                blocks = Long.parseLong(line.substring(12).strip());
            } else if (line.startsWith("Block size:")) {
                size = Long.parseLong(line.substring(11).strip());
            }
        }
        if (blocks == 0 || size == 0) {
            throw new IOException("dumpe2fs gave no size for " + image);
        }
        return blocks * size;
    }

    /** Runs a tool; exit codes up to {@code okUpTo} count as success. Returns its output. */
    private static String run(List<String> cmd, int okUpTo) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() > okUpTo) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + out.strip());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + cmd.getFirst(), e);
        }
        return out;
    }

    private static String read(Path dockerfile) {
        try {
            if (Files.size(dockerfile) > Dockerfile.MAX_BYTES) {
                throw new BasaltException.InvalidArgument(dockerfile + " is larger than " + Dockerfile.MAX_BYTES + " bytes");
            }
            return Files.readString(dockerfile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BasaltException.NotFound("no Dockerfile " + dockerfile);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read " + dockerfile + ": " + e.getMessage(), e);
        }
    }

    /** Passes a RUN's output on and keeps its last bytes for the failure report. */
    private static final class Tail implements ExecOutput {
        private final ExecOutput next;
        private final byte[] ring = new byte[TAIL];
        private long total;

        Tail(ExecOutput next) {
            this.next = next;
        }

        @Override
        public void stdout(byte[] chunk) {
            keep(chunk);
            next.stdout(chunk);
        }

        @Override
        public void stderr(byte[] chunk) {
            keep(chunk);
            next.stderr(chunk);
        }

        @Override
        public void started(Runnable kill) {
            next.started(kill);
        }

        private synchronized void keep(byte[] chunk) {
            for (byte b : chunk) {
                ring[(int) (total++ % TAIL)] = b;
            }
        }

        synchronized String text() {
            int n = (int) Math.min(total, TAIL);
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                out[i] = ring[(int) ((total - n + i) % TAIL)];
            }
            return new String(out, StandardCharsets.UTF_8);
        }
    }
}
