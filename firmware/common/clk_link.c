#include "clk_link.h"

#include <string.h>

static size_t put_text(uint8_t *out, size_t at, const char *s) {
    size_t n = strlen(s);
    memcpy(out + at, s, n);
    return at + n;
}

static size_t put_number(uint8_t *out, size_t at, unsigned v) {
    char digits[4];
    size_t n = 0;
    do digits[n++] = (char)('0' + v % 10u);
    while ((v /= 10u) != 0 && n < sizeof digits);
    while (n) out[at++] = (uint8_t)digits[--n];
    return at;
}

int clk_rx_answer_hello(const clk_hello *hello, const clk_rx_identity *id, clk_msg *out) {
    memset(out, 0, sizeof *out);
    if (hello->proto != CLK_PROTO_REVISION) {
        clk_error *e = &out->u.error;
        size_t n = 0;
        out->type = CLK_ERROR;
        e->code = CLK_ERR_UNSUPPORTED_REVISION;
        n = put_text(e->text, n, "hub speaks protocol revision ");
        n = put_number(e->text, n, hello->proto);
        n = put_text(e->text, n, ", this receiver speaks ");
        n = put_number(e->text, n, CLK_PROTO_REVISION);
        e->len = n;
        return -CLK_E_REVISION;
    }
    out->type = CLK_HELLO_ACK;
    out->u.hello_ack.proto = CLK_PROTO_REVISION;
    out->u.hello_ack.fw_major = id->fw_major;
    out->u.hello_ack.fw_minor = id->fw_minor;
    out->u.hello_ack.fw_patch = id->fw_patch;
    out->u.hello_ack.rx_serial = id->rx_serial;
    out->u.hello_ack.boot_id = id->boot_id;
    out->u.hello_ack.radio = id->radio;
    out->u.hello_ack.channel = id->channel;
    out->u.hello_ack.max_keypads = id->max_keypads;
    return 0;
}
