/* IDENTITY: gives a restored or forked VM its own hostname, clock and RNG state. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define HOSTNAME_MAX 64
#define SEED_MIN 32
#define SEED_MAX 512

static int hostname_ok(const char *h, uint32_t len)
{
    if (len < 1 || len > HOSTNAME_MAX)
        return 0;
    for (uint32_t i = 0; i < len; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

/* Mixes seed into the kernel pool (credited 8 bits per byte) and forces a
 * reseed of the CRNG. Returns 0, or -1 with errno set and *op naming the step. */
static int mix_entropy(const uint8_t *seed, uint32_t len, const char **op)
{
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        *op = "open /dev/urandom";
        return -1;
    }
    struct rand_pool_info *info = must(malloc(sizeof *info + len));
    info->entropy_count = (int)(8 * len);
    info->buf_size = (int)len;
    memcpy(info->buf, seed, len);
    int rc = ioctl(fd, RNDADDENTROPY, info);
    int err = errno;
    explicit_bzero(info->buf, len);
    free(info);
    if (rc < 0) {
        close(fd);
        errno = err;
        *op = "ioctl RNDADDENTROPY";
        return -1;
    }
    if (ioctl(fd, RNDRESEEDCRNG) < 0) {
        err = errno;
        if (err != ENODATA && err != EPERM) {
            close(fd);
            errno = err;
            *op = "ioctl RNDRESEEDCRNG";
            return -1;
        }
        logf_("identity: RNDRESEEDCRNG: %s (the seed is mixed in, reseed left to the kernel)", strerror(err));
    }
    close(fd);
    return 0;
}

void identity_request(const msg_t *m)
{
    uint32_t id = m->stream;
    const char *host = IDENTITY_hostname(m);
    uint32_t hlen = (uint32_t)strlen(host); /* a str holds no NUL */
    int64_t time_ns = IDENTITY_time_ns(m);
    wire_B_t seed = IDENTITY_seed(m);
    uint32_t seed_len = seed.len;

    /* Validate everything before changing anything: an invalid IDENTITY has no
     * effect at all (the open streams stay open). */
    if (!hostname_ok(host, hlen)) {
        send_error(id, E_INVALID_ARGUMENT, "IDENTITY: hostname must be 1-%d bytes of [A-Za-z0-9-] (got %u bytes)",
                   HOSTNAME_MAX, hlen);
        return;
    }
    if (time_ns <= 0) {
        send_error(id, E_INVALID_ARGUMENT, "IDENTITY: time_ns must be > 0 (got %lld)", (long long)time_ns);
        return;
    }
    if (seed_len < SEED_MIN || seed_len > SEED_MAX) {
        send_error(id, E_INVALID_ARGUMENT, "IDENTITY: seed must be %d-%d bytes (got %u)", SEED_MIN, SEED_MAX,
                   seed_len);
        return;
    }

    /* Sessions of the VM the memory came from never continue in this one. */
    int n = stream_count();
    if (n > 0)
        logf_("identity: aborting %d open stream%s", n, n == 1 ? "" : "s");
    streams_abort_all();

    if (A.init) {
        if (sethostname(host, hlen) < 0) {
            send_error(id, E_IO, "sethostname %s: %s", host, strerror(errno));
            return;
        }
        struct timespec ts = {.tv_sec = (time_t)(time_ns / 1000000000), .tv_nsec = (long)(time_ns % 1000000000)};
        if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
            send_error(id, E_IO, "clock_settime %lld: %s", (long long)time_ns, strerror(errno));
            return;
        }
        const char *op = NULL;
        if (mix_entropy(seed.p, seed_len, &op) < 0) {
            send_error(id, E_IO, "%s: %s", op, strerror(errno));
            return;
        }
    }
    send_msg(id, T_OK);
}
