/* Waiting without spinning: device interrupts (through the PLIC) and the CLINT timer are
 * enabled in `mie` but not in `mstatus`, so they end a `wfi` without trapping; the main loop
 * then polls. QEMU stops the host thread during `wfi`, so an idle board costs no CPU. */
#include "board.h"

#define PLIC_PRIORITY(s) ((volatile uint32_t *)(BOARD_PLIC + 4u * (s)))
#define PLIC_ENABLE(w)   ((volatile uint32_t *)(BOARD_PLIC + 0x2000u + 4u * (w)))
#define PLIC_THRESHOLD   ((volatile uint32_t *)(BOARD_PLIC + 0x200000u))
#define PLIC_CLAIM       ((volatile uint32_t *)(BOARD_PLIC + 0x200004u))
#define MIE_MTIE         (1u << 7)
#define MIE_MEIE         (1u << 11)

extern uint32_t __stack[];
extern uint32_t __heap_end[];
#define STACK_PAINT 0x5AC4C0DEu

uint64_t board_mtime(void) {
    volatile uint32_t *t = (volatile uint32_t *)BOARD_CLINT_MTIME;
    uint32_t hi, lo;
    do {
        hi = t[1];
        lo = t[0];
    } while (t[1] != hi);
    return (uint64_t)hi << 32 | lo;
}

static void set_mtimecmp(uint64_t when) {
    volatile uint32_t *c = (volatile uint32_t *)BOARD_CLINT_MTIMECMP;
    c[1] = 0xFFFFFFFFu; /* no spurious match while the halves change */
    c[0] = (uint32_t)when;
    c[1] = (uint32_t)(when >> 32);
}

void board_irq_init(void) {
    unsigned s;
    uint32_t mie = MIE_MTIE | MIE_MEIE;
    for (s = 1; s < BOARD_PLIC_SOURCES; s++) *PLIC_PRIORITY(s) = 1;
    for (s = 0; s < BOARD_PLIC_SOURCES / 32; s++) *PLIC_ENABLE(s) = 0xFFFFFFFFu;
    *PLIC_THRESHOLD = 0;
    set_mtimecmp(UINT64_MAX);
    __asm__ volatile(CSR_INSN("csrc mstatus, 8")); /* MIE off: interrupts wake, never trap */
    __asm__ volatile(CSR_INSN("csrs mie, %0")::"r"(mie));
}

void board_irq_ack(void) {
    uint32_t source;
    while ((source = *PLIC_CLAIM) != 0) *PLIC_CLAIM = source;
    set_mtimecmp(UINT64_MAX);
}

void board_wait(uint64_t deadline) {
    set_mtimecmp(deadline);
    if (!board_inputs_ready() && board_mtime() < deadline) __asm__ volatile("wfi");
    board_irq_ack();
}

void board_paint_stack(void) {
    uint32_t *p = __heap_end, *sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    while (p < sp - 16) *p++ = STACK_PAINT;
}
