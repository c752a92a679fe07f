package dev.basalt.api;

import java.util.Locale;
import java.util.Objects;

/**
 * One entry of an allow or deny list: a domain ({@code example.com}, or {@code *.example.com} for
 * every name under it, not the name itself) or an IPv4 range ({@code 203.0.113.0/24}; a bare
 * address means {@code /32}). Parse user text with {@link #parse(String)}; the records validate
 * themselves, so an invalid rule can never exist.
 */
public sealed interface EgressRule permits EgressRule.Domain, EgressRule.Cidr {

    /** The rule as a user writes it; {@code parse(text())} gives an equal rule. */
    String text();

    /**
     * Parses a domain, a wildcard domain, an IPv4 address or an IPv4 range, with an error that says
     * what is wrong (a wildcard in the wrong place, host bits set in a range, IPv6, ...).
     */
    static EgressRule parse(String text) {
        Objects.requireNonNull(text, "rule");
        String t = text.strip();
        if (t.isEmpty()) {
            throw new BasaltException.InvalidArgument("an empty allow/deny entry: give a domain (example.com, *.example.com) or an IPv4 range (203.0.113.0/24)");
        }
        if (t.indexOf(':') >= 0 || t.indexOf('[') >= 0) {
            throw new BasaltException.InvalidArgument("'" + t + "': IPv6 addresses and ports are not supported in allow/deny entries (sandboxes have IPv4 only; the policy applies to every port)");
        }
        if (t.indexOf('/') >= 0 || t.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            return Cidr.parse(t);
        }
        return Domain.parse(t);
    }

    /**
     * A domain rule.
     *
     * @param name     the lowercase domain without a trailing dot ({@code example.com})
     * @param wildcard true for {@code *.name}: every name strictly under {@code name}
     */
    record Domain(String name, boolean wildcard) implements EgressRule {
        public Domain {
            Objects.requireNonNull(name, "name");
            if (wildcard && !name.isEmpty() && name.indexOf('.') < 0) {
                throw new BasaltException.InvalidArgument("'*." + name + "' would match a whole top-level domain: name at least a second-level domain (*.example.com), or use --net open");
            }
            String problem = DomainNames.problem(name);
            if (problem != null) {
                throw new BasaltException.InvalidArgument("domain '" + (wildcard ? "*." : "") + name + "' is invalid: " + problem);
            }
        }

        /** Parses {@code example.com} or {@code *.example.com}; a trailing dot is dropped, case is folded. */
        public static Domain parse(String text) {
            String t = text.strip().toLowerCase(Locale.ROOT);
            if (t.endsWith(".") && t.length() > 1) {
                t = t.substring(0, t.length() - 1);
            }
            boolean wildcard = t.startsWith("*.");
            String base = wildcard ? t.substring(2) : t;
            if (base.indexOf('*') >= 0 || t.equals("*")) {
                throw new BasaltException.InvalidArgument("'" + text.strip() + "': a wildcard is allowed only as the whole first label, as in *.example.com");
            }
            return new Domain(base, wildcard);
        }

        /** True if {@code host} (lowercase, no trailing dot) is matched by this rule. */
        public boolean matches(String host) {
            if (!wildcard) {
                return host.equals(name);
            }
            return host.length() > name.length() + 1 && host.endsWith(name) && host.charAt(host.length() - name.length() - 1) == '.';
        }

        @Override
        public String text() {
            return wildcard ? "*." + name : name;
        }
    }

    /**
     * An IPv4 range.
     *
     * @param address      the network address as an unsigned 32-bit value (no host bits set)
     * @param prefixLength 0..32
     */
    record Cidr(int address, int prefixLength) implements EgressRule {
        public Cidr {
            if (prefixLength < 0 || prefixLength > 32) {
                throw new BasaltException.InvalidArgument("prefix length must be between 0 and 32, got " + prefixLength);
            }
            if ((address & ~mask(prefixLength)) != 0) {
                throw new BasaltException.InvalidArgument(format(address) + "/" + prefixLength + " has host bits set: did you mean "
                        + format(address & mask(prefixLength)) + "/" + prefixLength + "?");
            }
        }

        /** Parses {@code a.b.c.d/n} or a bare {@code a.b.c.d} ({@code /32}). */
        public static Cidr parse(String text) {
            String t = text.strip();
            int slash = t.indexOf('/');
            String addr = slash < 0 ? t : t.substring(0, slash);
            int prefix = 32;
            if (slash >= 0) {
                String p = t.substring(slash + 1);
                if (!p.matches("[0-9]{1,2}")) {
                    throw new BasaltException.InvalidArgument("'" + t + "': the prefix length after '/' must be a number from 0 to 32");
                }
                prefix = Integer.parseInt(p);
            }
            return new Cidr(parseAddress(addr, t), prefix);
        }

        /** Parses a dotted-quad IPv4 address (four decimal numbers 0..255, no leading zeros). */
        public static int parseAddress(String addr, String context) {
            String[] parts = addr.split("\\.", -1);
            if (parts.length != 4) {
                throw new BasaltException.InvalidArgument("'" + context + "' is not an IPv4 address or range: expected four numbers like 203.0.113.0/24");
            }
            int value = 0;
            for (String part : parts) {
                if (!part.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(part) > 255) {
                    throw new BasaltException.InvalidArgument("'" + context + "' is not an IPv4 address: each of the four numbers must be 0..255 without leading zeros");
                }
                value = (value << 8) | Integer.parseInt(part);
            }
            return value;
        }

        /** The network mask of a prefix length, as a 32-bit value. */
        public static int mask(int prefixLength) {
            return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
        }

        /** Dotted-quad form of an address. */
        public static String format(int address) {
            return (address >>> 24) + "." + ((address >>> 16) & 255) + "." + ((address >>> 8) & 255) + "." + (address & 255);
        }

        /** True if the address lies in this range. */
        public boolean contains(int ip) {
            return (ip & mask(prefixLength)) == address;
        }

        @Override
        public String text() {
            return format(address) + "/" + prefixLength;
        }
    }
}
