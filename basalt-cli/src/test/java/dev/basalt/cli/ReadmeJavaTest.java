package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java in README.md is true: every ```java block compiles against the modules, and the main
 * example runs as the README says (a plain {@code java -cp} of basalt-core's jars, one flag) against
 * a real VM, printing its own output and nothing else: no DEBUG lines (no logging backend is
 * imposed), no JVM warnings.
 *
 * <p>Convention (stated in the README): a block with a top-level class is a complete compilation
 * unit; any other block is the body of a method that may throw, with its {@code import} lines
 * hoisted out of it.
 */
class ReadmeJavaTest {
    private static final Pattern BLOCK = Pattern.compile("(?s)```java\\n(.*?)```");
    private static final Pattern CLASS = Pattern.compile("(?m)^(?:public\\s+)?(?:final\\s+)?class\\s+(\\w+)");

    static List<String> javaBlocks() throws Exception {
        String readme = Files.readString(CodeMapTest.repo().resolve("README.md"));
        List<String> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    /** The compilation unit for a block: itself if it declares a class, else a class around it. */
    static String unit(String block, int index) {
        Matcher c = CLASS.matcher(block);
        if (c.find()) {
            return block;
        }
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        for (String line : block.lines().toList()) {
            (line.startsWith("import ") ? imports : body).append(line).append('\n');
        }
        return imports + "class ReadmeBlock" + index + " {\n    static void run() throws Exception {\n" + body + "    }\n}\n";
    }

    static String className(String unit) {
        Matcher c = CLASS.matcher(unit);
        assertThat(c.find()).isTrue();
        return c.group(1);
    }

    @Test
    void everyJavaBlockCompiles(@TempDir Path dir) throws Exception {
        List<String> blocks = javaBlocks();
        assertThat(blocks).as("java blocks in README.md").hasSizeGreaterThanOrEqualTo(2);
        List<Path> sources = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            String unit = unit(blocks.get(i), i);
            Path src = dir.resolve("block" + i).resolve(className(unit) + ".java");
            Files.createDirectories(src.getParent());
            Files.writeString(src, unit);
            sources.add(src);
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        for (Path src : sources) {                               // one at a time: each block stands alone
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
                StringWriter out = new StringWriter();
                boolean ok = javac.getTask(out, files, diagnostics, List.of("-d", src.getParent().resolve("out").toString(),
                        "-cp", System.getProperty("java.class.path"), "-proc:none"), null,
                        files.getJavaFileObjects(src)).call();
                assertThat(ok).as("README block %s does not compile:%n%s%n%s", src.getParent().getFileName(),
                        Files.readString(src), diagnostics.getDiagnostics()).isTrue();
            }
        }
    }

    @Test
    void theMainExampleRunsAsTheReadmeSays(@TempDir Path dir) throws Exception {
        Path repo = CodeMapTest.repo();
        String example = javaBlocks().stream().filter(b -> b.contains("class Example")).findFirst().orElseThrow();
        Files.writeString(dir.resolve("Example.java"), example);
        Path coreJar = repo.resolve("basalt-core/target/basalt-core.jar");
        assertThat(coreJar).as("built by the package phase (./mvnw package)").exists();
        assertThat(repo.resolve("basalt-core/target/lib")).isNotEmptyDirectory();
        // the images the tests use, under a home of this test's own (state: snapshots), a run dir of its own
        Path home = Files.createDirectories(dir.resolve("home/images"));
        for (String image : List.of("default", "debian")) {
            Files.createSymbolicLink(home.resolve(image), CliTest.images().resolve(image).toRealPath());
        }
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", coreJar + ":" + repo.resolve("basalt-core/target/lib") + "/*",
                "Example.java").directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("BASALT_IMAGES", home.toString());
        pb.environment().put("BASALT_RUN", dir.resolve("run").toString());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = pb.start();
        try {
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("the example finishes").isTrue();
        } finally {
            p.destroyForcibly();
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        assertThat(p.exitValue()).as("stdout:%n%s%nstderr:%n%s", stdout, stderr).isZero();
        assertThat(stdout).contains("Exited[code=0] hi\npiped").contains("8 bytes back").contains("line 1\nline 2\nline 3\n")
                .contains("after-setup restored as ").contains("forked 3").contains("exit 1")
                .doesNotContain("DEBUG").doesNotContain(" INFO ");
        assertThat(stderr.lines().filter(l -> l.startsWith("WARNING")).toList()).as("JVM warnings:%n%s", stderr).isEmpty();
        assertThat(stderr.lines().filter(l -> !l.startsWith("SLF4J")).toList())
                .as("nothing on stderr but SLF4J's note that no backend is there").isEmpty();
    }
}
