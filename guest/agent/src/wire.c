/* Frame codec: schema-driven decode/encode of every protocol v1 message. */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define SCHEMA_FIELD(msg, kind, field) {K_##kind, #field},
#define SCHEMA(name, code, fields) {T_##name, #name, F_##name##__count, {fields {0, NULL}}},
static const schema_t SCHEMAS[] = {WIRE_MESSAGES(SCHEMA, SCHEMA_FIELD)};
#undef SCHEMA
#undef SCHEMA_FIELD

static const char *ERR_NAMES[] = {
    "", "BAD_FRAME", "FRAME_TOO_LARGE", "UNKNOWN_TYPE", "UNSUPPORTED_VERSION",
    "STREAM_BUSY", "INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION", "EXISTS",
    "NOT_A_DIRECTORY", "IS_A_DIRECTORY", "NOT_EMPTY", "NO_SPACE", "IO",
    "CANCELLED", "RESOURCE_EXHAUSTED",
};

const schema_t *schema_of(uint8_t type)
{
    for (size_t i = 0; i < sizeof SCHEMAS / sizeof SCHEMAS[0]; i++)
        if (SCHEMAS[i].type == type)
            return &SCHEMAS[i];
    return NULL;
}

const char *err_name(int code)
{
    if (code < 1 || code > E_RESOURCE_EXHAUSTED)
        return "UNKNOWN";
    return ERR_NAMES[code];
}

/* ---- buffers ---- */

void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

void buf_put(buf_t *b, const void *p, size_t n)
{
    if (b->off > 0 && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->off > 0) { /* compact first */
            memmove(b->d, b->d + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + n)
                cap *= 2;
            b->d = must(realloc(b->d, cap));
            b->cap = cap;
        }
    }
    if (n)
        memcpy(b->d + b->len, p, n);
    b->len += n;
}

void buf_consume(buf_t *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

size_t buf_pending(const buf_t *b) { return b->len - b->off; }

void buf_free(buf_t *b)
{
    free(b->d);
    memset(b, 0, sizeof *b);
}

/* ---- decoding ---- */

typedef struct {
    const uint8_t *p;
    uint32_t len, pos;
    int bad;
} rd_t;

static uint64_t rd_int(rd_t *r, unsigned n)
{
    uint64_t v = 0;
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return 0;
    }
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | r->p[r->pos++];
    return v;
}

static const uint8_t *rd_bytes(rd_t *r, uint32_t *len)
{
    *len = (uint32_t)rd_int(r, 4);
    if (r->bad || r->len - r->pos < *len) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += *len;
    return p;
}

static char *rd_str(rd_t *r, uint32_t *len)
{
    /* No NUL allowed. Invalid UTF-8 is accepted as is: Linux file names are
     * bytes (the Java codec decodes leniently, invalid sequences -> U+FFFD). */
    const uint8_t *p = rd_bytes(r, len);
    if (!p || memchr(p, 0, *len)) {
        r->bad = 1;
        return NULL;
    }
    char *s = must(malloc(*len + 1));
    memcpy(s, p, *len);
    s[*len] = 0;
    return s;
}

static unsigned int_width(char k)
{
    switch (k) {
    case 'b': return 1;
    case 'h': return 2;
    case 'w': case 'i': return 4;
    default: return 8;
    }
}

