#include "clk_keypad.h"

#include <string.h>

static int due(uint32_t now, uint32_t when) { return (int32_t)(now - when) >= 0; }

static uint32_t retry_delay(uint8_t tries) {
    uint32_t d = CLK_KP_FIRST_RETRY_MS;
    while (tries-- > 1 && d < CLK_KP_MAX_RETRY_MS) d *= 2;
    return d < CLK_KP_MAX_RETRY_MS ? d : CLK_KP_MAX_RETRY_MS;
}

static void set_led(clk_keypad *k, clk_led led, uint32_t now) {
    k->led = led;
    k->led_since_ms = now;
}

void clk_keypad_init(clk_keypad *k, uint32_t keypad_id, uint32_t stored_counter, clk_store_fn store,
                     clk_sign_fn sign, void *ctx) {
    memset(k, 0, sizeof *k);
    k->keypad_id = keypad_id;
    k->counter = stored_counter;
    k->poll_id = 0xFFFF;
    k->store = store;
    k->sign = sign;
    k->ctx = ctx;
}

void clk_keypad_on_poll_state(clk_keypad *k, const clk_poll_state *s) {
    k->poll_id = s->poll_id;
    k->poll_state = s->state;
    k->nkeys = s->nkeys < CLK_KP_MAX_KEYS ? s->nkeys : CLK_KP_MAX_KEYS;
    memcpy(k->keys, s->keys, k->nkeys);
}

static int key_valid(const clk_keypad *k, uint8_t key) {
    uint8_t i;
    /* Only an open poll whose keys we heard can refuse locally; otherwise the hub decides
     * (what the keypad heard before sleeping may be stale). */
    if (k->poll_state != 1 || k->nkeys == 0) return 1;
    for (i = 0; i < k->nkeys; i++)
        if (k->keys[i] == key) return 1;
    return 0;
}

enum clk_kp_result clk_keypad_press(clk_keypad *k, uint8_t key, uint16_t item, uint8_t battery, uint32_t now,
                                    clk_press *out) {
    clk_press p;
    if (!key_valid(k, key)) {
        set_led(k, CLK_LED_REFUSED, now);
        return CLK_KP_BAD_KEY;
    }
    if (k->store && k->store(k->ctx, k->counter + 1) != 0) {
        set_led(k, CLK_LED_REFUSED, now);
        return CLK_KP_STORE_FAILED;
    }
    k->counter++; /* persisted: a reboot can never reuse this counter */
    memset(&p, 0, sizeof p);
    p.keypad_id = k->keypad_id;
    p.counter = k->counter;
    p.poll_id = k->poll_id;
    p.item = item;
    p.key = key;
    p.battery = battery;
    if (k->sign && k->sign(k->ctx, &p, &p.mic) != 0) {
        set_led(k, CLK_LED_REFUSED, now);
        return CLK_KP_SIGN_FAILED;
    }
    k->press = p; /* a newer press replaces any pending one: last press wins */
    k->pending = 1;
    k->tries = 1;
    k->next_send_ms = now + retry_delay(1);
    set_led(k, CLK_LED_PENDING, now);
    *out = p;
    return CLK_KP_SEND;
}

int clk_keypad_on_result(clk_keypad *k, const clk_press_result *r, uint32_t now) {
    if (r->keypad_id != k->keypad_id) return 0;
    if (!k->pending || r->counter != k->press.counter) return 0; /* an older press: ignore */
    k->pending = 0;
    k->last_status = r->status;
    k->poll_id = r->poll_id;
    set_led(k, (r->status == CLK_ST_COUNTED || r->status == CLK_ST_DUPLICATE) ? CLK_LED_COUNTED : CLK_LED_REFUSED,
            now);
    return 1;
}

int clk_keypad_tick(clk_keypad *k, uint32_t now, clk_press *out) {
    if (!k->pending) {
        if (k->led != CLK_LED_OFF && k->led != CLK_LED_PENDING && due(now, k->led_since_ms + CLK_KP_LED_HOLD_MS))
            set_led(k, CLK_LED_OFF, now);
        return 0;
    }
    if (!due(now, k->next_send_ms)) return 0;
    if (k->tries >= CLK_KP_MAX_TRIES) {
        k->pending = 0;
        set_led(k, CLK_LED_NO_ANSWER, now);
        return 0;
    }
    k->tries++;
    k->next_send_ms = now + retry_delay(k->tries);
    *out = k->press;
    return 1;
}

clk_led clk_keypad_led(const clk_keypad *k) { return k->led; }

int clk_keypad_can_sleep(const clk_keypad *k) { return !k->pending && k->led == CLK_LED_OFF; }
