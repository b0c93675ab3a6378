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

void clk_keypad_init(clk_keypad *k, uint32_t keypad_id, uint32_t stored_counter, clk_store_fn store, clk_sign_fn sign,
                     void *ctx) {
    memset(k, 0, sizeof *k);
    k->keypad_id = keypad_id;
    k->counter = stored_counter;
    k->poll_id = CLK_UNKNOWN_POLL;
    k->store = store;
    k->sign = sign;
    k->ctx = ctx;
}

void clk_keypad_on_poll_state(clk_keypad *k, const clk_poll_state *s) {
    k->poll_id = s->poll_id;
    k->poll_state = s->state;
    k->poll_mode = s->mode;
    k->session_nonce = s->session_nonce;
    k->nkeys = s->nkeys < CLK_MAX_KEYS ? s->nkeys : CLK_MAX_KEYS;
    memcpy(k->keys, s->keys, k->nkeys);
    k->nitems = s->nitems < CLK_MAX_ITEMS ? s->nitems : CLK_MAX_ITEMS;
    memcpy(k->items, s->items, k->nitems * sizeof k->items[0]);
}

/* Only an open poll whose keys or proposals we heard can refuse locally; otherwise the hub
 * decides (what the keypad heard before sleeping may be stale). */
static int key_valid(const clk_keypad *k, uint8_t key) {
    uint8_t i;
    if (k->poll_state != CLK_POLL_OPEN || k->nkeys == 0) return 1;
    for (i = 0; i < k->nkeys; i++)
        if (k->keys[i] == key) return 1;
    return 0;
}

static int item_valid(const clk_keypad *k, uint16_t item) {
    uint8_t i;
    if (k->poll_state != CLK_POLL_OPEN || k->poll_mode != CLK_MODE_SELF_PACED || k->nitems == 0) return 1;
    for (i = 0; i < k->nitems; i++)
        if (k->items[i] == item) return 1;
    return 0;
}

/* The next counter, persisted, then the press signed under the current session nonce. */
static int make_press(clk_keypad *k, uint8_t key, uint16_t item, uint8_t battery, clk_press *p) {
    if (k->store && k->store(k->ctx, k->counter + 1) != 0) return -CLK_E_STORE;
    k->counter++; /* persisted: a reboot can never reuse this counter */
    memset(p, 0, sizeof *p);
    p->keypad_id = k->keypad_id;
    p->counter = k->counter;
    p->session_nonce = k->session_nonce;
    p->poll_id = k->poll_id;
    p->item = item;
    p->key = key;
    p->battery = battery;
    if (k->sign && k->sign(k->ctx, p, &p->mic) != 0) return -CLK_E_SIGN;
    return 0;
}

static clk_kp_slot *slot_for(clk_keypad *k, uint16_t item) {
    clk_kp_slot *free_slot = NULL, *oldest = NULL;
    unsigned i;
    for (i = 0; i < CLK_KP_SLOTS; i++) {
        clk_kp_slot *s = &k->slot[i];
        if (s->used && s->press.item == item) return s; /* last press wins: replace it */
        if (!s->used && !free_slot) free_slot = s;
        if (s->used && (!oldest || (int32_t)(s->pressed_ms - oldest->pressed_ms) < 0)) oldest = s;
    }
    return free_slot ? free_slot : oldest; /* all taken: the oldest press is given up */
}

unsigned clk_keypad_pending(const clk_keypad *k) {
    unsigned i, n = 0;
    for (i = 0; i < CLK_KP_SLOTS; i++) n += k->slot[i].used;
    return n;
}

int clk_keypad_press(clk_keypad *k, uint8_t key, uint16_t item, uint8_t battery, uint32_t now, clk_press *out) {
    clk_press p;
    clk_kp_slot *s;
    int r;
    if (!key_valid(k, key))
        r = -CLK_E_BAD_KEY;
    else if (!item_valid(k, item))
        r = -CLK_E_BAD_ITEM;
    else
        r = make_press(k, key, item, battery, &p);
    if (r < 0) {
        set_led(k, CLK_LED_REFUSED, now);
        return r;
    }
    s = slot_for(k, item);
    memset(s, 0, sizeof *s);
    s->press = p;
    s->used = 1;
    s->tries = 1;
    s->pressed_ms = now;
    s->next_send_ms = now + retry_delay(1);
    set_led(k, CLK_LED_PENDING, now);
    *out = p;
    return 0;
}

bool clk_keypad_on_result(clk_keypad *k, const clk_press_result *r, uint32_t now) {
    clk_kp_slot *s = NULL;
    unsigned i;
    if (r->keypad_id != k->keypad_id) return false;
    for (i = 0; i < CLK_KP_SLOTS && !s; i++)
        if (k->slot[i].used && k->slot[i].press.counter == r->counter) s = &k->slot[i];
    if (!s) return false; /* an answer to a press already answered or replaced: ignore */
    k->poll_id = r->poll_id;
    k->last_status = r->status;
    if (r->status == CLK_ST_STALE_SESSION && r->session_nonce != s->press.session_nonce && !s->resigned) {
        clk_press again;
        k->session_nonce = r->session_nonce; /* the hub names the session: sign under it */
        if (make_press(k, s->press.key, s->press.item, s->press.battery, &again) == 0) {
            s->press = again;
            s->resigned = 1;
            s->tries = 0;
            s->next_send_ms = now; /* sent by the next tick */
            return true;
        }
    } else if (r->session_nonce != 0) {
        k->session_nonce = r->session_nonce;
    }
    s->used = 0;
    if (clk_keypad_pending(k)) return true; /* other items still in flight: keep blinking */
    set_led(k, (r->status == CLK_ST_COUNTED || r->status == CLK_ST_DUPLICATE) ? CLK_LED_COUNTED : CLK_LED_REFUSED, now);
    return true;
}

bool clk_keypad_tick(clk_keypad *k, uint32_t now, clk_press *out) {
    unsigned i;
    for (i = 0; i < CLK_KP_SLOTS; i++) {
        clk_kp_slot *s = &k->slot[i];
        if (!s->used || !due(now, s->next_send_ms)) continue;
        if (s->tries >= CLK_KP_MAX_TRIES) {
            s->used = 0;
            if (!clk_keypad_pending(k)) set_led(k, CLK_LED_NO_ANSWER, now);
            continue;
        }
        s->tries++;
        s->next_send_ms = now + retry_delay(s->tries);
        *out = s->press;
        return true;
    }
    if (!clk_keypad_pending(k) && k->led != CLK_LED_OFF && k->led != CLK_LED_PENDING &&
        due(now, k->led_since_ms + CLK_KP_LED_HOLD_MS))
        set_led(k, CLK_LED_OFF, now);
    return false;
}

clk_led clk_keypad_led(const clk_keypad *k) { return k->led; }

bool clk_keypad_can_sleep(const clk_keypad *k) { return !clk_keypad_pending(k) && k->led == CLK_LED_OFF; }
