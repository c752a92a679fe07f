package dev.basalt.vmm.agent;

import dev.basalt.protocol.Message;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A stream answered by one terminal frame ({@code OK}, {@code PONG}, {@code STAT_RESULT},
 * {@code HELLO_REPLY}, ...) or by {@code ERROR}, completed directly on the reader thread
 * so a waiting caller wakes without a thread hop. {@code LIST} uses
 * {@link ListHandler}, which gathers {@code DIR_ENTRIES} until {@code OK}.
 */
class ReplyHandler implements StreamHandler {
    final CompletableFuture<Message> reply = new CompletableFuture<>();
    private final String operation;

    ReplyHandler(String operation) {
        this.operation = operation;
    }

    @Override
    public boolean onMessage(Message message) {
        if (message instanceof Message.Error e) {
            reply.completeExceptionally(new AgentException(e.code(), operation + ": " + e.message()));
        } else {
            reply.complete(message);
        }
        return true;
    }

    @Override
    public void onFailure(AgentException failure) {
        reply.completeExceptionally(failure);
    }

    /** Waits for the reply; on expiry runs {@code onTimeout} and throws {@link AgentTimeoutException}. */
    Message await(Deadline deadline, Runnable onTimeout) {
        try {
            return reply.get(Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            onTimeout.run();
            throw deadline.timeoutException();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            onTimeout.run();
            throw new AgentException(null, operation + " interrupted", e);
        }
    }

    static RuntimeException rethrow(Throwable cause) {
        return cause instanceof RuntimeException re ? re : new AgentException(null, String.valueOf(cause), cause);
    }

    /** {@code LIST}: zero or more {@code DIR_ENTRIES}, then {@code OK}. */
    static final class ListHandler extends ReplyHandler {
        final java.util.List<dev.basalt.protocol.DirEntry> entries = new java.util.ArrayList<>();

        ListHandler(String operation) {
            super(operation);
        }

        @Override
        public boolean onMessage(Message message) {
            if (message instanceof Message.DirEntries d) {
                entries.addAll(d.entries());
                return false;
            }
            return super.onMessage(message);
        }
    }
}
