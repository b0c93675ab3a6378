/*
 * The keypad's state machine, free of radio and hardware: a key press becomes a PRESS with
 * the next counter (persisted first, through a callback) signed under the session nonce the
 * keypad last heard; the LED shows pending until the hub's PRESS_RESULT comes back through the
 * receiver (green counted, red refused), and the press is repeated on a growing schedule until
 * answered or given up ("no answer"). A press refused as stale_session by a hub that names
 * another nonce is signed again once, under that nonce, with a new counter: a keypad that slept
 * through the start of a session still lights green on its first press (docs/protocol.md).
 */
#ifndef CLK_KEYPAD_H
#define CLK_KEYPAD_H

#include <stdbool.h>

#include "clk_wire.h"

typedef enum {
    CLK_LED_OFF = 0,
    CLK_LED_PENDING,  /* sent, not yet answered: amber blink */
    CLK_LED_COUNTED,  /* the hub journaled it: green */
    CLK_LED_REFUSED,  /* the hub refused it (closed poll, invalid key ...): red */
    CLK_LED_NO_ANSWER /* every retransmission went unanswered: red blink */
} clk_led;

/* Persists the counter before the press leaves: returns 0 only once it is durable, a negative
 * error code otherwise (any value but 0 is taken as a failure: nothing is sent). */
typedef int (*clk_store_fn)(void *ctx, uint32_t counter);
/* Computes the MIC of a press into *mic (a keypad without a key sets 0): returns 0, or a
 * negative error code. */
typedef int (*clk_sign_fn)(void *ctx, const clk_press *p, uint32_t *mic);

#define CLK_KP_MAX_TRIES      8u   /* first send included */
#define CLK_KP_FIRST_RETRY_MS 300u /* then doubled, capped below */
#define CLK_KP_MAX_RETRY_MS   2400u
#define CLK_KP_LED_HOLD_MS    3000u /* how long green/red stay lit */
/* Presses in flight at once. A newer press replaces a pending one for the same item (last
 * press wins); presses for other items of a self-paced poll stay in flight beside it, since
 * the hub orders presses per item. */
#define CLK_KP_SLOTS 4u

typedef struct {
    clk_press press;
    uint8_t used;
    uint8_t tries;
    uint8_t resigned; /* already signed again under a nonce the hub named */
    uint32_t next_send_ms;
    uint32_t pressed_ms; /* to find the oldest when every slot is taken */
} clk_kp_slot;

typedef struct {
    uint32_t keypad_id, counter;
    uint32_t session_nonce; /* the session it signs under: from POLL_STATE or PRESS_RESULT (0: none) */
    uint16_t poll_id;       /* 0xFFFF until a POLL_STATE or PRESS_RESULT is heard */
    uint8_t poll_state;     /* enum clk_poll_state_code */
    uint8_t poll_mode;      /* enum clk_poll_mode */
    uint8_t nkeys;
    uint8_t keys[CLK_MAX_KEYS];
    uint8_t nitems;
    uint16_t items[CLK_MAX_ITEMS];
    clk_kp_slot slot[CLK_KP_SLOTS];
    clk_led led;
    uint32_t led_since_ms;
    uint8_t last_status;
    clk_store_fn store;
    clk_sign_fn sign;
    void *ctx;
} clk_keypad;

/* Starts a keypad with nothing pending and no poll heard. stored_counter is the last counter
 * persisted (0 for a new keypad); store and sign may be NULL (nothing persisted, MIC 0) and are
 * called with ctx. */
void clk_keypad_init(clk_keypad *k, uint32_t keypad_id, uint32_t stored_counter, clk_store_fn store, clk_sign_fn sign,
                     void *ctx);
/* Takes what a POLL_STATE says: the poll, its keys and proposals, the session nonce to sign under. */
void clk_keypad_on_poll_state(clk_keypad *k, const clk_poll_state *s);
/* A key pressed for a proposal (item; 0 outside a self-paced poll). Returns 0 with *out the
 * PRESS to transmit now (the LED shows pending), or, with the LED red and nothing sent:
 * -CLK_E_BAD_KEY (not a key of the open poll), -CLK_E_BAD_ITEM (not a proposal of the open
 * self-paced poll), -CLK_E_STORE (the counter could not be persisted), -CLK_E_SIGN. */
int clk_keypad_press(clk_keypad *k, uint8_t key, uint16_t item, uint8_t battery, uint32_t now, clk_press *out);
/* Takes a hub's PRESS_RESULT heard on the air. Returns true when it answered a pending press
 * (a press signed again under the session nonce the hub named is then due: clk_keypad_tick
 * sends it), false for another keypad's result or one already answered. */
bool clk_keypad_on_result(clk_keypad *k, const clk_press_result *r, uint32_t now);
/* Advances the retransmission schedule and the LED. Returns true when *out must be transmitted
 * now (call again: several may be due), false when nothing is due. */
bool clk_keypad_tick(clk_keypad *k, uint32_t now, clk_press *out);
/* What the LED shows now. */
clk_led clk_keypad_led(const clk_keypad *k);
/* How many presses still wait for their answer. */
unsigned clk_keypad_pending(const clk_keypad *k);
/* Whether nothing is pending and the LED is dark: the radio may sleep until the next key. */
bool clk_keypad_can_sleep(const clk_keypad *k);

#endif
