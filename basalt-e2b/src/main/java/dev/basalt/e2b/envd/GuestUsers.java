package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import dev.basalt.api.Sandboxes;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Looks users up in a guest's {@code /etc/passwd} (read through the port, cached per sandbox for
 * a few seconds). E2B's default user is {@code user}; a guest without one gets root instead.
 */
final class GuestUsers {
    static final String DEFAULT_USER = "user";
    private static final long CACHE_NANOS = 5_000_000_000L;
    private static final int MAX_PASSWD_BYTES = 1 << 20;

    private record Cached(Map<String, PasswdEntry> users, long readAt) {
    }

    private final Sandboxes port;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    GuestUsers(Sandboxes port) {
        this.port = port;
    }

    /**
     * The user a request names, or the default user when it names none.
     *
     * @throws BasaltException.NotFound if the named user does not exist in the guest
     */
    PasswdEntry resolve(String sandboxId, String name) {
        Map<String, PasswdEntry> users = users(sandboxId);
        if (name == null || name.isEmpty()) {
            return users.getOrDefault(DEFAULT_USER, users.getOrDefault("root", PasswdEntry.ROOT));
        }
        PasswdEntry.checkName(name);
        PasswdEntry user = users.get(name);
        if (user == null) {
            if (name.equals("root")) {
                return PasswdEntry.ROOT;
            }
            throw new BasaltException.NotFound("user '" + name + "' does not exist in sandbox " + sandboxId);
        }
        return user;
    }

    private Map<String, PasswdEntry> users(String sandboxId) {
        Cached cached = cache.get(sandboxId);
        long now = System.nanoTime();
        if (cached != null && now - cached.readAt() < CACHE_NANOS) {
            return cached.users();
        }
        ByteArrayOutputStream passwd = new ByteArrayOutputStream();
        Map<String, PasswdEntry> users = new HashMap<>();
        try {
            port.readFile(sandboxId, "/etc/passwd", new java.io.OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    if (passwd.size() + len > MAX_PASSWD_BYTES) {
                        throw new BasaltException.InvalidArgument("the guest's /etc/passwd is larger than " + MAX_PASSWD_BYTES + " bytes");
                    }
                    passwd.write(b, off, len);
                }
            });
            for (String line : passwd.toString(StandardCharsets.UTF_8).split("\n")) {
                PasswdEntry user = PasswdEntry.parse(line);
                if (user != null) {
                    users.putIfAbsent(user.name(), user);
                }
            }
        } catch (BasaltException.NotFound e) {
            // a guest without /etc/passwd has only root
        }
        cache.put(sandboxId, new Cached(Map.copyOf(users), now));
        return users;
    }

    void forget(String sandboxId) {
        cache.remove(sandboxId);
    }
}
