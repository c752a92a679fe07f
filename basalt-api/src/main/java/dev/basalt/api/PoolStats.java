package dev.basalt.api;

/**
 * The pools of one template (one image at one size).
 *
 * @param template      the template's key
 * @param image         image name
 * @param vcpus         vCPUs of its sandboxes
 * @param memoryMib     memory of its sandboxes
 * @param warmTarget    READY sandboxes the warm pool keeps
 * @param warmReady     READY sandboxes waiting in it now
 * @param standbyTarget started VMM processes (waiting for a state) the restore pool keeps
 * @param standbyReady  such processes waiting now
 * @param hits          creates served from the warm pool
 * @param misses        creates that found the warm pool empty
 */
public record PoolStats(String template, String image, int vcpus, int memoryMib, int warmTarget, int warmReady,
                        int standbyTarget, int standbyReady, long hits, long misses) {
}
