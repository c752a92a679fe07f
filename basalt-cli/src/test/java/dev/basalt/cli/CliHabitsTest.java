package dev.basalt.cli;

import static dev.basalt.cli.CliTest.basalt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.SandboxInfo;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Docker's habits: help on every verb, clear refusals, ls filters, --ttl, templates; real VMs (CliTest's manager). */
class CliHabitsTest {

    @BeforeAll
    static void start() throws Exception {
        CliTest.start();
    }

    @AfterAll
    static void stop() throws Exception {
        CliTest.stop();
    }

    @Test
    void everyVerbAcceptsHelp() {
        List<String[]> verbs = List.of(new String[] {"run"}, new String[] {"create"}, new String[] {"exec"},
                new String[] {"ls"}, new String[] {"list"}, new String[] {"inspect"}, new String[] {"cp"},
                new String[] {"logs"}, new String[] {"stop"}, new String[] {"rm"}, new String[] {"checkpoint"},
                new String[] {"restore"}, new String[] {"fork"}, new String[] {"snapshots"},
                new String[] {"snapshots", "rm"}, new String[] {"templates"}, new String[] {"templates", "prune"},
                new String[] {"pool"}, new String[] {"daemon"});
        for (String[] verb : verbs) {
            for (String flag : List.of("--help", "-h")) {
                String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(verb), java.util.stream.Stream.of(flag))
                        .toArray(String[]::new);
                CliTest.Outcome o = basalt(args);
                assertThat(o.code()).as("basalt %s: %s", String.join(" ", args), o.err()).isZero();
                assertThat(o.out()).as("basalt %s", String.join(" ", args)).contains("Usage: basalt ");
            }
        }
        CliTest.Outcome all = basalt("--help");
        assertThat(all.out()).contains("run", "exec", "templates", "daemon");
        assertThat(basalt("help", "exec").out()).contains("Usage: basalt exec");
        CliTest.Outcome typo = basalt("exce");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("exce");
        assertThat(CliTest.manager().list()).as("help creates nothing").isEmpty();
    }

    @Test
    void interactiveTerminalWithoutATerminalIsRefusedAtOnce() {
        long start = System.nanoTime();
        CliTest.Outcome run = CliTest.basaltWithStdin("ls\n", "run", "-it", "--", "sh");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("the input device is not a terminal").contains("use -i alone");
        CliTest.Outcome exec = CliTest.basaltWithStdin("ls\n", "exec", "-it", "ffffffffffff", "--", "sh");
        assertThat(exec.code()).isEqualTo(2);
        assertThat(exec.err()).contains("not a terminal");
        assertThat(System.nanoTime() - start).as("refused before anything boots").isLessThan(2_000_000_000L);
        assertThat(CliTest.manager().list()).isEmpty();
        // -t alone (no stdin) and -i alone (piped) still work
        assertThat(basalt("run", "-t", "--", "sh", "-c", "test -t 1 && echo tty").out()).contains("tty");
        assertThat(CliTest.basaltWithStdin("piped", "run", "-i", "--", "cat").out()).isEqualTo("piped");
    }

    @Test
    void lsShowsLiveSandboxesFiltersAndLabels() {
        String a = basalt("create", "-l", "team=qa", "-l", "app=web").out().strip();
        String b = basalt("create", "-l", "team=dev").out().strip();
        try {
            CliTest.Outcome ls = basalt("ls");
            assertThat(ls.out()).contains(a).contains(b).contains("app=web,team=qa").doesNotContain("{");
            assertThat(basalt("ls", "-q").out().lines().toList()).containsExactlyInAnyOrder(a, b);
            assertThat(basalt("ls", "-q", "--filter", "label=team=qa").out().strip()).isEqualTo(a);
            assertThat(basalt("ls", "-q", "--filter", "label=team").out().lines().toList()).containsExactlyInAnyOrder(a, b);
            assertThat(basalt("ls", "-q", "--filter", "label=team=qa", "--filter", "label=app=db").out()).isEmpty();
            assertThat(basalt("ls", "-q", "--filter", "state=ready").out().lines().toList()).containsExactlyInAnyOrder(a, b);
            CliTest.Outcome noEquals = basalt("ls", "--filter", "team");
            assertThat(noEquals.code()).isEqualTo(2);
            assertThat(noEquals.err()).contains("--filter 'team' has no '='");
            assertThat(basalt("ls", "--filter", "state=happy").err()).contains("not a state");
            assertThat(basalt("ls", "--filter", "color=red").err()).contains("unknown key 'color'");

            assertThat(basalt("stop", b).code()).isZero();
            assertThat(basalt("ls", "-q").out().strip()).as("live only").isEqualTo(a);
            assertThat(basalt("ls", "-q", "-a").out().lines().toList()).containsExactlyInAnyOrder(a, b);
            assertThat(basalt("ls", "-q", "--filter", "state=STOPPED").out().strip()).isEqualTo(b);
            assertThat(basalt("ls").out().lines().filter(l -> l.startsWith(a)).findFirst().orElseThrow())
                    .as("AGE of a sandbox just handed out").matches(".*\\s[0-9]s\\s.*");
        } finally {
            basalt("rm", a, b);
        }
    }

    @Test
    void createWithTtlAndAnUnknownImage() {
        String id = basalt("create", "--ttl", "90m").out().strip();
        try {
            SandboxInfo info = CliTest.manager().inspect(id);
            assertThat(info.expiresAt()).isPresent();
            assertThat(java.time.Duration.between(info.createdAt(), info.expiresAt().orElseThrow()).toMinutes()).isEqualTo(90);
        } finally {
            basalt("rm", id);
        }
        CliTest.Outcome badTtl = basalt("create", "--ttl", "soon");
        assertThat(badTtl.code()).isEqualTo(2);
        assertThat(badTtl.err()).contains("'soon' is not a duration");
        CliTest.Outcome image = basalt("run", "--image", "no-such-image", "--", "true");
        assertThat(image.code()).isEqualTo(2);
        assertThat(image.err()).contains("image 'no-such-image' not found").contains("images there: debian, default");
        assertThat(CliTest.manager().list()).isEmpty();
    }

    @Test
    void templatesAreListedWithTheirMemoryAndPruned() {
        assertThat(basalt("run", "--", "true").code()).isZero();           // the default template exists now
        CliTest.Outcome list = basalt("templates");
        assertThat(list.out()).contains("TEMPLATE").contains("default").contains("256M").containsPattern("\\d+(\\.\\d)?[KMG]");
        assertThat(basalt("templates", "--json").out()).contains("\"shmBytes\"");
        String id = basalt("create").out().strip();                         // a clone that outlives the prune
        try {
            CliTest.Outcome prune = basalt("templates", "prune");
            assertThat(prune.code()).isZero();
            assertThat(prune.out()).containsPattern("deleted [1-9]\\d* template\\(s\\)");
            assertThat(basalt("templates").out().lines().count()).as("header only").isEqualTo(1);
            assertThat(basalt("exec", id, "--", "echo", "alive").out()).isEqualTo("alive\n");
        } finally {
            basalt("rm", id);
        }
        assertThat(basalt("run", "--", "echo", "again").out()).as("the template is made again").isEqualTo("again\n");
    }
}
