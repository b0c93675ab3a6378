/* The firmware's version, reported in HELLO_ACK (every board builds the same version). */
#ifndef CLK_FW_VERSION_H
#define CLK_FW_VERSION_H

#define CLK_FW_MAJOR 1
#define CLK_FW_MINOR 1
#define CLK_FW_PATCH 0

#endif
