package dev.basalt.core;

import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentClient;
import java.nio.file.Path;

/**
 * A restore-pool VM: started on a template's memory, running the template's state with its agent
 * connected but no identity yet; taking it skips process start-up, state loading and the first
 * translation of the guest's hot paths. It carries the id and directory its sandbox will get.
 */
record Standby(String id, Path dir, VmHandle vm, AgentClient agent) {}
