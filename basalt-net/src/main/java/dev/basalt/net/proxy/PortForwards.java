package dev.basalt.net.proxy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.PortForward;
import dev.basalt.net.host.Closing;
import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port forwards: a listener on a host address (in this process's namespace: loopback by default)
 * whose connections are spliced to the guest port through the sandbox's slot address, which the
 * slot namespace translates to the guest. Every clone has the same guest address, so this works
 * for clones unchanged; a restarted daemon re-creates its forwards on the same host ports.
 * Thread-safe.
 */
public final class PortForwards implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PortForwards.class);
    /** Forwards one sandbox may have at once: each is a listening socket of the daemon. */
    public static final int MAX_PER_SANDBOX = 64;
    private final NetNamespace hostNs;
    private final Map<String, Forward> forwards = new ConcurrentHashMap<>();

    private record Forward(PortForward info, ServerSocketChannel listener) {}

    public PortForwards(NetNamespace hostNs) {
        this.hostNs = hostNs;
    }

    private static String key(String sandboxId, int guestPort) {
        return sandboxId + ":" + guestPort;
    }

    /**
     * Forwards {@code bind} (port 0: any free port) to {@code guestPort} of the sandbox whose slot
     * address is {@code slotIp}. Throws {@link BasaltException.AlreadyExists} if that guest port is
     * forwarded already or the host port is taken, {@link BasaltException.ResourceExhausted} if the
     * sandbox has {@value #MAX_PER_SANDBOX} forwards already.
     */
    public PortForward add(String sandboxId, String slotIp, int guestPort, InetSocketAddress bind) {
        PortForward.checkPort("guest port", guestPort);
        String key = key(sandboxId, guestPort);
        synchronized (forwards) {
            Forward existing = forwards.get(key);
            if (existing != null) {
                throw new BasaltException.AlreadyExists("port " + guestPort + " of sandbox " + sandboxId + " is forwarded already, from "
                        + existing.info().hostAddress() + ":" + existing.info().hostPort());
            }
            long held = forwards.values().stream().filter(f -> f.info().sandboxId().equals(sandboxId)).count();
            if (held >= MAX_PER_SANDBOX) {
                throw new BasaltException.ResourceExhausted("sandbox " + sandboxId + " has " + held + " port forwards, the most one "
                        + "may have: remove one first (basalt port)");
            }
            ServerSocketChannel listener;
            try {
                listener = ServerSocketChannel.open();
                try {
                    listener.bind(bind, 128);
                } catch (IOException e) {
                    listener.close();
                    throw e;
                }
            } catch (BindException e) {
                throw new BasaltException.AlreadyExists("cannot listen on " + bind.getHostString() + ":" + bind.getPort() + ": " + e.getMessage(), e);
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot listen on " + bind + ": " + e.getMessage(), e);
            }
            InetSocketAddress local = (InetSocketAddress) listener.socket().getLocalSocketAddress();
            PortForward info = new PortForward(sandboxId, guestPort, local.getAddress().getHostAddress(), local.getPort());
            forwards.put(key, new Forward(info, listener));
            InetSocketAddress target = new InetSocketAddress(slotIp, guestPort);
            Thread.ofVirtual().name("port-" + sandboxId + "-" + guestPort).start(() -> serve(info, listener, target));
            log.info("sandbox {}: port {} forwarded from {}:{}", sandboxId, guestPort, info.hostAddress(), info.hostPort());
            return info;
        }
    }

    private void serve(PortForward info, ServerSocketChannel listener, InetSocketAddress target) {
        while (listener.isOpen()) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                return;   // closed
            }
            Thread.ofVirtual().start(() -> {
                Socket client = c.socket();
                try {
                    SocketChannel up = hostNs.openTcp();
                    try {
                        up.socket().connect(target, Dialer.CONNECT_TIMEOUT_MS);
                    } catch (IOException e) {
                        up.close();
                        throw e;
                    }
                    Splice.start(client, up.socket(), "port-" + info.sandboxId() + "-" + info.guestPort(), () -> { });
                } catch (IOException e) {
                    log.debug("sandbox {}: forwarded connection to guest port {} failed: {}", info.sandboxId(), info.guestPort(), e.toString());
                    Splice.closeQuietly(client);
                }
            });
        }
    }

    /** Stops forwarding {@code guestPort} of the sandbox (open connections keep running). Idempotent. */
    public void remove(String sandboxId, int guestPort) {
        Forward f = forwards.remove(key(sandboxId, guestPort));
        if (f != null) {
            Closing.quietly(f.listener());
        }
    }

    /** Stops every forward of the sandbox. */
    public void removeAll(String sandboxId) {
        for (PortForward p : list(sandboxId)) {
            remove(sandboxId, p.guestPort());
        }
    }

    /** The sandbox's forwards. */
    public List<PortForward> list(String sandboxId) {
        List<PortForward> out = new ArrayList<>();
        for (Forward f : forwards.values()) {
            if (f.info().sandboxId().equals(sandboxId)) {
                out.add(f.info());
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (Forward f : forwards.values()) {
            Closing.quietly(f.listener());
        }
        forwards.clear();
    }
}
