/*
 * Host unit tests of the keypad state machine and the receiver relay queue (portable code of
 * firmware/common), built with sanitizers and run by pytest. Prints "N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "../clk_keypad.h"
#include "../clk_mic.h"
#include "../clk_relay.h"

static int passed, failed;
#define CHECK(cond)                                                               \
    do {                                                                          \
        if (cond) passed++;                                                       \
        else { failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

/* --- fakes for the keypad's storage and signing callbacks --- */
typedef struct { uint32_t stored; int fail; int writes; uint8_t key[16]; } fake_nvs;

static int store(void *ctx, uint32_t counter) {
    fake_nvs *n = ctx;
    if (n->fail) return -1;
    n->stored = counter;
    n->writes++;
    return 0;
}

static int sign(void *ctx, const clk_press *p, uint32_t *mic) {
    fake_nvs *n = ctx;
    return clk_mic_compute(n->key, p, mic);
}

static clk_poll_state poll(uint16_t id, uint8_t state, const char *keys) {
    clk_poll_state s;
    memset(&s, 0, sizeof s);
    s.poll_id = id; s.state = state; s.mode = 1; s.nkeys = (uint8_t)strlen(keys);
    memcpy(s.keys, keys, s.nkeys);
    return s;
}

static clk_press_result result(uint32_t id, uint32_t counter, uint8_t status, uint16_t poll_id) {
    clk_press_result r;
    r.keypad_id = id; r.counter = counter; r.status = status; r.poll_id = poll_id;
    return r;
}

static void test_press_counts_and_persists(void) {
    fake_nvs nvs = {41, 0, 0, {0}};
    clk_keypad k;
    clk_press p;
    clk_poll_state s = poll(3, 1, "1234567");
    clk_press_result r;
    uint8_t i;
    for (i = 0; i < 16; i++) nvs.key[i] = i;
    clk_keypad_init(&k, 0x00A1B2C3, 41, store, sign, &nvs);
    CHECK(k.poll_id == 0xFFFF);
    clk_keypad_on_poll_state(&k, &s);
    CHECK(clk_keypad_press(&k, '5', 0, 87, 1000, &p) == CLK_KP_SEND);
    /* PROTOCOL.md's worked example: counter 42, poll 3, key '5', battery 87 */
    CHECK(p.counter == 42 && nvs.stored == 42 && nvs.writes == 1);
    CHECK(p.poll_id == 3 && p.key == '5' && p.battery == 87);
    CHECK(p.mic == 0xccf38d68u);
    CHECK(clk_keypad_led(&k) == CLK_LED_PENDING && !clk_keypad_can_sleep(&k));
    r = result(0x00A1B2C3, 42, CLK_ST_COUNTED, 3);
    CHECK(clk_keypad_on_result(&k, &r, 1100) == 1);
    CHECK(clk_keypad_led(&k) == CLK_LED_COUNTED);
    CHECK(clk_keypad_tick(&k, 1100 + CLK_KP_LED_HOLD_MS - 1, &p) == 0 && clk_keypad_led(&k) == CLK_LED_COUNTED);
    CHECK(clk_keypad_tick(&k, 1100 + CLK_KP_LED_HOLD_MS, &p) == 0 && clk_keypad_led(&k) == CLK_LED_OFF);
    CHECK(clk_keypad_can_sleep(&k));
}

static void test_refusals(void) {
    fake_nvs nvs = {0, 0, 0, {0}};
    clk_keypad k;
    clk_press p;
    clk_poll_state s = poll(9, 1, "ABCD");
    clk_press_result r;
    clk_keypad_init(&k, 7, 0, store, NULL, &nvs);
    clk_keypad_on_poll_state(&k, &s);
    CHECK(clk_keypad_press(&k, '5', 0, 50, 0, &p) == CLK_KP_BAD_KEY);
    CHECK(clk_keypad_led(&k) == CLK_LED_REFUSED && nvs.writes == 0 && k.counter == 0);
    CHECK(clk_keypad_press(&k, 'A', 0, 50, 10, &p) == CLK_KP_SEND && p.counter == 1 && p.mic == 0);
    r = result(7, 1, CLK_ST_POLL_CLOSED, 10);
    CHECK(clk_keypad_on_result(&k, &r, 20) == 1);
    CHECK(clk_keypad_led(&k) == CLK_LED_REFUSED && k.poll_id == 10);
    /* duplicate answers count as counted: the first copy was journaled */
    CHECK(clk_keypad_press(&k, 'B', 0, 50, 30, &p) == CLK_KP_SEND);
    r = result(7, 2, CLK_ST_DUPLICATE, 10);
    CHECK(clk_keypad_on_result(&k, &r, 40) == 1 && clk_keypad_led(&k) == CLK_LED_COUNTED);
    /* a failing flash write sends nothing and never reuses a counter */
    nvs.fail = 1;
    CHECK(clk_keypad_press(&k, 'C', 0, 50, 50, &p) == CLK_KP_STORE_FAILED && k.counter == 2);
    /* idle poll heard: the keypad still sends (its knowledge may be stale), the hub decides */
    nvs.fail = 0;
    s = poll(10, 0, "");
    clk_keypad_on_poll_state(&k, &s);
    CHECK(clk_keypad_press(&k, '9', 0, 50, 60, &p) == CLK_KP_SEND && p.counter == 3 && p.poll_id == 10);
}

