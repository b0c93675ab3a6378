/*
 * The receiver application, the same on every board: presses heard on the radio are relayed
 * to the hub until it answers (clk_relay: bounded, repeated every 250 ms), each answer goes
 * back to the keypad that pressed (unicast when its address is known, broadcast otherwise:
 * keypads ignore results for other ids), POLL_STATE is broadcast to the keypads, PING is
 * answered. HELLO is answered by clk_link (HELLO_ACK, or ERROR for a hub of another protocol
 * revision, to which no press is relayed). The board underneath is clk_hal.h.
 */
#ifndef CLK_RECEIVER_APP_H
#define CLK_RECEIVER_APP_H

#include "clk_hal.h"
#include "clk_link.h"
#include "clk_relay.h"
#include "clk_wire.h"

#define CLK_RX_PEERS       256u /* keypad id -> radio address, indexed by the id's low byte */
#define CLK_RX_LINK_CHUNK  64u  /* hub bytes read per call */
#define CLK_RX_LINK_BURST  8u   /* calls per step */
#define CLK_RX_RADIO_BURST 16u  /* datagrams taken per step, so the hub link keeps its turn */
#define CLK_RX_SEND_BURST  8u   /* presses sent to the hub per step */
#define CLK_RX_MAX_IDLE_MS 250u /* the longest idle between two steps */

typedef struct {
    uint8_t radio; /* HELLO_ACK's radio kind (enum clk_radio) */
    uint8_t channel;
    uint8_t fw_major, fw_minor, fw_patch;
} clk_receiver_board;

typedef struct {
    uint32_t keypad_id;
    clk_radio_addr addr;
    uint8_t used;
} clk_rx_peer;

typedef struct {
    clk_receiver_board board;
    uint32_t serial, boot_id, booted_ms, now;
    uint32_t rx_ok, rx_bad; /* radio datagrams relayed / not understood */
    uint16_t tx_seq;
    int hub_ok; /* the hub's HELLO named our protocol revision: presses may go to it */
    clk_stream link;
    clk_relay relay;
    clk_rx_peer peers[CLK_RX_PEERS];
} clk_receiver_app;

/* Starts the receiver: its serial from the NVS ("id", else the chip's), a fresh boot id, an empty
 * relay queue, no hub yet (nothing is relayed before a HELLO of our revision). */
void clk_receiver_app_init(clk_receiver_app *a, const clk_receiver_board *board, uint32_t now);
/* One pass over the hub link, the radio and the relay queue; returns when it next needs to
 * run (the board may idle until then, or until input arrives). */
uint32_t clk_receiver_app_step(clk_receiver_app *a, uint32_t now);

#endif
