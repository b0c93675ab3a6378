/*
 * clicker receiver, ESP32-S3: the board's half of firmware/hal/clk_hal.h (hub link over USB
 * CDC or BLE GATT, ESP-NOW radio) under the portable application
 * firmware/app/clk_receiver_app, which is the code the emulated board runs in CI
 * (`make -C firmware qemu-test`, `clicker demo --firmware`).
 *
 * NOT COMPILED HERE: needs an ESP32-S3 and the espressif32 PlatformIO platform, which the
 * project's CI does not have (hardware.md, "Firmware status").
 *
 * Hub side: wire protocol v1.1 (docs/protocol.md) over USB CDC carrying COBS frames (env
 * receiver), or BLE GATT carrying one decoded frame per value (env receiver-ble,
 * -DCLK_HUB_LINK_BLE, NimBLE), converted here to and from the application's COBS byte stream.
 * Keypad side: ESP-NOW (the air format is the application's: clk_air_pack, the advert layout).
 */
#include <Arduino.h>
#include <WiFi.h>
#include <esp_now.h>
#include <esp_random.h>
#include <esp_wifi.h>

extern "C" {
#include "clk_fw_version.h"
#include "clk_hal.h"
#include "clk_receiver_app.h"
}

static const uint8_t CHANNEL = 6;
static const uint8_t BROADCAST[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static clk_receiver_app app;

/* Datagrams from the ESP-NOW callback (Wi-Fi task) to the main loop. */
struct Heard {
    uint8_t from[6];
    int8_t rssi;
    uint8_t len;
    uint8_t data[CLK_RADIO_MAX];
};
static const uint8_t HEARD_CAP = 32;
static Heard heard[HEARD_CAP];
static volatile uint8_t heard_head, heard_tail;

static void on_air(const esp_now_recv_info_t *info, const uint8_t *data, int len) {
    uint8_t next = (heard_head + 1) % HEARD_CAP;
    if (len <= 0 || len > (int)CLK_RADIO_MAX || next == heard_tail) return; /* full: the keypad retries */
    Heard &h = heard[heard_head];
    memcpy(h.from, info->src_addr, 6);
    h.rssi = info->rx_ctrl ? (int8_t)info->rx_ctrl->rssi : 0;
    h.len = (uint8_t)len;
    memcpy(h.data, data, (size_t)len);
    heard_head = next;
}

/* ESP-NOW unicasts only to registered peers, at most 20: the last few keypads answered stay
 * registered, the oldest is replaced. */
static const int PEERS = 16;
static uint8_t peer_macs[PEERS][6];
static int peer_count, peer_next;

static void ensure_peer(const uint8_t mac[6]) {
    if (esp_now_is_peer_exist(mac)) return;
    if (peer_count == PEERS)
        esp_now_del_peer(peer_macs[peer_next]);
    else
        peer_count++;
    memcpy(peer_macs[peer_next], mac, 6);
    peer_next = (peer_next + 1) % PEERS;
    esp_now_peer_info_t info = {};
    memcpy(info.peer_addr, mac, 6);
    info.channel = CHANNEL;
    esp_now_add_peer(&info);
}

#ifdef CLK_HUB_LINK_BLE
/* The hub link over BLE GATT: one decoded frame (no COBS) per value, turned into the COBS
 * byte stream the application reads, and back. */
#include <NimBLEDevice.h>
static const char *SERVICE_UUID = "16e83246-023e-4201-98e3-df49a93c1b1d";
static const char *NOTIFY_UUID = "16e83247-023e-4201-98e3-df49a93c1b1d";
static const char *WRITE_UUID = "16e83248-023e-4201-98e3-df49a93c1b1d";
static NimBLECharacteristic *to_hub;
static uint8_t from_hub[4 * CLK_MAX_WIRE];
static volatile size_t from_hub_len;
static portMUX_TYPE from_hub_lock = portMUX_INITIALIZER_UNLOCKED;
static uint8_t to_hub_buf[CLK_MAX_WIRE];
static size_t to_hub_len;

class FromHub : public NimBLECharacteristicCallbacks {
    void onWrite(NimBLECharacteristic *c, NimBLEConnInfo &) override {
        NimBLEAttValue v = c->getValue();
        uint8_t wire[CLK_MAX_WIRE];
        int encoded = clk_cobs_encode(v.data(), v.size(), wire, sizeof wire - 1);
        if (encoded < 0) return;
        size_t n = (size_t)encoded;
        wire[n++] = 0;
        portENTER_CRITICAL(&from_hub_lock);
        if (from_hub_len + n <= sizeof from_hub) {
            memcpy(from_hub + from_hub_len, wire, n);
            from_hub_len += n;
        }
        portEXIT_CRITICAL(&from_hub_lock);
    }
};

static void link_begin() {
    NimBLEDevice::init("clicker-rx");
    NimBLEDevice::setMTU(517); /* the hub needs 250: its longest frame in one value */
    NimBLEServer *server = NimBLEDevice::createServer();
    NimBLEService *svc = server->createService(SERVICE_UUID);
    to_hub = svc->createCharacteristic(NOTIFY_UUID, NIMBLE_PROPERTY::NOTIFY);
    svc->createCharacteristic(WRITE_UUID, NIMBLE_PROPERTY::WRITE_NR)->setCallbacks(new FromHub());
    svc->start();
    NimBLEDevice::getAdvertising()->addServiceUUID(SERVICE_UUID);
    NimBLEDevice::getAdvertising()->start();
}

extern "C" size_t clk_hal_link_read(uint8_t *buf, size_t cap) {
    portENTER_CRITICAL(&from_hub_lock);
    size_t n = from_hub_len < cap ? from_hub_len : cap;
    memcpy(buf, from_hub, n);
    memmove(from_hub, from_hub + n, from_hub_len - n);
    from_hub_len -= n;
    portEXIT_CRITICAL(&from_hub_lock);
    return n;
}

extern "C" void clk_hal_link_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (data[i] != 0) {
            if (to_hub_len < sizeof to_hub_buf) to_hub_buf[to_hub_len++] = data[i];
            continue;
        }
        uint8_t frame[CLK_MAX_DECODED];
        int n = clk_cobs_decode(to_hub_buf, to_hub_len, frame, sizeof frame);
        to_hub_len = 0;
        if (n > 0 && to_hub) {
            to_hub->setValue(frame, (size_t)n);
            to_hub->notify();
        }
    }
}
#else
static void link_begin() { Serial.begin(115200); }

