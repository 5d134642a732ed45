/*
 * ltc2c board support for the Raspberry Pi Pico (RP2040, Cortex-M0+ core 0), image in SRAM.
 * Clock: 12 MHz crystal oscillator (XOSC) drives clk_ref, clk_sys and clk_peri (no PLL).
 * Console: UART0 (PL011), TX GP0 / RX GP1, 115200 8N1.
 * Cycles: the M0+ has no DWT cycle counter, so SysTick runs free from the core clock (24 bits).
 * Exit: parks in a WFI loop (common/cortexm/park.c).
 * Register addresses from the RP2040 datasheet.
 */
#include <stdint.h>

#include "ltc2c_board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define ALIAS_CLR 0x3000u /* atomic bit-clear alias of every peripheral register */

#define RESETS_BASE 0x4000C000u
#define RESETS_RESET REG(RESETS_BASE + 0x0u)
#define RESETS_RESET_CLR REG(RESETS_BASE + ALIAS_CLR + 0x0u)
#define RESETS_DONE REG(RESETS_BASE + 0x8u)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)

#define XOSC_BASE 0x40024000u
#define XOSC_CTRL REG(XOSC_BASE + 0x00u)
#define XOSC_STATUS REG(XOSC_BASE + 0x04u)
#define XOSC_STARTUP REG(XOSC_BASE + 0x0Cu)

#define CLOCKS_BASE 0x40008000u
#define CLK_REF_CTRL REG(CLOCKS_BASE + 0x30u)
#define CLK_REF_SELECTED REG(CLOCKS_BASE + 0x38u)
#define CLK_SYS_CTRL REG(CLOCKS_BASE + 0x3Cu)
#define CLK_SYS_SELECTED REG(CLOCKS_BASE + 0x44u)
#define CLK_PERI_CTRL REG(CLOCKS_BASE + 0x48u)

#define IO_BANK0_GPIO0_CTRL REG(0x40014004u)
#define IO_BANK0_GPIO1_CTRL REG(0x4001400Cu)
#define PADS_BANK0_GPIO1 REG(0x4001C008u)

#define UART0_BASE 0x40034000u
#define UART0_DR REG(UART0_BASE + 0x000u)
#define UART0_FR REG(UART0_BASE + 0x018u)
#define UART0_IBRD REG(UART0_BASE + 0x024u)
#define UART0_FBRD REG(UART0_BASE + 0x028u)
#define UART0_LCR_H REG(UART0_BASE + 0x02Cu)
#define UART0_CR REG(UART0_BASE + 0x030u)

#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)

#define XOSC_HZ 12000000u
#define BAUD 115200u

static void clock_init(void)
{
    XOSC_CTRL = 0xAA0u;                                  /* FREQ_RANGE 1-15 MHz */
    XOSC_STARTUP = ((XOSC_HZ / 1000u) + 128u) / 256u;    /* ~1 ms start-up delay */
    XOSC_CTRL = 0xAA0u | (0xFABu << 12);                 /* ENABLE */
    while ((XOSC_STATUS & (1u << 31)) == 0u) {           /* STABLE */
    }
    CLK_REF_CTRL = 2u;                                   /* clk_ref <- xosc */
    while ((CLK_REF_SELECTED & (1u << 2)) == 0u) {
    }
    CLK_SYS_CTRL = 0u;                                   /* clk_sys <- clk_ref */
    while ((CLK_SYS_SELECTED & 1u) == 0u) {
    }
    CLK_PERI_CTRL = 0u;                                  /* stop before changing AUXSRC */
    CLK_PERI_CTRL = 1u << 11;                            /* ENABLE, AUXSRC = clk_sys */
}

static void uart_init(void)
{
    const uint32_t mask = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
    const uint32_t div = (8u * XOSC_HZ) / BAUD;           /* baud divisor in 1/128 steps */
    RESETS_RESET_CLR = mask;
    while ((RESETS_DONE & mask) != mask) {
    }
    IO_BANK0_GPIO0_CTRL = 2u;                            /* FUNCSEL UART0 TX */
    IO_BANK0_GPIO1_CTRL = 2u;                            /* FUNCSEL UART0 RX */
    PADS_BANK0_GPIO1 |= 1u << 6;                         /* input enable on RX */
    UART0_IBRD = div >> 7;
    UART0_FBRD = ((div & 0x7Fu) + 1u) / 2u;
    UART0_LCR_H = (3u << 5) | (1u << 4);                 /* 8 bits, FIFOs on (latches the divisor) */
    UART0_CR = (1u << 0) | (1u << 8) | (1u << 9);        /* UARTEN, TXE, RXE */
}

void ltc2c_board_init(void)
{
    clock_init();
    uart_init();
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = (1u << 2) | 1u;                           /* processor clock, enabled, no interrupt */
}

static void put_byte(uint8_t byte)
{
    while ((UART0_FR & (1u << 5)) != 0u) {               /* TXFF */
    }
    UART0_DR = byte;
}

void ltc2c_board_write(const char *text, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        if (text[i] == '\n') {
            put_byte('\r');
        }
        put_byte((uint8_t)text[i]);
    }
    while ((UART0_FR & (1u << 3)) != 0u) {               /* BUSY */
    }
}

uint32_t ltc2c_board_cycles(void)
{
    /* SysTick counts down; the harness subtracts modulo 2^24. Return an up-counter. */
    return (0x00FFFFFFu - SYST_CVR) & 0x00FFFFFFu;
}

uint32_t ltc2c_board_cycle_bits(void)
{
    return 24u;
}

uint32_t ltc2c_board_core_hz(void)
{
    return XOSC_HZ;
}
