/* Entry point: channel modes and the single-threaded epoll event loop. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#define RECONNECT_POLL_MS 20

agent_t A;
struct rlimit orig_nofile;

static void usage(void)
{
    fprintf(stderr, "usage: basalt-agent [--init] | --connect PATH | --stdio\n");
    exit(2);
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        logf_("socket path too long: %s", path);
        exit(1);
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        logf_("connect %s: %s", path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* Best effort: push out what is buffered (the OK of SHUTDOWN, last EXITs). */
static void flush_blocking(int ms)
{
    int64_t end = now_ms() + ms;
    while (A.connected && buf_pending(&A.out) > 0 && now_ms() < end) {
        struct pollfd p = {.fd = A.chan_w.fd, .events = POLLOUT};
        poll(&p, 1, 10);
        channel_flush();
    }
}

static void finish(void)
{
    flush_blocking(2000);
    streams_abort_all();
    if (A.init) {
        init_poweroff();
    }
    exit(0);
}

void channel_disconnected(void)
{
    if (!A.connected)
        return;
    if (A.mode != MODE_VIRTIO) {
        A.connected = 0;
        streams_abort_all();
        exit(0);
    }
    logf_("host disconnected");
    A.connected = 0;
    streams_abort_all();
    A.out.off = A.out.len = 0;
    channel_reset_parser();
    watch_set(&A.chan_r, 0);
    watch_set(&A.chan_w, 0);
    A.reconnect_at = now_ms() + RECONNECT_POLL_MS;
}

/* While disconnected the port reports POLLHUP; a host connection clears it. */
static void check_reconnect(int64_t now)
{
    if (A.connected || now < A.reconnect_at)
        return;
    struct pollfd p = {.fd = A.chan_r.fd, .events = POLLIN};
    if (poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
        logf_("host connected");
        A.connected = 1;
        A.reconnect_at = 0;
        channel_reset_parser();
    } else {
        A.reconnect_at = now + RECONNECT_POLL_MS;
    }
}

static void arm_timer(void)
{
    static int64_t armed = -1;
    int64_t next = A.connected ? 0 : A.reconnect_at;
    int n;
    stream_t **all = stream_all(&n);
    for (int i = 0; i < n; i++) {
        int64_t t[2] = {all[i]->timeout_at, all[i]->grace_at};
        for (int j = 0; j < 2; j++)
            if (t[j] && (!next || t[j] < next))
                next = t[j];
    }
    if (next == armed)
        return;
    armed = next;
    struct itimerspec its = {{0, 0}, {next / 1000, (next % 1000) * 1000000}};
    timerfd_settime(A.timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int update_interest(void)
{
    int n, pump = 0;
    stream_t **all = stream_all(&n);
    size_t pending = buf_pending(&A.out);
    watch_set(&A.chan_r, A.connected && pending < OUT_STOP_READING ? EPOLLIN : 0);
    watch_set(&A.chan_w, A.connected && pending > 0 ? EPOLLOUT : 0);
    for (int i = 0; i < n; i++) {
        if (all[i]->kind == S_EXEC)
            exec_update_interest(all[i]);
        else if (all[i]->kind == S_TUNNEL)
            tunnel_update_interest(all[i]);
        else if (all[i]->kind == S_FREAD && all[i]->send_credit > 0 && out_has_room())
            pump = 1;
    }
    tunnels_update_listeners();
    return pump;
}

static void run_deadlines(void)
{
    int64_t now = now_ms();
    int n;
    stream_t **all = stream_all(&n);
    for (int i = n - 1; i >= 0; i--)
        if (all[i]->kind == S_EXEC)
            exec_deadlines(all[i], now);
    check_reconnect(now);
}

/* File reads are not fd-driven: send chunks while credit and room last. */
static void pump_reads(void)
{
    for (int round = 0, progress = 1; progress && round < 64; round++) {
        int n;
        stream_t **all = stream_all(&n);
        progress = 0;
        for (int i = n - 1; i >= 0; i--)
            if (all[i]->kind == S_FREAD)
                progress |= fread_pump(all[i]);
        channel_flush();
    }
}

static void handle(watch_t *w, uint32_t ev)
{
    if (w->fd < 0)
        return; /* closed earlier in this batch */
    switch (w->kind) {
    case W_CHAN_R:
        channel_readable();
        break;
    case W_CHAN_W:
        channel_flush();
        if ((ev & (EPOLLHUP | EPOLLERR)) && buf_pending(&A.out) > 0)
            channel_disconnected();
        break;
    case W_SIGNAL: {
        struct signalfd_siginfo si;
        while (read(w->fd, &si, sizeof si) > 0)
            ;
        reap_children();
        break;
    }
    case W_TIMER: {
        uint64_t x;
        if (read(w->fd, &x, sizeof x) < 0) {
            /* spurious wake-up: nothing expired */
        }
        break;
    }
    case W_OUT:
        exec_out_ready(w);
        break;
    case W_IN:
        exec_in_ready(w->s);
        break;
    case W_LISTEN:
        tunnel_listen_ready(w);
        break;
    case W_TUN_R:
        tunnel_read_ready(w->s);
        break;
    case W_TUN_W:
        tunnel_write_ready(w->s);
        break;
    }
}

static void loop(void)
{
    struct epoll_event evs[64];
    for (;;) {
        int pump = update_interest();
        arm_timer();
        int n = epoll_wait(A.epfd, evs, 64, pump ? 0 : -1);
        if (n < 0 && errno != EINTR) {
            logf_("epoll_wait: %s", strerror(errno));
            exit(1);
        }
        for (int i = 0; i < n; i++)
            handle(evs[i].data.ptr, evs[i].events);
        run_deadlines();
        pump_reads();
        channel_flush();
        if (A.shutdown)
            finish();
        streams_reap_dead();
    }
}

static void setup_core(int rfd, int wfd)
{
    sigset_t mask;
    struct rlimit rl;
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    getrlimit(RLIMIT_NOFILE, &orig_nofile);
    rl = orig_nofile;
    rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    umask(0);
    A.epfd = epoll_create1(EPOLL_CLOEXEC);
    A.sig = (watch_t){.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC), .kind = W_SIGNAL};
    A.timer = (watch_t){.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), .kind = W_TIMER};
    watch_set(&A.sig, EPOLLIN);
    watch_set(&A.timer, EPOLLIN);
    if (wfd == rfd)
        wfd = fcntl(rfd, F_DUPFD_CLOEXEC, 3); /* epoll needs distinct fds for two watches */
    set_nonblock(rfd);
    set_nonblock(wfd);
    A.chan_r = (watch_t){.fd = rfd, .kind = W_CHAN_R};
    A.chan_w = (watch_t){.fd = wfd, .kind = W_CHAN_W};
    channel_reset_parser();
    reap_children();
}

