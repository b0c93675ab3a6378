/*
 * The portable AES-128 and AES-128-CMAC of clk_cmac.c: FIPS-197's AES-128 example, RFC 4493's
 * four CMAC vectors, then 20000 random keys and messages (0 to 80 bytes) against mbedTLS.
 * Prints "N passed, M failed".
 */
#include <mbedtls/cipher.h>
#include <mbedtls/cmac.h>
#include <stdio.h>
#include <string.h>

#include "../clk_cmac.h"
#include "host_check.h"

static size_t unhex(const char *s, uint8_t *out) {
    size_t n = 0;
    unsigned v;
    while (s[0] && s[1] && sscanf(s, "%2x", &v) == 1) {
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void test_fips197_aes128(void) {
    uint8_t key[16], pt[16], want[16], got[16];
    clk_aes128 aes;
    unhex("000102030405060708090a0b0c0d0e0f", key);
    unhex("00112233445566778899aabbccddeeff", pt);
    unhex("69c4e0d86a7b0430d8cdb78070b4c55a", want);
    clk_aes128_init(&aes, key);
    clk_aes128_encrypt(&aes, pt, got);
    CHECK(memcmp(got, want, 16) == 0);
}

static void test_rfc4493_vectors(void) {
    static const char *msg = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                             "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
    static const struct {
        size_t len;
        const char *tag;
    } cases[] = {
        {0, "bb1d6929e95937287fa37d129b756746"},
        {16, "070a16b46b4d4144f79bdd9dd04a287c"},
        {40, "dfa66747de9ae63030ca32611497c827"},
        {64, "51f0bebf7e3b9d92fc49741779363cfe"},
    };
    uint8_t key[16], m[64], want[16], tag[16];
    size_t i;
    unhex("2b7e151628aed2a6abf7158809cf4f3c", key);
    unhex(msg, m);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unhex(cases[i].tag, want);
        clk_cmac_aes128(key, m, cases[i].len, tag);
        CHECK(memcmp(tag, want, 16) == 0);
    }
}

static uint32_t rng = 0x2022u;
static uint8_t rand8(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (uint8_t)rng;
}

static void test_against_mbedtls(void) {
    const mbedtls_cipher_info_t *aes = mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_ECB);
    int round, mismatches = 0;
    for (round = 0; round < 20000; round++) {
        uint8_t key[16], msg[80], mine[16], theirs[16];
        size_t len = rand8() % (sizeof msg + 1), i;
        for (i = 0; i < 16; i++) key[i] = rand8();
        for (i = 0; i < len; i++) msg[i] = rand8();
        clk_cmac_aes128(key, msg, len, mine);
        if (mbedtls_cipher_cmac(aes, key, 128, msg, len, theirs) != 0 || memcmp(mine, theirs, 16) != 0) mismatches++;
    }
    CHECK(mismatches == 0);
}

int main(void) {
    test_fips197_aes128();
    test_rfc4493_vectors();
    test_against_mbedtls();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
