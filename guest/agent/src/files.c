/* One-shot file requests: STAT, LIST, MKDIR, REMOVE, RENAME; path rules. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIST_FRAME_BYTES (64u * 1024u)

/* Absolute, at most 4096 bytes, no ".." component. Sends INVALID_ARGUMENT otherwise. */
int path_ok(uint32_t stream, const char *path)
{
    size_t n = strlen(path);
    const char *why = NULL;
    if (n == 0 || path[0] != '/')
        why = "must be absolute";
    else if (n > 4096)
        why = "is longer than 4096 bytes";
    for (const char *p = path; !why && (p = strstr(p, "..")) != NULL; p += 2)
        if (p[-1] == '/' && (p[2] == '/' || p[2] == 0))
            why = "must not contain a .. component";
    if (why)
        send_error(stream, E_INVALID_ARGUMENT, "path %s %s", path, why);
    return why == NULL;
}

static uint8_t file_type(mode_t m)
{
    return S_ISREG(m) ? 0 : S_ISDIR(m) ? 1 : S_ISLNK(m) ? 2 : 3;
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

void send_stat(uint32_t stream, const struct stat *st)
{
    send_msg(stream, T_STAT_RESULT, file_type(st->st_mode), (int)(st->st_mode & 07777),
             (uint64_t)st->st_size, (int64_t)mtime_ms(st));
}

/* mkdir -p. Returns 0, or -1 with errno set and *failed_op naming the call. */
int mkdir_p(const char *path, mode_t last_mode, const char **failed_op)
{
    char buf[4097];
    size_t n = strlen(path);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        *failed_op = "mkdir";
        return -1;
    }
    memcpy(buf, path, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = 0;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        struct stat st;
        if (mkdir(buf, c ? 0755 : last_mode) < 0) {
            int e = errno;
            if (e != EEXIST || stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
                errno = e == EEXIST ? (c ? ENOTDIR : EEXIST) : e;
                *failed_op = "mkdir";
                return -1;
            }
        }
        if (!c)
            return 0;
        *p = c;
    }
}

static void do_list(uint32_t id, const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        send_errno(id, errno, "opendir", path);
        return;
    }
    entry_t *ents = NULL;
    size_t cap = 0, n = 0, bytes = 4;
    struct dirent *de;
    struct stat st;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* vanished meanwhile */
        size_t need = 4 + strlen(de->d_name) + 1 + 4 + 8 + 8;
        if (n > 0 && bytes + need > LIST_FRAME_BYTES) {
            send_msg(id, T_DIR_ENTRIES, ents, (uint32_t)n);
            while (n > 0)
                free(ents[--n].name);
            bytes = 4;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ents = must(realloc(ents, cap * sizeof *ents));
        }
        ents[n++] = (entry_t){must(strdup(de->d_name)), file_type(st.st_mode), st.st_mode & 07777,
                              (uint64_t)st.st_size, mtime_ms(&st)};
        bytes += need;
    }
    closedir(d);
    if (n > 0)
        send_msg(id, T_DIR_ENTRIES, ents, (uint32_t)n);
    while (n > 0)
        free(ents[--n].name);
    free(ents);
    send_msg(id, T_OK);
}

/* Removes the contents of directory fd (which it closes). Never follows symlinks. */
static int remove_tree(int fd, const char **op)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        *op = "opendir";
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            *op = "unlink";
            rc = -1;
            break;
        }
        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            *op = "open";
            rc = -1;
        } else if ((rc = remove_tree(sub, op)) == 0 && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
            *op = "rmdir";
            rc = -1;
        }
    }
    int e = errno;
    closedir(d);
    errno = e;
    return rc;
}

static void do_remove(uint32_t id, const char *path, int recursive)
{
    struct stat st;
    const char *op = "remove";
    if (lstat(path, &st) < 0) {
        send_errno(id, errno, "remove", path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0)
            send_errno(id, errno, "remove", path);
        else
            send_msg(id, T_OK);
        return;
    }
    if (recursive) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || remove_tree(fd, &op) < 0) {
            send_errno(id, errno, op, path);
            return;
        }
    }
    if (rmdir(path) < 0)
        send_errno(id, errno, "remove", path);
    else
        send_msg(id, T_OK);
}

/* The path a one-shot file request is about (RENAME: the one it renames). */
static const char *request_path(const msg_t *m)
{
    switch (m->type) {
    case T_STAT: return STAT_path(m);
    case T_LIST: return LIST_path(m);
    case T_MKDIR: return MKDIR_path(m);
    case T_REMOVE: return REMOVE_path(m);
    case T_RENAME: return RENAME_from(m);
    default: return NULL;
    }
}

void files_request(const msg_t *m)
{
    uint32_t id = m->stream;
    const char *path = request_path(m);
    if (!path || !path_ok(id, path))
        return;
    struct stat st;
    const char *op;
    switch (m->type) {
    case T_STAT:
        if (lstat(path, &st) < 0)
            send_errno(id, errno, "stat", path);
        else
            send_stat(id, &st);
        break;
    case T_LIST:
        do_list(id, path);
        break;
    case T_MKDIR: {
        fs_identity(MKDIR_flags(m) & 0x01, MKDIR_uid(m), MKDIR_gid(m));
        int rc = mkdir_p(path, (mode_t)(MKDIR_mode(m) & 07777), &op);
        fs_identity(0, 0, 0);
        if (rc < 0)
            send_errno(id, errno, op, path);
        else
            send_msg(id, T_OK);
        break;
    }
    case T_REMOVE:
        do_remove(id, path, REMOVE_recursive(m));
        break;
    case T_RENAME: {
        const char *to = RENAME_to(m);
        if (!path_ok(id, to))
            break;
        if (rename(path, to) < 0)
            send_error(id, errno_code(errno), "rename %s %s: %s", path, to, strerror(errno));
        else
            send_msg(id, T_OK);
        break;
    }
    }
}
