package dev.basalt.vmm.agent;

import dev.basalt.protocol.Bytes;
import dev.basalt.protocol.FileWriteFlag;
import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicReference;

/** {@code FILE_WRITE} and {@code FILE_READ}: file transfers paced by flow control. */
final class FileTransfers {
    private FileTransfers() {
    }

    static void write(AgentChannel client, String path, int mode, boolean mkdirs, boolean append,
                      dev.basalt.api.GuestUser owner, InputStream data, Duration timeout) {
        EnumSet<FileWriteFlag> flags = EnumSet.noneOf(FileWriteFlag.class);
        if (mkdirs) {
            flags.add(FileWriteFlag.MKDIRS);
        }
        if (append) {
            flags.add(FileWriteFlag.APPEND);
        }
        if (owner != null) {
            flags.add(FileWriteFlag.USER);
        }
        Message.FileWrite request = new Message.FileWrite(path, mode, flags, owner == null ? 0 : owner.uid(),
                owner == null ? 0 : owner.gid());
        Deadline deadline = Deadline.in(timeout, "write file " + path);
        WriteHandler handler = new WriteHandler("write file " + path);
        int id = client.open(handler);
        try {
            client.send(id, request, deadline);
            byte[] chunk = new byte[Protocol.HOST_CHUNK];
            upload:
            while (true) {
                int n = data.readNBytes(chunk, 0, chunk.length);
                if (n == 0) {
                    break;
                }
                for (int off = 0; off < n; ) {
                    if (handler.reply.isDone()) {
                        break upload; // the agent answered early (an ERROR): await below throws it
                    }
                    int take = handler.window.acquire(n - off, deadline);
                    client.send(id, new Message.FileData(Bytes.copyOf(chunk, off, take)), deadline);
                    off += take;
                }
            }
            if (!handler.reply.isDone()) {
                client.send(id, new Message.FileEnd(), deadline);
            }
        } catch (IOException e) {
            client.cancel(id);
            throw new UncheckedIOException("write file " + path + ": reading the source failed", e);
        } catch (AgentTimeoutException e) {
            client.cancel(id);
            throw e;
        } catch (AgentException e) {
            if (!handler.reply.isDone()) {
                throw e;
            } // otherwise the agent's answer explains it: await throws that
        }
        handler.await(deadline, () -> client.cancel(id));
    }

    static Message.StatResult read(AgentChannel client, String path, OutputStream sink, Duration timeout) {
        String op = "read file " + path;
        Deadline deadline = Deadline.in(timeout, op);
        AtomicReference<Inbox<Message>> made = new AtomicReference<>();
        int id = client.open(sid -> {
            made.set(new Inbox<>(client, sid));
            return new ReadHandler(client, made.get(), op);
        });
        Inbox<Message> inbox = made.get();
        Message.StatResult stat = null;
        try {
            client.send(id, new Message.FileRead(path), deadline);
            while (true) {
                switch (inbox.take(deadline)) {
                    case Message.StatResult s -> stat = s;
                    case Message.FileData d -> {
                        d.data().writeTo(sink);
                        inbox.consumed(d.data().length());
                    }
                    case Message.FileEnd e -> {
                        return stat;
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            client.cancel(id);
            throw new UncheckedIOException(op + ": writing to the sink failed", e);
        } catch (AgentTimeoutException e) {
            client.cancel(id);
            throw e;
        }
    }

    /** FILE_WRITE stream: WINDOW credits the sender; OK or ERROR ends it. */
    private static final class WriteHandler extends ReplyHandler {
        final SendWindow window = new SendWindow();

        WriteHandler(String operation) {
            super(operation);
        }

        @Override
        public boolean onMessage(Message message) {
            if (message instanceof Message.Window w) {
                window.credit(w.increment());
                return false;
            }
            boolean ended = super.onMessage(message);
            window.fail(new AgentException(null, "stream ended"));
            return ended;
        }

        @Override
        public void onFailure(AgentException failure) {
            super.onFailure(failure);
            window.fail(failure);
        }
    }

    /** FILE_READ stream: STAT_RESULT, FILE_DATA..., FILE_END (terminal) or ERROR. */
    private static final class ReadHandler implements StreamHandler {
        private final AgentChannel client;
        private final Inbox<Message> inbox;
        private final String operation;

        ReadHandler(AgentChannel client, Inbox<Message> inbox, String operation) {
            this.client = client;
            this.inbox = inbox;
            this.operation = operation;
        }

        @Override
        public boolean onMessage(Message message) {
            switch (message) {
                case Message.Error e -> {
                    inbox.fail(new AgentException(e.code(), operation + ": " + e.message()));
                    return true;
                }
                case Message.FileEnd e -> {
                    inbox.markEnded();
                    inbox.push(e, 0);
                    return true;
                }
                case Message.FileData d -> {
                    if (!inbox.push(d, d.data().length())) {
                        client.violation(operation + " got more data than its window allows");
                    }
                    return false;
                }
                default -> {
                    inbox.push(message, 0);
                    return false;
                }
            }
        }

        @Override
        public void onFailure(AgentException failure) {
            inbox.fail(failure);
        }
    }
}
