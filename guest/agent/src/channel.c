/* The host channel: frames from the framer, request dispatch, output flush. */
#include "agent.h"
#include "framer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <unistd.h>

static framer_t framer;

void channel_reset_parser(void) { framer_reset(&framer); }

static int is_request(uint8_t t)
{
    switch (t) {
    case T_HELLO: case T_PING: case T_EXEC: case T_FILE_WRITE: case T_FILE_READ:
    case T_STAT: case T_LIST: case T_MKDIR: case T_REMOVE: case T_RENAME: case T_SHUTDOWN:
    case T_IDENTITY:
        return 1;
    default:
        return 0;
    }
}

/* ERROR that ends a stream: an open operation on it is aborted. */
static void fail_stream(uint32_t id, int code, const char *what)
{
    stream_t *s = id ? stream_find(id) : NULL;
    if (s)
        stream_abort(s);
    send_error(id, code, "%s", what);
}

static void on_frame(void *ctx, uint32_t id, uint8_t type, const uint8_t *payload, uint32_t len)
{
    (void)ctx;
    msg_t m;
    if (id == 0) {
        send_error(0, E_BAD_FRAME, "stream 0 is reserved");
        return;
    }
    if (is_request(type) && stream_find(id)) {
        send_error(id, E_STREAM_BUSY, "stream %u is already open", id);
        return;
    }
    int rc = msg_decode(id, type, payload, len, &m);
    if (rc == E_UNKNOWN_TYPE || (rc == 0 && type >= T_OK)) {
        msg_free(&m);
        char what[64];
        snprintf(what, sizeof what, "unknown message type 0x%02x", type);
        fail_stream(id, E_UNKNOWN_TYPE, what);
        return;
    }
    if (rc) {
        const schema_t *sc = schema_of(type);
        char what[96];
        if (rc == E_INVALID_ARGUMENT)
            snprintf(what, sizeof what, "%s: unknown flag bits", sc->name);
        else
            snprintf(what, sizeof what, "malformed %s payload (%u bytes)", sc->name, len);
        fail_stream(id, rc, what);
        return;
    }
    dispatch(&m);
    msg_free(&m);
}

static void on_skipped(void *ctx, int code, uint32_t id, uint32_t length)
{
    (void)ctx;
    if (code == E_BAD_FRAME) {
        send_error(0, E_BAD_FRAME, "frame length %u is shorter than 5", length);
    } else {
        char what[96];
        snprintf(what, sizeof what, "frame of %u bytes exceeds the cap of %u", length, MAX_LENGTH);
        fail_stream(id, E_FRAME_TOO_LARGE, what);
    }
}

static const framer_sink_t SINK = {on_frame, on_skipped, NULL};

void channel_readable(void)
{
    static uint8_t buf[65536];
    ssize_t r = read(A.chan_r.fd, buf, sizeof buf);
    if (r > 0)
        framer_feed(&framer, buf, (size_t)r, &SINK);
    else if (r == 0 || (errno != EAGAIN && errno != EINTR))
        channel_disconnected();
}

int channel_flush(void)
{
    while (A.connected && buf_pending(&A.out) > 0) {
        ssize_t r = write(A.chan_w.fd, A.out.d + A.out.off, buf_pending(&A.out));
        if (r > 0) {
            buf_consume(&A.out, (size_t)r);
        } else if (r < 0 && errno == EAGAIN) {
            return 0;
        } else if (!(r < 0 && errno == EINTR)) {
            channel_disconnected();
            return -1;
        }
    }
    return 0;
}

void channel_writable(void) { channel_flush(); }

static void hello(const msg_t *m)
{
    struct utsname u;
    if (HELLO_version(m) != PROTOCOL_VERSION) {
        send_error(m->stream, E_UNSUPPORTED_VERSION, "protocol version %u is not supported (this agent speaks %d)",
                   (unsigned)HELLO_version(m), PROTOCOL_VERSION);
        return;
    }
    uname(&u);
    send_msg(m->stream, T_HELLO_REPLY, PROTOCOL_VERSION, AGENT_VERSION, u.release);
}

static void cancel(stream_t *s)
{
    if (s->kind == S_EXEC) {
        exec_cancel(s);
        return;
    }
    send_error(s->id, E_CANCELLED, "cancelled by the host");
    stream_release(s);
}

void dispatch(const msg_t *m)
{
    stream_t *s = stream_find(m->stream);
    switch (m->type) {
    case T_HELLO:
        hello(m);
        return;
    case T_PING:
        send_msg(m->stream, T_PONG, PING_nonce(m));
        return;
    case T_EXEC:
    case T_FILE_WRITE:
    case T_FILE_READ:
        if (stream_count() >= MAX_STREAMS) {
            send_error(m->stream, E_RESOURCE_EXHAUSTED, "too many open streams (limit %d)", MAX_STREAMS);
            return;
        }
        if (m->type == T_EXEC)
            exec_request(m);
        else if (m->type == T_FILE_WRITE)
            fwrite_request(m);
        else
            fread_request(m);
        return;
    case T_STAT: case T_LIST: case T_MKDIR: case T_REMOVE: case T_RENAME:
        files_request(m);
        return;
    case T_IDENTITY:
        identity_request(m);
        return;
    case T_TUNNEL_ACCEPT:
        tunnel_accept_request(m);
        return;
    case T_SHUTDOWN:
        send_msg(m->stream, T_OK);
        A.shutdown = 1;
        return;
    }
    if (!s)
        return; /* late frame for a stream that has ended: dropped */
    switch (m->type) {
    case T_WINDOW:
        s->send_credit += WINDOW_increment(m);
        break;
    case T_CANCEL:
        cancel(s);
        break;
    case T_STDIN: case T_STDIN_CLOSE: case T_SIGNAL: case T_RESIZE:
        if (s->kind == S_EXEC)
            exec_frame(s, m);
        break;
    case T_FILE_DATA: case T_FILE_END:
        if (s->kind == S_FWRITE)
            fwrite_frame(s, m);
        break;
    case T_TUNNEL_DATA: case T_TUNNEL_EOF:
        if (s->kind == S_TUNNEL)
            tunnel_frame(s, m);
        break;
    }
}
