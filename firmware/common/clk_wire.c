/* See clk_wire.h. Portable C99: no allocation, no platform headers. The message codec is
 * generated (clk_spec.c); this file frames it. */
#include "clk_wire.h"

#include <limits.h>
#include <string.h>

/* The reject reasons and the firmware's own error codes share one negative range. */
typedef char clk_reject_reasons_below_own_codes[CLK_REJECT_COUNT <= CLK_E_FIRST ? 1 : -1];

uint16_t clk_crc16(const uint8_t *data, size_t len) {
    uint16_t crc = 0xFFFFu;
    size_t i;
    int b;
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (b = 0; b < 8; b++) crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

int clk_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    size_t o = 1, code_at = 0, i;
    uint8_t code = 1;
    if (len > (size_t)INT_MAX / 2u) return -CLK_E_RANGE;
    if (cap < len + len / 254u + 1u) return -CLK_E_NOSPACE; /* the worst case, checked once */
    for (i = 0; i < len; i++) {
        if (in[i] != 0) {
            out[o++] = in[i];
            code++;
        }
        /* A full block (254 data bytes) closes without an implied zero; the last one stays
         * open so that no empty block follows it (the encoding of the cobs package). */
        if (in[i] == 0 || (code == 0xFF && i + 1 < len)) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        }
    }
    out[code_at] = code;
    return (int)o;
}

int clk_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    size_t i = 0, o = 0;
    if (len > (size_t)INT_MAX) return -CLK_E_RANGE;
    while (i < len) {
        uint8_t code = in[i++];
        uint8_t k;
        if (code == 0) return -CLK_BAD_COBS;
        if (i + (size_t)(code - 1) > len) return -CLK_BAD_COBS;
        for (k = 1; k < code; k++) {
            if (in[i] == 0) return -CLK_BAD_COBS;
            if (o >= cap) return -CLK_E_NOSPACE;
            out[o++] = in[i++];
        }
        if (code != 0xFF && i < len) {
            if (o >= cap) return -CLK_E_NOSPACE;
            out[o++] = 0;
        }
    }
    return (int)o;
}

static void le_put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static uint16_t le_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

int clk_pack(const clk_msg *m, uint8_t frame[CLK_MAX_DECODED]) {
    int n = clk_payload(m, frame + CLK_HEADER_SIZE);
    if (n < 0) return n;
    frame[0] = CLK_VERSION;
    frame[1] = m->type;
    frame[2] = m->flags;
    le_put16(frame + 3, m->seq);
    n += (int)CLK_HEADER_SIZE;
    le_put16(frame + n, clk_crc16(frame, (size_t)n));
    return n + (int)CLK_CRC_SIZE;
}

int clk_encode(const clk_msg *m, uint8_t *out, size_t cap) {
    uint8_t frame[CLK_MAX_DECODED];
    int n, enc;
    n = clk_pack(m, frame);
    if (n < 0) return n;
    if (cap < 2) return -CLK_E_NOSPACE;
    enc = clk_cobs_encode(frame, (size_t)n, out, cap - 1);
    if (enc < 0) return enc;
    out[enc] = 0;
    return enc + 1;
}

int clk_parse(const uint8_t *f, size_t len, clk_msg *m) {
    int r;
    if (len < CLK_HEADER_SIZE + CLK_CRC_SIZE || len > CLK_MAX_DECODED) return -CLK_BAD_LENGTH;
    if (clk_crc16(f, len - 2) != le_get16(f + len - 2)) return -CLK_BAD_CRC;
    if (f[0] != CLK_VERSION) return -CLK_BAD_VERSION;
    r = clk_parse_payload(f[1], f + CLK_HEADER_SIZE, len - CLK_HEADER_SIZE - CLK_CRC_SIZE, m);
    m->flags = f[2];
    m->seq = le_get16(f + 3);
    return r;
}

int clk_air_pack(const clk_msg *m, uint8_t out[CLK_MAX_AIR]) {
    int n;
    if (!clk_air_type(m->type)) return -CLK_UNKNOWN_TYPE;
    n = clk_payload(m, out + CLK_AIR_HEADER_SIZE);
    if (n < 0) return n;
    out[0] = m->type;
    return n + (int)CLK_AIR_HEADER_SIZE;
}

int clk_air_parse(const uint8_t *air, size_t len, clk_msg *m) {
    if (len < CLK_AIR_HEADER_SIZE || !clk_air_type(air[0])) {
        memset(m, 0, sizeof *m);
        return len < CLK_AIR_HEADER_SIZE ? -CLK_BAD_LENGTH : -CLK_UNKNOWN_TYPE;
    }
    return clk_parse_payload(air[0], air + CLK_AIR_HEADER_SIZE, len - CLK_AIR_HEADER_SIZE, m);
}

void clk_stream_init(clk_stream *s) { memset(s, 0, sizeof *s); }

static void finish(clk_stream *s, clk_frame_cb cb, void *ctx) {
    uint8_t frame[CLK_MAX_ENCODED]; /* decoding never grows: the buffer always fits */
    clk_msg m;
    int n = clk_cobs_decode(s->buf, s->len, frame, sizeof frame), r;
    if (n < 0) {
        s->rejected[CLK_BAD_COBS]++;
        return;
    }
    r = clk_parse(frame, (size_t)n, &m);
    if (r < 0) {
        s->rejected[-r]++;
        return;
    }
    s->frames++;
    if (cb) cb(ctx, &m);
}

void clk_stream_feed(clk_stream *s, const uint8_t *data, size_t len, clk_frame_cb cb, void *ctx) {
    size_t i;
    for (i = 0; i < len; i++) {
        uint8_t b = data[i];
        if (b == 0) {
            if (!s->skipping && s->len) finish(s, cb, ctx);
            s->skipping = 0;
            s->len = 0;
        } else if (!s->skipping) {
            if (s->len == sizeof s->buf) {
                s->rejected[CLK_OVERSIZE]++;
                s->skipping = 1;
                s->len = 0;
            } else {
                s->buf[s->len++] = b;
            }
        }
    }
}
