package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import dev.basalt.e2b.envd.ProcessMessages.ProcessSelector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The processes envd started in one sandbox, by pid: running ones, and the last few that ended
 * (so a Connect that comes late still learns the exit).
 */
final class ProcessTable {
    static final int RETAINED_ENDED = 64;

    private final Map<Integer, TrackedProcess> running = new ConcurrentHashMap<>();
    private final Deque<TrackedProcess> ended = new ArrayDeque<>();

    void add(TrackedProcess process) {
        running.put(process.pid(), process);
        process.end().whenComplete((e, t) -> retire(process));
    }

    private void retire(TrackedProcess process) {
        running.remove(process.pid(), process);
        synchronized (ended) {
            ended.removeIf(p -> p.pid() == process.pid());
            ended.addLast(process);
            while (ended.size() > RETAINED_ENDED) {
                ended.removeFirst();
            }
        }
    }

    List<TrackedProcess> running() {
        return new ArrayList<>(running.values());
    }

    /** The running process a selector names. */
    TrackedProcess running(ProcessSelector selector) {
        TrackedProcess found = find(selector, running.values());
        if (found == null) {
            throw new BasaltException.NotFound("process " + describe(selector) + " not found: it is not running");
        }
        return found;
    }

    /** The process a selector names, running or recently ended. */
    TrackedProcess any(ProcessSelector selector) {
        TrackedProcess found = find(selector, running.values());
        if (found == null) {
            synchronized (ended) {
                found = find(selector, ended.reversed());
            }
        }
        if (found == null) {
            throw new BasaltException.NotFound("process " + describe(selector) + " not found");
        }
        return found;
    }

    private static TrackedProcess find(ProcessSelector selector, Iterable<TrackedProcess> processes) {
        if (selector == null || (selector.pid() == null && selector.tag() == null)) {
            throw new BasaltException.InvalidArgument("process selector is empty: give a pid or a tag");
        }
        for (TrackedProcess p : processes) {
            if (selector.pid() != null ? p.pid() == selector.pid() : selector.tag().equals(p.tag())) {
                return p;
            }
        }
        return null;
    }

    private static String describe(ProcessSelector selector) {
        return selector.pid() != null ? "with pid " + selector.pid() : "with tag '" + selector.tag() + "'";
    }
}
