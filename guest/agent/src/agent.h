/* Shared state and cross-module interfaces of the Basalt guest agent. */
#ifndef BASALT_AGENT_H
#define BASALT_AGENT_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "wire.h"

#define AGENT_VERSION "basalt-agent 0.1.0"
#define PROTOCOL_VERSION 1
#define MAX_STREAMS 1024
#define INITIAL_WINDOW 1048576u
#define CREDIT_BATCH (256u * 1024u)
#define AGENT_CHUNK (32u * 1024u)
#define OUT_HIGH (256u * 1024u)          /* stop producing data above this */
#define OUT_STOP_READING (4u * 1024u * 1024u) /* stop reading the channel above this */
#define EXIT_GRACE_MS 100

enum mode { MODE_VIRTIO, MODE_CONNECT, MODE_STDIO };

enum watch_kind { W_CHAN_R, W_CHAN_W, W_SIGNAL, W_TIMER, W_OUT, W_IN, W_LISTEN, W_TUN_R, W_TUN_W };

struct stream;

/* An fd registered (or not) in the epoll set; data.ptr points here. */
typedef struct watch {
    int fd;
    int kind;
    int idx; /* W_OUT: 0 stdout/pty, 1 stderr */
    struct stream *s;
    uint32_t cur; /* events currently registered, 0 = not in epoll */
} watch_t;

enum stream_kind { S_EXEC = 1, S_FWRITE, S_FREAD, S_TUNNEL };

typedef struct stream {
    uint32_t id;
    int kind;
    int dead;
    uint64_t send_credit;  /* agent -> host data we may still send */
    uint64_t recv_window;  /* host -> agent data the host may still send */
    uint64_t recv_unacked; /* consumed, not yet returned with WINDOW */
    /* exec */
    pid_t pid;
    int reaped, status, timed_out, pty, stdin_eof;
    watch_t out[2];
    int out_eof[2]; /* no more output wanted; fd kept open until the stream ends */
    size_t drain_left[2];
    int draining;
    watch_t in;
    buf_t inbuf;
    int64_t timeout_at, grace_at; /* monotonic ms, 0 = none */
    /* files */
    int fd;
    char *path, *tmp;
    int as_user;        /* FILE_WRITE with USER: the rename runs as uid/gid too */
    uint32_t uid, gid;
    struct stream *next_dead;
} stream_t;

typedef struct {
    int mode;
    int init; /* PID 1 duties: mounts, reaping orphans, power-off */
    int epfd;
    int connected;
    watch_t chan_r, chan_w, sig, timer;
    buf_t out;
    int64_t reconnect_at;
    int shutdown;
} agent_t;

extern agent_t A;
extern struct rlimit orig_nofile; /* restored in children */

/* util / logging (log.c) */
int64_t now_ms(void);
void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_open_console(void);
void watch_set(watch_t *w, uint32_t events);
void watch_close(watch_t *w);
void set_nonblock(int fd);

/* streams and output (stream.c) */
stream_t *stream_find(uint32_t id);
stream_t *stream_new(uint32_t id, int kind);
int stream_count(void);
stream_t **stream_all(int *n);
void stream_release(stream_t *s);  /* close everything, no frame sent */
void stream_abort(stream_t *s);    /* kill / discard, no frame sent */
void streams_abort_all(void);
void streams_reap_dead(void);
void send_msg(uint32_t stream, int type, ...); /* type: enum msg_type */
void send_error(uint32_t stream, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void send_errno(uint32_t stream, int err, const char *op, const char *path);
int errno_code(int err);
void stream_consumed(stream_t *s, uint64_t n);
int stream_recv_data(stream_t *s, uint32_t n);
int stream_flush_in(stream_t *s);
int out_has_room(void);

/* processes (exec.c, pty.c) */
void exec_request(const msg_t *m);
void exec_frame(stream_t *s, const msg_t *m);
void exec_cancel(stream_t *s);
void exec_out_ready(watch_t *w);
void exec_in_ready(stream_t *s);
void exec_deadlines(stream_t *s, int64_t now);
void exec_kill(stream_t *s, int sig);
void reap_children(void);
void exec_update_interest(stream_t *s);
int pty_open(int *master, int *slave, unsigned rows, unsigned cols);
void pty_resize(int master, unsigned rows, unsigned cols);

/* file operations (files.c, transfer.c) */
int path_ok(uint32_t stream, const char *path);
/* The identity file operations run under: the agent's own (root) unless on is set, then the
 * user's (setfsuid/setfsgid: permission checks as that user, new files and directories owned by
 * it). Errno is kept. */
void fs_identity(int on, uint32_t uid, uint32_t gid);
int mkdir_p(const char *path, mode_t last_mode, const char **failed_op);
struct stat;
void send_stat(uint32_t stream, const struct stat *st);
void files_request(const msg_t *m);
void fwrite_request(const msg_t *m);
void fwrite_frame(stream_t *s, const msg_t *m);
void fread_request(const msg_t *m);
int fread_pump(stream_t *s);

/* channel (channel.c) */
void channel_readable(void);
void channel_writable(void);
void channel_reset_parser(void);
void channel_disconnected(void);
int channel_flush(void);
void dispatch(const msg_t *m);

/* tunnels: in-guest TCP connections carried over the channel (tunnel.c) */
void tunnel_accept_request(const msg_t *m);
void tunnel_frame(stream_t *s, const msg_t *m);
void tunnel_listen_ready(watch_t *w);
void tunnel_read_ready(stream_t *s);
void tunnel_write_ready(stream_t *s);
void tunnel_update_interest(stream_t *s);
void tunnels_update_listeners(void);
void tunnels_reset(void);

/* IDENTITY of a restored or forked VM (identity.c) */
void identity_request(const msg_t *m);

/* init mode (init.c) */
void init_system(void);
int open_agent_port(void);
void init_poweroff(void);

/* a root file system on a disk (rootfs.c): mounted, grown to the disk, made the root */
int rootfs_switch(const char *dev);

/* --run-as USER[:GROUP] -- ARGV: run ARGV as an image's user (runas.c); returns an exit code if it cannot */
int run_as(const char *spec, char **argv);

#endif
