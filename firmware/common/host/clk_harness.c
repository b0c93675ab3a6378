/*
 * Host harness for the tests: reads commands on stdin, one per line, and answers on stdout,
 * so pytest can run every shared vector (and random messages) through the C codec built with
 * AddressSanitizer and UBSan. Not part of any firmware image.
 *
 *   crc HEX | cobs_enc HEX | cobs_dec HEX | feed HEX | stats | reset
 *   encode TYPE SEQ FLAGS V1 V2 ...   (fields in protocol order; byte fields as hex)
 *   mic KEYHEX KEYPAD COUNTER POLL ITEM KEY BATTERY
 *   advert_enc KEYPAD COUNTER POLL ITEM KEY BATTERY MIC | advert_dec HEX
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clk_mic.h"
#include "../clk_wire.h"

#define LINE_MAX_LEN 8192

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    if (s == NULL || strcmp(s, "-") == 0) return 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void puthex(const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) printf("%02x", p[i]);
}

static void print_msg(const clk_msg *m) {
    printf("type=%u", m->type);
    switch (m->type) {
    case CLK_HELLO: printf(" proto=%u hub_nonce=%lu", m->u.hello.proto, (unsigned long)m->u.hello.hub_nonce); break;
    case CLK_HELLO_ACK: {
        const clk_hello_ack *a = &m->u.hello_ack;
        printf(" proto=%u fw_major=%u fw_minor=%u fw_patch=%u rx_serial=%lu boot_id=%lu radio=%u channel=%u"
               " max_keypads=%u", a->proto, a->fw_major, a->fw_minor, a->fw_patch, (unsigned long)a->rx_serial,
               (unsigned long)a->boot_id, a->radio, a->channel, a->max_keypads);
        break;
    }
    case CLK_PING: break;
    case CLK_STATUS: {
        const clk_status_msg *s = &m->u.status;
        printf(" uptime_ms=%lu rx_ok=%lu rx_bad=%lu queue=%u dropped=%u", (unsigned long)s->uptime_ms,
               (unsigned long)s->rx_ok, (unsigned long)s->rx_bad, s->queue, s->dropped);
        break;
    }
    case CLK_PRESS: {
        const clk_press *p = &m->u.press;
        printf(" keypad_id=%lu counter=%lu poll_id=%u item=%u key=%u battery=%u rssi=%d age_ms=%u mic=%lu",
               (unsigned long)p->keypad_id, (unsigned long)p->counter, p->poll_id, p->item, p->key, p->battery,
               p->rssi, p->age_ms, (unsigned long)p->mic);
        break;
    }
    case CLK_PRESS_RESULT: {
        const clk_press_result *r = &m->u.result;
        printf(" keypad_id=%lu counter=%lu status=%u poll_id=%u", (unsigned long)r->keypad_id,
               (unsigned long)r->counter, r->status, r->poll_id);
        break;
    }
    case CLK_POLL_STATE:
        printf(" poll_id=%u state=%u mode=%u items=%u keys=", m->u.poll.poll_id, m->u.poll.state, m->u.poll.mode,
               m->u.poll.items);
        puthex(m->u.poll.keys, m->u.poll.nkeys);
        break;
    case CLK_KEYPAD_SEEN:
        printf(" keypad_id=%lu battery=%u rssi=%d fw=%u", (unsigned long)m->u.seen.keypad_id, m->u.seen.battery,
               m->u.seen.rssi, m->u.seen.fw);
        break;
    case CLK_LOG: printf(" level=%u text=", m->u.text.level); puthex(m->u.text.text, m->u.text.len); break;
    case CLK_ERROR: printf(" code=%u text=", m->u.text.code); puthex(m->u.text.text, m->u.text.len); break;
    default: break;
    }
}

static void on_frame(void *ctx, const clk_msg *m) {
    (void)ctx;
    printf("FRAME seq=%u flags=%u ", m->seq, m->flags);
    print_msg(m);
    printf("\n");
}

static unsigned long num(char **save) {
    char *t = strtok_r(NULL, " \n", save);
    return t ? strtoul(t, NULL, 0) : 0;
}

static long snum(char **save) {
    char *t = strtok_r(NULL, " \n", save);
    return t ? strtol(t, NULL, 0) : 0;
}

static void read_press(clk_press *p, char **save, int with_radio) {
    memset(p, 0, sizeof *p);
    p->keypad_id = (uint32_t)num(save); p->counter = (uint32_t)num(save);
    p->poll_id = (uint16_t)num(save); p->item = (uint16_t)num(save);
    p->key = (uint8_t)num(save); p->battery = (uint8_t)num(save);
    if (with_radio) { p->rssi = (int8_t)snum(save); p->age_ms = (uint16_t)num(save); }
}

static int encode_cmd(char **save) {
    clk_msg m;
    uint8_t out[CLK_MAX_WIRE + 8];
    size_t n;
    memset(&m, 0, sizeof m);
    m.type = (uint8_t)num(save); m.seq = (uint16_t)num(save); m.flags = (uint8_t)num(save);
    switch (m.type) {
    case CLK_HELLO: m.u.hello.proto = (uint8_t)num(save); m.u.hello.hub_nonce = (uint32_t)num(save); break;
    case CLK_HELLO_ACK: {
        clk_hello_ack *a = &m.u.hello_ack;
        a->proto = (uint8_t)num(save); a->fw_major = (uint8_t)num(save); a->fw_minor = (uint8_t)num(save);
        a->fw_patch = (uint8_t)num(save); a->rx_serial = (uint32_t)num(save); a->boot_id = (uint32_t)num(save);
        a->radio = (uint8_t)num(save); a->channel = (uint8_t)num(save); a->max_keypads = (uint16_t)num(save);
        break;
    }
    case CLK_PING: break;
    case CLK_STATUS: {
        clk_status_msg *s = &m.u.status;
        s->uptime_ms = (uint32_t)num(save); s->rx_ok = (uint32_t)num(save); s->rx_bad = (uint32_t)num(save);
        s->queue = (uint16_t)num(save); s->dropped = (uint16_t)num(save);
        break;
    }
    case CLK_PRESS: read_press(&m.u.press, save, 1); m.u.press.mic = (uint32_t)num(save); break;
    case CLK_PRESS_RESULT:
        m.u.result.keypad_id = (uint32_t)num(save); m.u.result.counter = (uint32_t)num(save);
        m.u.result.status = (uint8_t)num(save); m.u.result.poll_id = (uint16_t)num(save);
        break;
    case CLK_POLL_STATE:
        m.u.poll.poll_id = (uint16_t)num(save); m.u.poll.state = (uint8_t)num(save);
        m.u.poll.mode = (uint8_t)num(save); m.u.poll.items = (uint16_t)num(save);
        m.u.poll.nkeys = (uint8_t)unhex(strtok_r(NULL, " \n", save), m.u.poll.keys, sizeof m.u.poll.keys);
        break;
    case CLK_KEYPAD_SEEN:
        m.u.seen.keypad_id = (uint32_t)num(save); m.u.seen.battery = (uint8_t)num(save);
        m.u.seen.rssi = (int8_t)snum(save); m.u.seen.fw = (uint8_t)num(save);
        break;
    case CLK_LOG:
        m.u.text.level = (uint8_t)num(save);
        m.u.text.len = unhex(strtok_r(NULL, " \n", save), m.u.text.text, sizeof m.u.text.text);
        break;
    case CLK_ERROR:
        m.u.text.code = (uint16_t)num(save);
        m.u.text.len = unhex(strtok_r(NULL, " \n", save), m.u.text.text, sizeof m.u.text.text);
        break;
    default: printf("ERR\n"); return 0;
    }
    n = clk_encode(&m, out, sizeof out);
    if (n == 0) { printf("ERR\n"); return 0; }
    puthex(out, n);
    printf("\n");
    return 1;
}

int main(void) {
    static char line[LINE_MAX_LEN];
    static uint8_t a[LINE_MAX_LEN / 2], b[LINE_MAX_LEN];
    clk_stream stream;
    clk_stream_init(&stream);
    while (fgets(line, sizeof line, stdin)) {
        char *save = NULL;
        char *cmd = strtok_r(line, " \n", &save);
        char *arg;
        size_t n, m;
        int ok;
        if (!cmd) continue;
        if (strcmp(cmd, "crc") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            printf("%u\n", clk_crc16(a, n));
        } else if (strcmp(cmd, "cobs_enc") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            m = clk_cobs_encode(a, n, b, sizeof b);
            puthex(b, m);
            printf("\n");
        } else if (strcmp(cmd, "cobs_dec") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            m = clk_cobs_decode(a, n, b, sizeof b, &ok);
            if (ok) puthex(b, m); else printf("ERR");
            printf("\n");
        } else if (strcmp(cmd, "reset") == 0) {
            clk_stream_init(&stream);
            printf(".\n");
        } else if (strcmp(cmd, "feed") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            clk_stream_feed(&stream, a, n, on_frame, NULL);
            printf(".\n");
        } else if (strcmp(cmd, "stats") == 0) {
            int r;
            printf("STATS frames=%lu buffered=%lu", (unsigned long)stream.frames, (unsigned long)stream.len);
            for (r = 1; r < CLK_REJECT_COUNT; r++)
                if (stream.rejected[r]) printf(" %s=%lu", clk_reject_name((enum clk_reject)r),
                                               (unsigned long)stream.rejected[r]);
            printf("\n");
        } else if (strcmp(cmd, "encode") == 0) {
            encode_cmd(&save);
        } else if (strcmp(cmd, "mic") == 0) {
            uint8_t key[16];
            clk_press p;
            uint32_t mic = 0;
            unhex(strtok_r(NULL, " \n", &save), key, sizeof key);
            read_press(&p, &save, 0);
            if (clk_mic_compute(key, &p, &mic) != 0) printf("ERR\n"); else printf("%lu\n", (unsigned long)mic);
        } else if (strcmp(cmd, "advert_enc") == 0) {
            clk_press p;
            uint8_t out[CLK_ADVERT_SIZE];
            read_press(&p, &save, 0);
            p.mic = (uint32_t)num(&save);
            clk_advert_encode(&p, out);
            puthex(out, sizeof out);
            printf("\n");
        } else if (strcmp(cmd, "advert_dec") == 0) {
            clk_msg msg;
            arg = strtok_r(NULL, " \n", &save);
            n = unhex(arg, a, sizeof a);
            memset(&msg, 0, sizeof msg);
            msg.type = CLK_PRESS;
            if (!clk_advert_decode(a, n, &msg.u.press)) printf("ERR\n"); else { print_msg(&msg); printf("\n"); }
        } else {
            printf("ERR unknown command\n");
        }
        fflush(stdout);
    }
    return 0;
}
