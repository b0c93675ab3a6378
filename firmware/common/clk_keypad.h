/*
 * The keypad's state machine, free of radio and hardware: a key press becomes a PRESS with
 * the next counter (persisted first, through a callback), the LED shows pending until the
 * hub's PRESS_RESULT comes back through the receiver (green counted, red refused), and the
 * press is repeated on a growing schedule until answered or given up ("no answer").
 */
#ifndef CLK_KEYPAD_H
#define CLK_KEYPAD_H

#include "clk_wire.h"

typedef enum {
    CLK_LED_OFF = 0,
    CLK_LED_PENDING,   /* sent, not yet answered: amber blink */
    CLK_LED_COUNTED,   /* the hub journaled it: green */
    CLK_LED_REFUSED,   /* the hub refused it (closed poll, invalid key ...): red */
    CLK_LED_NO_ANSWER  /* every retransmission went unanswered: red blink */
} clk_led;

/* Persist the counter before the press leaves; return 0 on success. */
typedef int (*clk_store_fn)(void *ctx, uint32_t counter);
/* Compute the MIC of a press (keypads without a key return 0 and set *mic = 0). */
typedef int (*clk_sign_fn)(void *ctx, const clk_press *p, uint32_t *mic);

#define CLK_KP_MAX_TRIES 8u         /* first send included */
#define CLK_KP_FIRST_RETRY_MS 300u  /* then doubled, capped below */
#define CLK_KP_MAX_RETRY_MS 2400u
#define CLK_KP_LED_HOLD_MS 3000u    /* how long green/red stay lit */
#define CLK_KP_MAX_KEYS 16u

typedef struct {
    uint32_t keypad_id, counter;
    uint16_t poll_id;            /* 0xFFFF until a POLL_STATE or PRESS_RESULT is heard */
    uint8_t poll_state;          /* 0 idle, 1 open, 2 closing */
    uint8_t nkeys;
    uint8_t keys[CLK_KP_MAX_KEYS];
    int pending;
    clk_press press;
    uint8_t tries;
    uint32_t next_send_ms;
    clk_led led;
    uint32_t led_since_ms;
    uint8_t last_status;
    clk_store_fn store;
    clk_sign_fn sign;
    void *ctx;
} clk_keypad;

enum clk_kp_result {
    CLK_KP_SEND = 0,        /* *out holds the PRESS to transmit now */
    CLK_KP_BAD_KEY,         /* not a valid key of the open poll: red, nothing sent */
    CLK_KP_STORE_FAILED,    /* the counter could not be persisted: red, nothing sent */
    CLK_KP_SIGN_FAILED
};

void clk_keypad_init(clk_keypad *k, uint32_t keypad_id, uint32_t stored_counter, clk_store_fn store,
                     clk_sign_fn sign, void *ctx);
void clk_keypad_on_poll_state(clk_keypad *k, const clk_poll_state *s);
enum clk_kp_result clk_keypad_press(clk_keypad *k, uint8_t key, uint16_t item, uint8_t battery, uint32_t now,
                                    clk_press *out);
/* Returns 1 when the result answered the pending press. */
int clk_keypad_on_result(clk_keypad *k, const clk_press_result *r, uint32_t now);
/* Returns 1 when *out must be retransmitted now. */
int clk_keypad_tick(clk_keypad *k, uint32_t now, clk_press *out);
clk_led clk_keypad_led(const clk_keypad *k);
/* Nothing pending and the LED is dark: the radio may sleep until the next key press. */
int clk_keypad_can_sleep(const clk_keypad *k);

#endif
