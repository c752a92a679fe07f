package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Disk-backed roots on real VMs: the size the guest sees and its end, and disks that travel with
 * memory — template clones, restored snapshots and fork children each see the disk exactly as it
 * was when their state was saved (files written with and without fsync), then write their own
 * disks independently; deleting a snapshot, a template or the image never breaks a running sandbox.
 * After "echo 3 > drop_caches" a read comes from the disk layers, not the guest's page cache.
 */
@ExtendWith(RealVms.class)
class DiskTest {
    private static final String DROP = "sync; echo 3 > /proc/sys/vm/drop_caches; ";

    private static String sh(SandboxManager m, String id, String script) {
        var r = m.exec(id, ExecRequest.of("sh", "-c", script));
        assertThat(r.exit().success()).as("`%s` in %s: %s %s", script, id, r.stdoutText(), r.stderrText()).isTrue();
        return r.stdoutText();
    }

    private static SandboxSpec spec(SandboxManager m, int diskMib) {
        DiskImages.busybox(m.images().store());
        return SandboxSpec.defaults().withImage(DiskImages.BUSYBOX).withDiskMib(diskMib);
    }

    @Test
    void theGuestSeesItsDiskAndItsEnd(SandboxManager m) {
        SandboxInfo s = m.create(spec(m, 300));
        try {
            assertThat(s.origin()).startsWith("template:");
            String mounts = sh(m, s.id(), "grep ' / ' /proc/mounts; cat /etc/marker; echo $GREETING; stat -c %u /home/user");
            assertThat(mounts).startsWith("/dev/vda / ext4 ").contains("from the image\n").contains("hello\n")
                    .endsWith("1000\n");
            long kib = Long.parseLong(sh(m, s.id(), "df -k / | tail -1 | awk '{print $2}'").strip());
            assertThat(kib).isBetween(240L * 1024, 300L * 1024);   // the disk less ext4's journal and tables
            // past the end: ENOSPC, and the guest lives on
            var full = m.exec(s.id(), ExecRequest.of("sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M count=400 2>&1"));
            assertThat(full.exit().success()).isFalse();
            assertThat(full.stdoutText()).contains("No space left on device");
            assertThat(sh(m, s.id(), "rm /tmp/fill; echo alive > /root/after; cat /root/after")).isEqualTo("alive\n");
            // the image's user, as an exec default of a config with USER (the agent's --run-as)
            assertThat(ExecDefaults.apply(new dev.basalt.api.ImageConfig(Map.of(), "/home/user", "user", List.of(),
                    List.of()), ExecRequest.of("sh", "-c", "id -u; pwd; echo $HOME")).argv()).startsWith("/proc/1/exe");
            var asUser = m.exec(s.id(), ExecDefaults.apply(new dev.basalt.api.ImageConfig(Map.of(), "/home/user", "user",
                    List.of(), List.of()), ExecRequest.of("sh", "-c", "id -u; pwd; echo $HOME; touch /root/x 2>&1 || true")));
            assertThat(asUser.stdoutText()).startsWith("1000\n/home/user\n/home/user\n").contains("Permission denied");
        } finally {
            m.remove(s.id());
        }
        assertThat(disksOf(m)).doesNotContain(s.id());
    }

    @Test
    void checkpointRestoreAndForkCarryTheDiskAsItWasAtTheSave(SandboxManager m) {
        SandboxInfo parent = m.create(spec(m, 0));
        String name = "disk-" + parent.id();
        List<String> made = new java.util.ArrayList<>(List.of(parent.id()));
        try {
            sh(m, parent.id(), "echo synced > /root/synced; sync; echo cached > /root/cached; rm /etc/marker");
            m.checkpoint(parent.id(), name);
            sh(m, parent.id(), "echo after > /root/after; echo changed > /root/synced; sync");

            SandboxInfo restored = m.restore(name, Map.of());
            made.add(restored.id());
            // the snapshot goes; the restored sandbox keeps its disk
            m.deleteSnapshot(name);
            assertThat(sh(m, restored.id(), DROP + "cat /root/synced /root/cached; ls /root; test -e /etc/marker || echo no-marker"))
                    .isEqualTo("synced\ncached\ncached\nsynced\nno-marker\n");
            sh(m, restored.id(), "echo mine > /root/restored");

            List<SandboxInfo> children = m.fork(parent.id(), 2);
            children.forEach(c -> made.add(c.id()));
            sh(m, parent.id(), "echo parent-later > /root/parent-later; sync");
            for (SandboxInfo c : children) {
                sh(m, c.id(), "echo " + c.id() + " > /root/child; sync");
            }
            for (SandboxInfo c : children) {
                assertThat(sh(m, c.id(), DROP + "cat /root/child /root/after /root/synced; ls /root"))
                        .isEqualTo(c.id() + "\nafter\nchanged\nafter\ncached\nchild\nsynced\n");
            }
            assertThat(sh(m, parent.id(), DROP + "ls /root; cat /root/synced")).isEqualTo("after\ncached\nparent-later\nsynced\nchanged\n");
            assertThat(sh(m, restored.id(), DROP + "ls /root")).isEqualTo("cached\nrestored\nsynced\n");
            // and once more from a child: a chain three frozen layers deep
            List<SandboxInfo> grandchildren = m.fork(children.getFirst().id(), 1);
            made.add(grandchildren.getFirst().id());
            assertThat(sh(m, grandchildren.getFirst().id(), DROP + "cat /root/child")).isEqualTo(children.getFirst().id() + "\n");
        } finally {
            made.forEach(m::remove);
            try {
                m.deleteSnapshot(name);
            } catch (BasaltException.NotFound ignored) {
                // deleted above
            }
        }
        assertThat(disksOf(m)).doesNotContainAnyElementsOf(made);
    }

