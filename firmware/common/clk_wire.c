/* See clk_wire.h. Portable C99: no allocation, no platform headers. */
#include "clk_wire.h"

#include <string.h>

static const char *const REJECT_NAMES[CLK_REJECT_COUNT] = {
    "ok", "bad_cobs", "bad_crc", "bad_length", "bad_version", "unknown_type", "bad_flags", "oversize"};

const char *clk_reject_name(enum clk_reject r) {
    return (unsigned)r < CLK_REJECT_COUNT ? REJECT_NAMES[r] : "?";
}

uint16_t clk_crc16(const uint8_t *data, size_t len) {
    uint16_t crc = 0xFFFFu;
    size_t i;
    int b;
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t clk_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    size_t o = 1, code_at = 0, i;
    uint8_t code = 1;
    if (cap < len + len / 254u + 1u) return 0; /* the worst case, checked once */
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
    return o;
}

size_t clk_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int *ok) {
    size_t i = 0, o = 0;
    *ok = 0;
    while (i < len) {
        uint8_t code = in[i++];
        uint8_t k;
        if (code == 0) return 0;
        if (i + (size_t)(code - 1) > len) return 0;
        for (k = 1; k < code; k++) {
            if (in[i] == 0 || o >= cap) return 0;
            out[o++] = in[i++];
        }
        if (code != 0xFF && i < len) {
            if (o >= cap) return 0;
            out[o++] = 0;
        }
    }
    *ok = 1;
    return o;
}

/* --- little-endian helpers --- */
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

size_t clk_payload(const clk_msg *m, uint8_t *p) {
    switch (m->type) {
    case CLK_HELLO:
        p[0] = m->u.hello.proto; put32(p + 1, m->u.hello.hub_nonce); return 5;
    case CLK_HELLO_ACK: {
        const clk_hello_ack *a = &m->u.hello_ack;
        p[0] = a->proto; p[1] = a->fw_major; p[2] = a->fw_minor; p[3] = a->fw_patch;
        put32(p + 4, a->rx_serial); put32(p + 8, a->boot_id);
        p[12] = a->radio; p[13] = a->channel; put16(p + 14, a->max_keypads);
        return 16;
    }
    case CLK_PING: return 0;
    case CLK_STATUS: {
        const clk_status_msg *s = &m->u.status;
        put32(p, s->uptime_ms); put32(p + 4, s->rx_ok); put32(p + 8, s->rx_bad);
        put16(p + 12, s->queue); put16(p + 14, s->dropped);
        return 16;
    }
    case CLK_PRESS: {
        const clk_press *x = &m->u.press;
        put32(p, x->keypad_id); put32(p + 4, x->counter); put16(p + 8, x->poll_id);
        put16(p + 10, x->item); p[12] = x->key; p[13] = x->battery; p[14] = (uint8_t)x->rssi;
        put16(p + 15, x->age_ms); put32(p + 17, x->mic);
        return 21;
    }
    case CLK_PRESS_RESULT: {
        const clk_press_result *r = &m->u.result;
        put32(p, r->keypad_id); put32(p + 4, r->counter); p[8] = r->status; put16(p + 9, r->poll_id);
        return 11;
    }
    case CLK_POLL_STATE: {
        const clk_poll_state *s = &m->u.poll;
        if (s->nkeys > sizeof s->keys) return (size_t)-1;
        put16(p, s->poll_id); p[2] = s->state; p[3] = s->mode; put16(p + 4, s->items); p[6] = s->nkeys;
        memcpy(p + 7, s->keys, s->nkeys);
        return 7u + s->nkeys;
    }
    case CLK_KEYPAD_SEEN: {
        const clk_keypad_seen *k = &m->u.seen;
        put32(p, k->keypad_id); p[4] = k->battery; p[5] = (uint8_t)k->rssi; p[6] = k->fw;
        return 7;
    }
    case CLK_LOG:
        if (m->u.text.len > CLK_MAX_PAYLOAD - 1) return (size_t)-1;
        p[0] = m->u.text.level; memcpy(p + 1, m->u.text.text, m->u.text.len);
        return 1 + m->u.text.len;
    case CLK_ERROR:
        if (m->u.text.len > CLK_MAX_PAYLOAD - 2) return (size_t)-1;
        put16(p, m->u.text.code); memcpy(p + 2, m->u.text.text, m->u.text.len);
        return 2 + m->u.text.len;
    default: return (size_t)-1;
    }
}

size_t clk_pack(const clk_msg *m, uint8_t frame[CLK_MAX_DECODED]) {
    size_t n = clk_payload(m, frame + CLK_HEADER_SIZE);
    if (n == (size_t)-1) return 0;
    frame[0] = CLK_VERSION; frame[1] = m->type; frame[2] = m->flags; put16(frame + 3, m->seq);
    n += CLK_HEADER_SIZE;
    put16(frame + n, clk_crc16(frame, n));
    return n + CLK_CRC_SIZE;
}

size_t clk_encode(const clk_msg *m, uint8_t *out, size_t cap) {
    uint8_t frame[CLK_MAX_DECODED];
    size_t n, enc;
    n = clk_pack(m, frame);
    if (n == 0) return 0;
    if (cap < 2) return 0;
    enc = clk_cobs_encode(frame, n, out, cap - 1);
    if (enc == 0) return 0;
    out[enc] = 0;
    return enc + 1;
}

static enum clk_reject fixed(size_t got, size_t want) { return got == want ? CLK_OK : CLK_BAD_LENGTH; }