static void test_retransmission_schedule_and_no_answer(void) {
    clk_keypad k;
    clk_press p;
    uint32_t now = 0xFFFFFF00u; /* the schedule survives the millisecond clock wrapping */
    uint32_t sends = 1, last = now, gaps[CLK_KP_MAX_TRIES];
    clk_keypad_init(&k, 5, 100, NULL, NULL, NULL);
    CHECK(clk_keypad_press(&k, '1', 0, 50, now, &p) == CLK_KP_SEND);
    while (k.pending && now - 0xFFFFFF00u < 60000u) {
        now += 10;
        if (clk_keypad_tick(&k, now, &p)) {
            CHECK(p.counter == 101);
            gaps[sends - 1] = now - last;
            last = now;
            sends++;
        }
    }
    CHECK(sends == CLK_KP_MAX_TRIES);
    CHECK(gaps[0] == 300 && gaps[1] == 600 && gaps[2] == 1200 && gaps[3] == 2400 && gaps[4] == 2400);
    CHECK(clk_keypad_led(&k) == CLK_LED_NO_ANSWER);
}

static void test_newer_press_supersedes_pending(void) {
    clk_keypad k;
    clk_press p;
    clk_press_result r;
    clk_keypad_init(&k, 5, 0, NULL, NULL, NULL);
    clk_keypad_press(&k, '1', 0, 50, 0, &p);
    clk_keypad_press(&k, '6', 0, 50, 100, &p);
    CHECK(p.counter == 2 && k.press.key == '6');
    r = result(5, 1, CLK_ST_SUPERSEDED, 1); /* the late answer to the old press is ignored */
    CHECK(clk_keypad_on_result(&k, &r, 150) == 0 && clk_keypad_led(&k) == CLK_LED_PENDING);
    r = result(6, 2, CLK_ST_COUNTED, 1); /* another keypad's answer is ignored */
    CHECK(clk_keypad_on_result(&k, &r, 150) == 0);
    r = result(5, 2, CLK_ST_COUNTED, 1);
    CHECK(clk_keypad_on_result(&k, &r, 200) == 1 && clk_keypad_led(&k) == CLK_LED_COUNTED);
}

/* --- relay queue --- */
static int radio_calls;
static clk_press_result radio_last;
static void radio(void *ctx, const clk_press_result *r) { (void)ctx; radio_calls++; radio_last = *r; }

static clk_press press(uint32_t id, uint32_t counter) {
    clk_press p;
    memset(&p, 0, sizeof p);
    p.keypad_id = id; p.counter = counter; p.poll_id = 1; p.key = '3'; p.battery = 90; p.rssi = -50;
    return p;
}

static void test_relay_repeats_until_answered(void) {
    static clk_relay q;
    clk_press out[8], p = press(1, 10);
    uint8_t flags[8];
    clk_press_result r = result(1, 10, CLK_ST_COUNTED, 1);
    clk_relay_init(&q);
    CHECK(clk_relay_add(&q, &p, 1000) == 1);
    CHECK(clk_relay_add(&q, &p, 1005) == 0 && q.count == 1); /* a radio repeat of the same press */
    CHECK(clk_relay_due(&q, 1010, out, flags, 8) == 1 && flags[0] == 0 && out[0].age_ms == 10);
    CHECK(clk_relay_due(&q, 1259, out, flags, 8) == 0);
    CHECK(clk_relay_due(&q, 1260, out, flags, 8) == 1 && flags[0] == CLK_FLAG_RETRANSMIT && out[0].age_ms == 260);
    CHECK(clk_relay_due(&q, 1000 + 70000u, out, flags, 8) == 1 && out[0].age_ms == 0xFFFF); /* saturates */
    radio_calls = 0;
    CHECK(clk_relay_on_result(&q, &r, radio, NULL) == 1 && q.count == 0);
    CHECK(radio_calls == 1 && radio_last.counter == 10);
    CHECK(clk_relay_due(&q, 200000, out, flags, 8) == 0);
    /* a second answer (the hub answers duplicates too) still reaches the keypad */
    CHECK(clk_relay_on_result(&q, &r, radio, NULL) == 0 && radio_calls == 2);
}

static void test_relay_drops_oldest_when_full(void) {
    static clk_relay q;
    clk_press out[CLK_RELAY_CAP];
    uint8_t flags[CLK_RELAY_CAP];
    uint32_t i;
    int found_first = 0, found_last = 0;
    size_t n;
    clk_relay_init(&q);
    for (i = 0; i < CLK_RELAY_CAP + 3; i++) {
        clk_press p = press(100 + i, 1);
        clk_relay_add(&q, &p, i);
    }
    CHECK(q.count == CLK_RELAY_CAP && q.dropped == 3);
    n = clk_relay_due(&q, 1000, out, flags, CLK_RELAY_CAP);
    CHECK(n == CLK_RELAY_CAP);
    for (i = 0; i < n; i++) {
        if (out[i].keypad_id == 100) found_first = 1;
        if (out[i].keypad_id == 100 + CLK_RELAY_CAP + 2) found_last = 1;
    }
    CHECK(!found_first && found_last);
}

int main(void) {
    test_press_counts_and_persists();
    test_refusals();
    test_retransmission_schedule_and_no_answer();
    test_newer_press_supersedes_pending();
    test_relay_repeats_until_answered();
    test_relay_drops_oldest_when_full();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
