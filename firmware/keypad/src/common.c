/* Compiles the portable code into this PlatformIO project, so the keypad runs the very source
 * that the host tests and the emulated board (firmware/boards/qemu-virt-rv32) exercise. */
#include "../../common/clk_spec.c"
#include "../../common/clk_wire.c"
#include "../../common/clk_cmac.c"
#include "../../common/clk_mic.c"
#include "../../common/clk_keypad.c"
#include "../../app/clk_keypad_app.c"
