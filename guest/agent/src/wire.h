/* Frame codec for the Basalt agent protocol (docs/protocol.md). No I/O here. */
#ifndef BASALT_WIRE_H
#define BASALT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MAX_PAYLOAD 1048576u
#define MAX_LENGTH (MAX_PAYLOAD + 5u)
#define MAX_FIELDS 7

enum msg_type {
    T_HELLO = 0x01, T_PING = 0x02, T_WINDOW = 0x03, T_CANCEL = 0x04,
    T_EXEC = 0x10, T_STDIN = 0x11, T_STDIN_CLOSE = 0x12, T_SIGNAL = 0x13, T_RESIZE = 0x14,
    T_FILE_WRITE = 0x20, T_FILE_DATA = 0x21, T_FILE_END = 0x22, T_FILE_READ = 0x23,
    T_STAT = 0x24, T_LIST = 0x25, T_MKDIR = 0x26, T_REMOVE = 0x27, T_RENAME = 0x28,
    T_SHUTDOWN = 0x30, T_IDENTITY = 0x31,
    T_OK = 0x80, T_HELLO_REPLY = 0x81, T_PONG = 0x82, T_ERROR = 0x8F,
    T_EXEC_STARTED = 0x90, T_STDOUT = 0x91, T_STDERR = 0x92, T_EXIT = 0x93,
    T_STAT_RESULT = 0xA1, T_DIR_ENTRIES = 0xA2,
};

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

/* Field kinds used in type schemas:
 * b u8, h u16, w u32, q u64, i i32, l i64, B bytes, S str, A strs, E entries */
typedef struct {
    uint8_t type;
    const char *name;
    const char *fmt;
    const char *fields[MAX_FIELDS];
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
