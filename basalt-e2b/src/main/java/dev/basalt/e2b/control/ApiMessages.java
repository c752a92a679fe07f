package dev.basalt.e2b.control;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** The JSON bodies of E2B's control API that Basalt reads and writes, with E2B's field names. */
final class ApiMessages {
    private ApiMessages() {
    }

    /** POST /sandboxes and /v2/sandboxes. Fields Basalt cannot honour are refused when set. */
    record NewSandbox(String templateID, Long timeout, Boolean autoPause, Boolean autoPauseMemory,
                      @JsonProperty("allow_internet_access") Boolean allowInternetAccess,
                      Map<String, String> metadata, Map<String, String> envVars, Boolean secure,
                      JsonNode network, JsonNode mcp, JsonNode volumeMounts, JsonNode autoResume, JsonNode iam) {
    }

    /**
     * The {@code network} object of create (E2B's SandboxNetworkConfig). Entries of {@code allowOut}
     * are addresses, ranges or domains and win over {@code denyOut}, which takes addresses and ranges.
     */
    record SandboxNetwork(java.util.List<String> allowOut, java.util.List<String> denyOut, Boolean allowPublicTraffic,
                          String maskRequestHost, JsonNode rules, JsonNode egressProxy, JsonNode httpsPorts) {
        /** Every field E2B's API defines; others are refused rather than ignored. */
        static final java.util.Set<String> FIELDS = java.util.Set.of("allowOut", "denyOut", "allowPublicTraffic",
                "maskRequestHost", "rules", "egressProxy", "httpsPorts");
    }

    /** The answer of create and connect. */
    record SandboxCreated(String templateID, String sandboxID, String clientID, String envdVersion,
                          String envdAccessToken, String domain) {
    }

    /** One sandbox of a list. */
    record ListedSandbox(String templateID, String sandboxID, String clientID, String startedAt, String endAt,
                         int cpuCount, int memoryMB, int diskSizeMB, Map<String, String> metadata, String state,
                         String envdVersion) {
    }

    record Lifecycle(String onTimeout, boolean autoResume) {
    }

    /** GET /sandboxes/{id}. */
    record SandboxDetail(String templateID, String sandboxID, String clientID, String startedAt, String endAt,
                         String envdVersion, String envdAccessToken, Boolean allowInternetAccess, String domain,
                         int cpuCount, int memoryMB, int diskSizeMB, Map<String, String> metadata, String state,
                         Lifecycle lifecycle, NetworkDetail network) {
    }

    /** A sandbox's egress lists as E2B shows them (allowOut wins over denyOut). */
    record NetworkDetail(java.util.List<String> allowOut, java.util.List<String> denyOut) {
    }

    /** POST /sandboxes/{id}/timeout, /connect and /resume. */
    record TimeoutRequest(Long timeout, Boolean autoPause) {
    }
}
