package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.api.SnapshotInfo;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Checkpoint, restore, fork and template clones on real VMs: correctness, identity, damage. */
@ExtendWith(RealVms.class)
class SnapshotTest {

    private static String sh(SandboxManager m, String id, String script) {
        var r = m.exec(id, ExecRequest.of("sh", "-c", script));
        assertThat(r.exit().success()).as("`%s` in %s: %s", script, id, r.stderrText()).isTrue();
        return r.stdoutText();
    }

    @Test
    void templateClonesAreIndependentWithTheirOwnIdentity(SandboxManager m) {
        SandboxInfo a = m.create(SandboxSpec.defaults());
        SandboxInfo b = m.create(SandboxSpec.defaults());
        try {
            assertThat(a.origin()).startsWith("template:");
            assertThat(b.origin()).isEqualTo(a.origin());
            sh(m, a.id(), "echo only-a > /tmp/mark");
            assertThat(m.exec(b.id(), ExecRequest.of("cat", "/tmp/mark")).exit().success()).isFalse();
            assertThat(sh(m, a.id(), "hostname").strip()).isEqualTo(a.id());
            assertThat(sh(m, b.id(), "hostname").strip()).isEqualTo(b.id());
            assertThat(sh(m, a.id(), "head -c 32 /dev/urandom | od -An -tx1"))
                    .isNotEqualTo(sh(m, b.id(), "head -c 32 /dev/urandom | od -An -tx1"));
            long guestClock = Long.parseLong(sh(m, b.id(), "date +%s").strip());
            assertThat(Math.abs(guestClock - Instant.now().getEpochSecond())).as("guest clock vs host").isLessThan(5);
        } finally {
            m.remove(a.id());
            m.remove(b.id());
        }
    }

    @Test
    void checkpointThenRestoreManyAndDeleteTheSnapshot(SandboxManager m) {
        SandboxInfo source = m.create(SandboxSpec.defaults());
        String name = "cp-" + source.id();
        try {
            sh(m, source.id(), "mkdir -p /root/work && echo checkpointed > /root/work/state");
            SnapshotInfo snap = m.checkpoint(source.id(), name);
            assertThat(snap.sourceSandbox()).isEqualTo(source.id());
            assertThat(snap.sizeBytes()).isPositive();
            assertThat(snap.sha256()).hasSize(64);
            assertThat(m.snapshots()).extracting(SnapshotInfo::name).contains(name);
            assertThat(m.inspect(source.id()).state()).isEqualTo(SandboxState.READY);
            sh(m, source.id(), "echo changed-after > /root/work/state");

            SandboxInfo r1 = m.restore(name, Map.of("from", "snap"));
            SandboxInfo r2 = m.restore(name, Map.of());
            assertThat(r1.origin()).isEqualTo("snapshot:" + name);
            assertThat(r1.labels()).containsEntry("from", "snap");
            assertThat(sh(m, r1.id(), "cat /root/work/state")).isEqualTo("checkpointed\n");
            assertThat(sh(m, r2.id(), "cat /root/work/state")).isEqualTo("checkpointed\n");
            assertThat(sh(m, source.id(), "cat /root/work/state")).isEqualTo("changed-after\n");
            assertThat(sh(m, r1.id(), "hostname").strip()).isEqualTo(r1.id());

            assertThatThrownBy(() -> m.checkpoint(source.id(), name)).isInstanceOf(BasaltException.AlreadyExists.class);
            m.deleteSnapshot(name);
            assertThat(m.snapshots()).extracting(SnapshotInfo::name).doesNotContain(name);
            assertThat(sh(m, r1.id(), "echo still alive")).isEqualTo("still alive\n");
            assertThatThrownBy(() -> m.restore(name, Map.of())).isInstanceOf(BasaltException.NotFound.class);
            m.remove(r1.id());
            m.remove(r2.id());
        } finally {
            m.remove(source.id());
        }
    }

