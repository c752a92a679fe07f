/* Small helpers: clock, logging, epoll watches. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In init mode log lines go to /dev/console; otherwise to stderr. Never to
 * the channel. */
void log_open_console(void)
{
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0)
        log_fd = fd;
}

void logf_(const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "basalt-agent: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    if (write(log_fd, line, len) < 0) {
        /* nowhere else to report it */
    }
}

void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Registers exactly `events` for w (0 removes it: a registered fd would keep
 * reporting EPOLLHUP even with no events asked for). */
void watch_set(watch_t *w, uint32_t events)
{
    if (w->fd < 0 || w->cur == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    int op = events == 0 ? EPOLL_CTL_DEL : w->cur == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(A.epfd, op, w->fd, &ev) < 0)
        logf_("epoll_ctl fd %d: %m", w->fd);
    w->cur = events;
}

void watch_close(watch_t *w)
{
    if (w->fd < 0)
        return;
    watch_set(w, 0);
    close(w->fd);
    w->fd = -1;
}

void fs_identity(int on, uint32_t uid, uint32_t gid)
{
    int e = errno;
    /* raw calls: per task, and never failing for root (the result is the previous id) */
    if (on) {
        syscall(SYS_setfsgid, gid);
        syscall(SYS_setfsuid, uid);
    } else {
        syscall(SYS_setfsuid, 0);
        syscall(SYS_setfsgid, 0);
    }
    errno = e;
}