enum clk_reject clk_parse(const uint8_t *f, size_t len, clk_msg *m) {
    enum clk_reject r;
    if (len < CLK_HEADER_SIZE + CLK_CRC_SIZE || len > CLK_MAX_DECODED) return CLK_BAD_LENGTH;
    if (clk_crc16(f, len - 2) != get16(f + len - 2)) return CLK_BAD_CRC;
    if (f[0] != CLK_VERSION) return CLK_BAD_VERSION;
    if (f[2] & (uint8_t)~CLK_FLAG_RETRANSMIT) return CLK_BAD_FLAGS;
    r = clk_parse_payload(f[1], f + CLK_HEADER_SIZE, len - CLK_HEADER_SIZE - CLK_CRC_SIZE, m);
    m->flags = f[2];
    m->seq = get16(f + 3);
    return r;
}

enum clk_reject clk_parse_payload(uint8_t type, const uint8_t *p, size_t n, clk_msg *m) {
    enum clk_reject r = CLK_OK;
    memset(m, 0, sizeof *m);
    m->type = type;
    switch (type) {
    case CLK_HELLO:
        if ((r = fixed(n, 5)) == CLK_OK) { m->u.hello.proto = p[0]; m->u.hello.hub_nonce = get32(p + 1); }
        break;
    case CLK_HELLO_ACK:
        if ((r = fixed(n, 16)) == CLK_OK) {
            clk_hello_ack *a = &m->u.hello_ack;
            a->proto = p[0]; a->fw_major = p[1]; a->fw_minor = p[2]; a->fw_patch = p[3];
            a->rx_serial = get32(p + 4); a->boot_id = get32(p + 8);
            a->radio = p[12]; a->channel = p[13]; a->max_keypads = get16(p + 14);
        }
        break;
    case CLK_PING: r = fixed(n, 0); break;
    case CLK_STATUS:
        if ((r = fixed(n, 16)) == CLK_OK) {
            clk_status_msg *s = &m->u.status;
            s->uptime_ms = get32(p); s->rx_ok = get32(p + 4); s->rx_bad = get32(p + 8);
            s->queue = get16(p + 12); s->dropped = get16(p + 14);
        }
        break;
    case CLK_PRESS:
        if ((r = fixed(n, 21)) == CLK_OK) {
            clk_press *x = &m->u.press;
            x->keypad_id = get32(p); x->counter = get32(p + 4); x->poll_id = get16(p + 8);
            x->item = get16(p + 10); x->key = p[12]; x->battery = p[13]; x->rssi = (int8_t)p[14];
            x->age_ms = get16(p + 15); x->mic = get32(p + 17);
        }
        break;
    case CLK_PRESS_RESULT:
        if ((r = fixed(n, 11)) == CLK_OK) {
            clk_press_result *x = &m->u.result;
            x->keypad_id = get32(p); x->counter = get32(p + 4); x->status = p[8]; x->poll_id = get16(p + 9);
        }
        break;
    case CLK_POLL_STATE:
        if (n < 7 || n != 7u + p[6]) return CLK_BAD_LENGTH;
        m->u.poll.poll_id = get16(p); m->u.poll.state = p[2]; m->u.poll.mode = p[3];
        m->u.poll.items = get16(p + 4); m->u.poll.nkeys = p[6];
        memcpy(m->u.poll.keys, p + 7, p[6]);
        break;
    case CLK_KEYPAD_SEEN:
        if ((r = fixed(n, 7)) == CLK_OK) {
            m->u.seen.keypad_id = get32(p); m->u.seen.battery = p[4];
            m->u.seen.rssi = (int8_t)p[5]; m->u.seen.fw = p[6];
        }
        break;
    case CLK_LOG:
        if (n < 1) return CLK_BAD_LENGTH;
        m->u.text.level = p[0]; m->u.text.len = n - 1; memcpy(m->u.text.text, p + 1, n - 1);
        break;
    case CLK_ERROR:
        if (n < 2) return CLK_BAD_LENGTH;
        m->u.text.code = get16(p); m->u.text.len = n - 2; memcpy(m->u.text.text, p + 2, n - 2);
        break;
    default: return CLK_UNKNOWN_TYPE;
    }
    return r;
}

void clk_mic_input(const clk_press *p, uint8_t out[CLK_MIC_INPUT_SIZE]) {
    out[0] = 'C'; out[1] = 'L'; out[2] = 'K'; out[3] = '1';
    put32(out + 4, p->keypad_id); put32(out + 8, p->counter);
    put16(out + 12, p->poll_id); put16(out + 14, p->item);
    out[16] = p->key; out[17] = p->battery;
}

void clk_advert_encode(const clk_press *p, uint8_t out[CLK_ADVERT_SIZE]) {
    out[0] = 1;
    put32(out + 1, p->keypad_id); put32(out + 5, p->counter);
    put16(out + 9, p->poll_id); put16(out + 11, p->item);
    out[13] = p->key; out[14] = p->battery; put32(out + 15, p->mic);
}

int clk_advert_decode(const uint8_t *in, size_t len, clk_press *p) {
    if (len != CLK_ADVERT_SIZE || in[0] != 1) return 0;
    memset(p, 0, sizeof *p);
    p->keypad_id = get32(in + 1); p->counter = get32(in + 5);
    p->poll_id = get16(in + 9); p->item = get16(in + 11);
    p->key = in[13]; p->battery = in[14]; p->mic = get32(in + 15);
    return 1;
}

void clk_stream_init(clk_stream *s) { memset(s, 0, sizeof *s); }

static void finish(clk_stream *s, clk_frame_cb cb, void *ctx) {
    uint8_t frame[CLK_MAX_ENCODED];
    clk_msg m;
    int ok;
    size_t n = clk_cobs_decode(s->buf, s->len, frame, sizeof frame, &ok);
    enum clk_reject r;
    if (!ok) { s->rejected[CLK_BAD_COBS]++; return; }
    r = clk_parse(frame, n, &m);
    if (r != CLK_OK) { s->rejected[r]++; return; }
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
