package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Keeps the code map in docs/ARCHITECTURE.md true: every package listed, nothing listed that is gone. */
class CodeMapTest {
    private static final Pattern ROW = Pattern.compile("^\\| ([\\w-]+) \\| `([^`]+)` \\|", Pattern.MULTILINE);

    @Test
    void codeMapListsExactlyTheExistingPackagesAndDirectories() throws IOException {
        Path repo = repo();
        String doc = Files.readString(repo.resolve("docs/ARCHITECTURE.md"));
        String map = doc.substring(doc.indexOf("<!-- code-map:begin -->"), doc.indexOf("<!-- code-map:end -->"));
        Set<String> listed = new TreeSet<>();
        Matcher m = ROW.matcher(map);
        while (m.find()) {
            String module = m.group(1);
            String entry = m.group(2);
            listed.add(entry.startsWith("dev.basalt") ? module + ":" + entry : entry);
        }
        Set<String> actual = new TreeSet<>(javaPackages(repo));
        for (String dir : listed) {
            if (!dir.contains(":")) {
                assertThat(repo.resolve(dir)).as("directory named in the code map").isDirectory();
            }
        }
        assertThat(listed.stream().filter(e -> e.contains(":")).toList())
                .as("Java packages in the code map (module:package)")
                .containsExactlyInAnyOrderElementsOf(actual);
    }

    private static Set<String> javaPackages(Path repo) throws IOException {
        Set<String> packages = new TreeSet<>();
        try (Stream<Path> modules = Files.list(repo)) {
            for (Path module : modules.filter(p -> p.getFileName().toString().startsWith("basalt-")).toList()) {
                Path src = module.resolve("src/main/java");
                if (!Files.isDirectory(src)) {
                    continue;
                }
                try (Stream<Path> files = Files.walk(src)) {
                    files.filter(f -> f.toString().endsWith(".java"))
                            .map(f -> src.relativize(f.getParent()).toString().replace('/', '.'))
                            .forEach(p -> packages.add(module.getFileName() + ":" + p));
                }
            }
        }
        return packages;
    }

    static Path repo() {
        String configured = System.getProperty("basalt.repo");
        Path dir = configured != null && !configured.startsWith("${") ? Path.of(configured) : Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docs/ARCHITECTURE.md"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("repository root with docs/ARCHITECTURE.md").isNotNull();
        return dir;
    }
}
