/* Tunnels: TCP connections made inside the guest to 127.0.0.1:PORT, each carried over the
 * channel on a stream the host opened in advance with TUNNEL_ACCEPT (docs/protocol.md). The
 * agent only moves bytes; what a connection may reach is decided by the host. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTENERS 8
#define MAX_PENDING 256

/* One loopback port the agent listens on, and the streams waiting for its next connections. */
typedef struct {
    uint16_t port;
    watch_t w;
    uint32_t pending[MAX_PENDING]; /* stream ids, oldest first */
    int npending;
} listener_t;

static listener_t listeners[MAX_LISTENERS];
static int nlisteners;

static listener_t *listener_for(uint16_t port, uint32_t stream)
{
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i].port == port)
            return &listeners[i];
    if (nlisteners == MAX_LISTENERS) {
        send_error(stream, E_RESOURCE_EXHAUSTED, "tunnels listen on at most %d ports", MAX_LISTENERS);
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) {
        send_errno(stream, errno, "listen on 127.0.0.1", "");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    listener_t *l = &listeners[nlisteners++];
    memset(l, 0, sizeof *l);
    l->port = port;
    l->w = (watch_t){.fd = fd, .kind = W_LISTEN, .idx = nlisteners - 1};
    return l;
}

void tunnel_accept_request(const msg_t *m)
{
    uint16_t port = (uint16_t)TUNNEL_ACCEPT_port(m);
    if (port == 0) {
        send_error(m->stream, E_INVALID_ARGUMENT, "tunnel port must be 1..65535");
        return;
    }
    if (stream_find(m->stream)) {
        send_error(m->stream, E_STREAM_BUSY, "stream %u is open", m->stream);
        return;
    }
    listener_t *l = listener_for(port, m->stream);
    if (!l)
        return;
    if (l->npending == MAX_PENDING) {
        send_error(m->stream, E_RESOURCE_EXHAUSTED, "at most %d tunnels may wait on port %u", MAX_PENDING, port);
        return;
    }
    stream_t *s = stream_new(m->stream, S_TUNNEL);
    if (!s) {
        send_error(m->stream, E_RESOURCE_EXHAUSTED, "too many open streams (limit %d)", MAX_STREAMS);
        return;
    }
    s->out[0].kind = W_TUN_R;
    s->in.kind = W_TUN_W;
    l->pending[l->npending++] = s->id;
}

/* True if stream id still waits for a connection. */
static int waiting(uint32_t id)
{
    stream_t *s = stream_find(id);
    return s && s->kind == S_TUNNEL && s->out[0].fd < 0 && !s->out_eof[0];
}

/* Drops the entries of streams that ended (cancelled, failed) while they waited. */
static void prune(listener_t *l)
{
    int n = 0;
    for (int i = 0; i < l->npending; i++)
        if (waiting(l->pending[i]))
            l->pending[n++] = l->pending[i];
    l->npending = n;
}

void tunnel_listen_ready(watch_t *w)
{
    listener_t *l = &listeners[w->idx];
    for (prune(l); l->npending > 0; prune(l)) {
        int c = accept4(l->w.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0)
            return; /* EAGAIN, or a connection that went away before it was accepted */
        stream_t *s = stream_find(l->pending[0]);   /* waiting: prune kept only those */
        memmove(l->pending, l->pending + 1, (size_t)(--l->npending) * sizeof l->pending[0]);
        int w2 = dup(c); /* one descriptor per direction: epoll watches each on its own */
        if (w2 < 0) {
            close(c);
            send_errno(s->id, errno, "dup", "");
            stream_release(s);
            continue;
        }
        set_nonblock(w2);
        s->out[0].fd = c;
        s->in.fd = w2;
        send_msg(s->id, T_TUNNEL_OPENED);
    }
}

static void maybe_finish(stream_t *s)
{
    if (s->out_eof[0] && s->stdin_eof && s->in.fd < 0) {
        send_msg(s->id, T_OK);
        stream_release(s);
    }
}

static void fail(stream_t *s, int err, const char *op)
{
    send_errno(s->id, err, op, "tunnel");
    stream_release(s);
}

void tunnel_read_ready(stream_t *s)
{
    static uint8_t buf[AGENT_CHUNK];
    if (!out_has_room())
        return;
    size_t n = AGENT_CHUNK;
    if (s->send_credit < n)
        n = (size_t)s->send_credit;
    if (n == 0)
        return;
    ssize_t r = read(s->out[0].fd, buf, n);
    if (r > 0) {
        send_msg(s->id, T_TUNNEL_DATA, buf, (uint32_t)r);
        s->send_credit -= (uint64_t)r;
        return;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r < 0) {
        fail(s, errno, "read");
        return;
    }
    send_msg(s->id, T_TUNNEL_EOF); /* the guest's client half-closed */
    s->out_eof[0] = 1;
    watch_set(&s->out[0], 0);
    maybe_finish(s);
}

void tunnel_write_ready(stream_t *s)
{
    if (s->in.fd >= 0) {
        int r = stream_flush_in(s);
        if (r == 0)
            return;
        if (r < 0) {
            fail(s, errno, "write");
            return;
        }
    }
    if (s->stdin_eof && s->in.fd >= 0) {
        shutdown(s->in.fd, SHUT_WR); /* the far end half-closed: so does the guest's client's peer */
        watch_close(&s->in);
        maybe_finish(s);
    }
}

void tunnel_frame(stream_t *s, const msg_t *m)
{
    if (s->out[0].fd < 0 && !s->out_eof[0]) {
        send_error(s->id, E_INVALID_ARGUMENT, "tunnel data before the tunnel opened");
        stream_release(s);
        return;
    }
    if (m->type == T_TUNNEL_EOF) {
        s->stdin_eof = 1;
        tunnel_write_ready(s);
        return;
    }
    wire_B_t data = TUNNEL_DATA_data(m);
    if (!stream_recv_data(s, data.len))
        return;
    if (s->stdin_eof || s->in.fd < 0) {
        stream_consumed(s, data.len);
        return;
    }
    buf_put(&s->inbuf, data.p, data.len);
    tunnel_write_ready(s);
}

void tunnel_update_interest(stream_t *s)
{
    if (s->out[0].fd >= 0)
        watch_set(&s->out[0], !s->out_eof[0] && s->send_credit > 0 && out_has_room() ? EPOLLIN : 0);
    if (s->in.fd >= 0)
        watch_set(&s->in, buf_pending(&s->inbuf) > 0 ? EPOLLOUT : 0);
}

void tunnels_update_listeners(void)
{
    for (int i = 0; i < nlisteners; i++) {
        prune(&listeners[i]);
        listeners[i].w.idx = i;
        watch_set(&listeners[i].w, listeners[i].npending > 0 ? EPOLLIN : 0);
    }
}

/* The host went away: its waiting streams are gone (the listeners stay for the next host). */
void tunnels_reset(void)
{
    for (int i = 0; i < nlisteners; i++)
        listeners[i].npending = 0;
}
