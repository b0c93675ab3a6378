/*
 * Host unit tests of the keypad state machine and the receiver relay queue (portable code of
 * firmware/common), built with sanitizers and run by pytest. Prints "N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "../clk_keypad.h"
#include "../clk_link.h"
#include "../clk_mic.h"
#include "../clk_relay.h"
#include "host_check.h"

/* The worked example's MIC (tests/vectors/mic.json, docs/protocol.md). */
#define WORKED_MIC 0x690F7517u

/* --- fakes for the keypad's storage and signing callbacks --- */
typedef struct {
    uint32_t stored;
    int fail;
    int writes;
    uint8_t key[16];
} fake_nvs;

static int store(void *ctx, uint32_t counter) {
    fake_nvs *n = ctx;
    if (n->fail) return -CLK_E_IO;
    n->stored = counter;
    n->writes++;
    return 0;
}

static int sign(void *ctx, const clk_press *p, uint32_t *mic) {
    fake_nvs *n = ctx;
    *mic = clk_mic_compute(n->key, p);
    return 0;
}

#define NONCE 0x5EC0A11Bu /* the worked example's session nonce (docs/protocol.md) */

static clk_poll_state poll(uint16_t id, uint8_t state, const char *keys) {
    clk_poll_state s;
    memset(&s, 0, sizeof s);
    s.poll_id = id;
    s.state = state;
    s.mode = state == CLK_POLL_IDLE ? CLK_MODE_NONE : CLK_MODE_GRADES;
    s.session_nonce = NONCE;
    s.nkeys = (uint8_t)strlen(keys);
    memcpy(s.keys, keys, s.nkeys);
    return s;
}

static clk_press_result result(uint32_t id, uint32_t counter, uint8_t status, uint16_t poll_id) {
    clk_press_result r;
    r.keypad_id = id;
    r.counter = counter;
    r.status = status;
    r.poll_id = poll_id;
    r.session_nonce = NONCE;
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
    CHECK(clk_keypad_press(&k, '5', 0, 87, 1000, &p) == 0);
    /* docs/protocol.md's worked example: counter 42, the session's nonce, poll 3, key '5', battery 87 */
    CHECK(p.counter == 42 && nvs.stored == 42 && nvs.writes == 1);
    CHECK(p.session_nonce == NONCE && p.poll_id == 3 && p.key == '5' && p.battery == 87);
    CHECK(p.mic == WORKED_MIC);
    CHECK(clk_keypad_led(&k) == CLK_LED_PENDING && !clk_keypad_can_sleep(&k));
    r = result(0x00A1B2C3, 42, CLK_ST_COUNTED, 3);
    CHECK(clk_keypad_on_result(&k, &r, 1100));
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
    CHECK(clk_keypad_press(&k, '5', 0, 50, 0, &p) == -CLK_E_BAD_KEY);
    CHECK(clk_keypad_led(&k) == CLK_LED_REFUSED && nvs.writes == 0 && k.counter == 0);
    CHECK(clk_keypad_press(&k, 'A', 0, 50, 10, &p) == 0 && p.counter == 1 && p.mic == 0);
    r = result(7, 1, CLK_ST_POLL_CLOSED, 10);
    CHECK(clk_keypad_on_result(&k, &r, 20));
    CHECK(clk_keypad_led(&k) == CLK_LED_REFUSED && k.poll_id == 10 && k.session_nonce == NONCE);
    /* duplicate answers count as counted: the first copy was journaled */
    CHECK(clk_keypad_press(&k, 'B', 0, 50, 30, &p) == 0);
    r = result(7, 2, CLK_ST_DUPLICATE, 10);
    CHECK(clk_keypad_on_result(&k, &r, 40) && clk_keypad_led(&k) == CLK_LED_COUNTED);
    /* a failing flash write sends nothing and never reuses a counter */
    nvs.fail = 1;
    CHECK(clk_keypad_press(&k, 'C', 0, 50, 50, &p) == -CLK_E_STORE && k.counter == 2);
    /* idle poll heard: the keypad still sends (its knowledge may be stale), the hub decides */
    nvs.fail = 0;
    s = poll(10, 0, "");
    clk_keypad_on_poll_state(&k, &s);
    CHECK(clk_keypad_press(&k, '9', 0, 50, 60, &p) == 0 && p.counter == 3 && p.poll_id == 10);
}

