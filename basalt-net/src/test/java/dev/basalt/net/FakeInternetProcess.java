package dev.basalt.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link FakeInternet} for tests in other processes (the E2B SDK suite in node): makes it, with
 * dnsmasq answering the {@code name=ip} pairs given as arguments and {@link TestServers#http} on
 * 203.0.113.10 and 203.0.113.11 port 80, prints one JSON line with what a basaltd needs
 * ({@code --net-prefix}, {@code --net-host-namespace}, {@code --net-uplink}, {@code --net-dns}),
 * then keeps it until its standard input closes (the test ended, or died) or it is sent SIGTERM,
 * and deletes everything it made.
 * Usage: {@code FakeInternetProcess WORK_DIR [NAME=IP...]}
 */
public final class FakeInternetProcess {
    private FakeInternetProcess() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        String[] names = java.util.Arrays.copyOfRange(args, 1, args.length);
        FakeInternet inet = new FakeInternet();
        Thread cleanUp = new Thread(inet::close, "fake-internet-close");
        Runtime.getRuntime().addShutdownHook(cleanUp);
        try {
            if (names.length > 0) {
                inet.dnsmasq(dir, names);
            }
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            inet.onClose(TestServers.http(inet.inet, "203.0.113.11", 80));
            System.out.println("{\"prefix\":\"" + inet.prefix + "\",\"hostNs\":\"" + inet.hostNs + "\",\"uplink\":\"" + inet.uplink
                    + "\",\"dns\":\"" + FakeInternet.DNS_IP + "\"}");
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the test closes its end
            }
        } catch (IOException | RuntimeException e) {
            e.printStackTrace();
        }
        System.exit(0);   // runs the hook: the namespaces go, whatever happened above
    }
}
