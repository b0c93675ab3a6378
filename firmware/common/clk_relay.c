#include "clk_relay.h"

#include <string.h>

void clk_relay_init(clk_relay *q) { memset(q, 0, sizeof *q); }

static clk_relay_entry *find(clk_relay *q, uint32_t keypad_id, uint32_t counter) {
    size_t i;
    for (i = 0; i < CLK_RELAY_CAP; i++)
        if (q->e[i].used && q->e[i].press.keypad_id == keypad_id && q->e[i].press.counter == counter) return &q->e[i];
    return NULL;
}

bool clk_relay_add(clk_relay *q, const clk_press *p, uint32_t now) {
    clk_relay_entry *slot = NULL;
    size_t i;
    if (find(q, p->keypad_id, p->counter)) return false;
    for (i = 0; i < CLK_RELAY_CAP && !slot; i++)
        if (!q->e[i].used) slot = &q->e[i];
    if (!slot) { /* full: drop the oldest */
        slot = &q->e[0];
        for (i = 1; i < CLK_RELAY_CAP; i++)
            if ((int32_t)(q->e[i].order - slot->order) < 0) slot = &q->e[i];
        if (q->dropped < 0xFFFF) q->dropped++;
        q->count--;
    }
    memset(slot, 0, sizeof *slot);
    slot->press = *p;
    slot->heard_ms = now;
    slot->order = q->next_order++;
    slot->used = 1;
    q->count++;
    return true;
}

size_t clk_relay_due(clk_relay *q, uint32_t now, clk_press *out, uint8_t *flags, size_t max) {
    size_t i, n = 0;
    for (i = 0; i < CLK_RELAY_CAP && n < max; i++) {
        clk_relay_entry *e = &q->e[i];
        uint32_t age;
        if (!e->used) continue;
        if (e->sent && (int32_t)(now - (e->last_sent_ms + CLK_RELAY_REPEAT_MS)) < 0) continue;
        age = now - e->heard_ms;
        out[n] = e->press;
        out[n].age_ms = (uint16_t)(age > 0xFFFFu ? 0xFFFFu : age);
        flags[n] = e->sent ? CLK_FLAG_RETRANSMIT : 0;
        e->sent = 1;
        e->last_sent_ms = now;
        n++;
    }
    return n;
}

bool clk_relay_on_result(clk_relay *q, const clk_press_result *r, clk_result_cb radio, void *ctx) {
    clk_relay_entry *e = find(q, r->keypad_id, r->counter);
    if (e) {
        e->used = 0;
        q->count--;
    }
    if (radio) radio(ctx, r);
    return e != NULL;
}