static void test_retransmission_schedule_and_no_answer(void) {
    clk_keypad k;
    clk_press p;
    uint32_t now = 0xFFFFFF00u; /* the schedule survives the millisecond clock wrapping */
    uint32_t sends = 1, last = now, gaps[CLK_KP_MAX_TRIES];
    clk_keypad_init(&k, 5, 100, NULL, NULL, NULL);
    CHECK(clk_keypad_press(&k, '1', 0, 50, now, &p) == 0);
    while (clk_keypad_pending(&k) && now - 0xFFFFFF00u < 60000u) {
        now += 10;
        if (clk_keypad_tick(&k, now, &p)) {
            CHECK(p.counter == 101);
            gaps[sends - 1] = now - last;
            last = now;
            sends++;
        }
    }
    CHECK(sends == CLK_KP_MAX_TRIES && clk_keypad_pending(&k) == 0);
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
    CHECK(p.counter == 2 && clk_keypad_pending(&k) == 1 && k.slot[0].press.key == '6');
    r = result(5, 1, CLK_ST_SUPERSEDED, 1); /* the late answer to the old press is ignored */
    CHECK(!clk_keypad_on_result(&k, &r, 150) && clk_keypad_led(&k) == CLK_LED_PENDING);
    r = result(6, 2, CLK_ST_COUNTED, 1); /* another keypad's answer is ignored */
    CHECK(!clk_keypad_on_result(&k, &r, 150));
    r = result(5, 2, CLK_ST_COUNTED, 1);
    CHECK(clk_keypad_on_result(&k, &r, 200) && clk_keypad_led(&k) == CLK_LED_COUNTED);
    /* the replaced press, retransmitted by a receiver, is answered duplicate (it was counted
     * before the newer one replaced it): the keypad, which moved on, ignores it */
    r = result(5, 1, CLK_ST_DUPLICATE, 1);
    CHECK(!clk_keypad_on_result(&k, &r, 250) && clk_keypad_led(&k) == CLK_LED_COUNTED);
}

static void test_idle_poll_id_is_sent_as_heard(void) {
    clk_keypad k;
    clk_press p;
    clk_poll_state s = poll(CLK_NO_POLL, CLK_POLL_IDLE, "");
    clk_keypad_init(&k, 8, 0, NULL, NULL, NULL);
    CHECK(clk_keypad_press(&k, '3', 0, 50, 0, &p) == 0 && p.poll_id == CLK_UNKNOWN_POLL);
    CHECK(p.session_nonce == 0);      /* heard no session yet */
    clk_keypad_on_poll_state(&k, &s); /* before the first poll: idle, poll 0 */
    CHECK(clk_keypad_press(&k, '3', 0, 50, 10, &p) == 0 && p.poll_id == 0 && p.session_nonce == NONCE);
    s = poll(12, CLK_POLL_IDLE, ""); /* after poll 12 closed: idle, poll 12; keys are the hub's to judge */
    clk_keypad_on_poll_state(&k, &s);
    CHECK(clk_keypad_press(&k, '9', 0, 50, 20, &p) == 0 && p.poll_id == 12);
}

static void test_self_paced_items_in_flight_side_by_side(void) {
    clk_keypad k;
    clk_press p, out;
    clk_press_result r;
    clk_poll_state s = poll(4, CLK_POLL_OPEN, "1234567");
    s.mode = CLK_MODE_SELF_PACED;
    s.nitems = 2;
    s.items[0] = 3;
    s.items[1] = 7;
    clk_keypad_init(&k, 9, 0, NULL, NULL, NULL);
    clk_keypad_on_poll_state(&k, &s);
    /* only the proposals the poll announced are items */
    CHECK(clk_keypad_press(&k, '2', 5, 50, 0, &p) == -CLK_E_BAD_ITEM && k.counter == 0);
    CHECK(clk_keypad_press(&k, '2', 0, 50, 0, &p) == -CLK_E_BAD_ITEM);
    CHECK(clk_keypad_press(&k, '2', 3, 50, 0, &p) == 0 && p.counter == 1 && p.item == 3);
    CHECK(clk_keypad_press(&k, '6', 7, 50, 10, &p) == 0 && p.counter == 2 && p.item == 7);
    CHECK(clk_keypad_pending(&k) == 2); /* the hub orders per item: item 3 stays in flight */
    CHECK(clk_keypad_press(&k, '4', 3, 50, 20, &p) == 0 && p.counter == 3);
    CHECK(clk_keypad_pending(&k) == 2); /* ... but a newer press for item 3 replaces the older */
    r = result(9, 2, CLK_ST_COUNTED, 4);
    CHECK(clk_keypad_on_result(&k, &r, 30) && clk_keypad_led(&k) == CLK_LED_PENDING);
    CHECK(clk_keypad_tick(&k, 20 + CLK_KP_FIRST_RETRY_MS, &out) == 1 && out.counter == 3);
    r = result(9, 3, CLK_ST_COUNTED, 4);
    CHECK(clk_keypad_on_result(&k, &r, 400) && clk_keypad_led(&k) == CLK_LED_COUNTED);
}

