/*
 * The emulated board's NVS (nvs.c) on the host, under sanitizers: values round-trip, a blank
 * or damaged store reads as empty, a full store refuses, and a write cut short at every byte
 * (a power cut) leaves either the old value or the new one, never a blank or a mixture.
 * Prints "N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "clk_hal.h"
#include "host/host_check.h"

uint32_t host_nvs_area[1024];
#define nvs_area ((unsigned char *)host_nvs_area)

static uint32_t get(const char *name) {
    uint32_t v = 0xDEADBEEFu;
    return clk_hal_nvs_get_u32(name, &v) == 0 ? v : 0xDEADBEEFu;
}

static void test_round_trip(void) {
    uint8_t blob[16];
    memset(host_nvs_area, 0, sizeof host_nvs_area);
    CHECK(get("counter") == 0xDEADBEEFu); /* blank */
    CHECK(clk_hal_nvs_set_u32("counter", 41) == 0);
    CHECK(clk_hal_nvs_set_u32("id", 0xA1B2C3) == 0);
    CHECK(clk_hal_nvs_set_u32("counter", 42) == 0);
    CHECK(get("counter") == 42 && get("id") == 0xA1B2C3);
    CHECK(clk_hal_nvs_get_blob("counter", blob, 4) == -CLK_E_NOT_FOUND); /* a u32 is not a blob */
    CHECK(clk_hal_nvs_set_u32("a_name_too_long", 1) == -CLK_E_RANGE);
}

static void test_full_store_refuses(void) {
    char name[4] = "v0";
    int i, last = 0;
    memset(host_nvs_area, 0, sizeof host_nvs_area);
    for (i = 0; i < 12; i++) {
        name[1] = (char)('a' + i);
        last = clk_hal_nvs_set_u32(name, (uint32_t)i);
        if (i < 10) CHECK(last == 0);
    }
    CHECK(last != 0);
    CHECK(get("vj") == 9 && get("va") == 0);
}

static void test_power_cut_at_every_byte(void) {
    static unsigned char before[4096], after[4096];
    size_t off, k, changed_at = 0, changed_len = 0;
    uint32_t round;
    memset(host_nvs_area, 0, sizeof host_nvs_area);
    CHECK(clk_hal_nvs_set_u32("counter", 100) == 0);
    for (round = 0; round < 4; round++) { /* both banks as the target, twice */
        int bad = 0;
        memcpy(before, nvs_area, sizeof before);
        CHECK(clk_hal_nvs_set_u32("counter", 101 + round) == 0);
        memcpy(after, nvs_area, sizeof after);
        for (off = 0; off < sizeof before; off++)
            if (before[off] != after[off]) {
                if (!changed_len) changed_at = off;
                changed_len = off + 1 - changed_at;
            }
        for (k = 0; k <= changed_len; k++) {
            uint32_t v;
            memcpy(nvs_area, before, sizeof before);
            memcpy(nvs_area + changed_at, after + changed_at, k); /* the write got k bytes far */
            v = get("counter");
            if (v != 100 + round && !(k == changed_len && v == 101 + round)) bad++;
        }
        CHECK(bad == 0);
        memcpy(nvs_area, after, sizeof after);
        changed_len = 0;
    }
}

int main(void) {
    test_round_trip();
    test_full_store_refuses();
    test_power_cut_at_every_byte();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
