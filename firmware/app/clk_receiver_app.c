#include "clk_receiver_app.h"

#include <string.h>

static void send_msg(clk_receiver_app *a, clk_msg *m) {
    uint8_t out[CLK_MAX_WIRE];
    int n;
    m->seq = a->tx_seq++;
    n = clk_encode(m, out, sizeof out);
    if (n > 0) clk_hal_link_write(out, (size_t)n);
}

static void remember_peer(clk_receiver_app *a, uint32_t keypad_id, const clk_radio_addr *addr) {
    clk_rx_peer *p = &a->peers[keypad_id % CLK_RX_PEERS];
    p->keypad_id = keypad_id;
    p->addr = *addr;
    p->used = 1;
}

static void to_keypad(void *ctx, const clk_press_result *r) {
    clk_receiver_app *a = ctx;
    const clk_rx_peer *p = &a->peers[r->keypad_id % CLK_RX_PEERS];
    uint8_t air[CLK_MAX_AIR];
    clk_msg m;
    int n;
    memset(&m, 0, sizeof m);
    m.type = CLK_PRESS_RESULT;
    m.u.press_result = *r;
    n = clk_air_pack(&m, air);
    if (n < 0) return;
    clk_hal_radio_send(p->used && p->keypad_id == r->keypad_id ? &p->addr : NULL, air, (size_t)n);
}

static void on_frame(void *ctx, const clk_msg *m) {
    clk_receiver_app *a = ctx;
    clk_msg out;
    memset(&out, 0, sizeof out);
    switch (m->type) {
    case CLK_HELLO: {
        clk_rx_identity id;
        id.fw_major = a->board.fw_major;
        id.fw_minor = a->board.fw_minor;
        id.fw_patch = a->board.fw_patch;
        id.rx_serial = a->serial;
        id.boot_id = a->boot_id;
        id.radio = a->board.radio;
        id.channel = a->board.channel;
        id.max_keypads = CLK_RX_PEERS;
        a->hub_ok = clk_rx_answer_hello(&m->u.hello, &id, &out) == 0; /* HELLO_ACK, or ERROR */
        send_msg(a, &out);
        break;
    }
    case CLK_PING:
        out.type = CLK_STATUS;
        out.u.status.uptime_ms = a->now - a->booted_ms;
        out.u.status.rx_ok = a->rx_ok;
        out.u.status.rx_bad = a->rx_bad;
        out.u.status.queue = a->relay.count;
        out.u.status.dropped = a->relay.dropped;
        send_msg(a, &out);
        break;
    case CLK_PRESS_RESULT: clk_relay_on_result(&a->relay, &m->u.press_result, to_keypad, a); break;
    case CLK_POLL_STATE: {
        uint8_t air[CLK_MAX_AIR];
        int n = clk_air_pack(m, air);
        if (n > 0) clk_hal_radio_send(NULL, air, (size_t)n); /* the keypads awake hear it */
        break;
    }
    default: break; /* frames for a hub (a receiver never gets them) are ignored */
    }
}

void clk_receiver_app_init(clk_receiver_app *a, const clk_receiver_board *board, uint32_t now) {
    memset(a, 0, sizeof *a);
    a->board = *board;
    if (clk_hal_nvs_get_u32("id", &a->serial) != 0) a->serial = clk_hal_chip_id();
    a->boot_id = clk_hal_random32();
    a->booted_ms = a->now = now;
    clk_stream_init(&a->link);
    clk_relay_init(&a->relay);
}

static uint32_t next_due(const clk_relay *q, uint32_t now) {
    uint32_t next = now + CLK_RX_MAX_IDLE_MS;
    size_t i;
    for (i = 0; i < CLK_RELAY_CAP; i++) {
        const clk_relay_entry *e = &q->e[i];
        uint32_t at;
        if (!e->used) continue;
        at = e->sent ? e->last_sent_ms + CLK_RELAY_REPEAT_MS : now;
        if ((int32_t)(at - next) < 0) next = at;
    }
    return (int32_t)(next - now) < 0 ? now : next;
}

uint32_t clk_receiver_app_step(clk_receiver_app *a, uint32_t now) {
    uint8_t buf[CLK_RADIO_MAX];
    clk_press due[CLK_RX_SEND_BURST];
    uint8_t flags[CLK_RX_SEND_BURST];
    size_t n, i;
    int more = 0; /* input or presses left for the next step */
    a->now = now;
    for (i = 0; i < CLK_RX_LINK_BURST; i++) {
        n = clk_hal_link_read(buf, CLK_RX_LINK_CHUNK);
        if (n == 0) break;
        clk_stream_feed(&a->link, buf, n, on_frame, a);
    }
    more |= i == CLK_RX_LINK_BURST;
    for (i = 0; i < CLK_RX_RADIO_BURST; i++) {
        clk_radio_addr from;
        int8_t rssi = 0;
        clk_press p;
        n = clk_hal_radio_recv(buf, sizeof buf, &from, &rssi);
        if (n == 0) break;
        if (clk_advert_decode(buf, n, &p) < 0) {
            a->rx_bad++;
            continue;
        }
        a->rx_ok++;
        p.rssi = rssi;
        remember_peer(a, p.keypad_id, &from);
        clk_relay_add(&a->relay, &p, now);
    }
    more |= i == CLK_RX_RADIO_BURST;
    /* presses wait in the queue for a hub that speaks our revision */
    n = a->hub_ok ? clk_relay_due(&a->relay, now, due, flags, CLK_RX_SEND_BURST) : 0;
    for (i = 0; i < n; i++) {
        clk_msg m;
        memset(&m, 0, sizeof m);
        m.type = CLK_PRESS;
        m.flags = flags[i];
        m.u.press = due[i];
        send_msg(a, &m);
    }
    more |= n == CLK_RX_SEND_BURST;
    return more ? now : a->hub_ok ? next_due(&a->relay, now) : now + CLK_RX_MAX_IDLE_MS;
}
