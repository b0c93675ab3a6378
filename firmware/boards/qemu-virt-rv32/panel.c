/*
 * The keypad image's keys, LEDs and deep sleep, on UART0 (the emulated board's GPIO): a test
 * or a person at a terminal holds a key down by sending its character ('1'..'7', '#',
 * 'A'..'D'), and releases it with '.'; the board reports in text lines
 *   "boot"           the firmware started (power-on, or woken from deep sleep)
 *   "led G R"        the LED pins changed (G, R: 1 lit, 0 dark)
 *   "sleep"          deep sleep: radio off, RAM to be lost, waiting for a key
 * A key pressed and released between two looks of the application still counts as a press.
 */
#include "board.h"
#include "clk_hal.h"

static uint8_t held, tapped;

static void say(const char *s) {
    const char *e = s;
    while (*e) e++;
    uart_write(&board_uart0, (const uint8_t *)s, (size_t)(e - s));
}

void panel_boot(void) { say("boot\n"); }

static void take_keys(void) {
    uint8_t c;
    while (uart_read(&board_uart0, &c, 1) == 1) {
        if (c == '.') {
            held = 0;
        } else if (c > ' ' && c < 0x7F) {
            held = tapped = c;
        }
    }
}

uint8_t clk_hal_key(void) {
    uint8_t k;
    take_keys();
    k = held ? held : tapped;
    tapped = 0;
    return k;
}

void clk_hal_leds(int green, int red) {
    char line[] = "led 0 0\n";
    line[4] = green ? '1' : '0';
    line[6] = red ? '1' : '0';
    say(line);
}

uint8_t clk_hal_battery(void) { return 0xFF; } /* no ADC on this board */

extern void _start(void);

/* An ESP32-C3 wakes from deep sleep through a reset: RAM is lost. Here the hart waits for a
 * key with the radio off, then restarts the image from its entry point, whose start-up code
 * copies .data from flash and clears .bss again. The key byte stays in UART0's FIFO, so the
 * fresh boot sees the key held, as a woken keypad does. */
void clk_hal_deep_sleep(void) {
    uint8_t scrap[32];
    say("sleep\n");
    for (;;) {
        while (uart_read(&board_radio, scrap, sizeof scrap) > 0) {
        }
        if (uart_ready(&board_uart0)) break;
        board_wait(board_mtime() + BOARD_MTIME_HZ);
    }
    __asm__ volatile(CSR_INSN("csrc mie, %0")::"r"(~0u));
    _start();
}
