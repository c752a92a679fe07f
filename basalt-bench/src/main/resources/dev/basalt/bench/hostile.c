/*
 * hostile: what root in a Basalt guest can do to the agent channel. It takes a copy of the
 * agent's (PID 1's) virtio-serial port descriptor with pidfd_getfd(2) and writes to the host
 * through it, behind the agent's back. Built static by the hostile-guest suite and run in a
 * sandbox; never on the host.
 *
 *   hostile garbage N     N random bytes
 *   hostile huge          a frame header announcing 0xFFFFFFFF bytes
 *   hostile truncated     a frame announcing 1000 bytes, of which 10 come
 *   hostile tiny N        N zero bytes: N/4 frames of length 0
 *   hostile forge N       N well-formed STDOUT frames for streams 1..N (streams the host may use)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int agent_port(void)
{
    DIR *d = opendir("/proc/1/fd");
    if (!d) {
        perror("hostile: /proc/1/fd");
        exit(1);
    }
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d)) && found < 0) {
        char link[300], target[256];
        snprintf(link, sizeof link, "/proc/1/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = 0;
            if (strstr(target, "vport"))
                found = atoi(e->d_name);
        }
    }
    closedir(d);
    if (found < 0) {
        fprintf(stderr, "hostile: PID 1 has no virtio port open\n");
        exit(1);
    }
    int pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
    int fd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, found, 0);
    if (fd < 0) {
        fprintf(stderr, "hostile: pidfd_getfd of PID 1's fd %d: %s\n", found, strerror(errno));
        exit(1);
    }
    return fd;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void write_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("hostile: write");
            exit(1);
        }
        b += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hostile garbage N | huge | truncated | tiny N | forge N\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 0;
    int fd = agent_port();
    if (!strcmp(mode, "garbage") || !strcmp(mode, "tiny")) {
        uint8_t *b = calloc(1, (size_t)n);
        if (!strcmp(mode, "garbage")) {
            FILE *r = fopen("/dev/urandom", "r");
            if (!r || fread(b, 1, (size_t)n, r) != (size_t)n) {
                perror("hostile: /dev/urandom");
                return 1;
            }
            b[0] = 0x7f;    /* a length far over the cap, whatever else follows */
            fclose(r);
        }
        write_all(fd, b, (size_t)n);
    } else if (!strcmp(mode, "huge")) {
        uint8_t h[9] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0x91};
        write_all(fd, h, sizeof h);
    } else if (!strcmp(mode, "truncated")) {
        uint8_t h[19] = {0};
        put32(h, 1000);
        put32(h + 4, 7);
        h[8] = 0x91;
        put32(h + 9, 995 - 4);
        write_all(fd, h, sizeof h);
    } else if (!strcmp(mode, "forge")) {
        for (long id = 1; id <= n; id++) {
            uint8_t f[9 + 4 + 6];
            put32(f, 5 + 4 + 6);
            put32(f + 4, (uint32_t)id);
            f[8] = 0x91;
            put32(f + 9, 6);
            memcpy(f + 13, "forged", 6);
            write_all(fd, f, sizeof f);
        }
    } else {
        fprintf(stderr, "hostile: unknown mode %s\n", mode);
        return 2;
    }
    printf("hostile: %s done\n", mode);
    return 0;
}
