package dev.basalt.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final VmConfig CONFIG = new VmConfig("sb1", new Machine(2, 256,
            new MemoryBacking.PrivateFile(Path.of("/dev/shm/t/memory.ram"))),
            new Boot(Path.of("/images/vmlinux"), Path.of("/images/initrd.img"), " quiet ", false),
            VmConfig.standardDevices());

    @Test
    void roundTripsThroughJsonWithEveryDeviceAndBacking() throws Exception {
        String json = JSON.writeValueAsString(CONFIG);
        assertThat(json).contains("\"type\":\"agent-port\"").contains("\"type\":\"console\"")
                .contains("\"type\":\"private-file\"").doesNotContain("ramOutsideStream");
        assertThat(JSON.readValue(json, VmConfig.class)).isEqualTo(CONFIG);
        for (MemoryBacking m : List.of(new MemoryBacking.Anonymous(), new MemoryBacking.SharedFile(Path.of("/x")))) {
            VmConfig c = CONFIG.withMemory(m);
            assertThat(JSON.readValue(JSON.writeValueAsString(c), VmConfig.class)).isEqualTo(c);
        }
    }

    @Test
    void shapeLeavesOutNameAndMemoryBackingButKeepsEverythingElse() {
        VmConfig other = CONFIG.withName("sb2").withMemory(new MemoryBacking.Anonymous());
        assertThat(other.shape()).isEqualTo(CONFIG.shape());
        assertThat(new VmConfig("sb1", new Machine(2, 512, new MemoryBacking.Anonymous()), CONFIG.boot(),
                CONFIG.devices()).shape()).isNotEqualTo(CONFIG.shape());
        assertThat(new VmConfig("sb1", CONFIG.machine(), CONFIG.boot(), List.of(new Device.AgentPort("agent")))
                .shape()).isNotEqualTo(CONFIG.shape());
    }

    @Test
    void aNetworkDeviceRoundTripsAndChangesTheShape() throws Exception {
        List<Device> devices = new java.util.ArrayList<>(VmConfig.standardDevices());
        devices.add(new Device.Network("net0", "02:fc:00:00:00:05", "tap0"));
        VmConfig networked = new VmConfig("sb1", CONFIG.machine(), CONFIG.boot(), devices);
        String json = JSON.writeValueAsString(networked);
        assertThat(json).contains("\"type\":\"network\"");
        assertThat(JSON.readValue(json, VmConfig.class)).isEqualTo(networked);
        assertThat(networked.shape()).isNotEqualTo(CONFIG.shape());
        assertThatThrownBy(() -> new Device.Network("net0", "02:FC:00:00:00:05", "tap0")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Device.Network("net0", "02:fc:00:00:00:05", "tap0;rm")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void devicesAreValidated() {
        assertThatThrownBy(() -> new VmConfig("x", CONFIG.machine(), CONFIG.boot(),
                List.of(new Device.AgentPort("a"), new Device.Console("a"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two devices with id 'a'");
        assertThatThrownBy(() -> new Device.Console("Bad Id")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Machine(0, 256, new MemoryBacking.Anonymous())).isInstanceOf(IllegalArgumentException.class);
        assertThat(CONFIG.boot().cmdlineExtra()).isEqualTo("quiet");
        assertThat(CONFIG.devices(Device.Console.class)).containsExactly(new Device.Console("console"));
    }

    @Test
    void launchPolicyRefusesADescriptorTwiceAndBelowThree() {
        var f = new LaunchPolicy.InheritedFile(3, Path.of("/a"), LaunchPolicy.InheritedFile.Access.READ);
        assertThatThrownBy(() -> LaunchPolicy.diesWithParent().withFiles(List.of(f, f)))
                .hasMessageContaining("descriptor 3 is inherited twice");
        assertThatThrownBy(() -> new LaunchPolicy.InheritedFile(2, Path.of("/a"), LaunchPolicy.InheritedFile.Access.READ))
                .hasMessageContaining("start at 3");
    }
}
