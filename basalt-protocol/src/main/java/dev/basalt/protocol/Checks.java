package dev.basalt.protocol;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToIntFunction;

/** Argument checks shared by the message records. */
final class Checks {
    private Checks() {
    }

    static String str(String name, String value) {
        Objects.requireNonNull(value, name);
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(name + " must not contain a NUL character");
        }
        if (value.length() > Protocol.MAX_PAYLOAD / 3
                && value.getBytes(StandardCharsets.UTF_8).length > Protocol.MAX_PAYLOAD) {
            throw new IllegalArgumentException(name + " is longer than the 1 MiB frame cap");
        }
        return value;
    }

    static List<String> strs(String name, List<String> values) {
        Objects.requireNonNull(values, name);
        List<String> copy = List.copyOf(values);
        for (int i = 0; i < copy.size(); i++) {
            str(name + "[" + i + "]", copy.get(i));
        }
        return copy;
    }

    static long u32(String name, long value) {
        if (value < 0 || value > Protocol.U32_MAX) {
            throw new IllegalArgumentException(name + " must be a u32 (0.." + Protocol.U32_MAX + "), got " + value);
        }
        return value;
    }

    static int u16(String name, int value) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException(name + " must be a u16 (0..65535), got " + value);
        }
        return value;
    }

    static Bytes data(Bytes data) {
        return bytes("data", data);
    }

    static Bytes bytes(String name, Bytes value) {
        Objects.requireNonNull(value, name);
        if (value.length() > Protocol.MAX_PAYLOAD - 4) {
            throw new IllegalArgumentException(name + " of " + value.length() + " bytes exceeds the 1 MiB frame cap");
        }
        return value;
    }

    static <E extends Enum<E>> int bits(Set<E> flags, ToIntFunction<E> bit) {
        int bits = 0;
        for (E f : flags) {
            bits |= bit.applyAsInt(f);
        }
        return bits;
    }

    static <E extends Enum<E>> Set<E> flags(Class<E> type, int bits, ToIntFunction<E> bit) {
        EnumSet<E> set = EnumSet.noneOf(type);
        for (E f : type.getEnumConstants()) {
            if ((bits & bit.applyAsInt(f)) != 0) {
                set.add(f);
            }
        }
        return set;
    }
}
