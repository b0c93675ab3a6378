/*
 * The qemu-virt-rv32 board's half of clk_hal.h shared by both images: time from the CLINT,
 * idling in `wfi`, the radio on the PCI 16550, a boot-counted random source.
 *
 * The radio channel carries one datagram per COBS frame, 0x00 delimited, to and from the
 * simulator's ether (hub/sim/qemu.py), which applies loss, duplication and delay:
 *   firmware -> ether:  dst[6] (FF.. = broadcast) | payload
 *   ether -> firmware:  src[6] | rssi i8 | payload
 */
#include <string.h>

#include "board.h"
#include "clk_hal.h"
#include "clk_wire.h"

#define RADIO_FRAME_MAX   (CLK_RADIO_ADDR_SIZE + 1u + CLK_RADIO_MAX)
#define RADIO_ENCODED_MAX (RADIO_FRAME_MAX + RADIO_FRAME_MAX / 254u + 2u)

uart16550 board_uart0, board_radio;
static int radio_present;
static uint8_t radio_buf[RADIO_ENCODED_MAX];
static size_t radio_len;
static int radio_skipping; /* an oversized frame: drop bytes until the next delimiter */

void board_init(void) {
    uintptr_t radio = pci_find_serial();
    board_paint_stack();
    uart_init(&board_uart0, BOARD_UART0);
    if (radio) {
        uart_init(&board_radio, radio);
        radio_present = 1;
    }
    board_irq_init();
}

bool board_inputs_ready(void) { return uart_ready(&board_uart0) || (radio_present && uart_ready(&board_radio)); }

uint32_t clk_hal_now_ms(void) { return (uint32_t)(board_mtime() / (BOARD_MTIME_HZ / 1000u)); }

void clk_hal_idle(uint32_t deadline_ms) {
    int32_t left = (int32_t)(deadline_ms - clk_hal_now_ms());
    if (left <= 0) return;
    board_wait(board_mtime() + (uint64_t)left * (BOARD_MTIME_HZ / 1000u));
}

static uint32_t mix(uint32_t x) { /* a 32-bit finaliser (murmur3's) */
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    return x ^ (x >> 16);
}

/* No entropy source on this machine: the boot count kept in NVS makes every boot's values
 * differ, the timer's low bits (host scheduling jitter) make runs differ. */
uint32_t clk_hal_random32(void) {
    static uint32_t state;
    if (state == 0) {
        uint32_t boots = 0;
        clk_hal_nvs_get_u32("boots", &boots);
        clk_hal_nvs_set_u32("boots", boots + 1);
        state = mix(boots + 1) ^ mix((uint32_t)board_mtime()) ^ 1u;
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return mix(state);
}

uint32_t clk_hal_chip_id(void) { return 0x00E1C0DEu; } /* every emulated board is provisioned an "id" */

/* Outside .data and .bss, so the start-up code leaves it alone when deep sleep restarts the
 * image; QEMU's RAM is zeroed at power-on (hub/sim/qemu.py), as RTC memory loses power. */
static uint32_t retained __attribute__((section(".preserve")));

uint32_t clk_hal_retained_get(void) { return retained; }

void clk_hal_retained_set(uint32_t value) { retained = value; }

size_t clk_hal_radio_recv(uint8_t *buf, size_t cap, clk_radio_addr *from, int8_t *rssi) {
    uint8_t c;
    if (!radio_present) return 0;
    while (uart_read(&board_radio, &c, 1) == 1) {
        uint8_t frame[RADIO_FRAME_MAX];
        size_t n;
        int decoded;
        if (c != 0) {
            if (radio_skipping) continue;
            if (radio_len == sizeof radio_buf) {
                radio_skipping = 1;
                radio_len = 0;
                continue;
            }
            radio_buf[radio_len++] = c;
            continue;
        }
        n = radio_len;
        radio_len = 0;
        if (radio_skipping || n == 0) {
            radio_skipping = 0;
            continue;
        }
        decoded = clk_cobs_decode(radio_buf, n, frame, sizeof frame);
        if (decoded < 0) continue;
        n = (size_t)decoded;
        if (n <= CLK_RADIO_ADDR_SIZE + 1u || n - CLK_RADIO_ADDR_SIZE - 1u > cap) continue;
        memcpy(from->b, frame, CLK_RADIO_ADDR_SIZE);
        *rssi = (int8_t)frame[CLK_RADIO_ADDR_SIZE];
        n -= CLK_RADIO_ADDR_SIZE + 1u;
        memcpy(buf, frame + CLK_RADIO_ADDR_SIZE + 1u, n);
        return n;
    }
    return 0;
}

int clk_hal_radio_send(const clk_radio_addr *to, const uint8_t *data, size_t len) {
    uint8_t frame[CLK_RADIO_ADDR_SIZE + CLK_RADIO_MAX], out[RADIO_ENCODED_MAX];
    int n;
    if (!radio_present) return -CLK_E_IO;
    if (len > CLK_RADIO_MAX) return -CLK_E_RANGE;
    if (to)
        memcpy(frame, to->b, CLK_RADIO_ADDR_SIZE);
    else
        memset(frame, 0xFF, CLK_RADIO_ADDR_SIZE);
    memcpy(frame + CLK_RADIO_ADDR_SIZE, data, len);
    n = clk_cobs_encode(frame, CLK_RADIO_ADDR_SIZE + len, out, sizeof out - 1);
    if (n < 0) return n;
    out[n++] = 0;
    uart_write(&board_radio, out, (size_t)n);
    return 0;
}
