/* Compiles the portable code into this PlatformIO project (kept in ../common and ../app so
 * that the host tests and the emulated board exercise the very same source). */
#include "../../common/clk_spec.c"
#include "../../common/clk_wire.c"
#include "../../common/clk_relay.c"
#include "../../common/clk_link.c"
#include "../../app/clk_receiver_app.c"
