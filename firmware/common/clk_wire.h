/*
 * clicker wire protocol v1.1: COBS framing, CRC-16/CCITT-FALSE and a streaming decoder around
 * the generated message codec (clk_spec.h, from protocol/wire.toml). Portable C99, no
 * allocation, no Arduino headers: the same code runs on the ESP32 receiver and keypad and in
 * the host tests (the JSON files of tests/vectors, byte for byte). docs/protocol.md is the
 * specification.
 */
#ifndef CLK_WIRE_H
#define CLK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "clk_spec.h"

#define CLK_MAX_DECODED (CLK_HEADER_SIZE + CLK_MAX_PAYLOAD + CLK_CRC_SIZE) /* 247 */
#define CLK_MAX_ENCODED (CLK_MAX_DECODED + CLK_MAX_DECODED / 254u + 1u)   /* 248 */
#define CLK_MAX_WIRE (CLK_MAX_ENCODED + 1u)                                /* with 0x00 */

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
/* Parse one decoded frame (after COBS) into m. Reserved flag bits are kept and ignored. */
enum clk_reject clk_parse(const uint8_t *frame, size_t len, clk_msg *m);

/* The air link between receiver and keypads (ESP-NOW): a message as its type byte then its bare
 * payload, no CRC or COBS (the radio has its own); only the types of clk_air_type (PRESS_RESULT,
 * POLL_STATE). Keypads send PRESS as the advert layout instead (clk_advert_encode). Pack returns
 * the length, or 0 for another type or a bad field. */
size_t clk_air_pack(const clk_msg *m, uint8_t out[CLK_MAX_AIR]);
enum clk_reject clk_air_parse(const uint8_t *air, size_t len, clk_msg *m);

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
