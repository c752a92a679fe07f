/*
 * basalt-fdshim.so: preloaded into a confined VMM. A confined VMM gets the files it needs as
 * descriptors opened by the host (its uid may read or write nothing of the host's), and is
 * told their names as /proc/self/fd/N. Opening such a name through /proc checks the file's
 * permissions against the VMM's uid, which a root-owned file the VMM must only read (a
 * template's memory, mapped privately) or a file it must write (a template being made) fails.
 * This shim answers an open of /proc/self/fd/N with a duplicate of descriptor N, rewound: the
 * access is exactly the one the host granted when it opened the file, never more (a write to a
 * read-only descriptor fails with EBADF, a private mapping of it is copy-on-write in memory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int handed_in(const char *path) {
    static const char prefix[] = "/proc/self/fd/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0) return -1;
    const char *digits = path + sizeof prefix - 1;
    char *end;
    errno = 0;
    long fd = strtol(digits, &end, 10);
    if (errno || end == digits || *end != '\0' || fd < 3 || fd > 1023) return -1;
    return (int) fd;
}

static int duplicate(int fd, int flags) {
    int copy = fcntl(fd, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 3);
    if (copy < 0) return copy;
    lseek(copy, 0, SEEK_SET);
    if (flags & O_DIRECT) {
        /* the caller asked to bypass the page cache: the host opened the file without it (the flag is
           the open file description's, shared with the handed-in descriptor, which nobody else uses) */
        int current = fcntl(copy, F_GETFL);
        if (current >= 0) fcntl(copy, F_SETFL, current | O_DIRECT);
    }
    return copy;
}

static int real_openat(int dirfd, const char *path, int flags, mode_t mode) {
    return (int) syscall(SYS_openat, dirfd, path, flags, mode);
}

static mode_t mode_of(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t) va_arg(ap, int) : 0;
}

static int shim_openat(int dirfd, const char *path, int flags, mode_t mode) {
    int fd = handed_in(path);
    return fd >= 0 ? duplicate(fd, flags) : real_openat(dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return shim_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return shim_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

/* the _FORTIFY_SOURCE entry points a hardened build calls for opens without O_CREAT */
int __open_2(const char *path, int flags) {
    return open(path, flags);
}

int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

int __openat_2(int dirfd, const char *path, int flags) {
    return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags) __attribute__((alias("__openat_2")));
