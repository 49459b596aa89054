/* The pure half of berth-logger: see jsonlog.h. */
#include "jsonlog.h"

#include <string.h>

size_t splitter_room(const struct splitter *s) { return LINE_BUF - s->len; }

void splitter_commit(struct splitter *s, size_t n, emit_fn emit, void *ctx) {
  if (n > splitter_room(s)) n = splitter_room(s); /* a caller's bug must not overrun the buffer */
  s->len += n;
  size_t start = 0;
  for (;;) {
    uint8_t *nl = memchr(s->buf + start, '\n', s->len - start);
    if (!nl) break;
    size_t end = (size_t)(nl - s->buf);
    emit(ctx, s->buf + start, end - start, 1);
    start = end + 1;
  }
  /* As dockerd's copier: a full buffer without a newline goes out whole, as a piece. */
  if (start == 0 && s->len == LINE_BUF) {
    emit(ctx, s->buf, LINE_BUF, 0);
    s->len = 0;
    return;
  }
  memmove(s->buf, s->buf + start, s->len - start);
  s->len -= start;
}

void splitter_flush(struct splitter *s, emit_fn emit, void *ctx) {
  if (s->len > 0) emit(ctx, s->buf, s->len, 0);
  s->len = 0;
}

/* The length of the valid UTF-8 sequence (2-4 bytes) starting at s[0], or 0 (Go's DecodeRune
 * rules: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const uint8_t *s, size_t n) {
  uint8_t b = s[0], lo = 0x80, hi = 0xBF;
  size_t len;
  if (b >= 0xC2 && b <= 0xDF)
    len = 2;
  else if (b >= 0xE0 && b <= 0xEF)
    len = 3;
  else if (b >= 0xF0 && b <= 0xF4)
    len = 4;
  else
    return 0;
  if (b == 0xE0) lo = 0xA0;
  if (b == 0xED) hi = 0x9F;
  if (b == 0xF0) lo = 0x90;
  if (b == 0xF4) hi = 0x8F;
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return len;
}

size_t json_escape(const uint8_t *in, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    uint8_t b = in[i];
    if (b < 0x80) {
      i++;
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
        out[o++] = (char)b;
      } else if (b == '\\' || b == '"') {
        out[o++] = '\\';
        out[o++] = (char)b;
      } else if (b == '\n') {
        out[o++] = '\\';
        out[o++] = 'n';
      } else if (b == '\r') {
        out[o++] = '\\';
        out[o++] = 'r';
      } else {
        memcpy(out + o, "\\u00", 4);
        out[o + 4] = hex[b >> 4];
        out[o + 5] = hex[b & 0xF];
        o += 6;
      }
      continue;
    }
    size_t len = utf8_len(in + i, n - i);
    if (len == 0) {
      memcpy(out + o, "\\ufffd", 6);
      o += 6;
      i++;
    } else if (len == 3 && b == 0xE2 && in[i + 1] == 0x80 && (in[i + 2] == 0xA8 || in[i + 2] == 0xA9)) {
      /* U+2028 and U+2029 (3 bytes in, 6 out) */
      memcpy(out + o, in[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
      o += 6;
      i += 3;
    } else {
      memcpy(out + o, in + i, len);
      o += len;
      i += len;
    }
  }
  return o;
}

size_t format_time(const struct timespec *ts, char out[TIME_MAX]) {
  struct tm tm;
  if (ts->tv_nsec < 0 || ts->tv_nsec > 999999999 || !gmtime_r(&ts->tv_sec, &tm)) return 0;
  if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) return 0;
  size_t n = strftime(out, TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
  if (n != 19) return 0;
  long ns = ts->tv_nsec;
  if (ns) {
    char frac[10];
    for (int i = 8; i >= 0; i--, ns /= 10) frac[i] = (char)('0' + ns % 10);
    int digits = 9;
    while (frac[digits - 1] == '0') digits--;
    out[n++] = '.';
    memcpy(out + n, frac, (size_t)digits);
    n += (size_t)digits;
  }
  out[n++] = 'Z';
  out[n] = '\0';
  return n;
}

size_t format_entry(char *out, size_t cap, const uint8_t *line, size_t len, int newline, const char *stream,
                    const struct timespec *ts) {
  char t[TIME_MAX];
  size_t tlen = format_time(ts, t), slen = strlen(stream);
  /* Bounds first: the escaped log at its worst, the stream as it is (a fixed name), the rest. */
  if (tlen == 0 || len > LINE_BUF || slen > 16 || cap < len * 6 + slen + tlen + 48) return 0;
  size_t o = 0;
  memcpy(out + o, "{\"log\":\"", 8);
  o += 8;
  o += json_escape(line, len, out + o);
  if (newline) {
    memcpy(out + o, "\\n", 2);
    o += 2;
  }
  memcpy(out + o, "\",\"stream\":\"", 12);
  o += 12;
  memcpy(out + o, stream, slen);
  o += slen;
  memcpy(out + o, "\",\"time\":\"", 10);
  o += 10;
  memcpy(out + o, t, tlen);
  o += tlen;
  memcpy(out + o, "\"}\n", 3);
  return o + 3;
}
