/* Frame codec for the Basalt agent protocol (docs/protocol.md). No I/O here. */
#ifndef BASALT_WIRE_H
#define BASALT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MAX_PAYLOAD 1048576u
#define MAX_LENGTH (MAX_PAYLOAD + 5u)
#define MAX_FIELDS 9

/* Field kinds: b u8, h u16, w u32, q u64, i i32, l i64, B bytes, S str, A strs,
 * E entries (DIR_ENTRIES). */
enum field_kind {
    K_b = 'b', K_h = 'h', K_w = 'w', K_q = 'q', K_i = 'i', K_l = 'l',
    K_B = 'B', K_S = 'S', K_A = 'A', K_E = 'E',
};

/* Every message of protocol v1 (docs/protocol.md, "Messages"): one row each,
 * M(NAME, code, fields) where fields lists F(NAME, kind, field) in wire order.
 * The type codes, the codec's schemas, the field indexes (F_NAME_field) and the
 * typed accessors (NAME_field(m)) are all generated from this one table. */
#define WIRE_MESSAGES(M, F)                                                                    \
    M(HELLO, 0x01, F(HELLO, w, version))                                                       \
    M(PING, 0x02, F(PING, q, nonce))                                                           \
    M(WINDOW, 0x03, F(WINDOW, w, increment))                                                   \
    M(CANCEL, 0x04, )                                                                          \
    M(EXEC, 0x10, F(EXEC, A, argv) F(EXEC, A, env) F(EXEC, S, cwd) F(EXEC, w, timeout_ms)      \
                  F(EXEC, b, flags) F(EXEC, h, rows) F(EXEC, h, cols) F(EXEC, w, uid)          \
                  F(EXEC, w, gid))                                                             \
    M(STDIN, 0x11, F(STDIN, B, data))                                                          \
    M(STDIN_CLOSE, 0x12, )                                                                     \
    M(SIGNAL, 0x13, F(SIGNAL, i, signo))                                                       \
    M(RESIZE, 0x14, F(RESIZE, h, rows) F(RESIZE, h, cols))                                     \
    M(FILE_WRITE, 0x20, F(FILE_WRITE, S, path) F(FILE_WRITE, w, mode) F(FILE_WRITE, b, flags)  \
                        F(FILE_WRITE, w, uid) F(FILE_WRITE, w, gid))                           \
    M(FILE_DATA, 0x21, F(FILE_DATA, B, data))                                                  \
    M(FILE_END, 0x22, )                                                                        \
    M(FILE_READ, 0x23, F(FILE_READ, S, path))                                                  \
    M(STAT, 0x24, F(STAT, S, path))                                                            \
    M(LIST, 0x25, F(LIST, S, path))                                                            \
    M(MKDIR, 0x26, F(MKDIR, S, path) F(MKDIR, w, mode) F(MKDIR, b, flags) F(MKDIR, w, uid)     \
                   F(MKDIR, w, gid))                                                           \
    M(REMOVE, 0x27, F(REMOVE, S, path) F(REMOVE, b, recursive))                                \
    M(RENAME, 0x28, F(RENAME, S, from) F(RENAME, S, to))                                       \
    M(SHUTDOWN, 0x30, )                                                                        \
    M(IDENTITY, 0x31, F(IDENTITY, S, hostname) F(IDENTITY, l, time_ns) F(IDENTITY, B, seed))   \
    M(TUNNEL_ACCEPT, 0x40, F(TUNNEL_ACCEPT, h, port))                                          \
    M(TUNNEL_DATA, 0x41, F(TUNNEL_DATA, B, data))                                              \
    M(TUNNEL_EOF, 0x42, )                                                                      \
    M(OK, 0x80, )                                                                              \
    M(HELLO_REPLY, 0x81, F(HELLO_REPLY, w, version) F(HELLO_REPLY, S, agent_version)           \
                         F(HELLO_REPLY, S, kernel_release))                                    \
    M(PONG, 0x82, F(PONG, q, nonce))                                                           \
    M(ERROR, 0x8F, F(ERROR, h, code) F(ERROR, S, message))                                     \
    M(EXEC_STARTED, 0x90, F(EXEC_STARTED, i, pid))                                             \
    M(STDOUT, 0x91, F(STDOUT, B, data))                                                        \
    M(STDERR, 0x92, F(STDERR, B, data))                                                        \
    M(EXIT, 0x93, F(EXIT, b, kind) F(EXIT, i, value))                                          \
    M(STAT_RESULT, 0xA1, F(STAT_RESULT, b, type) F(STAT_RESULT, w, mode)                       \
                         F(STAT_RESULT, q, size) F(STAT_RESULT, l, mtime_ms))                  \
    M(DIR_ENTRIES, 0xA2, F(DIR_ENTRIES, E, entries))                                           \
    M(TUNNEL_OPENED, 0xB0, )

#define WIRE_NO_FIELD(msg, kind, field)
#define WIRE_TYPE_CODE(name, code, fields) T_##name = code,
enum msg_type { WIRE_MESSAGES(WIRE_TYPE_CODE, WIRE_NO_FIELD) };
#undef WIRE_TYPE_CODE

enum err_code {
    E_BAD_FRAME = 1, E_FRAME_TOO_LARGE, E_UNKNOWN_TYPE, E_UNSUPPORTED_VERSION,
    E_STREAM_BUSY, E_INVALID_ARGUMENT, E_NOT_FOUND, E_PERMISSION, E_EXISTS,
    E_NOT_A_DIRECTORY, E_IS_A_DIRECTORY, E_NOT_EMPTY, E_NO_SPACE, E_IO,
    E_CANCELLED, E_RESOURCE_EXHAUSTED,
};

