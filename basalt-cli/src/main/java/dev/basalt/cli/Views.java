package dev.basalt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.api.TemplateInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** How sandboxes and files look on the terminal: JSON documents and table cells. */
final class Views {
    /** Made on first use: an ObjectMapper costs ~50 ms to build in a fresh JVM, and most commands print no JSON. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    private Views() {
    }

    static Map<String, Object> sandbox(SandboxInfo info) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", info.id());
        m.put("state", info.state().name());
        m.put("image", info.spec().image());
        if (info.spec().kernel() != null) {
            m.put("kernel", info.spec().kernel().toString());
        }
        if (info.spec().initrd() != null) {
            m.put("initrd", info.spec().initrd().toString());
        }
        dev.basalt.api.NetworkPolicy net = info.spec().network();
        if (net.mode() != dev.basalt.api.NetworkMode.NONE) {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("mode", net.mode().cliName());
            n.put("allow", net.allow().stream().map(dev.basalt.api.EgressRule::text).toList());
            n.put("deny", net.deny().stream().map(dev.basalt.api.EgressRule::text).toList());
            m.put("network", n);
        }
        m.put("vcpus", info.spec().vcpus());
        m.put("memoryMib", info.spec().memoryMib());
        m.put("accel", info.accel());
        m.put("vmmPid", info.vmmPid());
        m.put("labels", info.labels());
        m.put("createdAt", info.createdAt().toString());
        if (!info.handedOutAt().equals(info.createdAt())) {
            m.put("handedOutAt", info.handedOutAt().toString());
        }
        info.readyAt().ifPresent(r -> m.put("readyAt", r.toString()));
        info.readyAt().ifPresent(r -> m.put("bootMillis", Duration.between(info.createdAt(), r).toMillis()));
        m.put("origin", info.origin());
        m.put("execsInFlight", info.execsInFlight());
        info.failure().ifPresent(f -> m.put("failure", f));
        return m;
    }

    static Map<String, Object> image(dev.basalt.api.ImageInfo info) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", info.name());
        m.put("id", info.id());
        m.put("sizeBytes", info.sizeBytes());
        m.put("source", info.source());
        m.put("created", info.created().toString());
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("env", info.config().env());
        config.put("workingDir", info.config().workingDir());
        config.put("user", info.config().user());
        config.put("entrypoint", info.config().entrypoint());
        config.put("cmd", info.config().cmd());
        m.put("config", config);
        return m;
    }

    static Map<String, Object> snapshot(SnapshotInfo info) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", info.name());
        m.put("sourceSandbox", info.sourceSandbox());
        m.put("image", info.image());
        m.put("imageId", info.imageId());
        m.put("vmmVersion", info.vmmVersion());
        m.put("vcpus", info.vcpus());
        m.put("memoryMib", info.memoryMib());
        m.put("createdAt", info.createdAt().toString());
        m.put("sizeBytes", info.sizeBytes());
        m.put("sha256", info.sha256());
        return m;
    }

    /** "812K", "41.3M", "1.2G". */
    static String size(long bytes) {
        if (bytes < 1 << 20) {
            return (bytes + 1023) / 1024 + "K";
        }
        if (bytes < 1L << 30) {
            return String.format("%.1fM", bytes / 1048576.0);
        }
        return String.format("%.1fG", bytes / 1073741824.0);
    }

    static String json(Object value) {
        try {
            return Json.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "k=v,k2=v2" (sorted by key), or "" without labels. */
    static String labels(Map<String, String> labels) {
        return new java.util.TreeMap<>(labels).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(java.util.stream.Collectors.joining(","));
    }

    static Map<String, Object> template(TemplateInfo t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", t.key());
        m.put("image", t.image());
        m.put("vcpus", t.vcpus());
        m.put("memoryMib", t.memoryMib());
        m.put("shmBytes", t.shmBytes());
        m.put("createdAt", t.createdAt().toString());
        m.put("lastUsedAt", t.lastUsedAt().toString());
        return m;
    }

    /** "3s", "5m", "2h", "4d". */
    static String age(Instant since) {
        long s = Math.max(0, Duration.between(since, Instant.now()).toSeconds());
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m";
        }
        if (s < 86400) {
            return s / 3600 + "h";
        }
        return s / 86400 + "d";
    }
}
