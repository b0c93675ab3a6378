/* The receiver image for qemu-virt-rv32: board start-up, then the portable application. */
#include "board.h"
#include "clk_fw_version.h"
#include "clk_receiver_app.h"

static clk_receiver_app app;

int main(void) {
    static const clk_receiver_board info = {CLK_RADIO_SIMULATED, 6, CLK_FW_MAJOR, CLK_FW_MINOR, CLK_FW_PATCH};
    board_init();
    clk_receiver_app_init(&app, &info, clk_hal_now_ms());
    for (;;) clk_hal_idle(clk_receiver_app_step(&app, clk_hal_now_ms()));
}
