/* The receiver image's hub link: UART0, which QEMU exposes as a TCP socket
 * (`-serial tcp:HOST:PORT,server=on`) that the hub opens with `--receiver socket://HOST:PORT`. */
#include "board.h"
#include "clk_hal.h"

size_t clk_hal_link_read(uint8_t *buf, size_t cap) { return uart_read(&board_uart0, buf, cap); }

void clk_hal_link_write(const uint8_t *data, size_t len) { uart_write(&board_uart0, data, len); }
