/*
 * A board that does nothing, for measuring what the portable applications cost on another
 * MCU (Cortex-M4 in hardware.md's size table): every clk_hal.h function is present and empty,
 * so the linker keeps exactly the application and the code it calls. Never run.
 */
#include "clk_fw_version.h"
#include "clk_hal.h"
#include "clk_keypad_app.h"
#include "clk_receiver_app.h"

static volatile uint32_t sink;

uint32_t clk_hal_now_ms(void) { return sink; }
void clk_hal_idle(uint32_t deadline_ms) { sink = deadline_ms; }
void clk_hal_deep_sleep(void) { sink = 0; }
uint32_t clk_hal_random32(void) { return sink; }
uint32_t clk_hal_chip_id(void) { return sink; }
uint32_t clk_hal_retained_get(void) { return sink; }
void clk_hal_retained_set(uint32_t value) { sink = value; }
size_t clk_hal_link_read(uint8_t *buf, size_t cap) { return buf && cap ? sink : 0; }
void clk_hal_link_write(const uint8_t *data, size_t len) { sink = data[0] + (uint32_t)len; }
size_t clk_hal_radio_recv(uint8_t *buf, size_t cap, clk_radio_addr *from, int8_t *rssi) {
    (void)buf, (void)cap, (void)from, (void)rssi;
    return sink;
}
int clk_hal_radio_send(const clk_radio_addr *to, const uint8_t *data, size_t len) {
    sink = (to ? to->b[0] : 0) + data[0] + (uint32_t)len;
    return 0;
}
void clk_hal_leds(int green, int red) { sink = (uint32_t)(green + red); }
uint8_t clk_hal_key(void) { return (uint8_t)sink; }
uint8_t clk_hal_battery(void) { return (uint8_t)sink; }
int clk_hal_nvs_get_u32(const char *name, uint32_t *value) { return *value = sink + (uint32_t)name[0], 0; }
int clk_hal_nvs_get_blob(const char *name, uint8_t *buf, size_t len) { return buf[0] = (uint8_t)name[len], 0; }
int clk_hal_nvs_set_u32(const char *name, uint32_t value) { return sink = value + (uint32_t)name[0], 0; }

#ifdef NULL_RECEIVER
static clk_receiver_app app;
int main(void) {
    static const clk_receiver_board info = {0, 0, CLK_FW_MAJOR, CLK_FW_MINOR, CLK_FW_PATCH};
    clk_receiver_app_init(&app, &info, clk_hal_now_ms());
    for (;;) clk_hal_idle(clk_receiver_app_step(&app, clk_hal_now_ms()));
}
#else
static clk_keypad_app app;
int main(void) {
    clk_keypad_app_init(&app, clk_hal_now_ms());
    for (;;) clk_hal_idle(clk_keypad_app_step(&app, clk_hal_now_ms()));
}
#endif
