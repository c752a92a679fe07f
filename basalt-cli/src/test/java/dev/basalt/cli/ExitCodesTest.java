package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.BasaltException;
import java.nio.file.Files;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every exit code the CLI can return is in the README's list, with its meaning. */
class ExitCodesTest {

    @Test
    void theReadmeListsEveryExitCode() throws Exception {
        String readme = Files.readString(CodeMapTest.repo().resolve("README.md"));
        int start = readme.indexOf("Exit codes of `run` and `exec`");
        assertThat(start).as("the exit codes paragraph").isPositive();
        String paragraph = readme.substring(start, readme.indexOf("\n\n", start)).replace('\n', ' ');
        List<BasaltException> kinds = List.of(new BasaltException.NotFound("x"), new BasaltException.InvalidArgument("x"),
                new BasaltException.WrongState("x"), new BasaltException.AlreadyExists("x"),
                new BasaltException.PermissionDenied("x"), new BasaltException.ResourceExhausted("x"),
                new BasaltException.Unavailable("x"), new BasaltException.TimedOut("x"), new BasaltException.Internal("x"));
        for (BasaltException kind : kinds) {
            assertThat(paragraph).as("exit code of %s", kind.getClass().getSimpleName())
                    .containsPattern(Pattern.compile("\\b" + ExitCodes.of(kind) + " [a-z]"));
        }
        for (int code : List.of(ExitCodes.USAGE, ExitCodes.BASALT_FAILED, ExitCodes.PROGRAM_NOT_FOUND, 124)) {
            assertThat(paragraph).containsPattern("\\b" + code + " [a-z]");
        }
        assertThat(paragraph).contains("128+N");
    }
}
