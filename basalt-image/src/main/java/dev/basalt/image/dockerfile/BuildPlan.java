package dev.basalt.image.dockerfile;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import dev.basalt.image.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a Dockerfile build does, step by step, once its base image is known: every instruction
 * with its variables substituted, the environment, working directory and user it runs with, and
 * a cache key that hashes everything the step's result depends on (the key before it, the
 * instruction as resolved, for RUN its environment, for COPY the content of its files). A step
 * whose key the cache has is not run again; the first step that changed, and all after it, are.
 *
 * @param steps       the steps, in order
 * @param config      the built image's exec defaults
 * @param key         the last step's key: the built image's identity
 */
public record BuildPlan(List<Step> steps, ImageConfig config, String key) {
    /** Bumped when the way a plan becomes an image changes: older cached steps are not reused. */
    static final String FORMAT = "basalt-build-1";
    /** Build arguments docker predefines (accepted without an ARG line). */
    private static final Set<String> PREDEFINED_ARGS = Set.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
            "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy");

    public BuildPlan {
        steps = List.copyOf(steps);
    }

    /** One step of a build. */
    public sealed interface Step {
        int line();

        /** The instruction as the user wrote it (for progress lines). */
        String text();

        /** Identity of the image state after this step. */
        String key();

        /** Whether the step changes the file system (RUN, COPY), as opposed to the config only. */
        default boolean changesFiles() {
            return !(this instanceof ConfigStep);
        }
    }

    /** RUN: {@code argv} in {@code workdir} as {@code user} with {@code env} (the image's plus ARGs). */
    public record RunStep(int line, String text, String key, List<String> argv, Map<String, String> env,
                          String workdir, String user) implements Step {
    }

    /** COPY/ADD: the files, to their destinations, owned by {@code chown} (or root) with {@code chmod} if given. */
    public record CopyStep(int line, String text, String key, List<BuildContext.Entry> entries, String chown,
                           String chmod, String workdir) implements Step {
    }

    /** ENV, WORKDIR, USER, ARG, CMD, ENTRYPOINT, LABEL...: only the config (and the keys after it) change. */
    public record ConfigStep(int line, String text, String key) implements Step {
    }

    /**
     * The FROM image with the build arguments substituted (only ARGs before FROM count there).
     */
    public static String baseImage(Dockerfile file, Map<String, String> buildArgs) {
        Map<String, String> vars = new LinkedHashMap<>();
        for (Instruction i : file.instructions()) {
            if (i instanceof Instruction.Arg a) {
                String v = buildArgs.containsKey(a.name()) ? buildArgs.get(a.name()) : a.defaultValue();
                if (v != null) {
                    vars.put(a.name(), v);
                }
            } else if (i instanceof Instruction.From f) {
                String image = Substitution.expand(f.image(), vars, "line " + f.line());
                if (image.isBlank()) {
                    throw new BasaltException.InvalidArgument("line " + f.line() + ": FROM " + f.image()
                            + " names no image (is a build argument missing?)");
                }
                return image;
            }
        }
        throw new BasaltException.InvalidArgument("the Dockerfile has no FROM");
    }

    /**
     * Plans a build.
     *
     * @param baseId     identity of the FROM image's content
     * @param baseConfig its exec defaults: the build starts from them
     * @param buildArgs  values for the Dockerfile's ARGs ({@code --build-arg})
     * @throws BasaltException.InvalidArgument for a build argument no ARG declares, or a COPY source
     *         that is not in the context
     */
    public static BuildPlan plan(Dockerfile file, BuildContext context, Map<String, String> buildArgs, String baseId,
                                 ImageConfig baseConfig) throws IOException {
        Map<String, String> env = new LinkedHashMap<>(baseConfig.env());
        Map<String, String> args = new LinkedHashMap<>();
        String workdir = baseConfig.workingDir().isEmpty() ? "/" : baseConfig.workingDir();
        String user = baseConfig.user();
        List<String> entrypoint = baseConfig.entrypoint();
        List<String> cmd = baseConfig.cmd();
        Set<String> declared = new java.util.HashSet<>(PREDEFINED_ARGS);
        String key = hash(FORMAT + "\nbase " + baseId);
        List<Step> steps = new ArrayList<>();
        boolean afterFrom = false;
        for (Instruction ins : file.instructions()) {
            String where = "Dockerfile line " + ins.line();
            if (ins instanceof Instruction.Arg a) {
                declared.add(a.name());
            }
            if (!afterFrom) {
                afterFrom = ins instanceof Instruction.From;
                continue; // ARGs before FROM only serve FROM
            }
            Map<String, String> vars = new LinkedHashMap<>(args);
            vars.putAll(env);
            switch (ins) {
                case Instruction.From f -> throw new IllegalStateException("second FROM");
                case Instruction.Arg a -> {
                    String v = buildArgs.containsKey(a.name()) ? buildArgs.get(a.name())
                            : a.defaultValue() == null ? null : Substitution.expand(a.defaultValue(), vars, where);
                    if (v != null) {
                        args.put(a.name(), v);
                    }
                    key = hash(key + "\nARG " + a.name() + "=" + v);
                    steps.add(new ConfigStep(a.line(), "ARG " + a.name(), key));
                }
                case Instruction.Env e -> {
                    StringBuilder text = new StringBuilder("ENV");
                    for (var kv : e.vars()) {
                        String v = Substitution.expand(kv.getValue(), vars, where);
                        env.put(kv.getKey(), v);
                        vars.put(kv.getKey(), v);
                        text.append(' ').append(kv.getKey()).append('=').append(v);
                    }
                    key = hash(key + "\n" + text);
                    steps.add(new ConfigStep(e.line(), text.toString(), key));
                }
                case Instruction.Workdir w -> {
                    String path = Substitution.expand(w.path(), vars, where);
                    workdir = path.startsWith("/") ? normalize(path) : normalize(workdir + "/" + path);
                    key = hash(key + "\nWORKDIR " + workdir);
                    steps.add(new ConfigStep(w.line(), "WORKDIR " + workdir, key));
                }
                case Instruction.User u -> {
                    user = Substitution.expand(u.user(), vars, where);
                    key = hash(key + "\nUSER " + user);
                    steps.add(new ConfigStep(u.line(), "USER " + user, key));
                }
                case Instruction.Command c -> {
                    if (c.entrypoint()) {
                        entrypoint = c.argv();
                    } else {
                        cmd = c.argv();
                    }
                    key = hash(key + "\n" + (c.entrypoint() ? "ENTRYPOINT " : "CMD ") + c.argv());
                    steps.add(new ConfigStep(c.line(), (c.entrypoint() ? "ENTRYPOINT " : "CMD ") + c.argv(), key));
                }
                case Instruction.Metadata m -> {
                    // no effect on the image: the key stays
                }
                case Instruction.Run r -> {
                    Map<String, String> runEnv = new TreeMap<>(args);
                    runEnv.putAll(env);
                    key = hash(key + "\nRUN " + r.argv() + "\nenv " + runEnv + "\nworkdir " + workdir + "\nuser " + user);
                    String text = "RUN " + (r.exec() != null ? r.exec().toString() : r.shell());
                    steps.add(new RunStep(r.line(), text, key, r.argv(), runEnv, workdir, user));
                }
                case Instruction.Copy c -> {
                    List<String> sources = c.sources().stream().map(s -> Substitution.expand(s, vars, where)).toList();
                    String dest = Substitution.expand(c.destination(), vars, where);
                    String absolute = normalize(dest.startsWith("/") ? dest : workdir + "/" + dest);
                    if ((dest.endsWith("/") || dest.endsWith("/.") || dest.equals(".")) && !absolute.endsWith("/")) {
                        absolute = absolute + "/";
                    }
                    String chown = c.chown() == null ? null : Substitution.expand(c.chown(), vars, where);
                    String keyword = c.add() ? "ADD" : "COPY";
                    List<BuildContext.Entry> entries = context.resolve(sources, absolute, where);
                    key = hash(key + "\n" + keyword + " " + absolute + " chown " + chown + " chmod " + c.chmod()
                            + "\ncontent " + context.hash(entries));
                    steps.add(new CopyStep(c.line(), keyword + " " + String.join(" ", sources) + " " + dest, key, entries,
                            chown, c.chmod(), workdir));
                }
            }
        }
        for (String name : buildArgs.keySet()) {
            if (!declared.contains(name)) {
                throw new BasaltException.InvalidArgument("build argument " + name + " is not declared by an ARG of the"
                        + " Dockerfile");
            }
        }
        ImageConfig config = new ImageConfig(env, workdir.equals("/") ? "" : workdir, user, entrypoint, cmd);
        return new BuildPlan(steps, config, key);
    }

    private static String normalize(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.removeLast();
                }
            } else {
                parts.add(p);
            }
        }
        return "/" + String.join("/", parts);
    }

    private static String hash(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8)).hex();
    }
}
