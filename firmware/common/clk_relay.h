/*
 * The receiver's relay queue: every PRESS heard from a keypad is kept until the hub's
 * PRESS_RESULT for the same (keypad_id, counter), repeated to the hub every 250 ms with the
 * RETRANSMIT flag; the result is then handed to the radio for the keypad. Bounded: when
 * full, the oldest entry is dropped and counted (reported in STATUS.dropped).
 */
#ifndef CLK_RELAY_H
#define CLK_RELAY_H

#include <stdbool.h>

#include "clk_wire.h"

#ifndef CLK_RELAY_CAP
#define CLK_RELAY_CAP 64u
#endif
#define CLK_RELAY_REPEAT_MS 250u

typedef struct {
    clk_press press;
    uint32_t heard_ms; /* when the keypad's press arrived: age_ms counts from here */
    uint32_t last_sent_ms;
    uint32_t order; /* arrival order, to find the oldest */
    uint8_t sent;
    uint8_t used;
} clk_relay_entry;

typedef struct {
    clk_relay_entry e[CLK_RELAY_CAP];
    uint16_t count;
    uint16_t dropped; /* saturates at 65535 */
    uint32_t next_order;
} clk_relay;

/* Hands a hub's result to the radio, for the keypad. */
typedef void (*clk_result_cb)(void *ctx, const clk_press_result *r);

/* Empties the queue and zeroes its counters. */
void clk_relay_init(clk_relay *q);
/* Queues a press heard at `now`. Returns true when queued, false when the same (keypad_id,
 * counter) is already queued (a radio repeat). A full queue drops its oldest entry (counted in
 * q->dropped) to make room: adding never fails. */
bool clk_relay_add(clk_relay *q, const clk_press *p, uint32_t now);
/* Fills out[0..max) with the presses due now (new ones, or unanswered for 250 ms), with age_ms
 * set and flags[i] = CLK_FLAG_RETRANSMIT for repeats, and marks them sent. Returns how many. */
size_t clk_relay_due(clk_relay *q, uint32_t now, clk_press *out, uint8_t *flags, size_t max);
/* Releases the entry the result answers and always hands the result to radio (when not NULL):
 * the keypad may be repeating a press whose entry was dropped. Returns true when an entry was
 * released. */
bool clk_relay_on_result(clk_relay *q, const clk_press_result *r, clk_result_cb radio, void *ctx);

#endif
