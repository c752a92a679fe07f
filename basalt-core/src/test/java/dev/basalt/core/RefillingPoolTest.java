package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The refill logic of {@link RefillingPool} with a counting factory (the pools' real items are
 * covered by {@link PoolTest}).
 */
class RefillingPoolTest {

    @Test
    void fillsToTargetThenRefillsOnlyAfterAQuietPeriod() throws Exception {
        AtomicInteger made = new AtomicInteger();
        List<Integer> disposed = new ArrayList<>();
        try (var pool = new RefillingPool<>("test", 2, made::incrementAndGet, disposed::add)) {
            awaitReady(pool, 2);
            assertThat(made).hasValue(2);

            assertThat(pool.poll()).hasValue(1);
            assertThat(pool.poll()).hasValue(2);
            long taken = System.nanoTime();
            Thread.sleep(50);
            int madeSoon = made.get();
            if (System.nanoTime() - taken < Duration.ofMillis(90).toNanos()) {   // not when this thread was descheduled
                assertThat(madeSoon).as("no refill while takes are recent").isEqualTo(2);
            }
            assertThat(pool.poll()).as("taking never waits").isEmpty();

            awaitReady(pool, 2);
            assertThat(made).hasValue(4);
            assertThat(pool.hits()).isEqualTo(2);
            assertThat(pool.misses()).isEqualTo(1);
        }
        assertThat(disposed).as("what is left is disposed of on close").containsExactlyInAnyOrder(3, 4);
    }

    @Test
    void aFailingFactoryIsRetriedWithoutSpinning() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (var pool = new RefillingPool<Integer>("failing", 1, () -> {
            if (calls.incrementAndGet() < 3) {
                throw new IllegalStateException("broken image");
            }
            return 7;
        }, i -> { })) {
            awaitReady(pool, 1);
            assertThat(calls).as("two failures, backing off, then one success").hasValue(3);
            assertThat(pool.poll()).hasValue(7);
        }
    }

    @Test
    void closeAbandonsAnItemBeingMade() throws Exception {
        var entered = new java.util.concurrent.CountDownLatch(1);
        var interrupted = new java.util.concurrent.atomic.AtomicBoolean();
        var pool = new RefillingPool<Integer>("slow", 1, () -> {
            entered.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(10));     // a pool VM starved of CPU
                return 1;
            } catch (InterruptedException e) {
                interrupted.set(true);
                throw new IllegalStateException("interrupted", e);
            }
        }, i -> { });
        assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        long start = System.nanoTime();
        pool.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(interrupted).isTrue();
        assertThat(pool.ready()).isZero();
    }

    private static void awaitReady(RefillingPool<?> pool, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (pool.ready() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(pool.ready()).isEqualTo(n);
    }
}
