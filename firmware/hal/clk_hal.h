/*
 * The hardware interface under the portable keypad and receiver applications (firmware/app).
 * A board implements these functions and nothing else: the ESP32-C3 keypad and ESP32-S3
 * receiver (firmware/keypad, firmware/receiver) and the emulated qemu-virt-rv32 board
 * (firmware/boards/qemu-virt-rv32). Every decision stays in the applications, so the code that
 * runs in QEMU in the tests is the code that runs on the boards.
 *
 * Nothing here blocks, except clk_hal_idle (bounded by its deadline) and clk_hal_deep_sleep.
 */
#ifndef CLK_HAL_H
#define CLK_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "clk_err.h" /* what a failing function returns, negated (firmware/README.md) */

/* --- time and power ---------------------------------------------------------------------- */

/* Milliseconds since the board started; wraps after 49 days (compare with differences). */
uint32_t clk_hal_now_ms(void);
/* Idle in a low-power wait until an input may be ready or until deadline_ms, whichever comes
 * first (it may return early: callers poll again). */
void clk_hal_idle(uint32_t deadline_ms);
/* Deep sleep until a key is pressed. Never returns: RAM is lost and the board wakes into a
 * fresh boot with the key still held, as an ESP32-C3 does. Only the NVS survives. */
void clk_hal_deep_sleep(void);
/* One word that survives deep sleep but not a power cut (RTC memory on an ESP32); 0 after
 * power-on. The keypad keeps the session nonce it signs under there. */
uint32_t clk_hal_retained_get(void);
/* Sets the retained word (see clk_hal_retained_get). */
void clk_hal_retained_set(uint32_t value);
/* 32 unpredictable bits (a receiver's boot id). */
uint32_t clk_hal_random32(void);
/* The chip's own identifier (from the eFuse MAC on an ESP32), used when NVS holds no "id". */
uint32_t clk_hal_chip_id(void);

/* --- hub link (receiver) -------------------------------------------------------------------- */

/* The byte stream to the hub: COBS frames, 0x00 delimited (USB CDC or a UART; a board whose
 * link carries whole frames, such as BLE GATT, converts at its edge). */
/* Copies up to cap bytes that have arrived from the hub into buf; returns how many (0 when none).
 * Never blocks, never fails: a lost link is the hub's to notice. */
size_t clk_hal_link_read(uint8_t *buf, size_t cap);
/* Sends bytes to the hub, in order. It cannot fail in a way the application could act on: what a
 * board loses, the protocol repeats (the relay repeats presses until the hub answers). */
void clk_hal_link_write(const uint8_t *data, size_t len);

/* --- radio (keypad and receiver) -------------------------------------------------------------- */

#define CLK_RADIO_ADDR_SIZE 6u   /* a MAC address, as ESP-NOW uses */
#define CLK_RADIO_MAX       250u /* ESP-NOW's largest payload */

typedef struct {
    uint8_t b[CLK_RADIO_ADDR_SIZE];
} clk_radio_addr;

/* Takes one datagram heard into buf, with its sender and signal strength. Returns its length,
 * 0 when none is waiting (a datagram longer than cap is dropped). */
size_t clk_hal_radio_recv(uint8_t *buf, size_t cap, clk_radio_addr *from, int8_t *rssi);
/* Sends one datagram to `to`, or to every listener when `to` is NULL. Returns 0 once handed to
 * the radio, -CLK_E_RANGE for more than CLK_RADIO_MAX bytes, -CLK_E_IO when the radio failed or
 * is absent. Delivery is never confirmed: the protocol repeats what matters. */
int clk_hal_radio_send(const clk_radio_addr *to, const uint8_t *data, size_t len);

/* --- keypad I/O ------------------------------------------------------------------------------- */

/* Drives the two LEDs (nonzero: lit); amber is both. */
void clk_hal_leds(int green, int red);
/* The ASCII key held down now ('1'..'7', '#', 'A'..'D'), 0 when none. */
uint8_t clk_hal_key(void);
/* Battery charge in percent, 0xFF when the board cannot tell. */
uint8_t clk_hal_battery(void);

/* --- non-volatile store ------------------------------------------------------------------------- */

/* Reads the u32 stored under name (at most 11 characters). Returns 0, or -CLK_E_NOT_FOUND when
 * name holds no u32 (*value is then untouched). */
int clk_hal_nvs_get_u32(const char *name, uint32_t *value);
/* Reads the blob stored under name into buf. Returns 0, or -CLK_E_NOT_FOUND when name holds no
 * blob of exactly len bytes. Blobs are written when a keypad is provisioned, not by the firmware. */
int clk_hal_nvs_get_blob(const char *name, uint8_t *buf, size_t len);
/* Stores value under name. Returns 0 only once the value is durable (a power cut after that
 * keeps it), -CLK_E_RANGE for a name too long, -CLK_E_NOSPACE when the store is full, -CLK_E_IO
 * when the write failed (the previous value is then kept). */
int clk_hal_nvs_set_u32(const char *name, uint32_t value);

#endif
