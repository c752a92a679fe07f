package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.SandboxState;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Exec semantics against a real guest agent in a real VM. */
@ExtendWith(RealVms.class)
class ExecTest {

    @Test
    void envCwdAndStdin(RealVms.SharedSandbox sb) {
        ExecResult r = sb.manager().exec(sb.id(), ExecRequest.of("sh", "-c", "echo $GREETING; pwd; cat")
                .withEnv(Map.of("GREETING", "hi there")).withCwd("/tmp")
                .withStdin("from stdin".getBytes(StandardCharsets.UTF_8)));
        assertThat(r.stdoutText()).isEqualTo("hi there\n/tmp\nfrom stdin");
        assertThat(r.exit()).isEqualTo(new ExitStatus.Exited(0));
    }

    @Test
    void exitCodesSignalsAndTimeouts(RealVms.SharedSandbox sb) {
        var m = sb.manager();
        assertThat(m.exec(sb.id(), ExecRequest.of("false")).exit()).isEqualTo(new ExitStatus.Exited(1));
        assertThat(m.exec(sb.id(), ExecRequest.of("sh", "-c", "kill -TERM $$")).exit())
                .isEqualTo(new ExitStatus.Signaled(15));
        long start = System.nanoTime();
        ExecResult slept = m.exec(sb.id(), ExecRequest.of("sleep", "30").withTimeout(Duration.ofMillis(500)));
        assertThat(slept.exit()).isEqualTo(new ExitStatus.TimedOut());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(slept.exit().shellCode()).isEqualTo(124);
    }

    @Test
    void programNotFoundAndBadCwd(RealVms.SharedSandbox sb) {
        assertThatThrownBy(() -> sb.manager().exec(sb.id(), ExecRequest.of("no-such-program")))
                .isInstanceOf(BasaltException.NotFound.class)
                .hasMessageContaining("no-such-program");
        assertThatThrownBy(() -> sb.manager().exec(sb.id(), ExecRequest.of("true").withCwd("/does/not/exist")))
                .isInstanceOf(BasaltException.NotFound.class)
                .hasMessageContaining("/does/not/exist");
        assertThatThrownBy(() -> ExecRequest.of(List.of()))
                .isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("argv is empty");
        // the sandbox is unharmed
        assertThat(sb.manager().exec(sb.id(), ExecRequest.of("echo", "ok")).stdoutText()).isEqualTo("ok\n");
    }

    @Test
    void parallelExecsOnOneSandbox(RealVms.SharedSandbox sb) throws Exception {
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<ExecResult>> futures = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int n = i;
                futures.add(executor.submit(() -> sb.manager().exec(sb.id(),
                        ExecRequest.of("sh", "-c", "sleep 0.2; echo " + n))));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertThat(futures.get(i).get().stdoutText()).isEqualTo(i + "\n");
            }
        }
        assertThat(sb.info().state()).isEqualTo(SandboxState.READY);
    }

    @Test
    void stateIsRunningWhileAnExecIsInFlight(RealVms.SharedSandbox sb) throws Exception {
        try (ExecProcess p = sb.manager().start(sb.id(), ExecRequest.of("cat"), ExecOutput.discard())) {
            assertThat(sb.info().state()).isEqualTo(SandboxState.RUNNING);
            assertThat(sb.info().execsInFlight()).isGreaterThanOrEqualTo(1);
            p.closeStdin();
            assertThat(p.awaitExit(Duration.ofSeconds(10))).isEqualTo(new ExitStatus.Exited(0));
        }
    }

    @Test
    void interactiveStdinAndSignals(RealVms.SharedSandbox sb) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExecOutput sink = new ExecOutput() {
            @Override public synchronized void stdout(byte[] chunk) { out.writeBytes(chunk); }
            @Override public void stderr(byte[] chunk) { }
        };
        try (ExecProcess p = sb.manager().start(sb.id(), ExecRequest.of("sh", "-c", "read line; echo got:$line; sleep 60"), sink)) {
            assertThat(p.pid()).isPositive();
            p.writeStdin("abc\n".getBytes(StandardCharsets.UTF_8));
            waitFor(() -> out.toString(StandardCharsets.UTF_8).contains("got:abc"));
            p.signal(9);
            assertThat(p.awaitExit(Duration.ofSeconds(10))).isEqualTo(new ExitStatus.Signaled(9));
        }
    }

    @Test
    void floodingStdoutIsTruncatedNotFatal(RealVms.SharedSandbox sb) {
        // 64 MiB to a buffered exec: memory stays bounded by the output limit, the sandbox survives.
        ExecResult r = sb.manager().exec(sb.id(), ExecRequest.of("sh", "-c", "head -c 67108864 /dev/zero; echo done >&2"));
        assertThat(r.exit().success()).isTrue();
        assertThat(r.outputTruncated()).isTrue();
        assertThat(r.stdout().length).isLessThanOrEqualTo(RealVms.config().maxOutputBytes());
        assertThat(r.stderrText()).isEqualTo("done\n");
    }

    @Test
    void slowConsumerOfAFloodPacesTheGuest(RealVms.SharedSandbox sb) {
        AtomicLong received = new AtomicLong();
        ExecOutput slow = new ExecOutput() {
            @Override
            public void stdout(byte[] chunk) {
                if (received.addAndGet(chunk.length) < 4 << 20) {
                    sleep(2);
                }
            }
            @Override public void stderr(byte[] chunk) { }
        };
        ExecResult r = sb.manager().exec(sb.id(), ExecRequest.of("head", "-c", "20000000", "/dev/zero"), slow);
        assertThat(r.exit().success()).isTrue();
        assertThat(received.get()).isEqualTo(20_000_000L);
        assertThat(sb.manager().exec(sb.id(), ExecRequest.of("true")).exit().success()).isTrue();
    }

    @Test
    void ptyExec(RealVms.SharedSandbox sb) {
        ExecResult r = sb.manager().exec(sb.id(), ExecRequest.of("sh", "-c", "tty; stty size").withPty(true));
        assertThat(r.stdoutText()).contains("/dev/pts/").contains("24 80");
    }

    static void waitFor(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            sleep(5);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
