package dev.basalt.net;

import dev.basalt.net.host.Commands;
import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A test's own "internet", hermetic: a namespace standing in for the host ({@code PREFIX-host})
 * and one for the internet ({@code PREFIX-inet}, 203.0.113.0/24 and 198.51.100.0/24, plus a
 * "private" 10.99.0.1 that must stay unreachable), joined by a veth pair whose host end
 * ({@code PREFIX-up}, 203.0.113.1) is the uplink. Closing it deletes both namespaces and so
 * everything in them, even if the test failed.
 */
public final class FakeInternet implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FakeInternet.class);
    public static final String UPLINK_IP = "203.0.113.1";
    public static final String INET_IP = "203.0.113.254";
    public static final String DNS_IP = "203.0.113.53";

    public final String prefix;
    public final String hostNs;
    public final String inetNs;
    public final String uplink;
    public final NetNamespace host;
    public final NetNamespace inet;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    public FakeInternet() {
        prefix = "bt" + HexFormat.of().toHexDigits((byte) ThreadLocalRandom.current().nextInt()) + HexFormat.of().toHexDigits((byte) ThreadLocalRandom.current().nextInt());
        hostNs = prefix + "-host";
        inetNs = prefix + "-inet";
        uplink = prefix + "-up";
        Commands.run(List.of("ip", "netns", "add", hostNs), null);
        Commands.run(List.of("ip", "netns", "add", inetNs), null);
        host = NetNamespace.named(hostNs);
        inet = NetNamespace.named(inetNs);
        host.ipBatch(List.of(
                "link set lo up",
                "link add " + uplink + " type veth peer name eth0 netns " + inetNs,
                "addr add " + UPLINK_IP + "/24 dev " + uplink,
                "link set " + uplink + " up",
                "route add 198.51.100.0/24 via " + INET_IP,
                "route add 10.99.0.0/24 via " + INET_IP));
        inet.ipBatch(List.of(
                "link set lo up",
                "addr add " + INET_IP + "/24 dev eth0",
                "addr add 203.0.113.10/32 dev eth0",
                "addr add 203.0.113.11/32 dev eth0",
                "addr add 203.0.113.12/32 dev eth0",
                "addr add " + DNS_IP + "/32 dev eth0",
                "addr add 198.51.100.7/32 dev eth0",
                "addr add 10.99.0.1/32 dev eth0",
                "link set eth0 up",
                "route add default via " + UPLINK_IP));
    }

    /** Closed (in reverse order) before the namespaces are deleted. */
    public <T extends AutoCloseable> T onClose(T c) {
        closeables.add(c);
        return c;
    }

    /**
     * A networking config whose sandboxes live in this internet: this prefix, routed from its host
     * namespace out by its uplink, DNS upstream its dnsmasq; {@code slots} slots ({@code spare}
     * made ahead) in {@code slotNetwork}.
     */
    public NetConfig netConfig(int slots, int spare, String slotNetwork) {
        return NetConfig.defaults().withPrefix(prefix).withSlots(slots, spare).withSlotNetwork(slotNetwork)
                .withHostNamespace(hostNs).withUplink(uplink)
                .withDnsUpstreams(List.of(new java.net.InetSocketAddress(DNS_IP, 53)));
    }

    /** Starts dnsmasq in the internet namespace on {@value #DNS_IP}:53 answering {@code name=ip} pairs. */
    public Process dnsmasq(Path dir, String... nameToIp) throws IOException {
        List<String> cmd = new ArrayList<>(inet.exec("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--bind-interfaces", "--listen-address=" + DNS_IP, "--port=53", "--user=root", "--pid-file=",
                "--log-facility=" + dir.resolve("dnsmasq.log")));
        for (String pair : nameToIp) {
            String[] p = pair.split("=", 2);
            cmd.add("--address=/" + p[0] + "/" + p[1]);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.out").toFile()).start();
        onClose(() -> {
            p.destroy();
            p.waitFor();
        });
        // ready when it answers: poll its log for the "started" line (dnsmasq writes it after binding)
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(dir.resolve("dnsmasq.log")) && Files.readString(dir.resolve("dnsmasq.log")).contains("started")) {
                return p;
            }
            if (!p.isAlive()) {
                throw new IOException("dnsmasq exited: " + Files.readString(dir.resolve("dnsmasq.out")));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
        throw new IOException("dnsmasq did not start");
    }

    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                log.warn("closing {}: {}", closeables.get(i), e.toString());
            }
        }
        host.close();
        inet.close();
        // the two namespaces, and any slot a failed test left behind
        for (String line : Commands.run(List.of("ip", "netns", "list"), null).stdout().split("\n")) {
            String ns = line.split(" ")[0];
            if (ns.startsWith(prefix + "-")) {
                try {
                    Commands.run(List.of("ip", "netns", "delete", ns), null);
                } catch (RuntimeException e) {
                    log.warn("cannot delete {}: {}", ns, e.getMessage());
                }
            }
        }
    }
}