    @Test
    void aVmWithoutTheDescriptorSocketStillSavesThroughExecCat(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // a VM a daemon reattached after an upgrade: started before VMs had a second QMP socket (and
        // before QEMU's seccomp filter, which forbids the exec:cat helper)
        ManagerConfig config = RealVms.config().withRunRoot(tmp.resolve("run")).withStateDir(tmp.resolve("state"))
                .withContainment(Containment.none());
        try (SandboxManager m = new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect())) {
            savesThroughExecCat(m, config);
        }
    }

    private static void savesThroughExecCat(SandboxManager m, ManagerConfig config) throws Exception {
        SandboxInfo old = m.create(SandboxSpec.defaults());
        String name = "old-" + old.id();
        try {
            Files.delete(config.runRoot().resolve(old.id()).resolve("qmp-fd.sock"));
            sh(m, old.id(), "echo saved-the-old-way > /root/old");
            m.checkpoint(old.id(), name);
            SandboxInfo restored = m.restore(name, Map.of());
            assertThat(sh(m, restored.id(), "cat /root/old")).isEqualTo("saved-the-old-way\n");
            m.remove(restored.id());
            assertThat(m.fork(old.id(), 1)).singleElement().satisfies(c -> {
                assertThat(sh(m, c.id(), "cat /root/old")).isEqualTo("saved-the-old-way\n");
                m.remove(c.id());
            });
        } finally {
            if (m.snapshots().stream().anyMatch(sn -> sn.name().equals(name))) {
                m.deleteSnapshot(name);
            }
            m.remove(old.id());
        }
    }

    @Test
    void damagedSnapshotsAreRefusedAndLeaveNothing(SandboxManager m) throws Exception {
        SandboxInfo source = m.create(SandboxSpec.defaults());
        String name = "bad-" + source.id();
        try {
            m.checkpoint(source.id(), name);
        } finally {
            m.remove(source.id());
        }
        Path state = RealVms.config().snapshotsDir().resolve(name).resolve("state.bin");
        Path meta = state.resolveSibling("snapshot.json");
        int before = m.list().size();
        String original = Files.readString(meta);
        Files.writeString(meta, original.replaceFirst("\"vmmVersion\" : \"[^\"]*\"", "\"vmmVersion\" : \"0.1.0\""));
        assertThatThrownBy(() -> m.restore(name, Map.of())).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("QEMU 0.1.0");
        Files.writeString(meta, original.replaceFirst("\"imageId\" : \"[^\"]*\"", "\"imageId\" : \"0000000000000000\""));
        assertThatThrownBy(() -> m.restore(name, Map.of())).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("has changed or is gone");
        Files.writeString(meta, original);
        try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xFF);
        }
        assertThatThrownBy(() -> m.restore(name, Map.of())).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("damaged").hasMessageContaining("hash");
        try (RandomAccessFile f = new RandomAccessFile(state.toFile(), "rw")) {
            f.setLength(f.length() / 3);
        }
        assertThatThrownBy(() -> m.restore(name, Map.of())).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("truncated");
        Files.delete(state);
        assertThatThrownBy(() -> m.restore(name, Map.of())).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("missing");
        assertThat(m.list()).hasSize(before);
        BadInputTest.assertNothingLeft(m);
        m.deleteSnapshot(name);
        assertThatThrownBy(() -> m.checkpoint("nope", "x")).isInstanceOf(BasaltException.NotFound.class);
        assertThatThrownBy(() -> m.restore("../etc", Map.of())).isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void forkChildrenDivergeFromTheParentAndEachOther(SandboxManager m) {
        SandboxInfo parent = m.create(SandboxSpec.defaults());
        try {
            sh(m, parent.id(), "echo parent-before > /root/value; echo shared > /root/common");
            List<SandboxInfo> children = m.fork(parent.id(), 3);
            assertThat(children).hasSize(3).allSatisfy(c -> {
                assertThat(c.state()).isEqualTo(SandboxState.READY);
                assertThat(c.origin()).isEqualTo("fork:" + parent.id());
            });
            sh(m, parent.id(), "echo parent-after > /root/value");
            for (SandboxInfo c : children) {
                assertThat(sh(m, c.id(), "cat /root/value")).isEqualTo("parent-before\n");
                sh(m, c.id(), "echo child-" + c.id() + " > /root/value");
            }
            assertThat(sh(m, parent.id(), "cat /root/value")).isEqualTo("parent-after\n");
            Set<String> randoms = new HashSet<>();
            for (SandboxInfo c : children) {
                assertThat(sh(m, c.id(), "cat /root/value")).isEqualTo("child-" + c.id() + "\n");
                assertThat(sh(m, c.id(), "cat /root/common")).isEqualTo("shared\n");
                assertThat(sh(m, c.id(), "hostname").strip()).isEqualTo(c.id());
                randoms.add(sh(m, c.id(), "head -c 16 /dev/urandom | od -An -tx1"));
            }
            assertThat(randoms).as("each child has its own random stream").hasSize(3);
            children.forEach(c -> m.remove(c.id()));
        } finally {
            m.remove(parent.id());
        }
    }

    @Test
    void forkAndCheckpointNeedAReadySandbox(SandboxManager m) {
        SandboxInfo s = m.create(SandboxSpec.defaults());
        try {
            assertThatThrownBy(() -> m.fork(s.id(), 0)).isInstanceOf(BasaltException.InvalidArgument.class);
            assertThatThrownBy(() -> m.fork(s.id(), 1000)).isInstanceOf(BasaltException.InvalidArgument.class);
            assertThatThrownBy(() -> m.checkpoint(s.id(), "bad name!")).isInstanceOf(BasaltException.InvalidArgument.class);
            m.stop(s.id(), Duration.ofSeconds(5));
            assertThatThrownBy(() -> m.fork(s.id(), 1)).isInstanceOf(BasaltException.WrongState.class)
                    .hasMessageContaining("STOPPED");
            assertThatThrownBy(() -> m.checkpoint(s.id(), "x")).isInstanceOf(BasaltException.WrongState.class);
        } finally {
            m.remove(s.id());
        }
        BadInputTest.assertNothingLeft(m);
    }
}
