/*
 * libFuzzer harness for berth-logger's pure half (native/berth-logger/jsonlog.c): the line
 * splitter, the JSON escaper, the time and the entry. Built and run by scripts/fuzz-native.sh.
 *
 * An input's first byte says how long the stream is (from 128 up, the rest repeated to about
 * 160 times the byte's excess over 128: lines past the 16 KiB buffer from libFuzzer's short
 * inputs; below 128, the rest once, which is quicker), the second picks the read sizes (a pipe hands
 * bytes over in any pieces), the next 8 a time; the rest, repeated, is a stream's bytes. Each result is checked another way: the pieces
 * put back together are the stream, each piece as dockerd cuts it; every escaped piece decodes
 * (with a JSON string decoder written here) to the piece with each byte that does not start
 * valid UTF-8 replaced by U+FFFD, and holds no raw control byte, < > & or invalid UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "../berth-logger/jsonlog.c"

#define CHECK(c) \
  do {           \
    if (!(c)) __builtin_trap(); \
  } while (0)

struct rebuilt {
  uint8_t *buf;
  size_t len;
  int ended; /* the flush came: no piece may follow */
};

/* A code point from a UTF-8 sequence of `len` bytes, checked by value (not by byte ranges as
 * jsonlog.c does): -1 when it is overlong, a surrogate, above U+10FFFF or a byte is no
 * continuation byte. */
static long decode_cp(const uint8_t *s, size_t n, size_t len) {
  if (len > n) return -1;
  static const long lead_mask[] = {0, 0, 0x1F, 0x0F, 0x07};
  static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
  long cp = s[0] & lead_mask[len];
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return cp;
}

static size_t seq_len(uint8_t b) { return b >= 0xF8 ? 0 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0; }

/* What the escaped text must decode to. */
static size_t expected(const uint8_t *in, size_t n, uint8_t *out) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    if (in[i] < 0x80) {
      out[o++] = in[i++];
      continue;
    }
    size_t len = seq_len(in[i]);
    if (len && decode_cp(in + i, n - i, len) >= 0) {
      memcpy(out + o, in + i, len);
      o += len;
      i += len;
    } else {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    }
  }
  return o;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes the inside of a JSON string (the escapes json_escape may write); -1 when it is not one. */
static long unescape(const char *in, size_t n, uint8_t *out) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    uint8_t c = (uint8_t)in[i];
    CHECK(c >= 0x20 && c != '"' && c != '<' && c != '>' && c != '&');
    if (c != '\\') {
      out[o++] = c;
      i++;
      continue;
    }
    if (i + 1 >= n) return -1;
    char e = in[i + 1];
    if (e == '"' || e == '\\') {
      out[o++] = (uint8_t)e;
      i += 2;
    } else if (e == 'n' || e == 'r') {
      out[o++] = e == 'n' ? '\n' : '\r';
      i += 2;
    } else if (e == 'u' && i + 6 <= n) {
      long cp = 0;
      for (int k = 2; k < 6; k++) {
        int h = hexval(in[i + k]);
        if (h < 0) return -1;
        cp = cp * 16 + h;
      }
      if (cp < 0x80) {
        out[o++] = (uint8_t)cp;
      } else {
        /* \ufffd, \u2028, \u2029: 3 bytes each */
        out[o++] = (uint8_t)(0xE0 | (cp >> 12));
        out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
      }
      i += 6;
    } else {
      return -1;
    }
  }
  return (long)o;
}

static char escaped[LINE_BUF * 6];
static uint8_t want[LINE_BUF * 3], got[LINE_BUF * 3];
static char entry_buf[ENTRY_MAX];
static struct timespec when;

static void check_piece(const uint8_t *line, size_t len, int newline) {
  size_t n = json_escape(line, len, escaped);
  CHECK(n <= len * 6);
  /* Raw bytes above 0x7f must be valid UTF-8 (decode_cp says so another way). */
  for (size_t i = 0; i < n;) {
    uint8_t b = (uint8_t)escaped[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    size_t l = seq_len(b);
    CHECK(l && decode_cp((const uint8_t *)escaped + i, n - i, l) >= 0);
    i += l;
  }
  long u = unescape(escaped, n, got);
  size_t w = expected(line, len, want);
  CHECK(u >= 0 && (size_t)u == w && memcmp(got, want, w) == 0);

  size_t e = format_entry(entry_buf, sizeof entry_buf, line, len, newline, "stdout", &when);
  char t[TIME_MAX];
  size_t tl = format_time(&when, t);
  CHECK((e == 0) == (tl == 0));
  if (e) {
    CHECK(memcmp(entry_buf, "{\"log\":\"", 8) == 0 && memcmp(entry_buf + e - 3, "\"}\n", 3) == 0);
    CHECK(memchr(entry_buf, '\n', e) == entry_buf + e - 1);
  }
}

static void collect(void *ctx, const uint8_t *line, size_t len, int newline) {
  struct rebuilt *r = ctx;
  CHECK(!r->ended);
  CHECK(len <= LINE_BUF && memchr(line, '\n', len) == NULL);
  /* A piece without a newline is a full buffer, unless it is the last thing of the stream. */
  if (!newline && len != LINE_BUF) r->ended = 1;
  CHECK(newline || len > 0);
  memcpy(r->buf + r->len, line, len);
  r->len += len;
  if (newline) r->buf[r->len++] = '\n';
  check_piece(line, len, newline);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 10) return 0;
  size_t one = size - 10;
  size_t reps = one && data[0] >= 128 ? 1 + (size_t)(data[0] - 128) * 160 / one : 1;
  unsigned step = data[1] ? data[1] : 1;
  int64_t secs;
  memcpy(&secs, data + 2, 8);
  when.tv_sec = (time_t)(secs % 400000000000LL);
  when.tv_nsec = (long)((uint64_t)secs % 1000000000ULL);
  size = one * reps;
  uint8_t *stream = malloc(size + 1);
  CHECK(stream != NULL);
  for (size_t i = 0; i < reps; i++) memcpy(stream + i * one, data + 10, one);
  data = stream;

  char t[TIME_MAX];
  size_t tl = format_time(&when, t);
  if (tl) {
    CHECK(tl >= 20 && tl <= 30 && t[tl - 1] == 'Z' && t[4] == '-' && t[10] == 'T');
    CHECK(tl == 20 || (t[19] == '.' && t[tl - 2] != '0'));
  }

  static struct splitter sp;
  struct rebuilt r = {malloc(size + 1), 0, 0};
  CHECK(r.buf != NULL);
  sp.len = 0;
  size_t at = 0, k = 0;
  while (at < size) {
    size_t room = splitter_room(&sp);
    CHECK(room > 0);
    size_t n = (step * (++k)) % 4099 + 1;
    if (n > room) n = room;
    if (n > size - at) n = size - at;
    memcpy(sp.buf + sp.len, data + at, n);
    splitter_commit(&sp, n, collect, &r);
    at += n;
  }
  splitter_flush(&sp, collect, &r);
  CHECK(r.len == size && memcmp(r.buf, data, size) == 0);
  free(r.buf);
  free(stream);
  return 0;
}
