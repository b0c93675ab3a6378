/*
 * The qemu-virt-rv32 board: QEMU's `virt` machine with one RV32IMC hart, as the firmware
 * sees it. Memory map (hardware.md, "The emulated board"):
 *
 *   0x02000000  CLINT (mtime at 10 MHz, mtimecmp of hart 0)
 *   0x0C000000  PLIC (hart 0 machine-mode context)
 *   0x10000000  UART0, a 16550: the hub link (receiver) or the key-and-LED panel (keypad)
 *   0x03000000  PCI I/O window: the radio, a PCI 16550 (QEMU's pci-serial) found at boot
 *   0x30000000  PCI ECAM
 *   0x80000000  "flash": code and constants, 256 KiB (the linker enforces it)
 *   0x80080000  RAM: data, bss, stack, a retained word, 64 KiB (the linker enforces it)
 *   0x801F0000  NVS: 4 KiB that QEMU backs with a file (see nvs.c), kept across runs
 */
#ifndef QEMU_BOARD_H
#define QEMU_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOARD_CLINT_MTIMECMP 0x02004000u
#define BOARD_CLINT_MTIME    0x0200BFF8u
#define BOARD_MTIME_HZ       10000000u
#define BOARD_PLIC           0x0C000000u
#define BOARD_PLIC_SOURCES   96u
#define BOARD_UART0          0x10000000u
#define BOARD_PCI_IO         0x03000000u
#define BOARD_PCI_ECAM       0x30000000u
#ifdef BOARD_NVS_ON_HOST /* host/test_nvs.c: the region is a buffer of the test */
extern uint32_t host_nvs_area[1024];
#define BOARD_NVS ((uintptr_t)host_nvs_area)
#else
#define BOARD_NVS 0x801F0000u
#endif
#define BOARD_NVS_SIZE 0x1000u

/* The ESP32-C3's ISA is rv32imc with Zicsr; the toolchain's libraries are built for rv32imc,
 * whose name (GCC 12) no longer implies Zicsr, so CSR instructions say so themselves. */
#define CSR_INSN(insn) ".option push\n.option arch, +zicsr\n" insn "\n.option pop"

/* Earlier stores reach memory before later ones (the NVS writes its CRC last). */
#if defined(__riscv)
#define BOARD_WRITE_FENCE() __asm__ volatile("fence w, w" ::: "memory")
#else
#define BOARD_WRITE_FENCE() __asm__ volatile("" ::: "memory")
#endif

/* A 16550 UART (registers one byte apart). */
typedef struct {
    volatile uint8_t *r;
} uart16550;

/* Sets the UART at base to 8N1 with its receive interrupt on. */
void uart_init(uart16550 *u, uintptr_t base);
/* Whether a byte is waiting. */
bool uart_ready(const uart16550 *u);
/* Copies what is waiting (up to cap bytes) without blocking; returns how many. */
size_t uart_read(uart16550 *u, uint8_t *buf, size_t cap);
/* Writes len bytes, each once the transmitter can take it. */
void uart_write(uart16550 *u, const uint8_t *data, size_t len);

/* The I/O address of the first PCI 16550 (QEMU's pci-serial), mapped and enabled; 0 if none. */
uintptr_t pci_find_serial(void);

/* The machine timer: 10 MHz ticks since reset. */
uint64_t board_mtime(void);
/* The interrupt controller set so that any device interrupt or the timer ends a `wfi`. */
void board_irq_init(void);
/* Acknowledges what woke the hart; then `wfi` until input or mtime reaches `deadline`. */
void board_wait(uint64_t deadline);
/* Completes every interrupt the PLIC has pending and disarms the timer (board_wait does it). */
void board_irq_ack(void);
/* Fills the unused stack with a pattern: the tests read its high-water mark from RAM. */
void board_paint_stack(void);

/* The radio channel and the board's own services shared by both images. */
void board_init(void);
extern uart16550 board_uart0, board_radio;
/* Whether the hub link (or panel) or the radio has a byte waiting. */
bool board_inputs_ready(void);

#endif
