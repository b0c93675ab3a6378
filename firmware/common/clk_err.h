/*
 * The one error convention of the firmware (firmware/README.md, "Conventions"):
 *
 *  - a function that can fail returns an int: 0 on success, or a negative error code;
 *  - a function that produces bytes returns their count (>= 0) as an int, or a negative error
 *    code: never a size_t that means "failed" when it is 0 or (size_t)-1;
 *  - a yes/no answer (a predicate, "was something queued") is a bool and never an error;
 *  - a count that cannot fail is a size_t or an unsigned.
 *
 * The error codes are the values below, negated. 1..15 are the reasons a frame is dropped
 * (enum clk_reject, generated from protocol/wire.toml and named alike in the hub), so a codec
 * returns -CLK_BAD_CRC for a frame whose CRC does not match and a stream counts it under
 * rejected[CLK_BAD_CRC]; the firmware's own codes follow from 16.
 */
#ifndef CLK_ERR_H
#define CLK_ERR_H

/* The first code of the firmware's own; the reject reasons stay below it. */
#define CLK_E_FIRST 16

enum clk_err {
    CLK_E_NOSPACE = CLK_E_FIRST, /* the caller's buffer (or a fixed store) is too small */
    CLK_E_RANGE,                 /* a field out of its range: too many keys, a text too long */
    CLK_E_NOT_FOUND,             /* the NVS holds no value of that name (and that size) */
    CLK_E_IO,                    /* the board's storage or radio failed, or is absent */
    CLK_E_BAD_KEY,               /* keypad: not a key of the open poll */
    CLK_E_BAD_ITEM,              /* keypad: not a proposal of the open self-paced poll */
    CLK_E_STORE,                 /* keypad: the counter could not be persisted */
    CLK_E_SIGN,                  /* keypad: the press could not be signed */
    CLK_E_REVISION               /* link: the hub speaks another protocol revision */
};

#endif