int main(int argc, char **argv)
{
    int rfd, wfd;
    A.mode = MODE_VIRTIO;
    A.init = getpid() == 1;
    if (argc >= 5 && getpid() != 1 && strcmp(argv[1], "--run-as") == 0 && strcmp(argv[3], "--") == 0)
        return run_as(argv[2], argv + 4);
    if (argc == 2 && getpid() != 1 && strcmp(argv[1], "--sync") == 0) {
        sync(); /* what an image build runs before it freezes the disk: no image needs a sync tool */
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--init") == 0)
            A.init = 1;
        else if (strcmp(argv[i], "--stdio") == 0)
            A.mode = MODE_STDIO;
        else if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
            A.mode = MODE_CONNECT, i++;
        else if (getpid() == 1)
            /* the kernel hands init every command-line word it does not know itself: a typo
             * in an image's cmdlineExtra must not end the VM (PID 1 exiting panics it) */
            logf_("ignoring argument '%s' (a kernel command-line word the kernel did not know)", argv[i]);
        else
            usage();
    }
    if (A.mode != MODE_VIRTIO)
        A.init = 0;
    if (A.init)
        init_system();
    for (int fd = 0; fd < 3; fd++) /* children's dup2 must never land on a live fd */
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            logf_("cannot open /dev/null as fd %d", fd);
    if (A.mode == MODE_STDIO) {
        rfd = 0;
        wfd = 1;
    } else if (A.mode == MODE_CONNECT) {
        rfd = wfd = connect_unix(argv[argc - 1]);
    } else {
        while ((rfd = open_agent_port()) < 0) {
            if (!A.init)
                exit(1);
            sleep(1); /* PID 1 must never exit */
        }
        wfd = rfd;
    }
    setup_core(rfd, wfd);
    A.connected = A.mode != MODE_VIRTIO;
    A.reconnect_at = A.connected ? 0 : now_ms();
    logf_("ready (%s mode%s)", A.mode == MODE_STDIO ? "stdio" : A.mode == MODE_CONNECT ? "connect" : "virtio",
          A.init ? ", init" : "");
    loop();
}
