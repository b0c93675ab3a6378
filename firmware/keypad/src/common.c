/* Compiles the portable code of ../common into this PlatformIO project, so the keypad runs
 * the very source that the host tests exercise. */
#include "../../common/clk_spec.c"
#include "../../common/clk_wire.c"
#include "../../common/clk_keypad.c"
#include "../../common/clk_mic.c"
