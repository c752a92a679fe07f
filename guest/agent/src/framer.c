/* The channel's frame splitter: a state machine over arbitrarily split bytes. */
#include "framer.h"

#include "wire.h"

#include <stdlib.h>
#include <string.h>

enum { ST_LEN, ST_HDR, ST_PAYLOAD, ST_SKIP };

void framer_reset(framer_t *f)
{
    f->state = ST_LEN;
    f->hdr_got = 0;
    f->pgot = 0;
    f->skip = 0;
}

int framer_idle(const framer_t *f) { return f->state == ST_LEN && f->hdr_got == 0; }

void framer_free(framer_t *f)
{
    free(f->payload);
    memset(f, 0, sizeof *f);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void deliver(framer_t *f, const framer_sink_t *sink)
{
    f->state = ST_LEN;
    f->hdr_got = 0;
    sink->frame(sink->ctx, f->stream, f->hdr[8], f->payload, f->length - 5);
}

static void end_skip(framer_t *f, const framer_sink_t *sink)
{
    f->state = ST_LEN;
    f->hdr_got = 0;
    sink->skipped(sink->ctx, f->skip_code, f->skip_code == E_BAD_FRAME ? 0 : f->stream, f->length);
}

void framer_feed(framer_t *f, const uint8_t *p, size_t n, const framer_sink_t *sink)
{
    if (!f->payload)
        f->payload = must(malloc(MAX_PAYLOAD));
    while (n > 0) {
        size_t k;
        switch (f->state) {
        case ST_LEN:
        case ST_HDR:
            k = (f->state == ST_LEN ? 4 : 9) - f->hdr_got;
            k = k < n ? k : n;
            memcpy(f->hdr + f->hdr_got, p, k);
            f->hdr_got += k;
            p += k;
            n -= k;
            if (f->state == ST_LEN && f->hdr_got == 4) {
                f->length = be32(f->hdr);
                f->state = ST_HDR;
                if (f->length < 5) {
                    f->state = ST_SKIP;
                    f->skip = f->length;
                    f->skip_code = E_BAD_FRAME;
                    if (f->skip == 0)
                        end_skip(f, sink);
                }
            } else if (f->state == ST_HDR && f->hdr_got == 9) {
                f->stream = be32(f->hdr + 4);
                if (f->length > MAX_LENGTH) {
                    f->state = ST_SKIP;
                    f->skip = f->length - 5;
                    f->skip_code = E_FRAME_TOO_LARGE;
                } else {
                    f->state = ST_PAYLOAD;
                    f->pgot = 0;
                    if (f->length == 5)
                        deliver(f, sink);
                }
            }
            break;
        case ST_PAYLOAD:
            k = f->length - 5 - f->pgot;
            k = k < n ? k : n;
            memcpy(f->payload + f->pgot, p, k);
            f->pgot += (uint32_t)k;
            p += k;
            n -= k;
            if (f->pgot == f->length - 5)
                deliver(f, sink);
            break;
        default: /* ST_SKIP: discard without buffering */
            k = f->skip < n ? (size_t)f->skip : n;
            f->skip -= k;
            p += k;
            n -= k;
            if (f->skip == 0)
                end_skip(f, sink);
        }
    }
}
