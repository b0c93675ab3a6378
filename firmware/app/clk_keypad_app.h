/*
 * The keypad application, the same on every board: a key pressed becomes a signed PRESS
 * (clk_keypad: counter persisted first), broadcast on the radio and repeated until the hub's
 * answer comes back through a receiver; the LED shows pending (amber blink), counted (green,
 * only from a `counted` or `duplicate` PRESS_RESULT), refused (red) or no answer (red blink);
 * with nothing pending and the LED dark it deep-sleeps until the next key, forgetting the poll
 * but keeping the session nonce (in the board's retained word).
 */
#ifndef CLK_KEYPAD_APP_H
#define CLK_KEYPAD_APP_H

#include "clk_hal.h"
#include "clk_keypad.h"

#define CLK_KP_BLINK_MS    250u
#define CLK_KP_RADIO_BURST 8u
#define CLK_KP_MAX_IDLE_MS 250u

typedef struct {
    clk_keypad kp;
    uint8_t aes_key[16];
    int has_key;
    uint8_t held;   /* the key down at the previous step: a press is a new key going down */
    int answered;   /* a PRESS_RESULT arrived since the keypad woke ('#' shows it again) */
    int leds_shown; /* green | red << 1 as last driven, -1 before the first */
} clk_keypad_app;

/* Starts the keypad from the board's NVS: its id ("id", else the chip's), the last counter
 * ("counter"), its AES key ("aes_key", else presses go unsigned) and the session nonce kept in
 * the retained word across deep sleep. Cannot fail: what is missing takes its default. */
void clk_keypad_app_init(clk_keypad_app *a, uint32_t now);
/* One pass over keys, radio, retransmissions and LEDs; returns when it next needs to run.
 * Does not return when the keypad goes to deep sleep. */
uint32_t clk_keypad_app_step(clk_keypad_app *a, uint32_t now);

#endif
