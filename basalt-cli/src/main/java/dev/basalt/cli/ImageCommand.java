package dev.basalt.cli;

import dev.basalt.api.BuildRequest;
import dev.basalt.api.BuildResult;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.PullRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt image pull|import|build|inspect|rm}: the image store's verbs. */
final class ImageCommand extends Verb {
    ImageCommand(CliContext context) {
        super(context, "image", "Manage images: pull, import, build, inspect, rm (list them with `basalt images`).");
        subcommand(new Pull(context));
        subcommand(new Import(context));
        subcommand(new Build(context));
        subcommand(new Inspect(context));
        subcommand(new Remove(context));
    }

    @Override
    public Integer call() {
        context.err().println("basalt: image needs a verb: pull, import, build, inspect or rm (see basalt image --help)");
        return ExitCodes.USAGE;
    }

    private static Consumer<String> progress(CliContext context) {
        return line -> context.err().println("basalt: " + line);
    }

    /** {@code basalt image pull REF}. */
    static final class Pull extends Verb {
        private final PositionalParamSpec reference;
        private final OptionSpec name;
        private final OptionSpec username;
        private final OptionSpec passwordStdin;
        private final OptionSpec caCert;

        Pull(CliContext context) {
            super(context, "pull", "Pull an image from an OCI registry (HTTPS, or HTTP on loopback) into the store.");
            reference = positional("0", "1", String.class, "REFERENCE", "[host[:port]/]repo[:tag][@sha256:...]");
            name = option(String.class, "NAME", null, "Store it under this name (default: the reference).", "-t", "--name");
            username = option(String.class, "USER", null, "Registry user (basic auth or its token service).",
                    "-u", "--username");
            passwordStdin = flag("Read the registry password or token from stdin.", "--password-stdin");
            caCert = option(Path.class, "PEM", null, "PEM file of a private registry's CA certificate(s).", "--ca-cert");
        }

        @Override
        public Integer call() throws IOException {
            String user = value(username);
            String password = null;
            if (Verb.<Boolean>value(passwordStdin)) {
                password = new String(context.in().readAllBytes(), StandardCharsets.UTF_8).strip();
            }
            if ((user == null) != (password == null)) {
                context.err().println("basalt: --username and --password-stdin go together");
                return ExitCodes.USAGE;
            }
            ImageInfo info = context.images().pull(new PullRequest(value(reference), value(name), user, password,
                    value(caCert)), progress(context));
            context.out().println(info.name());
            return 0;
        }
    }

    /** {@code basalt image import PATH -t NAME}. */
    static final class Import extends Verb {
        private final PositionalParamSpec path;
        private final OptionSpec name;
        private final OptionSpec tag;

        Import(CliContext context) {
            super(context, "import", "Import an OCI image layout (directory or tar) or a `docker save` archive.");
            path = positional("0", "1", Path.class, "PATH", "The layout or archive.");
            name = add(OptionSpec.builder("-t", "--name").type(String.class).paramLabel("NAME").required(true)
                    .description("Store it under this name.").build());
            tag = option(String.class, "TAG", null, "Which image of the archive (its ref name or RepoTag).", "--tag");
        }

        @Override
        public Integer call() {
            ImageInfo info = context.images().importArchive(Verb.<Path>value(path).toAbsolutePath(), value(tag),
                    value(name), progress(context));
            context.out().println(info.name());
            return 0;
        }
    }

    /** {@code basalt image build -t NAME [-f FILE] DIR}. */
    static final class Build extends Verb {
        private final PositionalParamSpec contextDir;
        private final OptionSpec file;
        private final OptionSpec name;
        private final OptionSpec buildArgs;
        private final OptionSpec diskSize;
        private final OptionSpec noCache;

        Build(CliContext context) {
            super(context, "build", "Build an image from a Dockerfile; each RUN runs in a Basalt sandbox.");
            contextDir = positional("0", "1", Path.class, "CONTEXT", "The directory COPY and ADD read from.");
            file = option(Path.class, "FILE", null, "The Dockerfile (default: CONTEXT/Dockerfile).", "-f", "--file");
            name = add(OptionSpec.builder("-t", "--tag", "--name").type(String.class).paramLabel("NAME").required(true)
                    .description("Store the image under this name.").build());
            buildArgs = map("NAME=VALUE", "ARG value (repeatable).", "--build-arg");
            diskSize = option(String.class, "SIZE", null, "Disk of the RUN steps, e.g. 8G (default: 4G).", "--disk-size");
            noCache = flag("Run every step again.", "--no-cache");
        }

        @Override
        public Integer call() {
            Path ctx = Verb.<Path>value(contextDir).toAbsolutePath();
            Path dockerfile = Verb.<Path>value(file) == null ? ctx.resolve("Dockerfile") : Verb.<Path>value(file).toAbsolutePath();
            String size = value(diskSize);
            int disk = size == null ? 0 : SpecOptions.sizeMib(size, "--disk-size");
            Map<String, String> args = value(buildArgs);
            ExecOutput output = new ExecOutput() {
                @Override
                public void stdout(byte[] chunk) {
                    context.out().write(chunk, 0, chunk.length);
                    context.out().flush();
                }

                @Override
                public void stderr(byte[] chunk) {
                    context.err().write(chunk, 0, chunk.length);
                    context.err().flush();
                }
            };
            BuildResult result = context.images().build(new BuildRequest(dockerfile, ctx, value(name), args, disk,
                    Verb.<Boolean>value(noCache)), output, progress(context));
            return switch (result) {
                case BuildResult.Built b -> {
                    context.err().println("basalt: built " + b.image().name() + " (" + b.image().id().substring(0, 12) + ", "
                            + b.cachedSteps() + " of " + b.steps() + " steps from the cache)");
                    context.out().println(b.image().name());
                    yield 0;
                }
                case BuildResult.Failed f -> {
                    context.err().println("basalt: line " + f.line() + ": " + f.step() + " failed: " + describe(f.exit()));
                    yield switch (f.exit()) {
                        case ExitStatus.Exited e -> e.code() == 0 ? 1 : e.code();
                        case ExitStatus.Signaled s -> 128 + s.signal();
                        case ExitStatus.TimedOut t -> 124;
                    };
                }
            };
        }

        private static String describe(ExitStatus exit) {
            return switch (exit) {
                case ExitStatus.Exited e -> "exit code " + e.code();
                case ExitStatus.Signaled s -> "killed by signal " + s.signal();
                case ExitStatus.TimedOut t -> "timed out";
            };
        }
    }

    /** {@code basalt image inspect NAME}. */
    static final class Inspect extends Verb {
        private final PositionalParamSpec name;

        Inspect(CliContext context) {
            super(context, "inspect", "One image as JSON.");
            name = positional("0", "1", String.class, "NAME", "The image.");
        }

        @Override
        public Integer call() {
            context.out().println(Views.json(Views.image(context.images().inspect(value(name)))));
            return 0;
        }
    }

    /** {@code basalt image rm NAME...}. */
    static final class Remove extends Verb {
        private final PositionalParamSpec names;

        Remove(CliContext context) {
            super(context, "rm", "Remove images (sandboxes that use them keep running and keep their disks).");
            names = positional("0..*", "1..*", List.class, "NAME", "Image names.");
        }

        @Override
        public Integer call() {
            List<String> all = value(names);
            for (String n : all) {
                context.images().remove(n);
                context.out().println(n);
            }
            return 0;
        }
    }
}
