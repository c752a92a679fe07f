package dev.basalt.net.proxy;

import dev.basalt.net.EgressCheck;
import java.nio.charset.StandardCharsets;

/**
 * Finds the server name (SNI, RFC 6066) in the first bytes of a TLS connection: TLS records
 * ({@code 0x16} handshake, version 3.x, at most 2^14 bytes each) carrying one ClientHello, which
 * may span several records. Everything is bounds-checked against the lengths it declares and
 * the bytes present; the input is hostile, so any inconsistency is {@link Sniffed.Malformed} and
 * the parser never throws, loops or reads out of range. Stateless and thread-safe.
 */
public final class ClientHello {
    /** The most bytes of records a ClientHello may take (large post-quantum key shares fit). */
    public static final int MAX_BYTES = 64 * 1024;
    private static final int MAX_RECORD = 16384;
    private static final int EXT_SERVER_NAME = 0;

    private ClientHello() {}

    /** Parses {@code buf[0..len)}. */
    public static Sniffed serverName(byte[] buf, int len) {
        if (len < 0 || len > buf.length) {
            return new Sniffed.Malformed("bad length");
        }
        // 1. reassemble the handshake bytes from consecutive handshake records
        byte[] hs = new byte[Math.min(len, MAX_BYTES)];
        int hsLen = 0;
        int pos = 0;
        Integer needed = null;   // total handshake bytes of the ClientHello, once its header is in
        while (true) {
            if (needed != null && hsLen >= needed) {
                break;
            }
            if (pos + 5 > len) {
                return pos >= MAX_BYTES ? new Sniffed.Malformed("ClientHello larger than " + MAX_BYTES + " bytes") : Sniffed.INCOMPLETE;
            }
            int type = buf[pos] & 255;
            int major = buf[pos + 1] & 255;
            int recLen = u16(buf, pos + 3);
            if (type != 0x16) {
                return new Sniffed.Malformed(pos == 0 ? "not a TLS handshake (first byte " + type + ")" : "a non-handshake record inside the ClientHello");
            }
            if (major != 3) {
                return new Sniffed.Malformed("unknown TLS record version " + major + "." + (buf[pos + 2] & 255));
            }
            if (recLen == 0 || recLen > MAX_RECORD) {
                return new Sniffed.Malformed("TLS record length " + recLen + " out of range");
            }
            if (pos + 5 + recLen > len) {
                return pos + 5 + recLen > MAX_BYTES ? new Sniffed.Malformed("ClientHello larger than " + MAX_BYTES + " bytes") : Sniffed.INCOMPLETE;
            }
            int copy = Math.min(recLen, hs.length - hsLen);
            System.arraycopy(buf, pos + 5, hs, hsLen, copy);
            hsLen += copy;
            pos += 5 + recLen;
            if (needed == null && hsLen >= 4) {
                if ((hs[0] & 255) != 1) {
                    return new Sniffed.Malformed("the first handshake message is not a ClientHello (type " + (hs[0] & 255) + ")");
                }
                int bodyLen = ((hs[1] & 255) << 16) | u16(hs, 2);
                if (bodyLen < 38 || 4 + bodyLen > MAX_BYTES) {
                    return new Sniffed.Malformed("ClientHello length " + bodyLen + " out of range");
                }
                needed = 4 + bodyLen;
            }
        }
        return parseBody(hs, 4, needed);
    }

    /** The ClientHello body in {@code b[start..end)}. */
    private static Sniffed parseBody(byte[] b, int start, int end) {
        int p = start + 2 + 32;                          // legacy_version, random
        if (p + 1 > end) {
            return new Sniffed.Malformed("ClientHello truncated before the session id");
        }
        int sid = b[p] & 255;
        if (sid > 32) {
            return new Sniffed.Malformed("session id longer than 32 bytes");
        }
        p += 1 + sid;
        if (p + 2 > end) {
            return new Sniffed.Malformed("ClientHello truncated before the cipher suites");
        }
        int suites = u16(b, p);
        if (suites < 2 || suites % 2 != 0) {
            return new Sniffed.Malformed("cipher suite list length " + suites + " is invalid");
        }
        p += 2 + suites;
        if (p + 1 > end) {
            return new Sniffed.Malformed("ClientHello truncated before the compression methods");
        }
        int comp = b[p] & 255;
        if (comp < 1) {
            return new Sniffed.Malformed("empty compression method list");
        }
        p += 1 + comp;
        if (p > end) {
            return new Sniffed.Malformed("ClientHello truncated in the compression methods");
        }
        if (p == end) {
            return Sniffed.NO_HOST;                      // no extensions at all
        }
        if (p + 2 > end) {
            return new Sniffed.Malformed("ClientHello truncated in the extensions length");
        }
        int extTotal = u16(b, p);
        p += 2;
        if (p + extTotal != end) {
            return new Sniffed.Malformed("extensions length " + extTotal + " does not match the ClientHello");
        }
        boolean[] seen = new boolean[65536];
        String name = null;
        while (p < end) {
            if (p + 4 > end) {
                return new Sniffed.Malformed("truncated extension header");
            }
            int type = u16(b, p);
            int len = u16(b, p + 2);
            p += 4;
            if (p + len > end) {
                return new Sniffed.Malformed("extension " + type + " longer than the ClientHello");
            }
            if (seen[type]) {
                return new Sniffed.Malformed("extension " + type + " appears twice");
            }
            seen[type] = true;
            if (type == EXT_SERVER_NAME) {
                Object r = serverNameExtension(b, p, p + len);
                if (r instanceof Sniffed.Malformed m) {
                    return m;
                }
                name = (String) r;
            }
            p += len;
        }
        if (name == null) {
            return Sniffed.NO_HOST;
        }
        return new Sniffed.Host(name);
    }

    /** A validated host name, or a {@link Sniffed.Malformed}. */
    private static Object serverNameExtension(byte[] b, int p, int end) {
        if (p + 2 > end) {
            return new Sniffed.Malformed("server_name extension too short");
        }
        int listLen = u16(b, p);
        p += 2;
        if (listLen == 0 || p + listLen != end) {
            return new Sniffed.Malformed("server_name list length " + listLen + " does not match its extension");
        }
        String host = null;
        while (p < end) {
            if (p + 3 > end) {
                return new Sniffed.Malformed("truncated server_name entry");
            }
            int nameType = b[p] & 255;
            int nameLen = u16(b, p + 1);
            p += 3;
            if (p + nameLen > end) {
                return new Sniffed.Malformed("server_name entry longer than its list");
            }
            if (nameType == 0) {
                if (host != null) {
                    return new Sniffed.Malformed("two host names in server_name");
                }
                if (nameLen == 0 || nameLen > 253) {
                    return new Sniffed.Malformed("server name length " + nameLen + " out of range");
                }
                for (int i = p; i < p + nameLen; i++) {
                    int c = b[i] & 255;
                    if (c <= 32 || c >= 127) {
                        return new Sniffed.Malformed("the server name contains a byte " + c + " that no host name has");
                    }
                }
                String raw = new String(b, p, nameLen, StandardCharsets.US_ASCII);
                host = EgressCheck.normalize(raw);
                if (host == null || raw.endsWith(".")) {
                    return new Sniffed.Malformed("the server name '" + raw + "' is not a valid host name");
                }
            }
            p += nameLen;
        }
        if (host == null) {
            return new Sniffed.Malformed("server_name has no host name entry");
        }
        return host;
    }

    private static int u16(byte[] b, int p) {
        return ((b[p] & 255) << 8) | (b[p + 1] & 255);
    }
}
