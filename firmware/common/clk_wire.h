/*
 * clicker wire protocol v1: COBS framing, CRC-16/CCITT-FALSE, message codecs and a streaming
 * decoder. Portable C99, no allocation, no Arduino headers: the same code runs on the
 * ESP32 receiver and keypad and in the host tests (the JSON files of tests/vectors, byte for byte).
 */
#ifndef CLK_WIRE_H
#define CLK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CLK_VERSION 1u
#define CLK_HEADER_SIZE 5u
#define CLK_CRC_SIZE 2u
#define CLK_MAX_PAYLOAD 240u
#define CLK_MAX_DECODED (CLK_HEADER_SIZE + CLK_MAX_PAYLOAD + CLK_CRC_SIZE) /* 247 */
#define CLK_MAX_ENCODED (CLK_MAX_DECODED + CLK_MAX_DECODED / 254u + 1u)   /* 248 */
#define CLK_MAX_WIRE (CLK_MAX_ENCODED + 1u)                                /* with 0x00 */
#define CLK_FLAG_RETRANSMIT 0x01u

enum clk_type {
    CLK_HELLO = 0x01,
    CLK_HELLO_ACK = 0x02,
    CLK_PING = 0x03,
    CLK_STATUS = 0x04,
    CLK_PRESS = 0x10,
    CLK_PRESS_RESULT = 0x11,
    CLK_POLL_STATE = 0x12,
    CLK_KEYPAD_SEEN = 0x13,
    CLK_LOG = 0x20,
    CLK_ERROR = 0x7F
};

enum clk_status {
    CLK_ST_COUNTED = 0,
    CLK_ST_DUPLICATE = 1,
    CLK_ST_POLL_CLOSED = 2,
    CLK_ST_UNKNOWN_KEYPAD = 3,
    CLK_ST_INVALID_KEY = 4,
    CLK_ST_STALE_POLL = 5,
    CLK_ST_BAD_MIC = 6,
    CLK_ST_SUPERSEDED = 7
};

/* Why a frame was dropped (same names as the Python decoder's counters). */
enum clk_reject {
    CLK_OK = 0,
    CLK_BAD_COBS,
    CLK_BAD_CRC,
    CLK_BAD_LENGTH,
    CLK_BAD_VERSION,
    CLK_UNKNOWN_TYPE,
    CLK_BAD_FLAGS,
    CLK_OVERSIZE,
    CLK_REJECT_COUNT
};

const char *clk_reject_name(enum clk_reject r);

typedef struct { uint8_t proto; uint32_t hub_nonce; } clk_hello;
typedef struct {
    uint8_t proto, fw_major, fw_minor, fw_patch;
    uint32_t rx_serial, boot_id;
    uint8_t radio, channel;
    uint16_t max_keypads;
} clk_hello_ack;
typedef struct { uint32_t uptime_ms, rx_ok, rx_bad; uint16_t queue, dropped; } clk_status_msg;
typedef struct {
    uint32_t keypad_id, counter;
    uint16_t poll_id, item;
    uint8_t key, battery;
    int8_t rssi;
    uint16_t age_ms;
    uint32_t mic;
} clk_press;
typedef struct { uint32_t keypad_id, counter; uint8_t status; uint16_t poll_id; } clk_press_result;
typedef struct {
    uint16_t poll_id;
    uint8_t state, mode;
    uint16_t items;
    uint8_t nkeys;
    uint8_t keys[CLK_MAX_PAYLOAD - 7];
} clk_poll_state;
typedef struct { uint32_t keypad_id; uint8_t battery; int8_t rssi; uint8_t fw; } clk_keypad_seen;
typedef struct { uint16_t code; uint8_t level; size_t len; uint8_t text[CLK_MAX_PAYLOAD]; } clk_text;

typedef struct {
    uint8_t type, flags;
    uint16_t seq;
    union {
        clk_hello hello;
        clk_hello_ack hello_ack;
        clk_status_msg status;
        clk_press press;
        clk_press_result result;
        clk_poll_state poll;
        clk_keypad_seen seen;
        clk_text text; /* LOG uses level, ERROR uses code */
    } u;
} clk_msg;

uint16_t clk_crc16(const uint8_t *data, size_t len);
/* COBS without the delimiter. Returns the output length, or 0 on error (out too small, or
 * for decode, malformed input). Encoding the empty string gives 1 byte. */
size_t clk_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
size_t clk_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int *ok);

/* The decoded frame (header, payload, CRC; no COBS): what one BLE GATT value carries.
 * Returns its length, or 0 for an unknown type or an oversized field. */
size_t clk_pack(const clk_msg *m, uint8_t frame[CLK_MAX_DECODED]);
/* Encode a message as a frame on the wire, delimiter included; returns its length or 0. */
size_t clk_encode(const clk_msg *m, uint8_t *out, size_t cap);
/* Parse one decoded frame (after COBS) into m. */
enum clk_reject clk_parse(const uint8_t *frame, size_t len, clk_msg *m);
/* A message's bare payload, as the radio link between receiver and keypads carries it:
 * returns its length, or (size_t)-1 for an unknown type or an oversized field. */
size_t clk_payload(const clk_msg *m, uint8_t *out);
enum clk_reject clk_parse_payload(uint8_t type, const uint8_t *payload, size_t len, clk_msg *m);

/* The bytes the MIC covers: "CLK1" keypad_id counter poll_id item key battery (18 bytes). */
#define CLK_MIC_INPUT_SIZE 18u
void clk_mic_input(const clk_press *p, uint8_t out[CLK_MIC_INPUT_SIZE]);

/* BLE advert payload after the company id (19 bytes). */
#define CLK_ADVERT_SIZE 19u
void clk_advert_encode(const clk_press *p, uint8_t out[CLK_ADVERT_SIZE]);
int clk_advert_decode(const uint8_t *in, size_t len, clk_press *p);

/* Streaming decoder: bytes in, one callback per good frame; every drop counted by reason.
 * The buffer holds at most one maximal frame; garbage without a delimiter is dropped. */
typedef void (*clk_frame_cb)(void *ctx, const clk_msg *m);
typedef struct {
    uint8_t buf[CLK_MAX_ENCODED];
    size_t len;
    int skipping;
    uint32_t frames;
    uint32_t rejected[CLK_REJECT_COUNT];
} clk_stream;

void clk_stream_init(clk_stream *s);
void clk_stream_feed(clk_stream *s, const uint8_t *data, size_t len, clk_frame_cb cb, void *ctx);

#endif
