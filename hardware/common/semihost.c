/*
 * Board support for QEMU machines: console and exit status through semihosting
 * (qemu-system-* -semihosting-config enable=on,target=native). QEMU models no DWT, so the
 * cycle counter reads 0; ltc2c counts instructions with its TCG plugin instead.
 */
#include <stdint.h>

#include "ltc2c_board.h"
#include "semihost.h"

static uintptr_t console = (uintptr_t)-1;

void ltc2c_board_init(void)
{
    /* ":tt" opened for writing (mode 4, "w") is the semihosting console. */
    static const char tt[] = ":tt";
    const uintptr_t block[3] = { (uintptr_t)tt, 4u, 3u };
    console = ltc2c_semihost_call(LTC2C_SYS_OPEN, block);
}

void ltc2c_board_write(const char *text, uint32_t length)
{
    const uintptr_t block[3] = { console, (uintptr_t)text, (uintptr_t)length };
    if (length != 0u) {
        (void)ltc2c_semihost_call(LTC2C_SYS_WRITE, block);
    }
}

void ltc2c_board_exit(int status)
{
    const uintptr_t block[2] = { LTC2C_ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(uint32_t)status };
    (void)ltc2c_semihost_call(LTC2C_SYS_EXIT_EXTENDED, block);
    /* Fallback for hosts without SYS_EXIT_EXTENDED: only success/failure survives. */
    (void)ltc2c_semihost_call(LTC2C_SYS_EXIT, (const void *)(uintptr_t)(status == 0
        ? LTC2C_ADP_STOPPED_APPLICATION_EXIT : LTC2C_ADP_STOPPED_RUNTIME_ERROR));
    for (;;) {
    }
}

uint32_t ltc2c_board_cycles(void)
{
    return 0u;
}

uint32_t ltc2c_board_cycle_bits(void)
{
    return 0u;
}

uint32_t ltc2c_board_core_hz(void)
{
    return 0u;
}
