package dev.basalt.net.host;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A network namespace Basalt works in: the process's own ({@link #current()}), or a named one under
 * {@code /run/netns} ({@link #named}). It builds the commands that act in it ({@code ip -n},
 * {@code nsenter --net}) and opens sockets in it: for a named namespace, on one platform thread
 * that entered it, since a socket belongs to the namespace of the thread that created it.
 * Thread-safe. {@link #close()} stops that thread; sockets already opened stay valid.
 */
public final class NetNamespace implements AutoCloseable {
    private static final Path NETNS_DIR = Path.of("/run/netns");
    private final String name;
    /** The thread that works inside the namespace: sockets and sysctls of a named one, nftables of either. */
    private final ExecutorService thread;
    /** Only read and written by {@link #thread}: whether it entered the namespace yet. */
    private boolean entered;
    /** Only used by {@link #thread}: its nftables context, made on first use. */
    private Libnftables nftables;

    private NetNamespace(String name) {
        this.name = name;
        this.thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon()
                .name("netns-" + (name == null ? "host" : name)).unstarted(r));
    }

    /** The namespace this process runs in. */
    public static NetNamespace current() {
        return new NetNamespace(null);
    }

    /** A namespace made with {@code ip netns add NAME}. */
    public static NetNamespace named(String name) {
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new BasaltException.InvalidArgument("network namespace name '" + name + "' is invalid");
        }
        return new NetNamespace(name);
    }

    /** The name under /run/netns, or null for the process's own namespace. */
    public String name() {
        return name;
    }

    /** {@code ip [-n NAME] args...}. */
    public List<String> ip(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        if (name != null) {
            cmd.addAll(List.of("-n", name));
        }
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** {@code cmd} run inside this namespace ({@code nsenter --net=/run/netns/NAME cmd...}). */
    public List<String> exec(String... cmd) {
        List<String> all = new ArrayList<>();
        if (name != null) {
            all.addAll(List.of("nsenter", "--net=" + NETNS_DIR.resolve(name)));
        }
        all.addAll(List.of(cmd));
        return all;
    }

    /**
     * Applies an nftables script (as {@code nft -f -} would) in this namespace and returns what it
     * printed; its rule changes are one transaction. In process through {@code libnftables} when
     * the library is there (no process started), else with the {@code nft} command. Retried when
     * the kernel interrupted a read of the ruleset because another process changed it meanwhile
     * ({@code EINTR}, seen with {@code reset counter}): every script Basalt applies can run twice.
     */
    public String nft(String script) {
        for (int attempt = 1; ; attempt++) {
            try {
                return Libnftables.available() ? nftInProcess(script) : Commands.run(exec("nft", "-f", "-"), script).stdout();
            } catch (BasaltException.Internal e) {
                if (attempt >= 5 || !e.getMessage().contains("Interrupted system call")) {
                    throw e;
                }
            }
        }
    }

    private String nftInProcess(String script) {
        Libnftables.Result r;
        try {
            r = onThread(() -> {
                if (nftables == null) {
                    nftables = new Libnftables();
                }
                return nftables.run(script);
            });
        } catch (IOException e) {
            throw new BasaltException.Internal("nftables in " + this + ": " + e.getMessage(), e);
        }
        if (!r.ok()) {
            throw new BasaltException.Internal("nftables in " + this + " refused a script: " + r.error().strip()
                    + "\ninput:\n" + Commands.numbered(script));
        }
        return r.output();
    }

    /** Runs {@code ip -batch -} with one command per line in this namespace. */
    public void ipBatch(List<String> lines) {
        if (!lines.isEmpty()) {
            Commands.run(ip("-batch", "-"), String.join("\n", lines) + "\n");
        }
    }

    /** A TCP socket in this namespace (unbound, blocking). */
    public SocketChannel openTcp() throws IOException {
        return inside(SocketChannel::open);
    }

    /** A listening-socket channel in this namespace (unbound). */
    public ServerSocketChannel openServer() throws IOException {
        return inside(ServerSocketChannel::open);
    }

    /** A UDP socket in this namespace (unbound). */
    public DatagramChannel openUdp() throws IOException {
        return inside(DatagramChannel::open);
    }

    /** Writes a sysctl of this namespace, e.g. {@code net/ipv4/ip_forward}. */
    public void sysctl(String key, String value) throws IOException {
        inside(() -> {
            Files.writeString(Path.of("/proc/sys").resolve(key), value, StandardCharsets.US_ASCII);
            return null;
        });
    }

    /** Runs {@code action} on a thread inside this namespace (directly for the current one). */
    public <T> T inside(Callable<T> action) throws IOException {
        if (name == null) {
            try {
                return action.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
        return onThread(action);
    }

    /** Runs {@code action} on this namespace's own thread (which entered it, if it is a named one). */
    private <T> T onThread(Callable<T> action) throws IOException {
        try {
            return thread.submit(() -> {
                if (!entered && name != null) {
                    Setns.enter(NETNS_DIR.resolve(name).toString());   // fails atomically: retried by the next call
                    entered = true;
                }
                return action.call();
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while entering network namespace " + name, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("in network namespace " + name + ": " + c, c);
        }
    }

    /** True if {@code /run/netns/NAME} exists (always true for the current namespace). */
    public boolean exists() {
        return name == null || Files.exists(NETNS_DIR.resolve(name));
    }

    @Override
    public void close() {
        thread.execute(() -> {
            if (nftables != null) {
                nftables.close();
                nftables = null;
            }
        });
        thread.shutdown();
    }

    @Override
    public String toString() {
        return name == null ? "the host's network namespace" : "network namespace " + name;
    }
}
