/*
 * Host harness for the tests: reads commands on stdin, one per line, and answers on stdout,
 * so pytest can run every shared vector (and random messages) through the C codec built with
 * AddressSanitizer and UBSan. Not part of any firmware image.
 *
 *   crc HEX | cobs_enc HEX | cobs_dec HEX | feed HEX | stats | reset
 *   encode TYPE SEQ FLAGS V1 V2 ...   (fields in protocol order; bytes and text as hex or -,
 *                                      u16 lists as 1,2,3 or -)
 *   mic KEYHEX KEYPAD COUNTER NONCE POLL ITEM KEY BATTERY
 *   advert_enc KEYPAD COUNTER NONCE POLL ITEM KEY BATTERY MIC | advert_dec HEX
 *   hello PROTO NONCE                 (the receiver's answer, as a frame on the wire)
 *   air HEX                           (an air frame to a keypad: its fields, after a round trip)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clk_link.h"
#include "../clk_mic.h"
#include "../clk_wire.h"
#include "clk_fields.h"

#define LINE_MAX_LEN 8192

static size_t unhex(const char *s, uint8_t *out, size_t cap) { return fields_unhex(s, out, cap); }

static void puthex(const uint8_t *p, size_t n) { fields_hex(p, n); }

static void on_frame(void *ctx, const clk_msg *m) {
    (void)ctx;
    printf("FRAME seq=%u flags=%u ", m->seq, m->flags);
    clk_print_msg(m);
    printf("\n");
}

static unsigned long num(char **save) { return fields_num(save); }

static void read_press(clk_press *p, char **save) {
    memset(p, 0, sizeof *p);
    p->keypad_id = (uint32_t)num(save);
    p->counter = (uint32_t)num(save);
    p->session_nonce = (uint32_t)num(save);
    p->poll_id = (uint16_t)num(save);
    p->item = (uint16_t)num(save);
    p->key = (uint8_t)num(save);
    p->battery = (uint8_t)num(save);
}

static void print_wire(const clk_msg *m) {
    uint8_t out[CLK_MAX_WIRE + 8];
    int n = clk_encode(m, out, sizeof out);
    if (n < 0) {
        printf("ERR\n");
        return;
    }
    puthex(out, (size_t)n);
    printf("\n");
}

static void encode_cmd(char **save) {
    clk_msg m;
    memset(&m, 0, sizeof m);
    m.type = (uint8_t)num(save);
    m.seq = (uint16_t)num(save);
    m.flags = (uint8_t)num(save);
    if (clk_read_msg(&m, save) < 0) {
        printf("ERR\n");
        return;
    }
    print_wire(&m);
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
        size_t n;
        int m;
        if (!cmd) continue;
        if (strcmp(cmd, "crc") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            printf("%u\n", clk_crc16(a, n));
        } else if (strcmp(cmd, "cobs_enc") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            m = clk_cobs_encode(a, n, b, sizeof b);
            if (m >= 0)
                puthex(b, (size_t)m);
            else
                printf("ERR");
            printf("\n");
        } else if (strcmp(cmd, "cobs_dec") == 0) {
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            m = clk_cobs_decode(a, n, b, sizeof b);
            if (m >= 0)
                puthex(b, (size_t)m);
            else
                printf("ERR");
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
                if (stream.rejected[r])
                    printf(" %s=%lu", clk_reject_name((enum clk_reject)r), (unsigned long)stream.rejected[r]);
            printf("\n");
        } else if (strcmp(cmd, "encode") == 0) {
            encode_cmd(&save);
        } else if (strcmp(cmd, "mic") == 0) {
            uint8_t key[16];
            clk_press p;
            unhex(strtok_r(NULL, " \n", &save), key, sizeof key);
            read_press(&p, &save);
            printf("%lu\n", (unsigned long)clk_mic_compute(key, &p));
        } else if (strcmp(cmd, "advert_enc") == 0) {
            clk_press p;
            uint8_t out[CLK_ADVERT_SIZE];
            read_press(&p, &save);
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
            if (clk_advert_decode(a, n, &msg.u.press) < 0)
                printf("ERR\n");
            else {
                clk_print_msg(&msg);
                printf("\n");
            }
        } else if (strcmp(cmd, "air") == 0) {
            clk_msg msg;
            uint8_t back[CLK_MAX_AIR];
            n = unhex(strtok_r(NULL, " \n", &save), a, sizeof a);
            if (clk_air_parse(a, n, &msg) < 0)
                printf("ERR\n");
            else if (clk_air_pack(&msg, back) != (int)n || memcmp(back, a, n) != 0)
                printf("ERR repack\n");
            else {
                clk_print_msg(&msg);
                printf("\n");
            }
        } else if (strcmp(cmd, "hello") == 0) {
            clk_hello h;
            clk_msg answer;
            clk_rx_identity id = {1, 1, 0, 42, 7, CLK_RADIO_SIMULATED, 6, 512};
            h.proto = (uint8_t)num(&save);
            h.session_nonce = (uint32_t)num(&save);
            clk_rx_answer_hello(&h, &id, &answer);
            print_wire(&answer);
        } else {
            printf("ERR unknown command\n");
        }
        fflush(stdout);
    }
    return 0;
}