static void test_stale_session_is_signed_again_once(void) {
    fake_nvs nvs = {100, 0, 0, {0}};
    clk_keypad k;
    clk_press p, again;
    clk_press_result r;
    uint8_t i;
    for (i = 0; i < 16; i++) nvs.key[i] = (uint8_t)(i * 3);
    clk_keypad_init(&k, 0x5A7D4120u, 100, store, sign, &nvs);
    k.session_nonce = 0x01020304u; /* an earlier session's nonce, kept across deep sleep */
    CHECK(clk_keypad_press(&k, '4', 0, 60, 0, &p) == 0 && p.session_nonce == 0x01020304u);
    r = result(0x5A7D4120u, 101, CLK_ST_STALE_SESSION, 2); /* the hub names NONCE */
    CHECK(clk_keypad_on_result(&k, &r, 50) && clk_keypad_pending(&k) == 1);
    CHECK(clk_keypad_led(&k) == CLK_LED_PENDING && k.session_nonce == NONCE && k.poll_id == 2);
    CHECK(clk_keypad_tick(&k, 50, &again)); /* sent again at once: the same key, a new counter */
    CHECK(again.counter == 102 && nvs.stored == 102 && again.key == '4' && again.session_nonce == NONCE);
    CHECK(again.mic == clk_mic_compute(nvs.key, &again) && again.mic != p.mic);
    /* refused again as stale_session: no second try (the hub's nonce did not change) */
    r = result(0x5A7D4120u, 102, CLK_ST_STALE_SESSION, 2);
    CHECK(clk_keypad_on_result(&k, &r, 90) && clk_keypad_pending(&k) == 0);
    CHECK(clk_keypad_led(&k) == CLK_LED_REFUSED && k.counter == 102);
}

static void test_receiver_answers_hello_by_revision(void) {
    clk_rx_identity id = {1, 2, 3, 42, 7, CLK_RADIO_ESP_NOW, 6, 255};
    clk_hello h;
    clk_msg m;
    h.proto = CLK_PROTO_REVISION;
    h.session_nonce = NONCE;
    CHECK(clk_rx_answer_hello(&h, &id, &m) == 0 && m.type == CLK_HELLO_ACK);
    CHECK(m.u.hello_ack.proto == CLK_PROTO_REVISION && m.u.hello_ack.boot_id == 7 && m.u.hello_ack.fw_patch == 3);
    h.proto = 1; /* a v1 hub */
    CHECK(clk_rx_answer_hello(&h, &id, &m) == -CLK_E_REVISION && m.type == CLK_ERROR);
    CHECK(m.u.error.code == CLK_ERR_UNSUPPORTED_REVISION && m.u.error.len > 0);
    CHECK(memcmp(m.u.error.text, "hub speaks protocol revision 1, this receiver speaks 2", m.u.error.len) == 0);
}

/* --- relay queue --- */
static int radio_calls;
static clk_press_result radio_last;
static void radio(void *ctx, const clk_press_result *r) {
    (void)ctx;
    radio_calls++;
    radio_last = *r;
}

static clk_press press(uint32_t id, uint32_t counter) {
    clk_press p;
    memset(&p, 0, sizeof p);
    p.keypad_id = id;
    p.counter = counter;
    p.poll_id = 1;
    p.key = '3';
    p.battery = 90;
    p.rssi = -50;
    return p;
}

