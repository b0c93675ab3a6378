/*
 * clicker keypad firmware (ESP32-C3): GPIO, LED, NVS and ESP-NOW glue around
 * firmware/common/clk_keypad (the state machine) and clk_mic (AES-CMAC via mbedTLS).
 *
 * STUB ON PURPOSE: needs an ESP32-C3 board and the espressif32 PlatformIO platform, which the
 * project's CI does not have. It has not been compiled here. See hardware.md, "Firmware status".
 *
 * Wire protocol v1.1 (docs/protocol.md): presses carry and sign the session nonce heard in
 * POLL_STATE or PRESS_RESULT; it is kept in RTC memory across deep sleep. This key layout has
 * no way to name a proposal, so presses are for the proposal put to the vote (item 0).
 *
 * Pins (hardware.md, "Keypad wiring"): matrix rows GPIO0, GPIO1, GPIO3 (inputs, pull-up,
 * deep-sleep wake sources), columns GPIO5, GPIO6, GPIO7, GPIO10 (outputs, held low while
 * asleep), LED green GPIO20, red GPIO21, battery divider on GPIO4 (ADC1).
 */
#include <Arduino.h>
#include <Preferences.h>
#include <WiFi.h>
#include <esp_now.h>
#include <esp_sleep.h>
#include <esp_wifi.h>

extern "C" {
#include "clk_keypad.h"
#include "clk_mic.h"
}

static const uint8_t CHANNEL = 6;
static const uint8_t BROADCAST[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static const int ROWS[3] = {0, 1, 3};
static const int COLS[4] = {5, 6, 7, 10};
/* The printed key card: 1-7 grades (1 = À rejeter .. 7 = Excellent); A-D consent colours
 * (A green, B yellow, C orange, D red); '#' resends nothing, it only shows the last LED. */
static const char KEYMAP[3][4] = {{'1', '2', '3', '4'}, {'5', '6', '7', '#'}, {'A', 'B', 'C', 'D'}};
static const int LED_GREEN = 20, LED_RED = 21, BATTERY_ADC = 4;

static Preferences nvs;
static clk_keypad kp;
RTC_DATA_ATTR static uint32_t rtc_session_nonce; /* survives deep sleep, not a power cycle */
static uint8_t aes_key[16];
static bool has_key;
static volatile bool got_air;
static uint8_t air[CLK_MAX_AIR];
static volatile int air_len;

static int store_counter(void *, uint32_t counter) {
    return nvs.putUInt("counter", counter) == sizeof(uint32_t) ? 0 : -1;
}

static int sign_press(void *, const clk_press *p, uint32_t *mic) {
    if (!has_key) { *mic = 0; return 0; }
    return clk_mic_compute(aes_key, p, mic);
}

static void on_air(const esp_now_recv_info_t *, const uint8_t *data, int len) {
    if (len <= 0 || len > (int)sizeof air) return;
    memcpy(air, data, (size_t)len);
    air_len = len;
    got_air = true;
}

static uint8_t battery_percent() {
    int mv = analogReadMilliVolts(BATTERY_ADC) * 2; /* 1:1 divider */
    int pct = (mv - 2000) * 100 / (3000 - 2000);   /* 2 x AAA: 3.0 V full, 2.0 V empty */
    return (uint8_t)(pct < 0 ? 0 : pct > 100 ? 100 : pct);
}

static char scan_keys() {
    for (int c = 0; c < 4; c++) {
        for (int k = 0; k < 4; k++) digitalWrite(COLS[k], k == c ? LOW : HIGH);
        delayMicroseconds(20);
        for (int r = 0; r < 3; r++)
            if (digitalRead(ROWS[r]) == LOW) return KEYMAP[r][c];
    }
    return 0;
}

static void show_led() {
    clk_led led = clk_keypad_led(&kp);
    bool blink = (millis() / 250) % 2;
    digitalWrite(LED_GREEN, led == CLK_LED_COUNTED || (led == CLK_LED_PENDING && blink));
    digitalWrite(LED_RED, led == CLK_LED_REFUSED || (led == CLK_LED_PENDING && blink) ||
                              (led == CLK_LED_NO_ANSWER && blink));
}

static void send_press(const clk_press *p) {
    uint8_t out[CLK_ADVERT_SIZE];
    clk_advert_encode(p, out);
    esp_now_send(BROADCAST, out, sizeof out);
}

static void sleep_until_key() {
    rtc_session_nonce = kp.session_nonce;
    for (int c = 0; c < 4; c++) { digitalWrite(COLS[c], LOW); gpio_hold_en((gpio_num_t)COLS[c]); }
    gpio_deep_sleep_hold_en();
    uint64_t mask = 0;
    for (int r = 0; r < 3; r++) mask |= 1ULL << ROWS[r];
    esp_deep_sleep_enable_gpio_wakeup(mask, ESP_GPIO_WAKEUP_GPIO_LOW);
    esp_deep_sleep_start();
}

void setup() {
    for (int c = 0; c < 4; c++) { gpio_hold_dis((gpio_num_t)COLS[c]); pinMode(COLS[c], OUTPUT); }
    for (int r = 0; r < 3; r++) pinMode(ROWS[r], INPUT_PULLUP);
    pinMode(LED_GREEN, OUTPUT);
    pinMode(LED_RED, OUTPUT);
    nvs.begin("clicker", false);
    has_key = nvs.getBytes("aes_key", aes_key, sizeof aes_key) == sizeof aes_key;
    clk_keypad_init(&kp, nvs.getUInt("id", (uint32_t)ESP.getEfuseMac()), nvs.getUInt("counter", 0), store_counter,
                    sign_press, nullptr);
    kp.session_nonce = rtc_session_nonce; /* 0 after power-on: the first answer names it */
    WiFi.mode(WIFI_STA);
    esp_wifi_set_channel(CHANNEL, WIFI_SECOND_CHAN_NONE);
    esp_now_init();
    esp_now_register_recv_cb(on_air);
    esp_now_peer_info_t bc = {};
    memcpy(bc.peer_addr, BROADCAST, 6);
    bc.channel = CHANNEL;
    esp_now_add_peer(&bc);
}

void loop() {
    static char held = 0;
    uint32_t now = millis();
    char key = scan_keys();
    if (key && key != held && key != '#') {
        clk_press p;
        if (clk_keypad_press(&kp, (uint8_t)key, 0, battery_percent(), now, &p) == CLK_KP_SEND) send_press(&p);
    }
    held = key;
    if (got_air) {
        clk_msg m;
        got_air = false;
        if (clk_air_parse(air, (size_t)air_len, &m) == CLK_OK) { /* type byte, then the payload */
            if (m.type == CLK_PRESS_RESULT) clk_keypad_on_result(&kp, &m.u.press_result, now);
            else if (m.type == CLK_POLL_STATE) clk_keypad_on_poll_state(&kp, &m.u.poll_state);
        }
    }
    clk_press again;
    while (clk_keypad_tick(&kp, now, &again)) send_press(&again); /* repeats, or a press signed again */
    show_led();
    if (!key && clk_keypad_can_sleep(&kp)) sleep_until_key();
    delay(5);
}
