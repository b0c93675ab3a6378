#include "board.h"

#define PCI_SERIAL_ID 0x00021b36u /* vendor 0x1b36 (QEMU), device 0x0002 (pci-serial) */
#define IO_BASE       0x1000u     /* inside the I/O window, away from address 0 */

static volatile uint32_t *config(unsigned dev, unsigned reg) {
    return (volatile uint32_t *)(BOARD_PCI_ECAM + (dev << 15) + reg);
}

uintptr_t pci_find_serial(void) {
    unsigned dev;
    for (dev = 0; dev < 32; dev++) {
        if (*config(dev, 0x00) != PCI_SERIAL_ID) continue;
        *config(dev, 0x10) = IO_BASE; /* BAR0: 8 bytes of I/O space */
        *config(dev, 0x04) |= 0x1u;   /* command: I/O space decoding on */
        return BOARD_PCI_IO + IO_BASE;
    }
    return 0;
}
