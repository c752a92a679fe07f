/* Stream table, outgoing frames, error replies and credit accounting. */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static stream_t *table[MAX_STREAMS];
static int count;
static stream_t *dead;

stream_t *stream_find(uint32_t id)
{
    for (int i = 0; i < count; i++)
        if (table[i]->id == id)
            return table[i];
    return NULL;
}

int stream_count(void) { return count; }

stream_t **stream_all(int *n)
{
    *n = count;
    return table;
}

stream_t *stream_new(uint32_t id, int kind)
{
    if (count >= MAX_STREAMS)
        return NULL;
    stream_t *s = must(calloc(1, sizeof *s));
    s->id = id;
    s->kind = kind;
    s->send_credit = INITIAL_WINDOW;
    s->recv_window = INITIAL_WINDOW;
    s->fd = -1;
    s->in = (watch_t){.fd = -1, .kind = W_IN, .s = s};
    for (int i = 0; i < 2; i++)
        s->out[i] = (watch_t){.fd = -1, .kind = W_OUT, .idx = i, .s = s};
    table[count++] = s;
    return s;
}

/* Unlinks s from the table; memory is freed at the end of the loop iteration,
 * so epoll events already fetched for its watches stay harmless. */
void stream_release(stream_t *s)
{
    if (s->dead)
        return;
    for (int i = 0; i < count; i++)
        if (table[i] == s) {
            table[i] = table[--count];
            break;
        }
    s->dead = 1;
    watch_close(&s->out[0]);
    watch_close(&s->out[1]);
    watch_close(&s->in);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->tmp)
        unlink(s->tmp);
    s->next_dead = dead;
    dead = s;
}

void stream_abort(stream_t *s)
{
    if (s->kind == S_EXEC)
        exec_kill(s, SIGKILL);
    stream_release(s);
}

void streams_abort_all(void)
{
    while (count > 0)
        stream_abort(table[count - 1]);
    tunnels_reset();
}

void streams_reap_dead(void)
{
    while (dead) {
        stream_t *s = dead;
        dead = s->next_dead;
        buf_free(&s->inbuf);
        free(s->path);
        free(s->tmp);
        free(s);
    }
}

/* ---- outgoing frames ---- */

int out_has_room(void) { return A.connected && buf_pending(&A.out) < OUT_HIGH; }

/* type is an int: va_start after a parameter that undergoes promotion is undefined */
void send_msg(uint32_t stream, int type, ...)
{
    if (!A.connected)
        return;
    const schema_t *sc = schema_of((uint8_t)type);
    msg_t m = {.stream = stream, .type = (uint8_t)type};
    va_list ap;
    va_start(ap, type);
    for (int i = 0; i < sc->nfields; i++) {
        field_t *f = &m.f[i];
        switch (sc->fields[i].kind) {
        case 'B':
            f->p = va_arg(ap, const uint8_t *);
            f->len = va_arg(ap, uint32_t);
            break;
        case 'S':
            f->s = va_arg(ap, char *);
            break;
        case 'E':
            f->e = va_arg(ap, entry_t *);
            f->n = va_arg(ap, uint32_t);
            break;
        case 'q':
        case 'l':
            f->u = va_arg(ap, uint64_t);
            break;
        default:
            f->u = (uint32_t)va_arg(ap, int);
        }
    }
    va_end(ap);
    msg_encode(&m, &A.out);
}

void send_error(uint32_t stream, int code, const char *fmt, ...)
{
    char msg[2 * 4096 + 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    send_msg(stream, T_ERROR, code, msg);
}

int errno_code(int err)
{
    switch (err) {
    case ENOENT: return E_NOT_FOUND;
    case EACCES: case EPERM: return E_PERMISSION;
    case EEXIST: return E_EXISTS;
    case ENOTDIR: return E_NOT_A_DIRECTORY;
    case EISDIR: return E_IS_A_DIRECTORY;
    case ENOTEMPTY: return E_NOT_EMPTY;
    case ENOSPC: case EDQUOT: return E_NO_SPACE;
    default: return E_IO;
    }
}

void send_errno(uint32_t stream, int err, const char *op, const char *path)
{
    send_error(stream, errno_code(err), "%s %s: %s", op, path, strerror(err));
}

/* ---- credit ---- */

/* Data from the host has been consumed: return credit in batches. */
void stream_consumed(stream_t *s, uint64_t n)
{
    s->recv_unacked += n;
    if (s->recv_unacked >= CREDIT_BATCH) {
        send_msg(s->id, T_WINDOW, (int)(uint32_t)s->recv_unacked);
        s->recv_window += s->recv_unacked;
        s->recv_unacked = 0;
    }
}

/* Writes what waits in s->inbuf to s->in.fd, returning credit for every byte written: 1 when all
 * is written, 0 when the descriptor would block, -1 (errno set) when writing failed. */
int stream_flush_in(stream_t *s)
{
    while (buf_pending(&s->inbuf) > 0) {
        ssize_t r = write(s->in.fd, s->inbuf.d + s->inbuf.off, buf_pending(&s->inbuf));
        if (r > 0) {
            buf_consume(&s->inbuf, (size_t)r);
            stream_consumed(s, (uint64_t)r);
        } else if (r < 0 && errno == EAGAIN) {
            return 0;
        } else if (!(r < 0 && errno == EINTR)) {
            if (r == 0)
                errno = EPIPE;
            return -1;
        }
    }
    return 1;
}

/* Accounts an incoming data frame; returns 0 if the host overran its window
 * (the stream has then been aborted with an error). */
int stream_recv_data(stream_t *s, uint32_t n)
{
    if (n > s->recv_window) {
        send_error(s->id, E_BAD_FRAME, "data frame of %u bytes exceeds the window (%llu left)", n,
                   (unsigned long long)s->recv_window);
        stream_abort(s);
        return 0;
    }
    s->recv_window -= n;
    return 1;
}
