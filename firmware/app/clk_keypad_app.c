#include "clk_keypad_app.h"

#include <string.h>

#include "clk_mic.h"

static int store_counter(void *ctx, uint32_t counter) {
    (void)ctx;
    return clk_hal_nvs_set_u32("counter", counter);
}

static int sign_press(void *ctx, const clk_press *p, uint32_t *mic) {
    const clk_keypad_app *a = ctx;
    *mic = a->has_key ? clk_mic_compute(a->aes_key, p) : 0;
    return 0;
}

void clk_keypad_app_init(clk_keypad_app *a, uint32_t now) {
    uint32_t id, counter;
    (void)now;
    memset(a, 0, sizeof *a);
    if (clk_hal_nvs_get_u32("id", &id) != 0) id = clk_hal_chip_id();
    if (clk_hal_nvs_get_u32("counter", &counter) != 0) counter = 0;
    a->has_key = clk_hal_nvs_get_blob("aes_key", a->aes_key, sizeof a->aes_key) == 0;
    a->leds_shown = -1;
    clk_keypad_init(&a->kp, id, counter, store_counter, sign_press, a);
    a->kp.session_nonce = clk_hal_retained_get(); /* 0 after power-on: the first answer names it */
}

static void transmit(const clk_press *p) {
    uint8_t air[CLK_ADVERT_SIZE]; /* a keypad's press travels in the advert layout */
    clk_advert_encode(p, air);
    clk_hal_radio_send(NULL, air, sizeof air);
}

static void hear(clk_keypad_app *a, uint32_t now) {
    uint8_t buf[CLK_RADIO_MAX];
    size_t i, n;
    for (i = 0; i < CLK_KP_RADIO_BURST; i++) {
        clk_radio_addr from;
        int8_t rssi;
        clk_msg m;
        n = clk_hal_radio_recv(buf, sizeof buf, &from, &rssi);
        if (n == 0) return;
        if (clk_air_parse(buf, n, &m) < 0) continue; /* a type byte, then the payload */
        if (m.type == CLK_PRESS_RESULT) {
            if (clk_keypad_on_result(&a->kp, &m.u.press_result, now)) a->answered = 1;
        } else if (m.type == CLK_POLL_STATE) {
            clk_keypad_on_poll_state(&a->kp, &m.u.poll_state);
        }
    }
}

static void press(clk_keypad_app *a, uint8_t key, uint32_t now) {
    clk_press p;
    if (key == '#') { /* the LED key: show the last answer again, send nothing */
        if (a->answered && a->kp.led == CLK_LED_OFF) {
            int ok = a->kp.last_status == CLK_ST_COUNTED || a->kp.last_status == CLK_ST_DUPLICATE;
            a->kp.led = ok ? CLK_LED_COUNTED : CLK_LED_REFUSED;
            a->kp.led_since_ms = now;
        }
        return;
    }
    if (clk_keypad_press(&a->kp, key, 0, clk_hal_battery(), now, &p) == 0) transmit(&p);
}

static void show(clk_keypad_app *a, uint32_t now) {
    int blink = (now / CLK_KP_BLINK_MS) % 2 == 0;
    int green = 0, red = 0, shown;
    switch (clk_keypad_led(&a->kp)) {
    case CLK_LED_PENDING: green = red = blink; break;
    case CLK_LED_COUNTED: green = 1; break;
    case CLK_LED_REFUSED: red = 1; break;
    case CLK_LED_NO_ANSWER: red = blink; break;
    default: break;
    }
    shown = green | red << 1;
    if (shown != a->leds_shown) {
        clk_hal_leds(green, red);
        a->leds_shown = shown;
    }
}

static uint32_t sooner(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0 ? a : b; }

uint32_t clk_keypad_app_step(clk_keypad_app *a, uint32_t now) {
    uint8_t key = clk_hal_key();
    clk_press again;
    uint32_t next = now + CLK_KP_MAX_IDLE_MS;
    unsigned i;
    hear(a, now);
    if (key && key != a->held) press(a, key, now);
    a->held = key;
    while (clk_keypad_tick(&a->kp, now, &again)) transmit(&again); /* repeats, or a press signed again */
    show(a, now);
    if (!key && clk_keypad_can_sleep(&a->kp)) { /* LEDs dark */
        clk_hal_retained_set(a->kp.session_nonce);
        clk_hal_deep_sleep(); /* does not return */
    }
    for (i = 0; i < CLK_KP_SLOTS; i++)
        if (a->kp.slot[i].used) next = sooner(next, a->kp.slot[i].next_send_ms);
    if (a->kp.led == CLK_LED_PENDING || a->kp.led == CLK_LED_NO_ANSWER)
        next = sooner(next, (now / CLK_KP_BLINK_MS + 1) * CLK_KP_BLINK_MS);
    else if (a->kp.led != CLK_LED_OFF)
        next = sooner(next, a->kp.led_since_ms + CLK_KP_LED_HOLD_MS);
    return (int32_t)(next - now) < 0 ? now : next;
}
