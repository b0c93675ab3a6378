/* Compiles the portable code of ../common into this PlatformIO project (one translation
 * unit per file, kept in ../common so that the host tests exercise the very same source). */
#include "../../common/clk_spec.c"
#include "../../common/clk_wire.c"
#include "../../common/clk_relay.c"
#include "../../common/clk_link.c"
