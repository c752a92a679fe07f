/* libFuzzer target for the agent's decoders (docs/protocol.md, "Fuzzing").
 *
 * The input is a byte stream from the host. It goes through the framer twice, once whole
 * and once split at pseudo-random points derived from the input; both passes must report
 * exactly the same frames and skips. Every frame goes through msg_decode, which must
 * either fail with one of its documented codes or succeed, and a decoded message must
 * re-encode to exactly the bytes it came from (strings are bytes to the agent, so the
 * round trip is exact), with every str NUL-terminated at its length and every strs
 * NULL-terminated. frame_decode of the frame's bytes must agree with msg_decode.
 *
 * Built by guest/agent/test/run.sh and bin/fuzz with clang -fsanitize=fuzzer,address,undefined:
 * any out-of-bounds access, leak, undefined behaviour or failed check aborts with the input. */
#include "../../src/framer.h"
#include "../../src/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "frames_fuzz: check failed at line %d: %s\n", __LINE__, #cond);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* What one pass over the input reported, as comparable bytes. */
typedef struct {
    buf_t log;
    int check; /* decode and round-trip every frame (first pass only) */
} pass_t;

static void put_u32(buf_t *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    buf_put(b, t, 4);
}

static void check_fields(const msg_t *m)
{
    const schema_t *sc = schema_of(m->type);
    for (int i = 0; i < sc->nfields; i++) {
        const field_t *f = &m->f[i];
        switch (sc->fields[i].kind) {
        case K_S:
            CHECK(f->s && strlen(f->s) == f->len);
            break;
        case K_A:
            CHECK(f->v && f->v[f->n] == NULL);
            for (uint32_t j = 0; j < f->n; j++)
                CHECK(f->v[j] != NULL);
            break;
        case K_E:
            CHECK(f->e != NULL);
            for (uint32_t j = 0; j < f->n; j++)
                CHECK(f->e[j].name != NULL);
            break;
        case K_B:
            CHECK(f->p != NULL || f->len == 0);
            break;
        default:
            break;
        }
    }
}

static void check_frame(uint32_t stream, uint8_t type, const uint8_t *payload, uint32_t len)
{
    /* the frame as it was on the wire */
    buf_t wire = {0};
    put_u32(&wire, len + 5);
    put_u32(&wire, stream);
    buf_put(&wire, &type, 1);
    buf_put(&wire, payload, len);

    msg_t m;
    int rc = msg_decode(stream, type, payload, len, &m);
    CHECK(rc == 0 || rc == E_BAD_FRAME || rc == E_UNKNOWN_TYPE || rc == E_INVALID_ARGUMENT);
    CHECK((rc == E_UNKNOWN_TYPE) == (schema_of(type) == NULL));
    if (rc == 0) {
        CHECK(m.stream == stream && m.type == type);
        check_fields(&m);
        buf_t out = {0};
        CHECK(msg_encode(&m, &out) == 0);
        CHECK(buf_pending(&out) == buf_pending(&wire));
        CHECK(memcmp(out.d + out.off, wire.d + wire.off, buf_pending(&wire)) == 0);
        buf_free(&out);
        msg_free(&m);
    }
    msg_t again;
    CHECK(frame_decode(wire.d + wire.off, buf_pending(&wire), &again) == rc);
    if (rc == 0)
        msg_free(&again);
    buf_free(&wire);
}

static void on_frame(void *ctx, uint32_t stream, uint8_t type, const uint8_t *payload, uint32_t len)
{
    pass_t *p = ctx;
    CHECK(len <= MAX_PAYLOAD);
    buf_put(&p->log, "F", 1);
    put_u32(&p->log, stream);
    buf_put(&p->log, &type, 1);
    put_u32(&p->log, len);
    buf_put(&p->log, payload, len);
    if (p->check)
        check_frame(stream, type, payload, len);
}

static void on_skipped(void *ctx, int code, uint32_t stream, uint32_t length)
{
    pass_t *p = ctx;
    CHECK((code == E_BAD_FRAME && length < 5 && stream == 0) || (code == E_FRAME_TOO_LARGE && length > MAX_LENGTH));
    buf_put(&p->log, "S", 1);
    put_u32(&p->log, (uint32_t)code);
    put_u32(&p->log, stream);
    put_u32(&p->log, length);
}

/* A deterministic chunk size from the input's hash: mostly small, sometimes large. */
static size_t next_chunk(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    switch (x % 4) {
    case 0: return 1;
    case 1: return 1 + (size_t)(x >> 8) % 8;
    case 2: return 1 + (size_t)(x >> 8) % 64;
    default: return 1 + (size_t)(x >> 8) % 4096;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static framer_t whole, split;
    framer_reset(&whole);
    framer_reset(&split);

    pass_t a = {.check = 1}, b = {.check = 0};
    framer_sink_t sa = {on_frame, on_skipped, &a}, sb = {on_frame, on_skipped, &b};
    framer_feed(&whole, data, size, &sa);

    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a of the input seeds the split points */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    h |= 1;
    for (size_t pos = 0; pos < size;) {
        size_t k = next_chunk(&h);
        k = k < size - pos ? k : size - pos;
        framer_feed(&split, data + pos, k, &sb);
        pos += k;
    }

    CHECK(buf_pending(&a.log) == buf_pending(&b.log));
    CHECK(buf_pending(&a.log) == 0 || memcmp(a.log.d + a.log.off, b.log.d + b.log.off, buf_pending(&a.log)) == 0);
    CHECK(framer_idle(&whole) == framer_idle(&split));
    buf_free(&a.log);
    buf_free(&b.log);
    return 0;
}