extern "C" size_t clk_hal_link_read(uint8_t *buf, size_t cap) {
    int n = Serial.available() ? Serial.read(buf, cap) : 0;
    return n > 0 ? (size_t)n : 0;
}

extern "C" void clk_hal_link_write(const uint8_t *data, size_t len) { Serial.write(data, len); }
#endif

extern "C" {

uint32_t clk_hal_now_ms(void) { return millis(); }

void clk_hal_idle(uint32_t deadline_ms) {
    int32_t left = (int32_t)(deadline_ms - millis());
    if (left > 0) delay(1); /* USB and radio arrive through callbacks: look again soon */
}

uint32_t clk_hal_random32(void) { return esp_random(); }

uint32_t clk_hal_chip_id(void) { return (uint32_t)ESP.getEfuseMac(); }

uint32_t clk_hal_retained_get(void) { return 0; } /* unused by the receiver */

void clk_hal_retained_set(uint32_t) {}

size_t clk_hal_radio_recv(uint8_t *buf, size_t cap, clk_radio_addr *from, int8_t *rssi) {
    if (heard_tail == heard_head) return 0;
    const Heard &h = heard[heard_tail];
    size_t n = h.len <= cap ? h.len : 0;
    memcpy(from->b, h.from, 6);
    *rssi = h.rssi;
    memcpy(buf, h.data, n);
    heard_tail = (heard_tail + 1) % HEARD_CAP;
    return n;
}

int clk_hal_radio_send(const clk_radio_addr *to, const uint8_t *data, size_t len) {
    if (to) ensure_peer(to->b);
    if (len > CLK_RADIO_MAX) return -CLK_E_RANGE;
    return esp_now_send(to ? to->b : BROADCAST, data, len) == ESP_OK ? 0 : -CLK_E_IO;
}

/* Only the "id" override is read on a receiver; its serial is otherwise the chip's. */
int clk_hal_nvs_get_u32(const char *, uint32_t *) { return -CLK_E_NOT_FOUND; }
int clk_hal_nvs_get_blob(const char *, uint8_t *, size_t) { return -CLK_E_NOT_FOUND; }
int clk_hal_nvs_set_u32(const char *, uint32_t) { return -CLK_E_IO; }

} /* extern "C" */

void setup() {
    link_begin();
    WiFi.mode(WIFI_STA);
    esp_wifi_set_channel(CHANNEL, WIFI_SECOND_CHAN_NONE);
    esp_now_init();
    esp_now_register_recv_cb(on_air);
    esp_now_peer_info_t bc = {};
    memcpy(bc.peer_addr, BROADCAST, 6);
    bc.channel = CHANNEL;
    esp_now_add_peer(&bc);
    static const clk_receiver_board info = {CLK_RADIO_ESP_NOW, CHANNEL, CLK_FW_MAJOR, CLK_FW_MINOR, CLK_FW_PATCH};
    clk_receiver_app_init(&app, &info, millis());
}

void loop() { clk_hal_idle(clk_receiver_app_step(&app, millis())); }
