package dev.basalt.image.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerfileTest {
    @TempDir
    Path ctx;

    private static final String FILE = """
            # syntax=docker/dockerfile:1
            ARG BASE=base
            FROM ${BASE} AS build
            ARG VERSION=1.0
            ENV APP_HOME=/srv/app \\
                GREETING="hello world"
            # a comment inside the file
            WORKDIR $APP_HOME
            COPY --chown=user:user app.py lib/ ./
            RUN pip install --no-index \\
                  # a comment inside a continuation
                  -r requirements.txt && \\
                echo $VERSION
            RUN ["python3", "-c", "print(1)"]
            USER user
            LABEL org.example=x
            EXPOSE 8080
            CMD ["python3", "app.py"]
            """;

    @Test
    void parsesWhatDockerParses() {
        Dockerfile f = Dockerfile.parse(FILE, "Dockerfile");
        assertThat(f.from()).isEqualTo(new Instruction.From(3, "${BASE}", "build"));
        List<Instruction> ins = f.instructions();
        assertThat(ins.get(3)).isInstanceOfSatisfying(Instruction.Env.class, e -> {
            assertThat(e.vars()).extracting(Map.Entry::getKey).containsExactly("APP_HOME", "GREETING");
            assertThat(e.vars().get(1).getValue()).isEqualTo("hello world");
        });
        assertThat(ins.get(5)).isEqualTo(new Instruction.Copy(9, false, List.of("app.py", "lib/"), "./", "user:user", null));
        assertThat(ins.get(6)).isInstanceOfSatisfying(Instruction.Run.class, r -> {
            assertThat(r.shell()).isEqualTo("pip install --no-index       -r requirements.txt &&     echo $VERSION");
            assertThat(r.argv()).startsWith("/bin/sh", "-c");
        });
        assertThat(ins.get(7)).isInstanceOfSatisfying(Instruction.Run.class,
                r -> assertThat(r.argv()).containsExactly("python3", "-c", "print(1)"));
        assertThat(ins.getLast()).isInstanceOfSatisfying(Instruction.Command.class,
                c -> assertThat(c.argv()).containsExactly("python3", "app.py"));
        assertThat(BuildPlan.baseImage(f, Map.of())).isEqualTo("base");
        assertThat(BuildPlan.baseImage(f, Map.of("BASE", "other:v2"))).isEqualTo("other:v2");
    }

    @Test
    void refusesWhatItCannotBuildByLine() {
        assertThatThrownBy(() -> Dockerfile.parse("FROM base\nFRM x\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("Dockerfile line 2: unknown instruction 'FRM'");
        assertThatThrownBy(() -> Dockerfile.parse("RUN true\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("only ARG may come before FROM");
        assertThatThrownBy(() -> Dockerfile.parse("FROM a\nFROM b\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("line 2").hasMessageContaining("multi-stage");
        assertThatThrownBy(() -> Dockerfile.parse("FROM a\nADD https://example.com/x.tgz /x\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("from a URL");
        assertThatThrownBy(() -> Dockerfile.parse("FROM a\nRUN <<EOF\necho\nEOF\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("heredocs");
        assertThatThrownBy(() -> Dockerfile.parse("FROM a\nCOPY --from=x a b\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("--from");
        assertThatThrownBy(() -> Dockerfile.parse("FROM a\nENV 1BAD=x\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("invalid variable name '1BAD'");
        assertThatThrownBy(() -> Dockerfile.parse("# only a comment\n\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("no instructions");
        assertThatThrownBy(() -> Dockerfile.parse("FROM --platform=linux/arm64 a\n", "Dockerfile"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("linux/amd64");
    }

    private BuildPlan plan(String text, Map<String, String> args) throws IOException {
        return BuildPlan.plan(Dockerfile.parse(text, "Dockerfile"), new BuildContext(ctx), args, "base-id",
                new ImageConfig(Map.of("PATH", "/usr/bin:/bin"), "", "", List.of(), List.of("bash")));
    }

    @Test
    void stepKeysChangeExactlyWithTheirInputs() throws IOException {
        Files.writeString(ctx.resolve("app.py"), "print('v1')");
        Files.createDirectories(ctx.resolve("lib"));
        Files.writeString(ctx.resolve("lib/util.py"), "x = 1");
        Files.writeString(ctx.resolve("requirements.txt"), "");
        String text = FILE.replace("${BASE}", "base");
        BuildPlan a = plan(text, Map.of());
        BuildPlan again = plan(text, Map.of());
        assertThat(again.steps()).extracting(BuildPlan.Step::key).isEqualTo(a.steps().stream().map(BuildPlan.Step::key).toList());
        assertThat(a.config()).isEqualTo(new ImageConfig(Map.of("PATH", "/usr/bin:/bin", "APP_HOME", "/srv/app",
                "GREETING", "hello world"), "/srv/app", "user", List.of(), List.of("python3", "app.py")));

        BuildPlan.CopyStep copy = (BuildPlan.CopyStep) a.steps().stream().filter(s -> s instanceof BuildPlan.CopyStep)
                .findFirst().orElseThrow();
        assertThat(copy.entries()).extracting(BuildContext.Entry::destination)
                .containsExactly("/srv/app/app.py", "/srv/app", "/srv/app/util.py"); // a directory's contents, as docker
        assertThat(copy.chown()).isEqualTo("user:user");
        BuildPlan.RunStep run = (BuildPlan.RunStep) a.steps().stream().filter(s -> s instanceof BuildPlan.RunStep)
                .findFirst().orElseThrow();
        assertThat(run.env()).containsEntry("VERSION", "1.0").containsEntry("APP_HOME", "/srv/app");
        assertThat(run.workdir()).isEqualTo("/srv/app");

        // a changed file changes the COPY's key and every key after it, not the ones before
        Files.writeString(ctx.resolve("lib/util.py"), "x = 2");
        BuildPlan b = plan(text, Map.of());
        int copyIndex = a.steps().indexOf(copy);
        for (int i = 0; i < a.steps().size(); i++) {
            if (i < copyIndex) {
                assertThat(b.steps().get(i).key()).isEqualTo(a.steps().get(i).key());
            } else {
                assertThat(b.steps().get(i).key()).isNotEqualTo(a.steps().get(i).key());
            }
        }
        // a build argument changes the steps after its ARG
        BuildPlan c = plan(text, Map.of("VERSION", "2.0"));
        assertThat(c.key()).isNotEqualTo(b.key());
        assertThat(c.steps().getFirst().key()).isNotEqualTo(b.steps().getFirst().key());
        assertThatThrownBy(() -> plan(text, Map.of("UNDECLARED", "1")))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("UNDECLARED");
    }

    @Test
    void copySourcesStayInTheContext() throws IOException {
        Files.writeString(ctx.resolve("ok.txt"), "x");
        Path outside = Files.createTempDirectory("outside");
        try {
            Files.createSymbolicLink(ctx.resolve("escape"), outside);
            Files.writeString(outside.resolve("secret"), "s");
            for (String bad : List.of("../etc/passwd", "/etc/passwd", "escape/secret", "missing.txt", "*.none")) {
                assertThatThrownBy(() -> plan("FROM base\nCOPY " + bad + " /x\n", Map.of()))
                        .as(bad).isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("line 2");
            }
            // a symlink in the context is copied as a link, its target never read
            BuildPlan p = plan("FROM base\nCOPY escape /x\n", Map.of());
            BuildPlan.CopyStep copy = (BuildPlan.CopyStep) p.steps().getFirst();
            assertThat(copy.entries()).singleElement().satisfies(e -> assertThat(e.symlink()).isTrue());
        } finally {
            Files.deleteIfExists(outside.resolve("secret"));
            Files.deleteIfExists(outside);
        }
    }

    @Test
    void substitutionFollowsDocker() {
        Map<String, String> vars = Map.of("A", "x", "EMPTY", "");
        assertThat(Substitution.expand("$A-${A}-${B:-def}-${A:+alt}-${EMPTY:-e}-\\$A-$", vars, "t"))
                .isEqualTo("x-x-def-alt-e-$A-$");
        assertThatThrownBy(() -> Substitution.expand("${A", vars, "t")).hasMessageContaining("unterminated");
    }
}
