/* The press MIC: first 4 bytes (u32 LE) of AES-128-CMAC(keypad key, clk_mic_input(press)), where
 * the input is "CLK2" and the first 18 bytes of the PRESS payload: keypad_id, counter,
 * session_nonce, poll_id, item, key, battery (docs/protocol.md, "The MIC").
 * The CMAC is clk_cmac.c's, the same portable code on every target (docs/decisions.md). */
#ifndef CLK_MIC_H
#define CLK_MIC_H

#include "clk_wire.h"

/* The MIC of press p under the keypad's AES-128 key (p->mic, rssi and age_ms are not covered).
 * Cannot fail: the CMAC is plain computation. */
uint32_t clk_mic_compute(const uint8_t key[16], const clk_press *p);

#endif
