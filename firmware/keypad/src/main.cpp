/*
 * clicker keypad, ESP32-C3: the board's half of firmware/hal/clk_hal.h (key matrix, LED, NVS,
 * deep sleep, ESP-NOW) under the portable application firmware/app/clk_keypad_app, which is
 * the code the emulated board runs in CI (`make -C firmware qemu-test`).
 *
 * NOT COMPILED HERE: needs an ESP32-C3 and the espressif32 PlatformIO platform, which the
 * project's CI does not have (hardware.md, "Firmware status").
 *
 * The session nonce the keypad signs under is kept in RTC memory across deep sleep (the
 * retained word); this key layout cannot name a proposal, so presses are for item 0.
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
#include "clk_hal.h"
#include "clk_keypad_app.h"
}

static const uint8_t CHANNEL = 6;
static const uint8_t BROADCAST[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static const int ROWS[3] = {0, 1, 3};
static const int COLS[4] = {5, 6, 7, 10};
/* The printed key card: 1-7 grades (1 = À rejeter .. 7 = Excellent); A-D consent colours
 * (A green, B yellow, C orange, D red); '#' shows the last answer again. */
static const char KEYMAP[3][4] = {{'1', '2', '3', '4'}, {'5', '6', '7', '#'}, {'A', 'B', 'C', 'D'}};
static const int LED_GREEN = 20, LED_RED = 21, BATTERY_ADC = 4;

static Preferences nvs;
static clk_keypad_app app;
RTC_DATA_ATTR static uint32_t retained; /* survives deep sleep, not a power cycle */

/* Datagrams from the ESP-NOW callback (Wi-Fi task) to the main loop: a small ring. */
struct Heard {
    uint8_t from[6];
    int8_t rssi;
    uint8_t len;
    uint8_t data[CLK_RADIO_MAX];
};
static Heard heard[4];
static volatile uint8_t heard_head, heard_tail;

static void on_air(const esp_now_recv_info_t *info, const uint8_t *data, int len) {
    uint8_t next = (heard_head + 1) % 4;
    if (len <= 0 || len > (int)CLK_RADIO_MAX || next == heard_tail) return; /* full: lost, as on air */
    Heard &h = heard[heard_head];
    memcpy(h.from, info->src_addr, 6);
    h.rssi = info->rx_ctrl ? (int8_t)info->rx_ctrl->rssi : 0;
    h.len = (uint8_t)len;
    memcpy(h.data, data, (size_t)len);
    heard_head = next;
}

extern "C" {

uint32_t clk_hal_now_ms(void) { return millis(); }

void clk_hal_idle(uint32_t deadline_ms) {
    int32_t left = (int32_t)(deadline_ms - millis());
    if (left > 0) delay(left < 10 ? left : 10); /* keys are scanned, not interrupts: look often */
}

uint32_t clk_hal_random32(void) { return esp_random(); }

uint32_t clk_hal_chip_id(void) { return (uint32_t)ESP.getEfuseMac(); }

uint32_t clk_hal_retained_get(void) { return retained; }

void clk_hal_retained_set(uint32_t value) { retained = value; }

size_t clk_hal_radio_recv(uint8_t *buf, size_t cap, clk_radio_addr *from, int8_t *rssi) {
    if (heard_tail == heard_head) return 0;
    const Heard &h = heard[heard_tail];
    size_t n = h.len <= cap ? h.len : 0;
    memcpy(from->b, h.from, 6);
    *rssi = h.rssi;
    memcpy(buf, h.data, n);
    heard_tail = (heard_tail + 1) % 4;
    return n;
}

int clk_hal_radio_send(const clk_radio_addr *to, const uint8_t *data, size_t len) {
    if (len > CLK_RADIO_MAX) return -CLK_E_RANGE;
    return esp_now_send(to ? to->b : BROADCAST, data, len) == ESP_OK ? 0 : -CLK_E_IO;
}

void clk_hal_leds(int green, int red) {
    digitalWrite(LED_GREEN, green ? HIGH : LOW);
    digitalWrite(LED_RED, red ? HIGH : LOW);
}

uint8_t clk_hal_key(void) {
    for (int c = 0; c < 4; c++) {
        for (int k = 0; k < 4; k++) digitalWrite(COLS[k], k == c ? LOW : HIGH);
        delayMicroseconds(20);
        for (int r = 0; r < 3; r++)
            if (digitalRead(ROWS[r]) == LOW) return (uint8_t)KEYMAP[r][c];
    }
    return 0;
}

uint8_t clk_hal_battery(void) {
    int mv = analogReadMilliVolts(BATTERY_ADC) * 2; /* 1:1 divider */
    int pct = (mv - 2000) * 100 / (3000 - 2000);    /* 2 x AAA: 3.0 V full, 2.0 V empty */
    return (uint8_t)(pct < 0 ? 0 : pct > 100 ? 100 : pct);
}

int clk_hal_nvs_get_u32(const char *name, uint32_t *value) {
    if (!nvs.isKey(name)) return -CLK_E_NOT_FOUND;
    *value = nvs.getUInt(name, 0);
    return 0;
}

int clk_hal_nvs_get_blob(const char *name, uint8_t *buf, size_t len) {
    return nvs.isKey(name) && nvs.getBytesLength(name) == len && nvs.getBytes(name, buf, len) == len ? 0
                                                                                                     : -CLK_E_NOT_FOUND;
}

int clk_hal_nvs_set_u32(const char *name, uint32_t value) {
    return nvs.putUInt(name, value) == sizeof(uint32_t) ? 0 : -CLK_E_IO; /* nvs_commit inside */
}

void clk_hal_deep_sleep(void) {
    for (int c = 0; c < 4; c++) {
        digitalWrite(COLS[c], LOW);
        gpio_hold_en((gpio_num_t)COLS[c]);
    }
    gpio_deep_sleep_hold_en();
    uint64_t mask = 0;
    for (int r = 0; r < 3; r++) mask |= 1ULL << ROWS[r];
    esp_deep_sleep_enable_gpio_wakeup(mask, ESP_GPIO_WAKEUP_GPIO_LOW);
    esp_deep_sleep_start();
}

} /* extern "C" */

void setup() {
    for (int c = 0; c < 4; c++) {
        gpio_hold_dis((gpio_num_t)COLS[c]);
        pinMode(COLS[c], OUTPUT);
    }
    for (int r = 0; r < 3; r++) pinMode(ROWS[r], INPUT_PULLUP);
    pinMode(LED_GREEN, OUTPUT);
    pinMode(LED_RED, OUTPUT);
    nvs.begin("clicker", false);
    WiFi.mode(WIFI_STA);
    esp_wifi_set_channel(CHANNEL, WIFI_SECOND_CHAN_NONE);
    esp_now_init();
    esp_now_register_recv_cb(on_air);
    esp_now_peer_info_t bc = {};
    memcpy(bc.peer_addr, BROADCAST, 6);
    bc.channel = CHANNEL;
    esp_now_add_peer(&bc);
    clk_keypad_app_init(&app, millis());
}

void loop() { clk_hal_idle(clk_keypad_app_step(&app, millis())); }
