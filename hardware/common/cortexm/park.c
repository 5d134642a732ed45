/*
 * ltc2c_board_exit() for real Cortex-M boards: there is no host to report the status to (it was
 * printed on the console), so the core parks in a wait-for-interrupt loop.
 */
#include "ltc2c_board.h"

void ltc2c_board_exit(int status)
{
    (void)status;
    for (;;) {
        __asm__ volatile("wfi");
    }
}
