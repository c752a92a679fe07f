package dev.basalt.core;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Random sandbox ids: 12 lowercase hex characters (48 bits). */
final class SandboxIds {
    private static final SecureRandom RANDOM = new SecureRandom();

    private SandboxIds() {
    }

    static String next() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