    @Test
    void aPausedSandboxResumesOnItsOwnDisk(SandboxManager m) {
        SandboxInfo s = m.create(spec(m, 0));
        try {
            sh(m, s.id(), "echo synced > /root/synced; sync; echo cached > /root/cached");
            m.pause(s.id());
            m.resume(s.id());
            assertThat(sh(m, s.id(), DROP + "cat /root/synced /root/cached /etc/marker"))
                    .isEqualTo("synced\ncached\nfrom the image\n");
        } finally {
            m.remove(s.id());
        }
        assertThat(disksOf(m)).doesNotContain(s.id());
    }

    @Test
    void clonesOutliveTheirTemplateAndTheirImage(SandboxManager m) throws IOException {
        SandboxInfo a = m.create(spec(m, 600));
        SandboxInfo b = m.create(spec(m, 600));
        try {
            assertThat(b.origin()).isEqualTo(a.origin());
            sh(m, a.id(), "echo a > /root/mine; sync");
            assertThat(m.exec(b.id(), ExecRequest.of("cat", "/root/mine")).exit().success()).isFalse();
            // the template goes (as an eviction does), and so does the image's name
            Path templates = RealVms.config().disksDir().resolve("templates");
            try (Stream<Path> dirs = Files.list(templates)) {
                for (Path t : dirs.toList()) {
                    RunRoot.deleteTree(t);
                }
            }
            m.images().remove(DiskImages.BUSYBOX);
            assertThat(sh(m, a.id(), DROP + "cat /root/mine /etc/marker; md5sum /bin/busybox | cut -c1-8"))
                    .startsWith("a\nfrom the image\n");
            assertThat(sh(m, b.id(), DROP + "cat /etc/marker")).isEqualTo("from the image\n");
            assertThatThrownBy(() -> m.create(SandboxSpec.defaults().withImage(DiskImages.BUSYBOX).withColdBoot(true)))
                    .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining(DiskImages.BUSYBOX);
        } finally {
            m.remove(a.id());
            m.remove(b.id());
            DiskImages.busybox(m.images().store());
        }
    }

    @Test
    void badDiskRequestsAreRefused(SandboxManager m) {
        assertThatThrownBy(() -> m.create(SandboxSpec.defaults().withDiskMib(1024)))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("keeps its root file system in RAM");
        assertThatThrownBy(() -> m.create(spec(m, 8)))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("its disk must be at least");
        assertThatThrownBy(() -> m.create(SandboxSpec.defaults().withImage("no/such-image")))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("no/such-image");
        assertThatThrownBy(() -> SandboxSpec.defaults().withImage("a/../b"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("a/../b");
    }

    @Test
    void aCorruptImageFailsTheCreateWithTheReasonAndLeavesNothing(SandboxManager m) throws IOException {
        var store = m.images().store();
        try (var staging = store.stage()) {
            Files.createDirectories(staging.rootfs().getParent());
            byte[] junk = new byte[8 << 20];
            new java.util.Random(7).nextBytes(junk);
            Files.write(staging.rootfs(), junk);
            staging.commit("test/corrupt", "c0ffee00c0ffee00c0ffee00c0ffee00", "test: random bytes",
                    dev.basalt.api.ImageConfig.empty(), junk.length);
        }
        try {
            assertThatThrownBy(() -> m.create(SandboxSpec.defaults().withImage("test/corrupt").withColdBoot(true)))
                    .isInstanceOf(BasaltException.Unavailable.class).hasMessageContaining("cannot use root disk /dev/vda");
            assertThat(disksOf(m)).isEmpty();
        } finally {
            store.remove("test/corrupt");
        }
    }

    private static List<String> disksOf(SandboxManager m) {
        Path dir = RealVms.config().disksDir().resolve("sandboxes");
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
