package dev.basalt.core;

import dev.basalt.net.NetConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link SandboxManager}.
 *
 * @param imagesDir         where guest images live ({@link ImageCatalog})
 * @param runRoot           where per-sandbox sockets and logs live ({@link RunRoot})
 * @param stateDir          durable state: the snapshot catalog
 * @param shmDir            memory-speed files: template memory and fork states (on /dev/shm)
 * @param maxOutputBytes    buffered exec output kept per stream; more is discarded and flagged
 * @param operationTimeout  deadline of file and metadata operations on the guest
 * @param vmsDieWithManager kill every VM when this process dies (embedded use)
 * @param pools             warm and restore pools to keep
 * @param maxSandboxes      cap on live sandboxes (0: none)
 * @param maxMemoryMib      cap on the memory live sandboxes claim together, guest RAM plus each VM's
 *                          overhead (0: what the host can hold, its total memory less 1 GiB)
 * @param containment       how VMs are confined and capped on the host
 * @param network           sandbox networking (slots, uplink, DNS upstream); started at the first
 *                          networked sandbox. Null: {@link NetConfig#defaults()} with the uplink of
 *                          the host's default route and the resolvers of /etc/resolv.conf
 * @param imageStore        the image store (root file systems); null for {@code <stateDir>/store}. Keep it
 *                          on the state directory's file system: sandboxes' disks hard-link its files
 */
public record ManagerConfig(Path imagesDir, Path runRoot, Path stateDir, Path shmDir, int maxOutputBytes,
                            Duration operationTimeout, boolean vmsDieWithManager, List<PoolConfig> pools,
                            int maxSandboxes, long maxMemoryMib, Containment containment, NetConfig network,
                            Path imageStore) {
    public ManagerConfig {
        Objects.requireNonNull(imagesDir, "imagesDir");
        Objects.requireNonNull(runRoot, "runRoot");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(shmDir, "shmDir");
        Objects.requireNonNull(operationTimeout, "operationTimeout");
        Objects.requireNonNull(containment, "containment");
        pools = List.copyOf(pools);
        if (maxOutputBytes < 0) {
            throw new IllegalArgumentException("maxOutputBytes must be >= 0");
        }
        if (maxSandboxes < 0 || maxMemoryMib < 0) {
            throw new dev.basalt.api.BasaltException.InvalidArgument("limits must be >= 0 (0 means no limit)");
        }
    }

    /**
     * Images from {@link ImageCatalog#defaultImagesDir()}, run dir from {@link RunRoot#defaultPath()},
     * state under {@code $BASALT_HOME} (default ~/.cache/basalt), templates in /dev/shm/basalt,
     * 16 MiB of buffered output, 5 min operation timeout, no pools, {@link Containment#defaults()}.
     */
    public static ManagerConfig defaults() {
        Path home = ImageCatalog.defaultImagesDir().getParent();
        return new ManagerConfig(ImageCatalog.defaultImagesDir(), RunRoot.defaultPath(), home,
                Path.of("/dev/shm", "basalt"), 16 << 20, Duration.ofMinutes(5), true, List.of(), 0, 0, Containment.defaults(), null, null);
    }

    public ManagerConfig withImagesDir(Path dir) {
        return new ManagerConfig(dir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout, vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withRunRoot(Path dir) {
        return new ManagerConfig(imagesDir, dir, stateDir, shmDir, maxOutputBytes, operationTimeout, vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withStateDir(Path dir) {
        return new ManagerConfig(imagesDir, runRoot, dir, shmDir, maxOutputBytes, operationTimeout, vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withShmDir(Path dir) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, dir, maxOutputBytes, operationTimeout, vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withMaxOutputBytes(int bytes) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, bytes, operationTimeout, vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withVmsDieWithManager(boolean die) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout, die, pools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withPools(List<PoolConfig> newPools) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout, vmsDieWithManager, newPools, maxSandboxes, maxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withLimits(int newMaxSandboxes, long newMaxMemoryMib) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout,
                vmsDieWithManager, pools, newMaxSandboxes, newMaxMemoryMib, containment, network, imageStore);
    }

    public ManagerConfig withContainment(Containment newContainment) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout,
                vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, newContainment, network, imageStore);
    }

    public ManagerConfig withNetwork(NetConfig newNetwork) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout,
                vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, newNetwork, imageStore);
    }

    public ManagerConfig withImageStore(Path dir) {
        return new ManagerConfig(imagesDir, runRoot, stateDir, shmDir, maxOutputBytes, operationTimeout,
                vmsDieWithManager, pools, maxSandboxes, maxMemoryMib, containment, network, dir);
    }

    /** The image store's directory. */
    public Path imageStoreDir() {
        return imageStore != null ? imageStore : stateDir.resolve("store");
    }

    /** Where the disks of sandboxes and templates keep their files (on the image store's file system). */
    public Path disksDir() {
        return stateDir.resolve("disks");
    }

    /** The snapshot catalog directory. */
    public Path snapshotsDir() {
        return stateDir.resolve("snapshots");
    }
}