static void test_relay_repeats_until_answered(void) {
    static clk_relay q;
    clk_press out[8], p = press(1, 10);
    uint8_t flags[8];
    clk_press_result r = result(1, 10, CLK_ST_COUNTED, 1);
    clk_relay_init(&q);
    CHECK(clk_relay_add(&q, &p, 1000));
    CHECK(!clk_relay_add(&q, &p, 1005) && q.count == 1); /* a radio repeat of the same press */
    CHECK(clk_relay_due(&q, 1010, out, flags, 8) == 1 && flags[0] == 0 && out[0].age_ms == 10);
    CHECK(clk_relay_due(&q, 1259, out, flags, 8) == 0);
    CHECK(clk_relay_due(&q, 1260, out, flags, 8) == 1 && flags[0] == CLK_FLAG_RETRANSMIT && out[0].age_ms == 260);
    CHECK(clk_relay_due(&q, 1000 + 70000u, out, flags, 8) == 1 && out[0].age_ms == 0xFFFF); /* saturates */
    radio_calls = 0;
    CHECK(clk_relay_on_result(&q, &r, radio, NULL) && q.count == 0);
    CHECK(radio_calls == 1 && radio_last.counter == 10);
    CHECK(clk_relay_due(&q, 200000, out, flags, 8) == 0);
    /* a second answer (the hub answers duplicates too) still reaches the keypad */
    CHECK(!clk_relay_on_result(&q, &r, radio, NULL) && radio_calls == 2);
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

static void test_air_frames_say_their_type(void) {
    /* a POLL_STATE with three keys and one item is 15 bytes, as long as a PRESS_RESULT: on the
     * air each is sent after its type byte, so a keypad never mistakes one for the other */
    clk_msg m, back;
    uint8_t air[CLK_MAX_AIR];
    int n;
    memset(&m, 0, sizeof m);
    m.type = CLK_POLL_STATE;
    m.u.poll_state = poll(9, CLK_POLL_OPEN, "ABC");
    m.u.poll_state.mode = CLK_MODE_CONSENT;
    m.u.poll_state.nitems = 1;
    m.u.poll_state.items[0] = 14;
    n = clk_air_pack(&m, air);
    CHECK(n == 1 + CLK_PRESS_RESULT_SIZE && air[0] == CLK_POLL_STATE);
    CHECK(clk_air_parse(air, (size_t)n, &back) == 0 && back.type == CLK_POLL_STATE);
    CHECK(back.u.poll_state.nkeys == 3 && back.u.poll_state.items[0] == 14 && back.u.poll_state.session_nonce == NONCE);
    m.type = CLK_PRESS_RESULT;
    m.u.press_result = result(7, 3, CLK_ST_COUNTED, 9);
    n = clk_air_pack(&m, air);
    CHECK(n == 1 + CLK_PRESS_RESULT_SIZE && air[0] == CLK_PRESS_RESULT);
    CHECK(clk_air_parse(air, (size_t)n, &back) == 0 && back.u.press_result.counter == 3);
    CHECK(clk_air_parse(air, 0, &back) == -CLK_BAD_LENGTH);
    air[0] = 0x55;
    CHECK(clk_air_parse(air, (size_t)n, &back) == -CLK_UNKNOWN_TYPE);
}

/* One convention: 0 or a length on success, a negative code naming the failure. */
static void test_failures_are_negative_codes(void) {
    static const uint8_t zero_inside[] = {0x03, 0x11, 0x00}, past_end[] = {0x05, 0x11};
    uint8_t out[CLK_MAX_WIRE], small[4], advert[CLK_ADVERT_SIZE];
    clk_msg m;
    clk_press p;
    memset(&m, 0, sizeof m);
    CHECK(clk_cobs_decode(zero_inside, sizeof zero_inside, out, sizeof out) == -CLK_BAD_COBS);
    CHECK(clk_cobs_decode(past_end, sizeof past_end, out, sizeof out) == -CLK_BAD_COBS);
    CHECK(clk_cobs_decode((const uint8_t *)"\x01", 1, out, sizeof out) == 0); /* the empty string */
    CHECK(clk_cobs_decode((const uint8_t *)"\x03\x11\x22", 3, out, 1) == -CLK_E_NOSPACE);
    CHECK(clk_cobs_encode(out, 8, small, sizeof small) == -CLK_E_NOSPACE);
    m.type = CLK_PING;
    CHECK(clk_encode(&m, out, sizeof out) == 1 + (int)(CLK_HEADER_SIZE + CLK_CRC_SIZE) + 1);
    CHECK(clk_encode(&m, small, sizeof small) == -CLK_E_NOSPACE);
    m.type = 0x77;
    CHECK(clk_encode(&m, out, sizeof out) == -CLK_UNKNOWN_TYPE);
    m.type = CLK_POLL_STATE;
    m.u.poll_state.nkeys = CLK_MAX_KEYS + 1;
    CHECK(clk_encode(&m, out, sizeof out) == -CLK_E_RANGE && clk_air_pack(&m, out) == -CLK_E_RANGE);
    m.type = CLK_PRESS;
    CHECK(clk_air_pack(&m, out) == -CLK_UNKNOWN_TYPE); /* keypads send PRESS as an advert */
    memset(&p, 0, sizeof p);
    p.keypad_id = 7;
    clk_advert_encode(&p, advert);
    CHECK(clk_advert_decode(advert, sizeof advert, &p) == 0 && p.keypad_id == 7);
    CHECK(clk_advert_decode(advert, sizeof advert - 1, &p) == -CLK_BAD_LENGTH);
    advert[0] ^= 0xFF;
    CHECK(clk_advert_decode(advert, sizeof advert, &p) == -CLK_BAD_VERSION);
    out[0] = CLK_VERSION;
    CHECK(clk_parse(out, 3, &m) == -CLK_BAD_LENGTH);
}

int main(void) {
    test_press_counts_and_persists();
    test_refusals();
    test_retransmission_schedule_and_no_answer();
    test_newer_press_supersedes_pending();
    test_idle_poll_id_is_sent_as_heard();
    test_self_paced_items_in_flight_side_by_side();
    test_stale_session_is_signed_again_once();
    test_receiver_answers_hello_by_revision();
    test_air_frames_say_their_type();
    test_relay_repeats_until_answered();
    test_relay_drops_oldest_when_full();
    test_failures_are_negative_codes();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
