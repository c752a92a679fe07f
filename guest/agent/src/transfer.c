/* FILE_WRITE and FILE_READ streams. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FW_MKDIRS = 1, FW_APPEND = 2, FW_USER = 4 };


/* Opens the temporary file next to path. Returns fd or -1 (errno set). */
static int open_temp(const char *path, mode_t mode, char **tmp)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = (size_t)(slash - path);
    size_t cap = strlen(path) + 32;
    char *t = must(malloc(cap));
    snprintf(t, cap, "%.*s/.%s.basalt-XXXXXX", (int)dlen, path, slash + 1);
    int fd = mkostemp(t, O_CLOEXEC);
    if (fd < 0 || fchmod(fd, mode) < 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(t);
        }
        free(t);
        errno = e;
        return -1;
    }
    *tmp = t;
    return fd;
}

void fwrite_request(const msg_t *m)
{
    uint32_t id = m->stream;
    const char *path = FILE_WRITE_path(m), *op = "open";
    mode_t mode = (mode_t)(FILE_WRITE_mode(m) & 07777);
    unsigned flags = FILE_WRITE_flags(m);
    int as_user = (flags & FW_USER) != 0;
    if (!path_ok(id, path))
        return;
    char *tmp = NULL;
    int fd = -1;
    struct stat st;
    const char *slash = strrchr(path, '/');
    if (slash[1] == 0) {
        send_errno(id, EISDIR, "open", path);
        return;
    }
    fs_identity(as_user, FILE_WRITE_uid(m), FILE_WRITE_gid(m));
    if (flags & FW_MKDIRS && slash != path) {
        char *dir = strndup(path, (size_t)(slash - path));
        int rc = mkdir_p(dir, 0755, &op);
        free(dir);
        if (rc < 0)
            goto fail;
        op = "open";
    }
    if (flags & FW_APPEND)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, mode);
    else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        errno = EISDIR;
    else
        fd = open_temp(path, mode, &tmp);
    fs_identity(0, 0, 0);
    if (fd < 0)
        goto fail;
    stream_t *s = stream_new(id, S_FWRITE);
    s->fd = fd;
    s->path = must(strdup(path));
    s->tmp = tmp;
    s->as_user = as_user;
    s->uid = FILE_WRITE_uid(m);
    s->gid = FILE_WRITE_gid(m);
    return;
fail:
    fs_identity(0, 0, 0);
    send_errno(id, errno, op, path);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void fwrite_frame(stream_t *s, const msg_t *m)
{
    if (m->type == T_FILE_DATA) {
        wire_B_t data = FILE_DATA_data(m);
        if (!stream_recv_data(s, data.len))
            return;
        if (write_all(s->fd, data.p, data.len) < 0) {
            send_errno(s->id, errno, "write", s->path);
            stream_release(s);
            return;
        }
        stream_consumed(s, data.len);
    } else if (m->type == T_FILE_END) {
        const char *op = "fsync";
        if (fsync(s->fd) < 0)
            goto fail;
        close(s->fd);
        s->fd = -1;
        op = "rename";
        fs_identity(s->as_user, s->uid, s->gid);
        int renamed = !s->tmp || rename(s->tmp, s->path) == 0;
        fs_identity(0, 0, 0);
        if (!renamed)
            goto fail;
        free(s->tmp);
        s->tmp = NULL;
        send_msg(s->id, T_OK);
        stream_release(s);
        return;
    fail:
        send_errno(s->id, errno, op, s->path);
        stream_release(s);
    }
}

void fread_request(const msg_t *m)
{
    uint32_t id = m->stream;
    const char *path = FILE_READ_path(m);
    if (!path_ok(id, path))
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        send_errno(id, errno, "open", path);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        if (S_ISDIR(st.st_mode))
            send_errno(id, EISDIR, "read", path);
        else
            send_error(id, E_IS_A_DIRECTORY, "read %s: not a regular file", path);
        return;
    }
    send_stat(id, &st);
    stream_t *s = stream_new(id, S_FREAD);
    s->fd = fd;
    s->path = must(strdup(path));
}

/* Sends the next chunk if credit and buffer room allow. Returns 1 on progress. */
int fread_pump(stream_t *s)
{
    static uint8_t buf[AGENT_CHUNK];
    if (!out_has_room() || s->send_credit == 0)
        return 0;
    size_t n = s->send_credit < AGENT_CHUNK ? (size_t)s->send_credit : AGENT_CHUNK;
    ssize_t r = read(s->fd, buf, n);
    if (r > 0) {
        send_msg(s->id, T_FILE_DATA, buf, (uint32_t)r);
        s->send_credit -= (uint64_t)r;
        return 1;
    }
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r == 0)
        send_msg(s->id, T_FILE_END);
    else
        send_errno(s->id, errno, "read", s->path);
    stream_release(s);
    return 1;
}
