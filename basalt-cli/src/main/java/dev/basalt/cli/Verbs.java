package dev.basalt.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The verbs of {@code basalt}, by name, made only when needed: building a verb's picocli model
 * reflects over its class, its options and mixins, and loads what they name (the daemon verb loads
 * the whole server), so a command line gets the one verb it names, and only a line without a known
 * verb (usage, {@code help}, a typo that wants suggestions) gets them all.
 */
final class Verbs {
    /** Name → the command: a {@link Verb}, or the daemon's (annotated) {@link CommandLine}. */
    private static final Map<String, Function<CliContext, Object>> VERBS = new LinkedHashMap<>();

    static {
        VERBS.put("run", RunCommand::new);
        VERBS.put("create", CreateCommand::new);
        VERBS.put("exec", ExecCommand::new);
        VERBS.put("ls", ListCommand::new);
        VERBS.put("inspect", InspectCommand::new);
        VERBS.put("cp", CopyCommand::new);
        VERBS.put("logs", LogsCommand::new);
        VERBS.put("stop", StopCommand::new);
        VERBS.put("rm", RemoveCommand::new);
        VERBS.put("pause", PauseCommand::new);
        VERBS.put("resume", ResumeCommand::new);
        VERBS.put("checkpoint", CheckpointCommand::new);
        VERBS.put("restore", RestoreCommand::new);
        VERBS.put("fork", ForkCommand::new);
        VERBS.put("snapshots", SnapshotsCommand::new);
        VERBS.put("templates", TemplatesCommand::new);
        VERBS.put("pool", PoolCommand::new);
        VERBS.put("images", ImagesCommand::new);
        VERBS.put("image", ImageCommand::new);
        VERBS.put("port", PortCommand::new);
        VERBS.put("net", NetCommand::new);
        VERBS.put("daemon", context -> DaemonVerb.command());
    }

    /** Aliases accepted on the command line, for finding the verb. */
    private static final Map<String, String> ALIASES = Map.of("list", "ls", "remove", "rm");

    private Verbs() {
    }

    /**
     * Adds to {@code cli} the verb {@code args} names, or every verb (and {@code help}) when it names
     * none that exists; returns the verb's name, or null.
     */
    static String add(CommandLine cli, CliContext context, String[] args) {
        String verb = find(args);
        if (verb != null && !verb.equals("help")) {
            add(cli, verb, VERBS.get(verb).apply(context));
            return verb;
        }
        for (var e : VERBS.entrySet()) {
            add(cli, e.getKey(), e.getKey().equals("daemon") ? new DaemonVerb.Listed(context) : e.getValue().apply(context));
        }
        cli.addSubcommand(new CommandLine.HelpCommand());
        return verb;
    }

    private static void add(CommandLine cli, String name, Object command) {
        if (command instanceof Verb v) {
            cli.addSubcommand(name, new CommandLine(v.spec), v.spec.aliases());
        } else {
            cli.addSubcommand(name, command);
        }
    }

    /** The first word that is not a global option or its value, if it is a verb ({@code help} included). */
    static String find(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-H") || a.equals("--host")) {
                i++;                                    // its value
            } else if (a.equals("--")) {
                return null;
            } else if (!a.startsWith("-")) {
                String name = ALIASES.getOrDefault(a, a);
                return VERBS.containsKey(name) || name.equals("help") ? name : null;
            }
        }
        return null;
    }
}
