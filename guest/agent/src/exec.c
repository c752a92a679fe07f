/* EXEC streams: output pumping under credit, stdin, signals, reaping, EXIT. */
#include "agent.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXIT_EXITED = 0, EXIT_SIGNALED = 1, EXIT_TIMED_OUT = 2 };

void exec_request(const msg_t *m)
{
    spawn_t r;
    if (spawn(m, &r) < 0)
        return;
    stream_t *s = stream_new(m->stream, S_EXEC); /* dispatch checked the limit */
    s->pid = r.pid;
    s->pty = r.pty;
    s->out[0].fd = r.out;
    s->out[1].fd = r.err;
    s->in.fd = r.in;
    if (EXEC_timeout_ms(m) > 0)
        s->timeout_at = now_ms() + (int64_t)EXEC_timeout_ms(m);
    send_msg(s->id, T_EXEC_STARTED, (int)r.pid);
}

void exec_kill(stream_t *s, int sig)
{
    if (s->pid > 0)
        kill(-s->pid, sig);
}

static void exec_finish(stream_t *s)
{
    int kind, value;
    if (s->timed_out) {
        kind = EXIT_TIMED_OUT;
        value = SIGKILL;
    } else if (WIFSIGNALED(s->status)) {
        kind = EXIT_SIGNALED;
        value = WTERMSIG(s->status);
    } else {
        kind = EXIT_EXITED;
        value = WEXITSTATUS(s->status);
    }
    send_msg(s->id, T_EXIT, kind, value);
    stream_release(s);
}

static int out_open(stream_t *s)
{
    return (s->out[0].fd >= 0 && !s->out_eof[0]) || (s->out[1].fd >= 0 && !s->out_eof[1]);
}

static void maybe_finish(stream_t *s)
{
    if (s->reaped && !out_open(s))
        exec_finish(s);
}

/* Stops reading an output. A PTY master stays open until the stream ends:
 * closing it hangs the terminal up and SIGHUPs a process that is still
 * exiting (cat closes its fds before exit_group). */
static void out_stop(stream_t *s, int i)
{
    s->out_eof[i] = 1;
    watch_set(&s->out[i], 0);
}

void exec_out_ready(watch_t *w)
{
    static uint8_t buf[AGENT_CHUNK];
    stream_t *s = w->s;
    if (!out_has_room())
        return;
    size_t n = AGENT_CHUNK;
    if (s->send_credit < n)
        n = (size_t)s->send_credit;
    if (s->draining && s->drain_left[w->idx] < n)
        n = s->drain_left[w->idx];
    if (n == 0)
        return;
    ssize_t r = read(w->fd, buf, n);
    if (r > 0) {
        send_msg(s->id, w->idx == 0 ? T_STDOUT : T_STDERR, buf, (uint32_t)r);
        s->send_credit -= (uint64_t)r;
        if (s->draining)
            s->drain_left[w->idx] -= (size_t)r;
        if (!s->draining || s->drain_left[w->idx] > 0)
            return;
    } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    /* EOF, EIO (PTY with no slave left), another error, or grace drained */
    out_stop(s, w->idx);
    maybe_finish(s);
}

void exec_in_ready(stream_t *s)
{
    if (s->in.fd >= 0) {
        int r = stream_flush_in(s);
        if (r == 0)
            return;
        if (r < 0) { /* EPIPE: the reader is gone */
            stream_consumed(s, buf_pending(&s->inbuf));
            buf_consume(&s->inbuf, buf_pending(&s->inbuf));
            watch_close(&s->in);
        }
    }
    if (s->stdin_eof && s->in.fd >= 0 && buf_pending(&s->inbuf) == 0) {
        /* a PTY has no half-close: send the EOF character instead */
        if (s->pty && write(s->in.fd, "\x04", 1) < 0 && errno == EAGAIN)
            return;
        watch_close(&s->in);
    }
}

static void on_stdin(stream_t *s, const msg_t *m)
{
    wire_B_t data = STDIN_data(m);
    uint32_t n = data.len;
    if (!stream_recv_data(s, n))
        return;
    if (s->in.fd < 0 || s->stdin_eof) {
        stream_consumed(s, n); /* nobody reads it any more */
        return;
    }
    buf_put(&s->inbuf, data.p, n);
    exec_in_ready(s);
}

void exec_frame(stream_t *s, const msg_t *m)
{
    switch (m->type) {
    case T_STDIN:
        on_stdin(s, m);
        break;
    case T_STDIN_CLOSE:
        s->stdin_eof = 1;
        exec_in_ready(s);
        break;
    case T_SIGNAL: {
        int32_t sig = SIGNAL_signo(m);
        if (sig >= 1 && sig <= 64)
            exec_kill(s, sig);
        break;
    }
    case T_RESIZE:
        if (s->pty && s->out[0].fd >= 0)
            pty_resize(s->out[0].fd, RESIZE_rows(m), RESIZE_cols(m));
        break;
    default:
        break; /* not meaningful on an exec stream: dropped */
    }
}

void exec_cancel(stream_t *s)
{
    /* the stream ends with EXIT once reaped; output still pending is dropped
     * (it may wait for credit the host will never give) */
    exec_kill(s, SIGKILL);
    out_stop(s, 0);
    out_stop(s, 1);
    maybe_finish(s);
}

static stream_t *find_pid(pid_t pid)
{
    int n;
    stream_t **all = stream_all(&n);
    for (int i = 0; i < n; i++)
        if (all[i]->kind == S_EXEC && all[i]->pid == pid && !all[i]->reaped)
            return all[i];
    return NULL;
}

/* Reaps every exited child, ours or (as PID 1) orphans we never started. */
void reap_children(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        stream_t *s = find_pid(pid);
        if (!s)
            continue;
        s->reaped = 1;
        s->status = st;
        s->timeout_at = 0;
        if (out_open(s))
            s->grace_at = now_ms() + EXIT_GRACE_MS;
        maybe_finish(s);
    }
}

void exec_deadlines(stream_t *s, int64_t now)
{
    if (s->timeout_at && now >= s->timeout_at) {
        s->timeout_at = 0;
        s->timed_out = 1;
        exec_kill(s, SIGKILL);
    }
    if (s->grace_at && now >= s->grace_at) {
        /* send what is already buffered in the pipes, then stop */
        s->grace_at = 0;
        s->draining = 1;
        for (int i = 0; i < 2; i++) {
            int avail = 0;
            if (s->out[i].fd >= 0 && ioctl(s->out[i].fd, FIONREAD, &avail) == 0 && avail > 0)
                s->drain_left[i] = (size_t)avail;
            else
                out_stop(s, i);
        }
        maybe_finish(s);
    }
}

void exec_update_interest(stream_t *s)
{
    uint32_t ev = (s->send_credit > 0 && out_has_room()) ? EPOLLIN : 0;
    for (int i = 0; i < 2; i++)
        watch_set(&s->out[i], s->out_eof[i] ? 0 : ev);
    watch_set(&s->in, (buf_pending(&s->inbuf) > 0 || s->stdin_eof) ? EPOLLOUT : 0);
}