/* A growable byte buffer; bytes [off, len) are pending. */
typedef struct {
    uint8_t *d;
    size_t len, cap, off;
} buf_t;

void buf_put(buf_t *b, const void *p, size_t n);
void buf_consume(buf_t *b, size_t n);
size_t buf_pending(const buf_t *b);
void buf_free(buf_t *b);
/* Returns p, or aborts when an allocation failed (the agent cannot go on). */
void *must(void *p) __attribute__((returns_nonnull));

typedef struct {
    char *name;
    uint8_t type;
    uint32_t mode;
    uint64_t size;
    int64_t mtime_ms;
} entry_t;

/* One decoded field. Integers live in u (signed ones as two's complement);
 * bytes in p/len (pointing into the decoded payload); str in s (owned,
 * NUL-terminated, len = byte length); strs in v/n (owned); entries in e/n. */
typedef struct {
    uint64_t u;
    const uint8_t *p;
    uint32_t len;
    char *s;
    char **v;
    entry_t *e;
    uint32_t n;
} field_t;

typedef struct {
    uint32_t stream;
    uint8_t type;
    int owned; /* fields own their strings (decoded) */
    field_t f[MAX_FIELDS];
} msg_t;

/* Field indexes, F_NAME_field, and F_NAME__count, the number of fields of NAME. */
#define WIRE_FIELD_INDEX(msg, kind, field) F_##msg##_##field,
#define WIRE_FIELD_INDEXES(name, code, fields)                                                 \
    enum { fields F_##name##__count };                                                         \
    _Static_assert(F_##name##__count <= MAX_FIELDS, #name " has more than MAX_FIELDS fields");
WIRE_MESSAGES(WIRE_FIELD_INDEXES, WIRE_FIELD_INDEX)
#undef WIRE_FIELD_INDEXES
#undef WIRE_FIELD_INDEX

/* What the accessor of each field kind returns. */
typedef uint8_t wire_b_t;
typedef uint16_t wire_h_t;
typedef uint32_t wire_w_t;
typedef uint64_t wire_q_t;
typedef int32_t wire_i_t;
typedef int64_t wire_l_t;
typedef struct { const uint8_t *p; uint32_t len; } wire_B_t;
typedef const char *wire_S_t;
typedef struct { char *const *v; uint32_t n; } wire_A_t;
typedef struct { const entry_t *e; uint32_t n; } wire_E_t;

static inline wire_b_t wire_get_b(const msg_t *m, int i) { return (uint8_t)m->f[i].u; }
static inline wire_h_t wire_get_h(const msg_t *m, int i) { return (uint16_t)m->f[i].u; }
static inline wire_w_t wire_get_w(const msg_t *m, int i) { return (uint32_t)m->f[i].u; }
static inline wire_q_t wire_get_q(const msg_t *m, int i) { return m->f[i].u; }
static inline wire_i_t wire_get_i(const msg_t *m, int i) { return (int32_t)(uint32_t)m->f[i].u; }
static inline wire_l_t wire_get_l(const msg_t *m, int i) { return (int64_t)m->f[i].u; }
static inline wire_B_t wire_get_B(const msg_t *m, int i) { return (wire_B_t){m->f[i].p, m->f[i].len}; }
static inline wire_S_t wire_get_S(const msg_t *m, int i) { return m->f[i].s; }
static inline wire_A_t wire_get_A(const msg_t *m, int i) { return (wire_A_t){m->f[i].v, m->f[i].n}; }
static inline wire_E_t wire_get_E(const msg_t *m, int i) { return (wire_E_t){m->f[i].e, m->f[i].n}; }

/* Typed accessors of a decoded message, by name: EXEC_flags(m) is a uint8_t,
 * EXEC_argv(m).v[0] a string, STDIN_data(m).len a length. Only for a message of
 * that type (the caller has switched on m->type). */
#define WIRE_ACCESSOR(msg, kind, field)                                                        \
    static inline wire_##kind##_t msg##_##field(const msg_t *m) { return wire_get_##kind(m, F_##msg##_##field); }
#define WIRE_ACCESSORS(name, code, fields) fields
WIRE_MESSAGES(WIRE_ACCESSORS, WIRE_ACCESSOR)
#undef WIRE_ACCESSORS
#undef WIRE_ACCESSOR

/* The codec's description of a message type, generated from WIRE_MESSAGES. */
typedef struct {
    char kind; /* enum field_kind */
    const char *name;
} field_schema_t;

typedef struct {
    uint8_t type;
    const char *name;
    int nfields;
    field_schema_t fields[MAX_FIELDS + 1]; /* {0, NULL} after the last */
} schema_t;

const schema_t *schema_of(uint8_t type);
const char *err_name(int code);

/* Decodes the payload of a frame into m. Returns 0, E_BAD_FRAME, E_UNKNOWN_TYPE
 * or E_INVALID_ARGUMENT (unknown flag bits in EXEC / FILE_WRITE). */
int msg_decode(uint32_t stream, uint8_t type, const uint8_t *p, uint32_t len, msg_t *m);
/* Decodes one complete frame (length prefix included). Returns 0 or an error code. */
int frame_decode(const uint8_t *p, size_t n, msg_t *m);
void msg_free(msg_t *m);
/* Appends the encoded frame to out. Returns 0, or E_FRAME_TOO_LARGE (nothing appended). */
int msg_encode(const msg_t *m, buf_t *out);

#endif
