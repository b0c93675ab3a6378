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

#include "clk_err.h"
#include "clk_spec.h"

#define CLK_MAX_DECODED (CLK_HEADER_SIZE + CLK_MAX_PAYLOAD + CLK_CRC_SIZE) /* 247 */
#define CLK_MAX_ENCODED (CLK_MAX_DECODED + CLK_MAX_DECODED / 254u + 1u)    /* 248 */
#define CLK_MAX_WIRE    (CLK_MAX_ENCODED + 1u)                             /* with 0x00 */

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) of data. */
uint16_t clk_crc16(const uint8_t *data, size_t len);

/* COBS-encodes in (no delimiter written) into out. Returns the encoded length (encoding the
 * empty string gives 1 byte), -CLK_E_NOSPACE when cap cannot hold the worst case
 * (len + len / 254 + 1), or -CLK_E_RANGE for an input too long to count in an int. */
int clk_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* COBS-decodes in (without its delimiter) into out. Returns the decoded length (0 is valid),
 * -CLK_BAD_COBS for malformed input (a zero byte, a code past the end) or -CLK_E_NOSPACE when
 * out is too small. */
int clk_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Writes m as a decoded frame (header, payload, CRC; no COBS): what one BLE GATT value carries.
 * Returns its length, or clk_payload's error (-CLK_UNKNOWN_TYPE, -CLK_E_RANGE). */
int clk_pack(const clk_msg *m, uint8_t frame[CLK_MAX_DECODED]);
/* Writes m as a frame on the wire, COBS-encoded and 0x00-terminated. Returns its length,
 * clk_pack's error, or -CLK_E_NOSPACE when cap is too small (CLK_MAX_WIRE always fits). */
int clk_encode(const clk_msg *m, uint8_t *out, size_t cap);
/* Parses one decoded frame (after COBS) into m; reserved flag bits are kept and ignored.
 * Returns 0 or the negated reject reason: -CLK_BAD_LENGTH, -CLK_BAD_CRC, -CLK_BAD_VERSION,
 * -CLK_UNKNOWN_TYPE. */
int clk_parse(const uint8_t *frame, size_t len, clk_msg *m);

/* The air link between receiver and keypads (ESP-NOW): a message as its type byte then its bare
 * payload, no CRC or COBS (the radio has its own); only the types of clk_air_type (PRESS_RESULT,
 * POLL_STATE). Keypads send PRESS as the advert layout instead (clk_advert_encode). */

/* Writes m as an air datagram. Returns its length, -CLK_UNKNOWN_TYPE for a type that does not
 * travel on the air, or -CLK_E_RANGE for a field out of range. */
int clk_air_pack(const clk_msg *m, uint8_t out[CLK_MAX_AIR]);
/* Parses an air datagram into m (zeroed on failure). Returns 0, -CLK_BAD_LENGTH or
 * -CLK_UNKNOWN_TYPE. */
int clk_air_parse(const uint8_t *air, size_t len, clk_msg *m);

/* Streaming decoder: bytes in, one callback per good frame; every drop counted by reason.
 * The buffer holds at most one maximal frame; garbage without a delimiter is dropped. */
/* Called with each good frame, decoded; m is valid only during the call. */
typedef void (*clk_frame_cb)(void *ctx, const clk_msg *m);
typedef struct {
    uint8_t buf[CLK_MAX_ENCODED];
    size_t len;
    int skipping;
    uint32_t frames;
    uint32_t rejected[CLK_REJECT_COUNT];
} clk_stream;

/* Empties the decoder and zeroes its counters. */
void clk_stream_init(clk_stream *s);
/* Feeds bytes as they arrive (any split): calls cb (when not NULL) once per good frame, in
 * order, and counts every dropped one under rejected[reason]. Never fails. */
void clk_stream_feed(clk_stream *s, const uint8_t *data, size_t len, clk_frame_cb cb, void *ctx);

#endif
