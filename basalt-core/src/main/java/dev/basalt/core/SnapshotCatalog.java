package dev.basalt.core;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.Machine;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The on-disk snapshot catalog: {@code <dir>/<name>/snapshot.json} (metadata, written last, so a
 * snapshot without it is incomplete and ignored) and {@code <dir>/<name>/state.bin} (the VM's
 * saved state, RAM included). Restores read the state file only after checking its SHA-256.
 */
final class SnapshotCatalog {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String META = "snapshot.json";
    static final String STATE = "state.bin";

    private final Path dir;

    /** Opens the catalog in {@code dir} (private: 0700), deleting what dead writers left half-written. */
    SnapshotCatalog(Path dir) {
        this.dir = dir;
        try {
            StateFiles.privateDirectory(dir);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create snapshot directory " + dir + ": " + e.getMessage(), e);
        }
        StateFiles.sweep(dir, ".");
    }

    /** A fresh private directory to write a new snapshot's state into; published by {@link #publish}. */
    Path reserve(String name) {
        SnapshotInfo.requireValidName(name);
        if (Files.exists(dir.resolve(name))) {
            throw new BasaltException.AlreadyExists("snapshot '" + name + "' already exists: delete it first or pick another name");
        }
        try {
            return Files.createTempDirectory(dir, "." + name + StateFiles.tag() + ".");
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create a directory for snapshot " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Hashes the state, writes the metadata and moves the reserved directory into place.
     *
     * @param vm      the config of the VM the state was saved from: what a restore rebuilds the VM from;
     *                its disks' chains are the snapshot's own links in {@code reserved} (see {@link Disks#keep})
     * @param network the source's network policy when it was saved: what a restored sandbox starts with
     */
    SnapshotInfo publish(Path reserved, SnapshotInfo draft, VmConfig vm, dev.basalt.api.NetworkPolicy network) {
        Path state = reserved.resolve(STATE);
        Path published = dir.resolve(draft.name());
        VmConfig stored = vm.withName("").withMemory(new MemoryBacking.Anonymous());
        for (var disk : stored.devices(dev.basalt.vmm.Device.Disk.class)) {
            // the links move with the directory: name them where they will be
            stored = stored.withDevice(disk.relocated(p -> p.startsWith(reserved) ? published.resolve(reserved.relativize(p)) : p));
        }
        try {
            SnapshotInfo info = new SnapshotInfo(draft.name(), draft.sourceSandbox(), draft.image(), draft.imageId(),
                    draft.vmmVersion(), draft.vcpus(), draft.memoryMib(), draft.createdAt(), Files.size(state), sha256(state));
            ObjectNode meta = JSON.valueToTree(new Meta(info.name(), info.sourceSandbox(), info.image(), info.imageId(),
                    info.vmmVersion(), info.vcpus(), info.memoryMib(), info.createdAt().toString(), info.sizeBytes(),
                    info.sha256(), stored, null, null, null, null,
                    network.mode() == dev.basalt.api.NetworkMode.NONE ? null : network.mode().cliName(),
                    network.mode() == dev.basalt.api.NetworkMode.NONE ? null : texts(network.allow()),
                    network.mode() == dev.basalt.api.NetworkMode.NONE ? null : texts(network.deny())));
            JSON.writerWithDefaultPrettyPrinter().writeValue(reserved.resolve(META).toFile(), meta);
            Files.move(reserved, dir.resolve(info.name()), StandardCopyOption.ATOMIC_MOVE);
            return info;
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            discard(reserved);
            throw new BasaltException.AlreadyExists("snapshot '" + draft.name() + "' was created meanwhile by someone else");
        } catch (IOException e) {
            discard(reserved);
            throw new BasaltException.Internal("cannot save snapshot " + draft.name() + ": " + e.getMessage(), e);
        }
    }

    private static List<String> texts(List<dev.basalt.api.EgressRule> rules) {
        return rules.stream().map(dev.basalt.api.EgressRule::text).toList();
    }

    /** Deletes a reserved directory that will not be published. */
    void discard(Path reserved) {
        RunRoot.deleteTree(reserved);
    }

    /**
     * The stored metadata of a snapshot: the public part plus the config of the VM it was saved from
     * ({@code vm}: no name, anonymous memory; a disk's chain names the snapshot's own links). Snapshots written before VM configs existed carry {@code kernel},
     * {@code initrd}, {@code acpi} and {@code cmdlineExtra} instead, from which {@link #config()}
     * rebuilds the same machine.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Meta(String name, String sourceSandbox, String image, String imageId, String vmmVersion, int vcpus,
                int memoryMib, String createdAt, long sizeBytes, String sha256, VmConfig vm, String kernel,
                String initrd, Boolean acpi, String cmdlineExtra, String netMode, List<String> netAllow, List<String> netDeny) {
        /** The source's network policy when it was saved (none for snapshots of sandboxes without one, or older ones). */
        dev.basalt.api.NetworkPolicy network() {
            if (netMode == null) {
                return dev.basalt.api.NetworkPolicy.none();
            }
            return new dev.basalt.api.NetworkPolicy(dev.basalt.api.NetworkMode.parse(netMode),
                    dev.basalt.api.NetworkPolicy.parseAll(netAllow == null ? List.of() : netAllow),
                    dev.basalt.api.NetworkPolicy.parseAll(netDeny == null ? List.of() : netDeny));
        }

        SnapshotInfo info() {
            return new SnapshotInfo(name, sourceSandbox, image, imageId, vmmVersion, vcpus, memoryMib,
                    Instant.parse(createdAt), sizeBytes, sha256);
        }

        /** The config of the saved VM (no name, anonymous memory). */
        VmConfig config() {
            if (vm != null) {
                return vm;
            }
            return new VmConfig("", new Machine(vcpus, memoryMib, new MemoryBacking.Anonymous()),
                    new Boot(Path.of(kernel), Path.of(initrd), cmdlineExtra, acpi == null || acpi), VmConfig.standardDevices());
        }
    }

    Meta get(String name) {
        SnapshotInfo.requireValidName(name);
        Path meta = dir.resolve(name).resolve(META);
        if (!Files.isRegularFile(meta)) {
            throw new BasaltException.NotFound("no snapshot named '" + name + "' (list them with `basalt snapshots`)");
        }
        try {
            return JSON.readValue(meta.toFile(), Meta.class);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("snapshot '" + name + "' has unreadable metadata: " + e.getMessage(), e);
        }
    }

    /**
     * The state file of a snapshot after checking it is complete and unchanged.
     *
     * @throws BasaltException.InvalidArgument if it is missing, truncated or tampered with
     */
    Path verifiedState(Meta meta) {
        Path state = dir.resolve(meta.name()).resolve(STATE);
        try {
            if (!Files.isRegularFile(state)) {
                throw new BasaltException.InvalidArgument("snapshot '" + meta.name() + "' is damaged: its state file is missing");
            }
            long size = Files.size(state);
            if (size != meta.sizeBytes()) {
                throw new BasaltException.InvalidArgument("snapshot '" + meta.name() + "' is damaged: state is " + size
                        + " bytes, " + meta.sizeBytes() + " were saved (truncated?)");
            }
            String hash = sha256(state);
            if (!hash.equals(meta.sha256())) {
                throw new BasaltException.InvalidArgument("snapshot '" + meta.name() + "' is damaged: content hash "
                        + hash.substring(0, 16) + "… does not match the saved " + meta.sha256().substring(0, 16) + "…");
            }
            return state;
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("snapshot '" + meta.name() + "' cannot be read: " + e.getMessage(), e);
        }
    }

    List<SnapshotInfo> list() {
        List<SnapshotInfo> all = new ArrayList<>();
        try (var entries = Files.list(dir)) {
            for (Path entry : entries.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                try {
                    all.add(get(entry.getFileName().toString()).info());
                } catch (BasaltException e) {
                    // incomplete or foreign directory: not a snapshot
                }
            }
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot list snapshots in " + dir + ": " + e.getMessage(), e);
        }
        all.sort(Comparator.comparing(SnapshotInfo::createdAt));
        return all;
    }

    void delete(String name) {
        get(name);
        RunRoot.deleteTree(dir.resolve(name));
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
