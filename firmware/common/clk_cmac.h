/*
 * AES-128 (encryption only, FIPS-197) and AES-128-CMAC (RFC 4493, NIST SP 800-38B): the MIC's
 * cipher on every target, in portable C99 with no library and no allocation. It is small
 * (one 256-byte S-box, no T-tables) because a keypad computes three blocks per press; it is
 * checked against RFC 4493's vectors and, on the host, against mbedTLS on random inputs.
 */
#ifndef CLK_CMAC_H
#define CLK_CMAC_H

#include <stddef.h>
#include <stdint.h>

#define CLK_AES_BLOCK 16u

typedef struct {
    uint8_t rk[176]; /* the 11 round keys */
} clk_aes128;

/* Expands key into the 11 round keys of ctx. */
void clk_aes128_init(clk_aes128 *ctx, const uint8_t key[16]);
/* Encrypts one block (in and out may be the same buffer). */
void clk_aes128_encrypt(const clk_aes128 *ctx, const uint8_t in[16], uint8_t out[16]);

/* Writes the full 16-byte AES-128-CMAC tag of msg (any length, 0 included) under key. These
 * functions cannot fail, so they return nothing. */
void clk_cmac_aes128(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t tag[16]);

#endif
