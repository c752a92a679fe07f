package dev.basalt.e2b.envd;

import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExitStatus;
import dev.basalt.e2b.connect.StreamSink;
import dev.basalt.e2b.envd.ProcessMessages.DataEvent;
import dev.basalt.e2b.envd.ProcessMessages.EndEvent;
import dev.basalt.e2b.envd.ProcessMessages.EventResponse;
import dev.basalt.e2b.envd.ProcessMessages.ProcessConfig;
import dev.basalt.e2b.envd.ProcessMessages.ProcessEvent;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A process started through envd: its output goes to every connected stream (Start's, and any
 * Connect's), or nowhere while none is connected, as envd does. A slow stream slows the process
 * (flow control), never fills memory. It outlives the streams: only its exit ends it.
 */
final class TrackedProcess implements ExecOutput {
    private final ProcessConfig config;
    private final String tag;
    private final boolean pty;
    private final CountDownLatch announced = new CountDownLatch(1);
    private final List<StreamSink<EventResponse>> streams = new CopyOnWriteArrayList<>();
    private final CompletableFuture<EndEvent> end = new CompletableFuture<>();
    private EndEvent endEvent;   // set under this lock when the process has ended; the future completes once all streams have it
    private volatile ExecProcess process;

    TrackedProcess(ProcessConfig config, String tag, boolean pty) {
        this.config = config;
        this.tag = tag;
        this.pty = pty;
    }

    ProcessConfig config() {
        return config;
    }

    String tag() {
        return tag;
    }

    ExecProcess process() {
        return process;
    }

    int pid() {
        return process.pid();
    }

    /** Completes with the end event once every connected stream was sent it. */
    CompletableFuture<EndEvent> end() {
        return end;
    }

    /**
     * Called by Start once the process runs: sends its start event to {@code first}, connects it,
     * and lets the output flow (output that arrived before waits, so the start event comes first).
     */
    void announce(ExecProcess process, StreamSink<EventResponse> first) {
        this.process = process;
        if (first.send(new EventResponse(ProcessEvent.started(process.pid())))) {
            streams.add(first);
        }
        announced.countDown();
        Thread.ofVirtual().name("e2b-process-" + process.pid()).start(this::awaitExit);
    }

    /** Connects another stream: it gets the start event, then the output from now on, then the end. */
    void connect(StreamSink<EventResponse> stream) {
        if (!stream.send(new EventResponse(ProcessEvent.started(process.pid())))) {
            return;
        }
        EndEvent ended;
        synchronized (this) {
            ended = endEvent;
            if (ended == null) {
                streams.add(stream);
                return;
            }
        }
        stream.send(new EventResponse(ProcessEvent.ended(ended)));
    }

    /** Releases a Start whose process could not be announced (so output callbacks do not wait). */
    void abandon() {
        announced.countDown();
    }

    @Override
    public void stdout(byte[] chunk) {
        publish(pty ? new DataEvent(null, null, chunk) : new DataEvent(chunk, null, null));
    }

    @Override
    public void stderr(byte[] chunk) {
        publish(new DataEvent(null, chunk, null));
    }

    private void publish(DataEvent data) {
        awaitAnnounced();
        EventResponse event = new EventResponse(ProcessEvent.output(data));
        for (StreamSink<EventResponse> stream : streams) {
            if (!stream.send(event)) {
                streams.remove(stream);
            }
        }
    }

    private void awaitExit() {
        EndEvent event;
        try {
            event = endEvent(process.awaitExit(java.time.Duration.ofDays(3650)));
        } catch (RuntimeException e) {
            event = new EndEvent(-1, false, "lost", "the process was lost: " + e.getMessage());
        }
        List<StreamSink<EventResponse>> last;
        synchronized (this) {
            last = List.copyOf(streams);
            streams.clear();
            endEvent = event;
        }
        EventResponse message = new EventResponse(ProcessEvent.ended(event));
        for (StreamSink<EventResponse> stream : last) {
            stream.send(message);
        }
        process.close();
        end.complete(event);
    }

    private void awaitAnnounced() {
        try {
            announced.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** envd's end event for an exit status, with Go's wording of process states. */
    static EndEvent endEvent(ExitStatus status) {
        return switch (status) {
            case ExitStatus.Exited e -> {
                String text = "exit status " + e.code();
                yield new EndEvent(e.code(), true, text, e.code() == 0 ? null : text);
            }
            case ExitStatus.Signaled s -> {
                String text = "signal: " + signalName(s.signal());
                yield new EndEvent(-1, false, text, text);
            }
            case ExitStatus.TimedOut t -> new EndEvent(-1, false, "signal: killed", "signal: killed");
        };
    }

    static String signalName(int signal) {
        return switch (signal) {
            case 1 -> "hangup";
            case 2 -> "interrupt";
            case 3 -> "quit";
            case 6 -> "aborted";
            case 9 -> "killed";
            case 11 -> "segmentation fault";
            case 13 -> "broken pipe";
            case 14 -> "alarm clock";
            case 15 -> "terminated";
            default -> "signal " + signal;
        };
    }
}
