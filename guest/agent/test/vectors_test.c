/* Checks the C codec against protocol/vectors.txt: decode -> canonical text,
 * re-encode -> the same bytes, error vectors rejected with their code.
 * Usage: vectors_test path/to/vectors.txt */
#include "../src/wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *d;
    size_t len, cap;
} sb_t;

static void sb_add(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->d + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
    }
}

static void json_str(sb_t *b, const char *s)
{
    sb_add(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_add(b, "\\\""); break;
        case '\\': sb_add(b, "\\\\"); break;
        case '\b': sb_add(b, "\\b"); break;
        case '\f': sb_add(b, "\\f"); break;
        case '\n': sb_add(b, "\\n"); break;
        case '\r': sb_add(b, "\\r"); break;
        case '\t': sb_add(b, "\\t"); break;
        default:
            if (*p < 0x20)
                sb_add(b, "\\u%04x", *p);
            else
                sb_add(b, "%c", *p);
        }
    }
    sb_add(b, "\"");
}

static int64_t sext(uint64_t u, char k)
{
    return k == 'i' ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
}

static void canonical(const msg_t *m, sb_t *b)
{
    const schema_t *sc = schema_of(m->type);
    sb_add(b, "%s stream=%" PRIu32, sc->name, m->stream);
    for (int i = 0; i < sc->nfields; i++) {
        const field_t *f = &m->f[i];
        char k = sc->fields[i].kind;
        sb_add(b, " %s=", sc->fields[i].name);
        switch (k) {
        case 'B':
            sb_add(b, "hex:");
            for (uint32_t j = 0; j < f->len; j++)
                sb_add(b, "%02x", f->p[j]);
            break;
        case 'S':
            json_str(b, f->s);
            break;
        case 'A':
            sb_add(b, "[");
            for (uint32_t j = 0; j < f->n; j++) {
                if (j)
                    sb_add(b, ",");
                json_str(b, f->v[j]);
            }
            sb_add(b, "]");
            break;
        case 'E':
            sb_add(b, "[");
            for (uint32_t j = 0; j < f->n; j++) {
                const entry_t *e = &f->e[j];
                sb_add(b, "%s{", j ? "," : "");
                json_str(b, e->name);
                sb_add(b, ",%u,%" PRIu32 ",%" PRIu64 ",%" PRId64 "}", e->type, e->mode, e->size, e->mtime_ms);
            }
            sb_add(b, "]");
            break;
        case 'i':
        case 'l':
            sb_add(b, "%" PRId64, sext(f->u, k));
            break;
        default:
            sb_add(b, "%" PRIu64, f->u);
        }
    }
}

static int code_of(const char *name)
{
    for (int c = 1; c <= E_RESOURCE_EXHAUSTED; c++)
        if (strcmp(err_name(c), name) == 0)
            return c;
    return -1;
}

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2)
        sscanf(h, "%2hhx", &out[n++]);
    return n;
}

static int check(const char *name, const char *hex, const char *expected)
{
    size_t hl = strlen(hex);
    uint8_t *bytes = malloc(hl / 2 + 1);
    size_t n = unhex(hex, bytes);
    msg_t m;
    int rc = frame_decode(bytes, n, &m), ok = 1;
    if (strncmp(expected, "error ", 6) == 0) {
        int want = code_of(expected + 6);
        if (rc != want) {
            printf("FAIL %s: expected %s, got %s\n", name, expected, rc ? err_name(rc) : "success");
            ok = 0;
        }
    } else if (rc) {
        printf("FAIL %s: rejected with %s\n", name, err_name(rc));
        ok = 0;
    } else {
        sb_t text = {0};
        buf_t out = {0};
        canonical(&m, &text);
        if (strcmp(text.d, expected) != 0) {
            printf("FAIL %s:\n  expected %s\n  got      %s\n", name, expected, text.d);
            ok = 0;
        }
        msg_encode(&m, &out);
        if (out.len != n || memcmp(out.d, bytes, n) != 0) {
            printf("FAIL %s: re-encoding differs\n", name);
            ok = 0;
        }
        free(text.d);
        buf_free(&out);
    }
    if (rc == 0)
        msg_free(&m);
    free(bytes);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s vectors.txt\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int total = 0, failed = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        char *hex = strchr(line, '|');
        char *exp = hex ? strchr(hex + 1, '|') : NULL;
        if (!exp) {
            printf("FAIL malformed line: %s\n", line);
            failed++;
            continue;
        }
        *hex++ = 0;
        *exp++ = 0;
        total++;
        failed += !check(line, hex, exp);
    }
    free(line);
    fclose(f);
    printf("vectors: %d checked, %d failed\n", total, failed);
    return failed ? 1 : 0;
}
