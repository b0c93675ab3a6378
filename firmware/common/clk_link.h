/*
 * The receiver's side of the hub link's handshake. The hub opens with HELLO (its protocol
 * revision and the session nonce); the receiver answers HELLO_ACK when it speaks that revision
 * and ERROR unsupported_revision otherwise, and relays nothing to a hub it refused
 * (docs/protocol.md, "Versions").
 */
#ifndef CLK_LINK_H
#define CLK_LINK_H

#include "clk_wire.h"

/* What the receiver says about itself in HELLO_ACK. */
typedef struct {
    uint8_t fw_major, fw_minor, fw_patch;
    uint32_t rx_serial, boot_id;
    uint8_t radio, channel;
    uint16_t max_keypads;
} clk_rx_identity;

/* Fills *out with the answer to HELLO (type, payload; the caller numbers it). Returns 1 when
 * the link is up (HELLO_ACK), 0 when the hub was refused (ERROR). */
int clk_rx_answer_hello(const clk_hello *hello, const clk_rx_identity *id, clk_msg *out);

#endif
