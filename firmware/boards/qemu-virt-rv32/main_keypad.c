/* The keypad image for qemu-virt-rv32: board start-up, then the portable application. */
#include "board.h"
#include "clk_keypad_app.h"

void panel_boot(void);
static clk_keypad_app app;

int main(void) {
    board_init();
    panel_boot();
    clk_keypad_app_init(&app, clk_hal_now_ms());
    for (;;) clk_hal_idle(clk_keypad_app_step(&app, clk_hal_now_ms()));
}
