package dev.basalt.e2b;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How the E2B endpoint is served.
 *
 * @param address        where to listen; only a loopback address (the endpoint has no TLS of its own:
 *                       put a TLS proxy in front of it to serve others)
 * @param apiKeys        the keys the control API accepts
 * @param templates      template aliases: a templateID found here names this Basalt image instead of itself
 *                       (E2B's default template is {@code base})
 * @param domain         the sandbox domain, for requests routed by {@code Host: <port>-<id>.<domain>};
 *                       null to route by the {@code E2b-Sandbox-Id} header only
 * @param defaultTimeout a sandbox's time to live when create does not say (E2B's default: 15 s)
 * @param maxTimeout     the longest time to live a client may ask for
 * @param recordsDir     where the E2B records of sandboxes are kept; null for memory only
 * @param baseSpec       what every sandbox is created from (vCPUs, memory, boot timeout); its image is replaced
 */
public record E2bOptions(InetSocketAddress address, ApiKeys apiKeys, Map<String, String> templates, String domain,
                         Duration defaultTimeout, Duration maxTimeout, Path recordsDir, SandboxSpec baseSpec) {
    public E2bOptions {
        Objects.requireNonNull(address, "address");
        if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
            throw new BasaltException.InvalidArgument("the E2B endpoint listens on a loopback address only, not "
                    + address + ": it has no TLS of its own, so put a TLS proxy in front of it to serve others");
        }
        Objects.requireNonNull(apiKeys, "apiKeys");
        templates = Map.copyOf(Objects.requireNonNull(templates, "templates"));
        Objects.requireNonNull(defaultTimeout, "defaultTimeout");
        Objects.requireNonNull(maxTimeout, "maxTimeout");
        if (defaultTimeout.isNegative() || defaultTimeout.isZero() || defaultTimeout.compareTo(maxTimeout) > 0) {
            throw new BasaltException.InvalidArgument("the default timeout must be positive and at most the maximum ("
                    + maxTimeout.toSeconds() + " s), got " + defaultTimeout.toSeconds() + " s");
        }
        if (maxTimeout.compareTo(SandboxSpec.MAX_TTL) > 0) {
            throw new BasaltException.InvalidArgument("the maximum timeout is at most " + SandboxSpec.MAX_TTL.toDays() + " days");
        }
        Objects.requireNonNull(baseSpec, "baseSpec");
    }

    /** Loopback {@code port}, the given keys, no aliases or domain, 15 s default and 24 h maximum timeout, default spec. */
    public static E2bOptions loopback(int port, ApiKeys apiKeys) {
        return new E2bOptions(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), apiKeys,
                Map.of(), null, Duration.ofSeconds(15), Duration.ofHours(24), null, SandboxSpec.defaults());
    }

    public E2bOptions withTemplates(Map<String, String> templates) {
        return new E2bOptions(address, apiKeys, templates, domain, defaultTimeout, maxTimeout, recordsDir, baseSpec);
    }

    public E2bOptions withDomain(String domain) {
        return new E2bOptions(address, apiKeys, templates, domain, defaultTimeout, maxTimeout, recordsDir, baseSpec);
    }

    public E2bOptions withRecordsDir(Path recordsDir) {
        return new E2bOptions(address, apiKeys, templates, domain, defaultTimeout, maxTimeout, recordsDir, baseSpec);
    }

    public E2bOptions withBaseSpec(SandboxSpec baseSpec) {
        return new E2bOptions(address, apiKeys, templates, domain, defaultTimeout, maxTimeout, recordsDir, baseSpec);
    }

    public E2bOptions withTimeouts(Duration defaultTimeout, Duration maxTimeout) {
        return new E2bOptions(address, apiKeys, templates, domain, defaultTimeout, maxTimeout, recordsDir, baseSpec);
    }

    /** The Basalt image a templateID names. */
    public String imageOf(String templateId) {
        return templates.getOrDefault(templateId, templateId);
    }
}
