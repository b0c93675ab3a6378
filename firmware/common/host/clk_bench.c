/* Throughput of the C codec on the host, for bench/wire.py: prints one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../clk_wire.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long decoded;
static void count(void *ctx, const clk_msg *m) {
    (void)ctx;
    (void)m;
    decoded++;
}

int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000ul, i;
    size_t size = 0;
    int len;
    uint8_t *wire = malloc(n * CLK_MAX_WIRE);
    clk_msg m;
    clk_stream s;
    double t0, t_enc, t_dec;
    if (!wire) return 1;
    memset(&m, 0, sizeof m);
    m.type = CLK_PRESS;
    m.u.press.poll_id = 3;
    m.u.press.key = '5';
    m.u.press.battery = 87;
    m.u.press.rssi = -60;
    t0 = now_s();
    for (i = 0; i < n; i++) {
        m.seq = (uint16_t)i;
        m.u.press.keypad_id = (uint32_t)(i % 70 + 1);
        m.u.press.counter = (uint32_t)i;
        m.u.press.mic = (uint32_t)(i * 2654435761u);
        len = clk_encode(&m, wire + size, CLK_MAX_WIRE);
        if (len < 0) return 1;
        size += (size_t)len;
    }
    t_enc = now_s() - t0;
    clk_stream_init(&s);
    t0 = now_s();
    for (i = 0; i < size; i += 4096) clk_stream_feed(&s, wire + i, size - i < 4096 ? size - i : 4096, count, NULL);
    t_dec = now_s() - t0;
    printf("{\"frames\": %lu, \"bytes\": %lu, \"encode_per_s\": %.0f, \"decode_per_s\": %.0f, \"decoded\": %lu}\n", n,
           (unsigned long)size, n / t_enc, n / t_dec, decoded);
    free(wire);
    return decoded == n ? 0 : 1;
}
