package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.EventFilter;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Lifecycle events, time to live and manager-wide limits with real VMs. */
@ExtendWith(RealVms.class)
class EventsTtlLimitsTest {

    @Test
    void lifecycleEventsArriveInOrderAndFiltersWork(SandboxManager m) throws Exception {
        List<SandboxEvent> all = new CopyOnWriteArrayList<>();
        List<SandboxEvent> onlyRemoved = new CopyOnWriteArrayList<>();
        try (AutoCloseable a = m.subscribe(EventFilter.all(), all::add);
             AutoCloseable b = m.subscribe(new EventFilter(null, Set.of(SandboxEvent.Kind.REMOVED)), onlyRemoved::add)) {
            SandboxInfo s = m.create(SandboxSpec.defaults());
            m.stop(s.id(), Duration.ofSeconds(5));
            m.remove(s.id());
            ExecTest.waitFor(() -> onlyRemoved.stream().anyMatch(e -> e.sandboxId().equals(s.id())));
            assertThat(all.stream().filter(e -> e.sandboxId().equals(s.id())).map(SandboxEvent::kind).toList())
                    .containsExactly(SandboxEvent.Kind.CREATED, SandboxEvent.Kind.READY, SandboxEvent.Kind.STOPPING,
                            SandboxEvent.Kind.STOPPED, SandboxEvent.Kind.REMOVED);
            assertThat(onlyRemoved).allMatch(e -> e.kind() == SandboxEvent.Kind.REMOVED);
        }
    }

    @Test
    void ttlRemovesTheSandboxAndCanBeExtended(SandboxManager m) throws Exception {
        List<SandboxEvent> events = new CopyOnWriteArrayList<>();
        SandboxInfo shortLived = m.create(SandboxSpec.defaults().withTtl(Duration.ofMillis(1500)));
        SandboxInfo extended = m.create(SandboxSpec.defaults().withTtl(Duration.ofMillis(1500)));
        assertThat(shortLived.expiresAt()).isPresent();
        try (AutoCloseable sub = m.subscribe(EventFilter.of(shortLived.id()), events::add)) {
            SandboxInfo after = m.setTtl(extended.id(), Duration.ofMinutes(5));
            assertThat(after.expiresAt().orElseThrow()).isAfter(shortLived.expiresAt().orElseThrow());
            ExecTest.waitFor(() -> m.list().stream().noneMatch(s -> s.id().equals(shortLived.id())));
            assertThat(ProcessHandle.of(shortLived.vmmPid())).isEmpty();
            assertThat(m.inspect(extended.id()).state().isLive()).isTrue();
            ExecTest.waitFor(() -> events.stream().anyMatch(e -> e.kind() == SandboxEvent.Kind.REMOVED));
            assertThat(events).extracting(SandboxEvent::kind).contains(SandboxEvent.Kind.EXPIRED);
        } finally {
            m.remove(extended.id());
        }
        assertThatThrownBy(() -> m.setTtl(extended.id(), Duration.ofMinutes(1))).isInstanceOf(BasaltException.NotFound.class);
        assertThatThrownBy(() -> SandboxSpec.defaults().withTtl(Duration.ZERO)).isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void limitsOnCountAndMemory() throws Exception {
        Path run = Files.createTempDirectory("basalt-limits");
        var config = RealVms.config().withRunRoot(run).withLimits(1, 400);
        try {
            try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
                assertThatThrownBy(() -> m.create(SandboxSpec.defaults().withMemoryMib(512)))
                        .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("memory limit of 400 MiB");
                SandboxInfo one = m.create(SandboxSpec.defaults());
                assertThatThrownBy(() -> m.create(SandboxSpec.defaults()))
                        .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("limit of 1 sandboxes");
                assertThat(m.list()).extracting(SandboxInfo::id).containsExactly(one.id());
                m.remove(one.id());
                m.remove(m.create(SandboxSpec.defaults()).id());
            }
            try (var left = Files.list(run)) {
                assertThat(left.toList()).isEmpty();
            }
        } finally {
            RunRoot.deleteTree(run);   // also when an assertion failed
        }
    }
}