/* Upper bound on elements so a hostile count cannot make us allocate much. */
static int count_ok(rd_t *r, uint32_t n, uint32_t min_each)
{
    if ((uint64_t)n * min_each > r->len - r->pos) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static void rd_field(rd_t *r, char k, field_t *f)
{
    uint32_t len;
    switch (k) {
    case 'B':
        f->p = rd_bytes(r, &f->len);
        break;
    case 'S':
        f->s = rd_str(r, &f->len);
        break;
    case 'A':
        f->n = (uint32_t)rd_int(r, 4);
        if (r->bad || !count_ok(r, f->n, 4))
            return;
        f->v = must(calloc(f->n + 1, sizeof(char *)));
        for (uint32_t i = 0; i < f->n && !r->bad; i++)
            f->v[i] = rd_str(r, &len);
        break;
    case 'E':
        f->n = (uint32_t)rd_int(r, 4);
        if (r->bad || !count_ok(r, f->n, 4 + 1 + 4 + 8 + 8))
            return;
        f->e = must(calloc(f->n + 1, sizeof(entry_t)));
        for (uint32_t i = 0; i < f->n && !r->bad; i++) {
            entry_t *e = &f->e[i];
            e->name = rd_str(r, &len);
            e->type = (uint8_t)rd_int(r, 1);
            e->mode = (uint32_t)rd_int(r, 4);
            e->size = rd_int(r, 8);
            e->mtime_ms = (int64_t)rd_int(r, 8);
        }
        break;
    default:
        f->u = rd_int(r, int_width(k));
    }
}

/* Value checks beyond the field syntax: 0, E_BAD_FRAME, or E_INVALID_ARGUMENT
 * for unknown flag bits (the error table's "bad flags"). */
static int values_check(const msg_t *m)
{
    switch (m->type) {
    case T_WINDOW: return WINDOW_increment(m) > 0 ? 0 : E_BAD_FRAME;
    case T_REMOVE: return REMOVE_recursive(m) <= 1 ? 0 : E_BAD_FRAME;
    case T_EXEC: return (EXEC_flags(m) & ~0x0Fu) ? E_INVALID_ARGUMENT : 0;
    case T_FILE_WRITE: return (FILE_WRITE_flags(m) & ~0x07u) ? E_INVALID_ARGUMENT : 0;
    case T_MKDIR: return (MKDIR_flags(m) & ~0x01u) ? E_INVALID_ARGUMENT : 0;
    default: return 0;
    }
}

int msg_decode(uint32_t stream, uint8_t type, const uint8_t *p, uint32_t len, msg_t *m)
{
    memset(m, 0, sizeof *m);
    m->stream = stream;
    m->type = type;
    m->owned = 1;
    const schema_t *sc = schema_of(type);
    if (!sc)
        return E_UNKNOWN_TYPE;
    rd_t r = {p, len, 0, 0};
    for (int i = 0; i < sc->nfields && !r.bad; i++)
        rd_field(&r, sc->fields[i].kind, &m->f[i]);
    int rc = (r.bad || r.pos != r.len) ? E_BAD_FRAME : values_check(m);
    if (rc)
        msg_free(m);
    return rc;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int frame_decode(const uint8_t *p, size_t n, msg_t *m)
{
    memset(m, 0, sizeof *m);
    if (n < 4)
        return E_BAD_FRAME;
    uint32_t length = be32(p);
    if (length < 5)
        return E_BAD_FRAME;
    if (length > MAX_LENGTH)
        return E_FRAME_TOO_LARGE;
    if (n - 4 != length)
        return E_BAD_FRAME;
    return msg_decode(be32(p + 4), p[8], p + 9, length - 5, m);
}

void msg_free(msg_t *m)
{
    if (!m->owned)
        return;
    for (int i = 0; i < MAX_FIELDS; i++) {
        field_t *f = &m->f[i];
        free(f->s);
        if (f->v)
            for (uint32_t j = 0; j < f->n; j++)
                free(f->v[j]);
        free(f->v);
        if (f->e)
            for (uint32_t j = 0; j < f->n; j++)
                free(f->e[j].name);
        free(f->e);
    }
    memset(m->f, 0, sizeof m->f);
}

/* ---- encoding ---- */

static void put_int(buf_t *b, uint64_t v, unsigned n)
{
    uint8_t t[8];
    for (unsigned i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    buf_put(b, t, n);
}

static void put_bytes(buf_t *b, const void *p, uint32_t n)
{
    put_int(b, n, 4);
    buf_put(b, p, n);
}

static void put_str(buf_t *b, const char *s)
{
    put_bytes(b, s ? s : "", s ? (uint32_t)strlen(s) : 0);
}

static void put_field(buf_t *b, char k, const field_t *f)
{
    switch (k) {
    case 'B':
        put_bytes(b, f->p, f->len);
        break;
    case 'S':
        put_str(b, f->s);
        break;
    case 'A':
        put_int(b, f->n, 4);
        for (uint32_t i = 0; i < f->n; i++)
            put_str(b, f->v[i]);
        break;
    case 'E':
        put_int(b, f->n, 4);
        for (uint32_t i = 0; i < f->n; i++) {
            const entry_t *e = &f->e[i];
            put_str(b, e->name);
            put_int(b, e->type, 1);
            put_int(b, e->mode, 4);
            put_int(b, e->size, 8);
            put_int(b, (uint64_t)e->mtime_ms, 8);
        }
        break;
    default:
        put_int(b, f->u, int_width(k));
    }
}

int msg_encode(const msg_t *m, buf_t *out)
{
    const schema_t *sc = schema_of(m->type);
    /* offsets relative to out->off survive buf_put's compaction */
    size_t start = out->len - out->off;
    uint8_t hdr[9] = {0};
    buf_put(out, hdr, sizeof hdr);
    for (int i = 0; sc && i < sc->nfields; i++)
        put_field(out, sc->fields[i].kind, &m->f[i]);
    size_t length = out->len - out->off - start - 4;
    if (length > MAX_LENGTH) {
        out->len = out->off + start;
        return E_FRAME_TOO_LARGE;
    }
    uint8_t *h = out->d + out->off + start;
    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(length >> (24 - 8 * i));
        h[4 + i] = (uint8_t)(m->stream >> (24 - 8 * i));
    }
    h[8] = m->type;
    return 0;
}
