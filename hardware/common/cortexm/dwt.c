/*
 * DWT cycle counter start-up and read (see dwt.h), and the board cycle counter interface
 * (ltc2c_board.h) for every board that counts with DWT CYCCNT (32 bits).
 */
#include <stdint.h>

#include "cortexm/dwt.h"
#include "ltc2c_board.h"

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)

void ltc2c_dwt_start(void)
{
    DEMCR |= 1u << 24;      /* TRCENA */
    DWT_LAR = 0xC5ACCE55u;  /* CoreSight unlock (needed on M7, ignored elsewhere) */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= 1u;         /* CYCCNTENA */
}

uint32_t ltc2c_board_cycles(void)
{
    return DWT_CYCCNT;
}

uint32_t ltc2c_board_cycle_bits(void)
{
    return 32u;
}
