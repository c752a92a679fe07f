package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.Machine;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durable record: schema-1 records (before VM configs) still rebuild the same machine. */
class SandboxStoreTest {

    @Test
    void aSchemaOneRecordIsReadAndItsVmConfigRebuilt(@TempDir Path state) throws Exception {
        try (var db = DriverManager.getConnection("jdbc:sqlite:" + state.resolve("basalt.db"));
             var s = db.createStatement()) {
            s.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
            s.execute("CREATE TABLE sandboxes (id TEXT PRIMARY KEY, stored TEXT NOT NULL, state TEXT NOT NULL, "
                    + "failure TEXT, vmm_pid INTEGER NOT NULL DEFAULT 0, ready_at TEXT, expires_at TEXT)");
            s.execute("INSERT INTO meta VALUES ('schema', '1')");
            s.execute("INSERT INTO sandboxes VALUES ('abc123', '{\"image\":\"default\",\"kernel\":\"/img/vmlinux\","
                    + "\"initrd\":\"/img/initrd.img\",\"acpi\":false,\"cmdlineExtra\":\"quiet\",\"imageId\":\"77\","
                    + "\"vcpus\":2,\"memoryMib\":512,\"labels\":{\"k\":\"v\"},\"bootTimeoutMillis\":60000,"
                    + "\"coldBoot\":false,\"ttlMillis\":null,\"origin\":\"template:t1\",\"memoryKind\":\"private\","
                    + "\"memoryPath\":\"/dev/shm/t1/memory.ram\",\"createdAt\":\"2026-11-23T10:00:00Z\"}', "
                    + "'READY', NULL, 4242, '2026-11-23T10:00:01Z', NULL)");
        }
        try (SandboxStore store = SandboxStore.open(state)) {
            var rows = store.loadAll();
            assertThat(rows).hasSize(1);
            var row = rows.getFirst();
            assertThat(row.state()).isEqualTo(SandboxState.READY);
            assertThat(row.vmmPid()).isEqualTo(4242);
            assertThat(row.stored().spec()).isEqualTo(SandboxSpec.defaults().withVcpus(2).withMemoryMib(512)
                    .withLabels(Map.of("k", "v")));
            assertThat(row.stored().config("abc123")).isEqualTo(new VmConfig("abc123",
                    new Machine(2, 512, new MemoryBacking.PrivateFile(Path.of("/dev/shm/t1/memory.ram"))),
                    new Boot(Path.of("/img/vmlinux"), Path.of("/img/initrd.img"), "quiet", false),
                    VmConfig.standardDevices()));
        }
        try (var db = DriverManager.getConnection("jdbc:sqlite:" + state.resolve("basalt.db"));
             var r = db.createStatement().executeQuery("SELECT value FROM meta WHERE key = 'schema'")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).isEqualTo("2");
        }
    }

    @Test
    void templateKeysDifferByEveryPartOfTheShapeButNotByNameOrMemory() {
        VmConfig vm = new VmConfig("a", new Machine(1, 256, new MemoryBacking.Anonymous()),
                new Boot(Path.of("/k"), Path.of("/i"), "", false), VmConfig.standardDevices());
        TemplateKey key = new TemplateKey(TemplateCache.FORMAT, "default", "id1", "7.2", "tcg", vm);
        assertThat(new TemplateKey(TemplateCache.FORMAT, "default", "id1", "7.2", "tcg",
                vm.withName("b").withMemory(new MemoryBacking.SharedFile(Path.of("/x")))).hash()).isEqualTo(key.hash());
        VmConfig fewerDevices = new VmConfig("a", vm.machine(), vm.boot(), vm.devices().subList(0, 1));
        assertThat(new TemplateKey(TemplateCache.FORMAT, "default", "id1", "7.2", "tcg", fewerDevices).hash())
                .isNotEqualTo(key.hash());
        assertThat(new TemplateKey(TemplateCache.FORMAT, "default", "id1", "7.2", "kvm", vm).hash()).isNotEqualTo(key.hash());
        assertThat(new TemplateKey(TemplateCache.FORMAT, "default", "id1", "7.2", "tcg",
                new VmConfig("a", new Machine(2, 256, new MemoryBacking.Anonymous()), vm.boot(), vm.devices())).hash())
                .isNotEqualTo(key.hash());
        assertThat(key.hash()).matches("[0-9a-f]{16}");
    }
}
