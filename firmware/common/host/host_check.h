/* The host tests' one assertion: counts what passed, prints each failure with its line, and
 * lets a test run to the end so that one run reports every failure ("N passed, M failed"). */
#ifndef HOST_CHECK_H
#define HOST_CHECK_H

#include <stdio.h>

static int passed, failed;
#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (cond)                                                                                                      \
            passed++;                                                                                                  \
        else {                                                                                                         \
            failed++;                                                                                                  \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                                     \
        }                                                                                                              \
    } while (0)

#endif
