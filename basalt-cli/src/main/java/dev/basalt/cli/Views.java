package dev.basalt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.basalt.api.FileInfo;
import dev.basalt.api.SandboxInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** How sandboxes and files look on the terminal: JSON documents and table cells. */
final class Views {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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
        m.put("vcpus", info.spec().vcpus());
        m.put("memoryMib", info.spec().memoryMib());
        m.put("accel", info.accel());
        m.put("vmmPid", info.vmmPid());
        m.put("labels", info.labels());
        m.put("createdAt", info.createdAt().toString());
        info.readyAt().ifPresent(r -> m.put("readyAt", r.toString()));
        info.readyAt().ifPresent(r -> m.put("bootMillis", Duration.between(info.createdAt(), r).toMillis()));
        m.put("execsInFlight", info.execsInFlight());
        info.failure().ifPresent(f -> m.put("failure", f));
        return m;
    }

    static Map<String, Object> file(FileInfo info) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", info.path());
        m.put("type", info.type().name().toLowerCase(java.util.Locale.ROOT));
        m.put("mode", String.format("%04o", info.mode()));
        m.put("size", info.size());
        m.put("modified", info.modified().toString());
        return m;
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
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
