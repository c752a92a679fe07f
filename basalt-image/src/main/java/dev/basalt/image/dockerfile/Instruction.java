package dev.basalt.image.dockerfile;

import java.util.List;
import java.util.Map;

/**
 * One instruction of a Dockerfile, its arguments parsed (variables are substituted later, as the
 * build reaches it: their values depend on the instructions before). {@code line} is where it
 * starts, for messages.
 */
public sealed interface Instruction {
    int line();

    /** {@code FROM image [AS name]}: a Basalt image or an image reference to pull. */
    record From(int line, String image, String alias) implements Instruction {
    }

    /**
     * {@code RUN}: in shell form the text is run by {@code /bin/sh -c}; in exec form ({@code ["a", "b"]})
     * the argv is run as it is.
     */
    record Run(int line, List<String> exec, String shell) implements Instruction {
        public Run {
            exec = exec == null ? null : List.copyOf(exec);
        }

        /** The argv to run. */
        public List<String> argv() {
            return exec != null ? exec : List.of("/bin/sh", "-c", shell);
        }
    }

    /** {@code COPY}/{@code ADD [--chown=u:g] [--chmod=mode] src... dest}, sources from the build context. */
    record Copy(int line, boolean add, List<String> sources, String destination, String chown, String chmod)
            implements Instruction {
        public Copy {
            sources = List.copyOf(sources);
        }
    }

    /** {@code ENV k=v ...} (or the old {@code ENV k v}). Values keep their order. */
    record Env(int line, List<Map.Entry<String, String>> vars) implements Instruction {
        public Env {
            vars = List.copyOf(vars);
        }
    }

    /** {@code WORKDIR path}. */
    record Workdir(int line, String path) implements Instruction {
    }

    /** {@code USER user[:group]}. */
    record User(int line, String user) implements Instruction {
    }

    /** {@code ARG name[=default]}. */
    record Arg(int line, String name, String defaultValue) implements Instruction {
    }

    /** {@code CMD} / {@code ENTRYPOINT}: recorded in the image's config, in exec or shell form. */
    record Command(int line, boolean entrypoint, List<String> exec, String shell) implements Instruction {
        public Command {
            exec = exec == null ? null : List.copyOf(exec);
        }

        public List<String> argv() {
            return exec != null ? exec : List.of("/bin/sh", "-c", shell);
        }
    }

    /**
     * An instruction that only describes the image ({@code LABEL}, {@code EXPOSE}, {@code VOLUME},
     * {@code STOPSIGNAL}, {@code HEALTHCHECK}, {@code MAINTAINER}): accepted, with no effect on a
     * Basalt image.
     */
    record Metadata(int line, String keyword, String text) implements Instruction {
    }
}
