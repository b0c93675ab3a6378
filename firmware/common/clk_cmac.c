#include "clk_cmac.h"

#include <string.h>

/* The S-box as FIPS-197 prints it, 16 to a row. */
/* clang-format off */
static const uint8_t SBOX[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16};
/* clang-format on */

/* Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, without a branch. */
static uint8_t xtime(uint8_t b) { return (uint8_t)((b << 1) ^ (0x1b & (uint8_t) - (b >> 7))); }

void clk_aes128_init(clk_aes128 *ctx, const uint8_t key[16]) {
    uint8_t rcon = 1;
    size_t i;
    memcpy(ctx->rk, key, 16);
    for (i = 16; i < 176; i += 4) {
        uint8_t t[4];
        memcpy(t, &ctx->rk[i - 4], 4);
        if (i % 16 == 0) { /* RotWord, SubWord, Rcon */
            uint8_t first = t[0];
            t[0] = (uint8_t)(SBOX[t[1]] ^ rcon);
            t[1] = SBOX[t[2]];
            t[2] = SBOX[t[3]];
            t[3] = SBOX[first];
            rcon = xtime(rcon);
        }
        ctx->rk[i] = (uint8_t)(ctx->rk[i - 16] ^ t[0]);
        ctx->rk[i + 1] = (uint8_t)(ctx->rk[i - 15] ^ t[1]);
        ctx->rk[i + 2] = (uint8_t)(ctx->rk[i - 14] ^ t[2]);
        ctx->rk[i + 3] = (uint8_t)(ctx->rk[i - 13] ^ t[3]);
    }
}

/* The state is column-major as in FIPS-197: s[4 * column + row]. */
static void sub_shift(uint8_t s[16]) {
    uint8_t t[16];
    size_t c, r;
    for (c = 0; c < 4; c++)
        for (r = 0; r < 4; r++) t[4 * c + r] = SBOX[s[4 * ((c + r) % 4) + r]];
    memcpy(s, t, 16);
}

static void mix_columns(uint8_t s[16]) {
    size_t c;
    for (c = 0; c < 4; c++) {
        uint8_t *col = &s[4 * c];
        uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
        uint8_t all = (uint8_t)(a0 ^ a1 ^ a2 ^ a3);
        col[0] = (uint8_t)(a0 ^ all ^ xtime((uint8_t)(a0 ^ a1)));
        col[1] = (uint8_t)(a1 ^ all ^ xtime((uint8_t)(a1 ^ a2)));
        col[2] = (uint8_t)(a2 ^ all ^ xtime((uint8_t)(a2 ^ a3)));
        col[3] = (uint8_t)(a3 ^ all ^ xtime((uint8_t)(a3 ^ a0)));
    }
}

static void add_round_key(uint8_t s[16], const uint8_t *rk) {
    size_t i;
    for (i = 0; i < 16; i++) s[i] ^= rk[i];
}

void clk_aes128_encrypt(const clk_aes128 *ctx, const uint8_t in[16], uint8_t out[16]) {
    uint8_t s[16];
    size_t round;
    memcpy(s, in, 16);
    add_round_key(s, ctx->rk);
    for (round = 1; round < 10; round++) {
        sub_shift(s);
        mix_columns(s);
        add_round_key(s, &ctx->rk[16 * round]);
    }
    sub_shift(s);
    add_round_key(s, &ctx->rk[160]);
    memcpy(out, s, 16);
}

/* Doubling in GF(2^128) for the CMAC subkeys (RFC 4493, 2.3). */
static void dbl(const uint8_t in[16], uint8_t out[16]) {
    uint8_t carry = (uint8_t)(in[0] >> 7);
    size_t i;
    for (i = 0; i < 15; i++) out[i] = (uint8_t)((in[i] << 1) | (in[i + 1] >> 7));
    out[15] = (uint8_t)((in[15] << 1) ^ (0x87 & (uint8_t)-carry));
}

void clk_cmac_aes128(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t tag[16]) {
    clk_aes128 aes;
    uint8_t l[16], k1[16], k2[16], x[16], last[16];
    size_t blocks = len == 0 ? 1 : (len + 15) / 16, i, j;
    int complete = len != 0 && len % 16 == 0;
    static const uint8_t zero[16];
    clk_aes128_init(&aes, key);
    clk_aes128_encrypt(&aes, zero, l);
    dbl(l, k1);
    dbl(k1, k2);
    /* The last block: M_n xor K1 when complete, padded (10*) M_n xor K2 otherwise. */
    memset(last, 0, sizeof last);
    if (complete) {
        for (j = 0; j < 16; j++) last[j] = (uint8_t)(msg[16 * (blocks - 1) + j] ^ k1[j]);
    } else {
        size_t rest = len - 16 * (blocks - 1);
        if (rest) memcpy(last, &msg[16 * (blocks - 1)], rest);
        last[rest] = 0x80;
        for (j = 0; j < 16; j++) last[j] ^= k2[j];
    }
    memset(x, 0, sizeof x);
    for (i = 0; i + 1 < blocks; i++) {
        for (j = 0; j < 16; j++) x[j] ^= msg[16 * i + j];
        clk_aes128_encrypt(&aes, x, x);
    }
    for (j = 0; j < 16; j++) x[j] ^= last[j];
    clk_aes128_encrypt(&aes, x, tag);
}
