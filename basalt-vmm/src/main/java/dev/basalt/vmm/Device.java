package dev.basalt.vmm;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One device of a {@link VmConfig}, with an id that is stable for the life of the VM and of every
 * VM made from its saved state. A backend turns each type into its own device model (one case per
 * type in its command-line builder); the core never names a backend's devices. A new device type
 * is a new record here and a case in each backend.
 *
 * <p>{@link #shape()} is the part that a saved state depends on: two VMs whose devices have the
 * same shapes can load each other's states (a template key hashes them).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = Device.AgentPort.class, name = "agent-port"),
        @JsonSubTypes.Type(value = Device.Console.class, name = "console"),
        @JsonSubTypes.Type(value = Device.Network.class, name = "network"),
        @JsonSubTypes.Type(value = Device.Disk.class, name = "disk")
})
public sealed interface Device {
    Pattern ID = Pattern.compile("[a-z][a-z0-9-]{0,15}");

    /** The device's id within its VM: lowercase, 1-16 characters. */
    String id();

    /** What a saved state of the VM depends on; by default the whole device. */
    default Device shape() {
        return this;
    }

    private static String checkId(String id) {
        Objects.requireNonNull(id, "id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("device id '" + id + "' must match " + ID.pattern());
        }
        return id;
    }

    /**
     * The guest agent's channel: a virtio-serial port the agent opens by its name, whose host end
     * the backend hands out as an {@code AgentTransport} ({@link VmHandle#connectAgent}).
     */
    record AgentPort(String id) implements Device {
        public AgentPort {
            checkId(id);
        }
    }

    /** The serial console (kernel and init messages), kept by the backend for {@link VmHandle#consoleTail}. */
    record Console(String id) implements Device {
        public Console {
            checkId(id);
        }
    }

    /**
     * A virtio-net NIC whose host end is the TAP device {@code tap}, opened by name in the network
     * namespace the VMM is launched in ({@link LaunchPolicy#networkNamespace}). Every clone of a
     * template has the same MAC and TAP name; what makes clones distinct is the namespace.
     *
     * @param mac the guest's MAC address ({@code 02:..:..:..:..:..}, locally administered)
     * @param tap the TAP device's name in the VMM's network namespace
     */
    record Network(String id, String mac, String tap) implements Device {
        private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
        private static final Pattern TAP = Pattern.compile("[a-zA-Z0-9_.-]{1,15}");

        public Network {
            checkId(id);
            if (mac == null || !MAC.matcher(mac).matches()) {
                throw new IllegalArgumentException("MAC address '" + mac + "' must be six lowercase hex pairs");
            }
            if (tap == null || !TAP.matcher(tap).matches()) {
                throw new IllegalArgumentException("TAP device name '" + tap + "' is invalid");
            }
        }
    }

    /**
     * A disk on virtio-blk: a chain of read-only layers, bottom first (a raw file system image,
     * then qcow2 layers each on the one before), under a writable qcow2 {@code top} that only this
     * VM writes. Layers are never written once they are in a chain, so any number of VMs share
     * them; a clone, a restored sandbox or a fork child gets a new top on a frozen chain. The
     * guest sees {@code sizeBytes}.
     *
     * <p>A disk without a top ({@code top == null}) is a chain waiting for one (what a template,
     * snapshot or parent hands its clones); only a disk with a top can be given to a VM.
     *
     * @param base      identity of the bottom layer's content (an image id): with the size, what a
     *                  saved state of the VM depends on
     * @param layers    the read-only files, bottom first
     * @param top       the writable file, or null
     * @param sizeBytes the disk's size as the guest sees it
     */
    record Disk(String id, String base, List<Path> layers, Path top, long sizeBytes) implements Device {
        public Disk {
            checkId(id);
            Objects.requireNonNull(base, "base");
            layers = List.copyOf(layers);
            if (sizeBytes <= 0 || sizeBytes % 512 != 0) {
                throw new IllegalArgumentException("disk size must be a positive multiple of 512, got " + sizeBytes);
            }
        }

        /** The same chain under a new writable top. */
        public Disk withTop(Path newTop) {
            return new Disk(id, base, layers, newTop, sizeBytes);
        }

        /** The chain with {@code top} frozen as its last layer, and no top. */
        public Disk frozen() {
            if (top == null) {
                return this;
            }
            List<Path> all = new java.util.ArrayList<>(layers);
            all.add(top);
            return new Disk(id, base, all, null, sizeBytes);
        }

        /** This disk with its files named by {@code rename} (a holder directory's own links to them). */
        public Disk relocated(java.util.function.UnaryOperator<Path> rename) {
            return new Disk(id, base, layers.stream().map(rename).toList(), top == null ? null : rename.apply(top), sizeBytes);
        }

        /** A saved state depends on the device, its content's origin and its size, not on the files. */
        @Override
        public Device shape() {
            return new Disk(id, base, List.of(), null, sizeBytes);
        }
    }
}
