/*
 * dockerd's json-file format, the pure half of berth-logger (README.md is the contract): the
 * line splitter with dockerd's 16 KiB buffer, the JSON string escaper with dockerd's rules, the
 * RFC 3339 time and the whole entry. No syscall, no exit: fuzzed (native/fuzz/logger_fuzz.c).
 */
#ifndef BERTH_LOGGER_JSONLOG_H
#define BERTH_LOGGER_JSONLOG_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* dockerd's copier buffer: a line longer than this is cut into entries of this many bytes. */
#define LINE_BUF 16384
/* The escaper's worst case is 6 bytes out per byte in (\u00XX); the rest of an entry fits in 128. */
#define ENTRY_MAX (LINE_BUF * 6 + 128)
/* "2006-01-02T15:04:05.999999999Z" and its NUL. */
#define TIME_MAX 31

/* One stream's bytes not yet written: a line begun and not ended. */
struct splitter {
  uint8_t buf[LINE_BUF];
  size_t len;
};

/* Called for each piece: `newline` is 1 for a line that ended (the newline not in `line`), 0 for
 * a 16 KiB piece of a longer line, or what is left at the end of the stream. */
typedef void (*emit_fn)(void *ctx, const uint8_t *line, size_t len, int newline);

/* Room left after buf[len]: read straight into it, then splitter_commit the count read. */
size_t splitter_room(const struct splitter *s);
/* Takes n more bytes (already at buf[len]) and emits every line they complete, and the buffer
 * whole when it is full without a newline. */
void splitter_commit(struct splitter *s, size_t n, emit_fn emit, void *ctx);
/* The end of the stream: what is buffered goes out as a piece without a newline. */
void splitter_flush(struct splitter *s, emit_fn emit, void *ctx);

/* `in` as the inside of a JSON string, as dockerd writes it: \" \\ \n \r, \u00XX for the other
 * control bytes and < > &, \ufffd for each byte that does not start valid UTF-8, \u2028 and
 * \u2029; everything else as it is. `out` has room for 6 * n bytes. Returns the length. */
size_t json_escape(const uint8_t *in, size_t n, char *out);

/* Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, no fraction at all when
 * it is zero. Returns the length, or 0 for a year outside 0-9999 (Go refuses those too). */
size_t format_time(const struct timespec *ts, char out[TIME_MAX]);

/* One json-file line: {"log":"...","stream":"...","time":"..."} and a newline; the log is
 * line[0..len) plus "\n" when `newline`. Returns its length, or 0 if it does not fit in cap or
 * the time cannot be written. */
size_t format_entry(char *out, size_t cap, const uint8_t *line, size_t len, int newline, const char *stream,
                    const struct timespec *ts);
#endif
