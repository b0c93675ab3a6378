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

/* Fills *out with the answer to HELLO (type and payload; the caller numbers and sends it).
 * Returns 0 when the link is up (out is HELLO_ACK, naming id), or -CLK_E_REVISION when the hub
 * speaks another protocol revision (out is ERROR unsupported_revision, saying both revisions):
 * the receiver then relays nothing to that hub. */
int clk_rx_answer_hello(const clk_hello *hello, const clk_rx_identity *id, clk_msg *out);

#endif
