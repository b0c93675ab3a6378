/*
 * The board's NVS: named values in a RAM region that QEMU backs with a file (the machine's
 * RAM is a shared memory-backend-file), so they survive a reboot and a power cut (QEMU
 * killed), and a test can provision them before the first boot and read them afterwards.
 *
 * Two banks; a write copies the newest valid bank into the other one with the sequence number
 * plus one and the CRC-32 last, so a write cut short leaves the previous bank in force.
 * Layout of a bank (little-endian), 512 bytes:
 *   magic u32 "CNV1" | seq u32 | 10 entries of {name[12] NUL-padded, type u8, len u8,
 *   value[32]} | zero padding | crc32 u32 of bytes [0, 508)
 * type 1 = u32 (len 4), 2 = blob. hub/sim/qemu.py writes and reads the same layout.
 */
#include <string.h>

#include "board.h"
#include "clk_hal.h"

#define MAGIC      0x31564E43u /* "CNV1" */
#define BANK_SIZE  512u
#define ENTRIES    10u
#define NAME_SIZE  12u
#define VALUE_SIZE 32u
#define TYPE_U32   1u
#define TYPE_BLOB  2u

typedef struct {
    char name[NAME_SIZE];
    uint8_t type, len;
    uint8_t value[VALUE_SIZE];
} entry;

typedef struct {
    uint32_t magic, seq;
    entry e[ENTRIES];
    uint8_t pad[BANK_SIZE - 12 - ENTRIES * sizeof(entry)];
    uint32_t crc;
} bank;

typedef char bank_is_512_bytes[sizeof(bank) == BANK_SIZE ? 1 : -1];

static bank *banks(void) { return (bank *)BOARD_NVS; }

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (uint32_t) - (c & 1u));
    }
    return ~c;
}

static int valid(const bank *b) {
    return b->magic == MAGIC && b->crc == crc32((const uint8_t *)b, offsetof(bank, crc));
}

/* The bank in force, or NULL when the store is blank (or both banks are damaged). */
static const bank *current(void) {
    const bank *b = banks();
    int v0 = valid(&b[0]), v1 = valid(&b[1]);
    if (v0 && v1) return (int32_t)(b[1].seq - b[0].seq) > 0 ? &b[1] : &b[0];
    return v0 ? &b[0] : v1 ? &b[1] : NULL;
}

static const entry *find(const bank *b, const char *name) {
    size_t i;
    if (!b || strlen(name) >= NAME_SIZE) return NULL;
    for (i = 0; i < ENTRIES; i++)
        if (b->e[i].type && strncmp(b->e[i].name, name, NAME_SIZE) == 0) return &b->e[i];
    return NULL;
}

int clk_hal_nvs_get_u32(const char *name, uint32_t *value) {
    const entry *e = find(current(), name);
    if (!e || e->type != TYPE_U32 || e->len != 4) return -CLK_E_NOT_FOUND;
    *value =
        (uint32_t)e->value[0] | (uint32_t)e->value[1] << 8 | (uint32_t)e->value[2] << 16 | (uint32_t)e->value[3] << 24;
    return 0;
}

int clk_hal_nvs_get_blob(const char *name, uint8_t *buf, size_t len) {
    const entry *e = find(current(), name);
    if (!e || e->type != TYPE_BLOB || e->len != len) return -CLK_E_NOT_FOUND;
    memcpy(buf, e->value, len);
    return 0;
}

int clk_hal_nvs_set_u32(const char *name, uint32_t value) {
    const bank *old = current();
    bank *target = old == &banks()[0] ? &banks()[1] : &banks()[0];
    bank next;
    entry *e = NULL;
    size_t i;
    if (strlen(name) >= NAME_SIZE) return -CLK_E_RANGE;
    if (old) {
        next = *old;
    } else {
        memset(&next, 0, sizeof next);
    }
    for (i = 0; i < ENTRIES && !e; i++)
        if (next.e[i].type && strncmp(next.e[i].name, name, NAME_SIZE) == 0) e = &next.e[i];
    for (i = 0; i < ENTRIES && !e; i++)
        if (!next.e[i].type) e = &next.e[i];
    if (!e) return -CLK_E_NOSPACE; /* full */
    memset(e, 0, sizeof *e);
    strncpy(e->name, name, NAME_SIZE - 1);
    e->type = TYPE_U32;
    e->len = 4;
    for (i = 0; i < 4; i++) e->value[i] = (uint8_t)(value >> (8 * i));
    next.magic = MAGIC;
    next.seq = old ? old->seq + 1 : 1;
    next.crc = 0;
    memcpy(target, &next, offsetof(bank, crc));
    BOARD_WRITE_FENCE();
    target->crc = crc32((const uint8_t *)&next, offsetof(bank, crc));
    BOARD_WRITE_FENCE();
    return valid(target) ? 0 : -CLK_E_IO;
}
