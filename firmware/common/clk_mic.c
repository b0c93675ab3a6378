#include "clk_mic.h"

#include "clk_cmac.h"

uint32_t clk_mic_compute(const uint8_t key[16], const clk_press *p) {
    uint8_t input[CLK_MIC_INPUT_SIZE], tag[16];
    clk_mic_input(p, input);
    clk_cmac_aes128(key, input, sizeof input, tag);
    return (uint32_t)tag[0] | ((uint32_t)tag[1] << 8) | ((uint32_t)tag[2] << 16) | ((uint32_t)tag[3] << 24);
}
