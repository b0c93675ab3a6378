/*
 * clicker receiver firmware (ESP32-S3): radio and USB glue around firmware/common.
 *
 * STUB ON PURPOSE: this file needs an ESP32-S3 board and the espressif32 PlatformIO
 * platform, neither of which exists in the project's CI. It has not been compiled here.
 * The protocol logic it calls (COBS/CRC framing, message codecs, relay queue) is the host-
 * tested code of firmware/common. See hardware.md, "Firmware status".
 *
 * Hub side: wire protocol v1.1 (docs/protocol.md) over USB CDC, frames COBS(..) 0x00, or
 * BLE GATT (env receiver-ble, -DCLK_HUB_LINK_BLE, NimBLE). Keypad side: ESP-NOW, air format =
 * the 23-byte advert layout (keypad -> receiver), and PRESS_RESULT / POLL_STATE as a type byte
 * then the payload (receiver -> keypad, clk_air_pack; broadcast for POLL_STATE). A hub of another protocol revision gets
 * ERROR (clk_link.c) and no press.
 */
#include <Arduino.h>
#include <WiFi.h>
#include <esp_now.h>
#include <esp_random.h>
#include <esp_wifi.h>

extern "C" {
#include "clk_link.h"
#include "clk_relay.h"
#include "clk_wire.h"
}

static const uint8_t CHANNEL = 6;
static const uint8_t BROADCAST[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static clk_stream rx_stream;
static clk_relay relay;
static uint16_t tx_seq;
static uint32_t boot_id, rx_ok, rx_bad;
static bool hub_ok; /* the hub's HELLO named our protocol revision: presses may go to it */

/* Keypad MAC addresses by id, learned from their frames, so results go back unicast. */
struct Peer { uint32_t id; uint8_t mac[6]; };
static Peer peers[256];

/* Presses heard in the radio callback wait here for the main loop (single producer). */
static volatile uint16_t heard_head, heard_tail;
static clk_press heard[64];

#ifdef CLK_HUB_LINK_BLE
/* The hub link over BLE GATT: one decoded frame (no COBS) per value. */
#include <NimBLEDevice.h>
static const char *SERVICE_UUID = "16e83246-023e-4201-98e3-df49a93c1b1d";
static const char *NOTIFY_UUID = "16e83247-023e-4201-98e3-df49a93c1b1d";
static const char *WRITE_UUID = "16e83248-023e-4201-98e3-df49a93c1b1d";
static NimBLECharacteristic *to_hub;
static void on_frame(void *, const clk_msg *m);

class FromHub : public NimBLECharacteristicCallbacks {
    void onWrite(NimBLECharacteristic *c, NimBLEConnInfo &) override {
        NimBLEAttValue v = c->getValue();
        clk_msg m;
        if (clk_parse(v.data(), v.size(), &m) == CLK_OK) on_frame(nullptr, &m);
        else rx_bad++;
    }
};

static void ble_begin() {
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
#endif

static void send_msg(clk_msg *m) {
    m->seq = tx_seq++;
#ifdef CLK_HUB_LINK_BLE
    uint8_t frame[CLK_MAX_DECODED];
    size_t n = clk_pack(m, frame);
    if (n && to_hub) { to_hub->setValue(frame, n); to_hub->notify(); }
#else
    uint8_t out[CLK_MAX_WIRE];
    size_t n = clk_encode(m, out, sizeof out);
    if (n) Serial.write(out, n);
#endif
}

static void remember_peer(uint32_t id, const uint8_t *mac) {
    Peer &p = peers[id & 0xFF];
    if (p.id != id || memcmp(p.mac, mac, 6) != 0) {
        p.id = id;
        memcpy(p.mac, mac, 6);
        esp_now_peer_info_t info = {};
        memcpy(info.peer_addr, mac, 6);
        info.channel = CHANNEL;
        esp_now_add_peer(&info);
    }
}

static void on_air(const esp_now_recv_info_t *info, const uint8_t *data, int len) {
    clk_press p;
    if (!clk_advert_decode(data, (size_t)len, &p)) { rx_bad++; return; }
    rx_ok++;
    p.rssi = info->rx_ctrl ? (int8_t)info->rx_ctrl->rssi : 0;
    remember_peer(p.keypad_id, info->src_addr);
    uint16_t next = (heard_head + 1) % 64;
    if (next != heard_tail) { heard[heard_head] = p; heard_head = next; }
}

static void to_keypad(void *, const clk_press_result *r) {
    clk_msg m = {};
    uint8_t payload[CLK_MAX_AIR];
    m.type = CLK_PRESS_RESULT;
    m.u.press_result = *r;
    size_t n = clk_air_pack(&m, payload);
    const Peer &p = peers[r->keypad_id & 0xFF];
    esp_now_send(p.id == r->keypad_id ? p.mac : BROADCAST, payload, n);
}

static void on_frame(void *, const clk_msg *m) {
    clk_msg out = {};
    switch (m->type) {
    case CLK_HELLO: {
        const clk_rx_identity id = {CLK_FW_MAJOR, CLK_FW_MINOR, CLK_FW_PATCH, (uint32_t)ESP.getEfuseMac(),
                                    boot_id, CLK_RADIO_ESP_NOW, CHANNEL, 255};
        hub_ok = clk_rx_answer_hello(&m->u.hello, &id, &out) == 1; /* HELLO_ACK, or ERROR */
        send_msg(&out);
        break;
    }
    case CLK_PING:
        out.type = CLK_STATUS;
        out.u.status = {millis(), rx_ok, rx_bad, relay.count, relay.dropped};
        send_msg(&out);
        break;
    case CLK_PRESS_RESULT:
        clk_relay_on_result(&relay, &m->u.press_result, to_keypad, nullptr);
        break;
    case CLK_POLL_STATE: {
        uint8_t payload[CLK_MAX_AIR];
        size_t n = clk_air_pack(m, payload);
        if (n) esp_now_send(BROADCAST, payload, n); /* keypads awake hear it */
        break;
    }
    default:
        break;
    }
}

void setup() {
    Serial.begin(115200);
    boot_id = esp_random();
    clk_stream_init(&rx_stream);
    clk_relay_init(&relay);
    WiFi.mode(WIFI_STA);
    esp_wifi_set_channel(CHANNEL, WIFI_SECOND_CHAN_NONE);
    esp_now_init();
    esp_now_register_recv_cb(on_air);
    esp_now_peer_info_t bc = {};
    memcpy(bc.peer_addr, BROADCAST, 6);
    bc.channel = CHANNEL;
    esp_now_add_peer(&bc);
#ifdef CLK_HUB_LINK_BLE
    ble_begin();
#endif
}

void loop() {
    uint8_t buf[128];
    int n = Serial.available() ? Serial.read(buf, sizeof buf) : 0;
    if (n > 0) clk_stream_feed(&rx_stream, buf, (size_t)n, on_frame, nullptr);
    uint32_t now = millis();
    while (heard_tail != heard_head) {
        clk_relay_add(&relay, &heard[heard_tail], now);
        heard_tail = (heard_tail + 1) % 64;
    }
    clk_press due[8];
    uint8_t flags[8];
    size_t k = hub_ok ? clk_relay_due(&relay, now, due, flags, 8) : 0; /* queued until a hub we speak with */
    for (size_t i = 0; i < k; i++) {
        clk_msg m = {};
        m.type = CLK_PRESS;
        m.flags = flags[i];
        m.u.press = due[i];
        send_msg(&m);
    }
    delay(1);
}
