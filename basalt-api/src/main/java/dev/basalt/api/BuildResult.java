package dev.basalt.api;

import java.util.Objects;

/**
 * How a Dockerfile build ended: the stored image, or the RUN step that failed.
 */
public sealed interface BuildResult {

    /** The image was built and stored. {@code cachedSteps} of {@code steps} were reused from earlier builds. */
    record Built(ImageInfo image, int steps, int cachedSteps) implements BuildResult {
        public Built {
            Objects.requireNonNull(image, "image");
        }
    }

    /**
     * A RUN step failed: the build stopped there and stored nothing under the name (the steps before
     * it are cached). {@code outputTail} is the end of what it printed.
     */
    record Failed(int line, String step, ExitStatus exit, String outputTail) implements BuildResult {
        public Failed {
            Objects.requireNonNull(step, "step");
            Objects.requireNonNull(exit, "exit");
            Objects.requireNonNull(outputTail, "outputTail");
        }
    }
}
