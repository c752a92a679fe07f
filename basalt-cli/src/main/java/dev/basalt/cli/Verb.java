package dev.basalt.cli;

import dev.basalt.api.Sandboxes;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Base of every verb: its picocli model, declared with picocli's programmatic API, and the
 * {@link CliContext} it runs against. Declared in code rather than with annotations because reading
 * annotations in a fresh JVM makes the JDK generate a proxy class per annotation type and reflect
 * over every field (~80 ms before the first command line is parsed, measured); a programmatic model
 * of the same options costs ~15 ms. A verb keeps the specs it declares and reads their values in
 * {@link #call()} (picocli has applied the defaults and the command line by then).
 */
abstract class Verb implements Callable<Integer> {
    protected final CliContext context;
    final CommandSpec spec;

    /** A verb named {@code name}, with {@code -h}/{@code --help} and its description lines. */
    protected Verb(CliContext context, String name, String... description) {
        this.context = context;
        this.spec = CommandSpec.wrapWithoutInspection(this).name(name);
        spec.usageMessage().description(description);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help message and exit.")
                .build());
    }

    protected Sandboxes sandboxes() {
        return context.sandboxes();
    }

    protected final void aliases(String... aliases) {
        spec.aliases(aliases);
    }

    /** A boolean option, false unless given. */
    protected final OptionSpec flag(String description, String... names) {
        return add(OptionSpec.builder(names).type(boolean.class).arity("0").defaultValue("false").description(description)
                .build());
    }

    /** An option with one value of {@code type}; {@code defaultValue} may be null. */
    protected final OptionSpec option(Class<?> type, String label, String defaultValue, String description, String... names) {
        return add(OptionSpec.builder(names).type(type).paramLabel(label).defaultValue(defaultValue)
                .description(description).build());
    }

    /** A repeatable {@code KEY=VALUE} option collected into a map (empty unless given). */
    protected final OptionSpec map(String label, String description, String... names) {
        return add(OptionSpec.builder(names).type(java.util.Map.class).auxiliaryTypes(String.class, String.class)
                .paramLabel(label).description(description).initialValue(new java.util.LinkedHashMap<String, String>())
                .build());
    }

    /** A repeatable option collected into a list (empty unless given). */
    protected final OptionSpec list(String label, String description, String... names) {
        return add(OptionSpec.builder(names).type(java.util.List.class).auxiliaryTypes(String.class).paramLabel(label)
                .description(description).initialValue(new java.util.ArrayList<String>()).build());
    }

    protected final OptionSpec add(OptionSpec option) {
        spec.addOption(option);
        return option;
    }

    /** One positional parameter: {@code index} "0", "1", or "1..*" with a list type. */
    protected final PositionalParamSpec positional(String index, String arity, Class<?> type, String label,
                                                   String description) {
        PositionalParamSpec.Builder b = PositionalParamSpec.builder().index(index).arity(arity).type(type).paramLabel(label)
                .description(description).required(!arity.startsWith("0"));
        if (java.util.List.class.isAssignableFrom(type)) {
            b.auxiliaryTypes(String.class);
        }
        PositionalParamSpec p = b.build();
        spec.addPositional(p);
        return p;
    }

    /** Adds {@code child} as a sub-verb ({@code basalt snapshots rm}). */
    protected final void subcommand(Verb child) {
        spec.addSubcommand(child.spec.name(), new CommandLine(child.spec));
    }

    /** The value of {@code option} (or positional) after parsing: the command line's or the default. */
    @SuppressWarnings("unchecked")
    static <T> T value(CommandLine.Model.ArgSpec arg) {
        return (T) arg.getValue();
    }
}
