#include "board.h"

enum { RBR = 0, THR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define LSR_DR   0x01u
#define LSR_THRE 0x20u

void uart_init(uart16550 *u, uintptr_t base) {
    u->r = (volatile uint8_t *)base;
    u->r[LCR] = 0x03; /* 8N1; QEMU ignores the divisor */
    /* FIFO on without its clear bits: after a deep-sleep restart the byte that woke the keypad
     * is still waiting (turning FIFO mode on from off clears it, as on a real 16550). */
    u->r[FCR] = 0x01;
    u->r[MCR] = 0x08; /* OUT2: the interrupt line reaches the PLIC */
    u->r[IER] = 0x01; /* interrupt when a byte arrives */
}

bool uart_ready(const uart16550 *u) { return (u->r[LSR] & LSR_DR) != 0; }

size_t uart_read(uart16550 *u, uint8_t *buf, size_t cap) {
    size_t n = 0;
    while (n < cap && uart_ready(u)) buf[n++] = u->r[RBR];
    return n;
}

void uart_write(uart16550 *u, const uint8_t *data, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        while (!(u->r[LSR] & LSR_THRE)) {
        }
        u->r[THR] = data[i];
    }
}
