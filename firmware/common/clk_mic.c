#include "clk_mic.h"

#include <mbedtls/cipher.h>
#include <mbedtls/cmac.h>

int clk_mic_compute(const uint8_t key[16], const clk_press *p, uint32_t *mic) {
    uint8_t input[CLK_MIC_INPUT_SIZE], tag[16];
    const mbedtls_cipher_info_t *aes = mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_ECB);
    if (aes == NULL) return -1;
    clk_mic_input(p, input);
    if (mbedtls_cipher_cmac(aes, key, 128, input, sizeof input, tag) != 0) return -1;
    *mic = (uint32_t)tag[0] | ((uint32_t)tag[1] << 8) | ((uint32_t)tag[2] << 16) | ((uint32_t)tag[3] << 24);
    return 0;
}
