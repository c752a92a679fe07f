/* Splits the channel's byte stream into frames (docs/protocol.md, "Frames" and
 * "Robustness rules"). No I/O and no agent state: the agent's channel and the
 * fuzzer (test/fuzz) drive the same code. */
#ifndef BASALT_FRAMER_H
#define BASALT_FRAMER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* A complete frame whose length is within the cap: len = length - 5 payload
     * bytes, valid until the callback returns. */
    void (*frame)(void *ctx, uint32_t stream, uint8_t type, const uint8_t *payload, uint32_t len);
    /* A frame discarded without being buffered, once its last byte has gone by:
     * E_BAD_FRAME for a length below 5 (stream is 0), E_FRAME_TOO_LARGE above the cap. */
    void (*skipped)(void *ctx, int code, uint32_t stream, uint32_t length);
    void *ctx;
} framer_sink_t;

typedef struct {
    int state;
    uint8_t hdr[9];
    size_t hdr_got;
    uint32_t length, stream;
    uint8_t *payload; /* MAX_PAYLOAD bytes, allocated on first use; untouched pages cost nothing */
    uint32_t pgot;
    uint64_t skip;
    int skip_code;
} framer_t;

/* Forgets a partial frame (after a disconnect); the next byte starts a frame. */
void framer_reset(framer_t *f);
/* Consumes all n bytes, calling sink for every frame they complete. The bytes may be
 * split anywhere: any chunking of one stream gives the same calls. */
void framer_feed(framer_t *f, const uint8_t *p, size_t n, const framer_sink_t *sink);
/* True between frames (no partial frame held or being skipped). */
int framer_idle(const framer_t *f);
void framer_free(framer_t *f);

#endif
