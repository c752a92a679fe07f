package dev.basalt.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Checks the codec against the shared vectors in {@code protocol/vectors.txt}. */
class VectorsTest {

    record Vector(int line, String name, byte[] bytes, String expected) {
    }

    static Path repoRoot() {
        String prop = System.getProperty("basalt.repo");
        if (prop != null && !prop.isBlank() && Files.isRegularFile(Path.of(prop, "protocol", "vectors.txt"))) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("protocol/vectors.txt"))) {
                return p;
            }
        }
        throw new IllegalStateException("protocol/vectors.txt not found: set -Dbasalt.repo to the repository root");
    }

    static List<Vector> vectors() throws IOException {
        List<String> lines = Files.readAllLines(repoRoot().resolve("protocol/vectors.txt"), StandardCharsets.UTF_8);
        List<Vector> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\|", 3);
            assertThat(parts).as("line %d has name|hex|expected", i + 1).hasSize(3);
            out.add(new Vector(i + 1, parts[0], HexFormat.of().parseHex(parts[1]), parts[2]));
        }
        return out;
    }

    @Test
    void fileHasEnoughVectorsCoveringEveryType() throws IOException {
        List<Vector> all = vectors();
        assertThat(all).hasSizeGreaterThanOrEqualTo(40);
        assertThat(all.stream().filter(v -> v.expected().startsWith("error ")).count()).isGreaterThanOrEqualTo(8);
        assertThat(all.stream().map(Vector::name).distinct().count()).isEqualTo(all.size());
        for (MessageType t : MessageType.values()) {
            assertThat(all).as("a valid vector for %s", t)
                    .anyMatch(v -> v.expected().startsWith(t.name() + " stream="));
        }
    }

    @TestFactory
    Stream<DynamicTest> everyVector() throws IOException {
        return vectors().stream().map(v -> DynamicTest.dynamicTest(v.name() + " (line " + v.line() + ")", () -> check(v)));
    }

    private static void check(Vector v) {
        List<Decoded> decoded = new FrameDecoder().feed(v.bytes());
        assertThat(decoded).as("exactly one result").hasSize(1);
        Decoded d = decoded.getFirst();
        if (v.expected().startsWith("error ")) {
            assertThat(d).isInstanceOf(FrameError.class);
            assertThat(((FrameError) d).code().name()).isEqualTo(v.expected().substring("error ".length()));
            return;
        }
        assertThat(d).as("decodes to a frame, not %s", d).isInstanceOf(Frame.class);
        Frame frame = (Frame) d;
        assertThat(CanonicalText.format(frame)).isEqualTo(v.expected());
        assertThat(FrameCodec.encode(frame)).isEqualTo(v.bytes());
        // byte at a time gives the same result
        FrameDecoder slow = new FrameDecoder();
        List<Decoded> out = new ArrayList<>();
        for (byte b : v.bytes()) {
            out.addAll(slow.feed(new byte[] {b}));
        }
        assertThat(out).containsExactly(frame);
    }
}
