package dev.basalt.image.dockerfile;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A parsed Dockerfile: the instructions Basalt builds with (FROM, RUN, COPY, ADD, ENV, WORKDIR,
 * USER, ARG; CMD and ENTRYPOINT go into the image's config; LABEL, EXPOSE and the like are
 * accepted and have no effect). Line continuations, comments and the {@code escape} parser
 * directive work as in docker. Anything else is refused with its line number: an unknown
 * instruction, a second FROM (multi-stage builds), ONBUILD, heredocs, ADD from a URL.
 */
public record Dockerfile(List<Instruction> instructions) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern DIRECTIVE = Pattern.compile("#\\s*([a-zA-Z]+)\\s*=\\s*(\\S+)\\s*");
    /** Largest Dockerfile read. */
    public static final int MAX_BYTES = 1 << 20;

    public Dockerfile {
        instructions = List.copyOf(instructions);
        if (instructions.isEmpty() || !(instructions.stream().filter(i -> !(i instanceof Instruction.Arg)).findFirst()
                .orElse(null) instanceof Instruction.From)) {
            throw new BasaltException.InvalidArgument("a Dockerfile must start with FROM (only ARG may come before it)");
        }
    }

    /** The FROM instruction. */
    public Instruction.From from() {
        return instructions.stream().filter(i -> i instanceof Instruction.From).map(Instruction.From.class::cast)
                .findFirst().orElseThrow();
    }

    /**
     * Parses a Dockerfile's text.
     *
     * @param name names the file in errors
     * @throws BasaltException.InvalidArgument naming the line, for anything Basalt cannot build
     */
    public static Dockerfile parse(String text, String name) {
        if (text.length() > MAX_BYTES) {
            throw new BasaltException.InvalidArgument(name + " is larger than " + MAX_BYTES + " bytes");
        }
        String[] lines = text.split("\r?\n", -1);
        char escape = '\\';
        int i = 0;
        // parser directives: comments of the form "# key=value" before anything else
        for (; i < lines.length; i++) {
            var m = DIRECTIVE.matcher(lines[i].strip());
            if (!m.matches()) {
                break;
            }
            if (m.group(1).equalsIgnoreCase("escape")) {
                if (!m.group(2).equals("\\") && !m.group(2).equals("`")) {
                    throw new BasaltException.InvalidArgument(name + " line " + (i + 1) + ": the escape character must be"
                            + " \\ or `");
                }
                escape = m.group(2).charAt(0);
            }
        }
        List<Instruction> out = new ArrayList<>();
        boolean fromSeen = false;
        while (i < lines.length) {
            String line = lines[i];
            int start = i + 1;
            i++;
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            StringBuilder logical = new StringBuilder();
            while (true) {
                String trimmed = line.stripTrailing();
                if (!trimmed.isEmpty() && trimmed.charAt(trimmed.length() - 1) == escape) {
                    logical.append(trimmed, 0, trimmed.length() - 1);
                    // continuation: the next non-comment line, comments and empty lines skipped
                    while (i < lines.length && (lines[i].isBlank() || lines[i].stripLeading().startsWith("#"))) {
                        i++;
                    }
                    if (i >= lines.length) {
                        break;
                    }
                    line = lines[i++];
                    continue;
                }
                logical.append(line);
                break;
            }
            Instruction ins = instruction(logical.toString().strip(), start, name);
            if (ins instanceof Instruction.From) {
                if (fromSeen) {
                    throw new BasaltException.InvalidArgument(name + " line " + start + ": a second FROM (a multi-stage"
                            + " build) is not supported; build the stages as separate images");
                }
                fromSeen = true;
            } else if (!fromSeen && !(ins instanceof Instruction.Arg)) {
                throw new BasaltException.InvalidArgument(name + " line " + start + ": only ARG may come before FROM");
            }
            out.add(ins);
        }
        if (out.isEmpty()) {
            throw new BasaltException.InvalidArgument(name + " has no instructions");
        }
        return new Dockerfile(out);
    }

    private static Instruction instruction(String text, int line, String name) {
        int sp = indexOfSpace(text);
        String keyword = (sp < 0 ? text : text.substring(0, sp)).toUpperCase(Locale.ROOT);
        String args = sp < 0 ? "" : text.substring(sp + 1).strip();
        String where = name + " line " + line;
        if (args.startsWith("<<") && (keyword.equals("RUN") || keyword.equals("COPY") || keyword.equals("ADD"))) {
            throw new BasaltException.InvalidArgument(where + ": heredocs (" + keyword + " <<) are not supported");
        }
        return switch (keyword) {
            case "FROM" -> from(args, line, where);
            case "RUN" -> {
                require(args, where, keyword);
                List<String> exec = execForm(args, where);
                yield new Instruction.Run(line, exec, exec == null ? args : null);
            }
            case "CMD", "ENTRYPOINT" -> {
                require(args, where, keyword);
                List<String> exec = execForm(args, where);
                yield new Instruction.Command(line, keyword.equals("ENTRYPOINT"), exec, exec == null ? args : null);
            }
            case "COPY", "ADD" -> copy(keyword.equals("ADD"), args, line, where);
            case "ENV" -> env(args, line, where);
            case "WORKDIR" -> {
                require(args, where, keyword);
                yield new Instruction.Workdir(line, args);
            }
            case "USER" -> {
                require(args, where, keyword);
                if (args.contains(" ")) {
                    throw new BasaltException.InvalidArgument(where + ": USER takes one user[:group]");
                }
                yield new Instruction.User(line, args);
            }
            case "ARG" -> {
                require(args, where, keyword);
                int eq = args.indexOf('=');
                String argName = eq < 0 ? args : args.substring(0, eq);
                if (!ENV_NAME.matcher(argName).matches()) {
                    throw new BasaltException.InvalidArgument(where + ": invalid ARG name '" + argName + "'");
                }
                yield new Instruction.Arg(line, argName, eq < 0 ? null : unquote(args.substring(eq + 1)));
            }
            case "LABEL", "EXPOSE", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER", "SHELL" -> {
                if (keyword.equals("SHELL")) {
                    throw new BasaltException.InvalidArgument(where + ": SHELL is not supported; RUN uses /bin/sh -c"
                            + " (write RUN [\"bash\", \"-c\", \"...\"] for another shell)");
                }
                yield new Instruction.Metadata(line, keyword, args);
            }
            case "ONBUILD" -> throw new BasaltException.InvalidArgument(where + ": ONBUILD is not supported");
            default -> throw new BasaltException.InvalidArgument(where + ": unknown instruction '"
                    + (sp < 0 ? text : text.substring(0, sp)) + "' (Basalt builds FROM, RUN, COPY, ADD, ENV, WORKDIR,"
                    + " USER, ARG, CMD, ENTRYPOINT)");
        };
    }

    private static Instruction.From from(String args, int line, String where) {
        String[] words = args.split("\\s+");
        List<String> plain = new ArrayList<>();
        for (String w : words) {
            if (w.startsWith("--")) {
                if (w.startsWith("--platform=")) {
                    String platform = w.substring(11);
                    if (!platform.equals("linux/amd64") && !platform.startsWith("$")) {
                        throw new BasaltException.InvalidArgument(where + ": FROM " + w + ": Basalt runs linux/amd64");
                    }
                    continue;
                }
                throw new BasaltException.InvalidArgument(where + ": FROM does not take " + w);
            }
            if (!w.isEmpty()) {
                plain.add(w);
            }
        }
        if (plain.size() == 1) {
            return new Instruction.From(line, plain.getFirst(), null);
        }
        if (plain.size() == 3 && plain.get(1).equalsIgnoreCase("AS")) {
            return new Instruction.From(line, plain.get(0), plain.get(2));
        }
        throw new BasaltException.InvalidArgument(where + ": FROM takes an image and optionally AS name, got '" + args + "'");
    }

    private static Instruction.Copy copy(boolean add, String args, int line, String where) {
        String keyword = add ? "ADD" : "COPY";
        String chown = null;
        String chmod = null;
        String rest = args;
        while (rest.startsWith("--")) {
            int sp = indexOfSpace(rest);
            String flag = sp < 0 ? rest : rest.substring(0, sp);
            rest = sp < 0 ? "" : rest.substring(sp + 1).strip();
            if (flag.startsWith("--chown=")) {
                chown = flag.substring(8);
            } else if (flag.startsWith("--chmod=")) {
                chmod = flag.substring(8);
                if (!chmod.matches("[0-7]{3,4}")) {
                    throw new BasaltException.InvalidArgument(where + ": " + keyword + " --chmod takes an octal mode, got '"
                            + chmod + "'");
                }
            } else if (flag.startsWith("--from=")) {
                throw new BasaltException.InvalidArgument(where + ": " + keyword + " --from (multi-stage builds) is not"
                        + " supported");
            } else {
                throw new BasaltException.InvalidArgument(where + ": " + keyword + " does not take " + flag);
            }
        }
        List<String> words = execForm(rest, where);
        if (words == null) {
            words = words(rest, where);
        }
        if (words.size() < 2) {
            throw new BasaltException.InvalidArgument(where + ": " + keyword + " needs at least one source and a destination");
        }
        List<String> sources = words.subList(0, words.size() - 1);
        for (String s : sources) {
            if (s.matches("(?i)(https?|ftp|git)://.*") || s.startsWith("git@")) {
                throw new BasaltException.InvalidArgument(where + ": " + keyword + " from a URL (" + s + ") is not"
                        + " supported; download it in a RUN step");
            }
        }
        return new Instruction.Copy(line, add, sources, words.getLast(), chown, chmod);
    }

    private static Instruction.Env env(String args, int line, String where) {
        require(args, where, "ENV");
        List<Map.Entry<String, String>> vars = new ArrayList<>();
        int sp = indexOfSpace(args);
        String first = sp < 0 ? args : args.substring(0, sp);
        if (!first.contains("=")) {
            // the old form: ENV name value with spaces
            if (sp < 0) {
                throw new BasaltException.InvalidArgument(where + ": ENV " + first + " has no value");
            }
            checkName(first, where);
            vars.add(new AbstractMap.SimpleImmutableEntry<>(first, args.substring(sp + 1).strip()));
            return new Instruction.Env(line, vars);
        }
        for (String word : words(args, where)) {
            int eq = word.indexOf('=');
            if (eq <= 0) {
                throw new BasaltException.InvalidArgument(where + ": ENV expects name=value pairs, got '" + word + "'");
            }
            checkName(word.substring(0, eq), where);
            vars.add(new AbstractMap.SimpleImmutableEntry<>(word.substring(0, eq), word.substring(eq + 1)));
        }
        return new Instruction.Env(line, vars);
    }

    /**
     * Splits on unquoted whitespace; quotes are removed, backslash escapes kept for the variable
     * substitution to see (so {@code \$} stays literal).
     */
    static List<String> words(String text, String where) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        boolean any = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && quote != '\'') {
                char n = text.charAt(i + 1);
                if (n == '"' || n == '\'' || Character.isWhitespace(n)) {
                    cur.append(n);
                } else {
                    cur.append(c).append(n);
                }
                i++;
                any = true;
            } else if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                any = true;
            } else if (Character.isWhitespace(c)) {
                if (any) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    any = false;
                }
            } else {
                cur.append(c);
                any = true;
            }
        }
        if (quote != 0) {
            throw new BasaltException.InvalidArgument(where + ": unterminated quote");
        }
        if (any) {
            out.add(cur.toString());
        }
        return out;
    }

    private static String unquote(String s) {
        String t = s.strip();
        if (t.length() >= 2 && (t.startsWith("\"") && t.endsWith("\"") || t.startsWith("'") && t.endsWith("'"))) {
            return t.substring(1, t.length() - 1);
        }
        return t;
    }

    private static void checkName(String name, String where) {
        if (!ENV_NAME.matcher(name).matches()) {
            throw new BasaltException.InvalidArgument(where + ": invalid variable name '" + name + "'");
        }
    }

    /** The argv of an exec form ({@code ["a", "b"]}), or null for a shell form. */
    private static List<String> execForm(String args, String where) {
        if (!args.startsWith("[")) {
            return null;
        }
        try {
            List<String> argv = JSON.readValue(args, new TypeReference<List<String>>() { });
            if (argv.isEmpty() || argv.stream().anyMatch(a -> a == null)) {
                throw new BasaltException.InvalidArgument(where + ": an empty command");
            }
            return argv;
        } catch (IOException e) {
            return null; // docker runs text that is not a JSON array of strings as a shell command
        }
    }

    private static void require(String args, String where, String keyword) {
        if (args.isEmpty()) {
            throw new BasaltException.InvalidArgument(where + ": " + keyword + " needs an argument");
        }
    }

    private static int indexOfSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
