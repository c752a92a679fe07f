package dev.basalt.core;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.ImageConfig;
import dev.basalt.api.ImageInfo;
import dev.basalt.image.ImageStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The defaults an image's config gives every command run in its sandboxes (an OCI config's Env,
 * WorkingDir and User; a Dockerfile's ENV, WORKDIR and USER): the image's environment under the
 * request's own, its working directory when the request names none ("/"), and its user, whom the
 * command runs as through the agent's {@code --run-as} helper (the agent binary, as
 * {@code /proc/1/exe}: it works whatever tools the image has). Each sandbox's config is looked up
 * once, by its image's name; a sandbox whose image has left the store keeps what it had.
 */
final class ExecDefaults {
    /** The guest path of the agent's own binary (PID 1's). */
    static final String AGENT = "/proc/1/exe";
    private static final Set<String> ROOT = Set.of("root", "0", "root:root", "0:0");

    private final ImageStore store;
    private final Map<String, ImageConfig> bySandbox = new ConcurrentHashMap<>();

    ExecDefaults(ImageStore store) {
        this.store = store;
    }

    ExecRequest apply(String sandboxId, String image, ExecRequest request) {
        ImageConfig config = bySandbox.computeIfAbsent(sandboxId, id -> lookup(image));
        return apply(config, request);
    }

    static ExecRequest apply(ImageConfig config, ExecRequest request) {
        if (config.env().isEmpty() && config.workingDir().isEmpty() && config.user().isEmpty()) {
            return request;
        }
        ExecRequest out = request;
        if (!config.env().isEmpty()) {
            Map<String, String> env = new HashMap<>(config.env());
            env.putAll(request.env());
            out = out.withEnv(env);
        }
        if (!config.workingDir().isEmpty() && request.cwd().equals("/")) {
            out = out.withCwd(config.workingDir());
        }
        // a request that names its own user runs as that one
        if (!config.user().isEmpty() && !ROOT.contains(config.user()) && request.user() == null) {
            List<String> argv = new ArrayList<>(List.of(AGENT, "--run-as", config.user(), "--"));
            argv.addAll(request.argv());
            out = new ExecRequest(argv, out.env(), out.cwd(), out.stdin(), out.timeout(), out.pty(), out.user());
        }
        return out;
    }

    void forget(String sandboxId) {
        bySandbox.remove(sandboxId);
    }

    private ImageConfig lookup(String image) {
        try {
            return store.find(image).map(ImageInfo::config).orElse(ImageConfig.empty());
        } catch (RuntimeException e) {
            return ImageConfig.empty();
        }
    }
}
