package dev.basalt.vmm;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
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
        @JsonSubTypes.Type(value = Device.Network.class, name = "network")
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
}
