/*
 * ltc2c board support for the ST Nucleo-F411RE (STM32F411RE, Cortex-M4F).
 * Clock: HSI 16 MHz with zero flash wait states (reset state), or with -DLTC2C_NUCLEO_84MHZ the
 * PLL from HSI at 84 MHz (flash latency 2, prefetch and caches on, APB1 = 42 MHz).
 * Console: USART2, PA2 TX / PA3 RX (AF7), 115200 8N1, to the ST-LINK virtual COM port.
 * Cycles: DWT CYCCNT (common/cortexm/dwt.c). Exit: WFI loop (common/cortexm/park.c).
 * Register addresses from RM0383.
 */
#include <stdint.h>

#include "cortexm/dwt.h"
#include "ltc2c_board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define RCC_BASE 0x40023800u
#define RCC_CR REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR REG(RCC_BASE + 0x04u)
#define RCC_CFGR REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR REG(RCC_BASE + 0x40u)
#define FLASH_ACR REG(0x40023C00u)

#define GPIOA_BASE 0x40020000u
#define GPIOA_MODER REG(GPIOA_BASE + 0x00u)
#define GPIOA_AFRL REG(GPIOA_BASE + 0x20u)

#define USART2_BASE 0x40004400u
#define USART2_SR REG(USART2_BASE + 0x00u)
#define USART2_DR REG(USART2_BASE + 0x04u)
#define USART2_BRR REG(USART2_BASE + 0x08u)
#define USART2_CR1 REG(USART2_BASE + 0x0Cu)

#define BAUD 115200u

#if defined(LTC2C_NUCLEO_84MHZ)
#define CORE_HZ 84000000u
#define APB1_HZ 42000000u
#else
#define CORE_HZ 16000000u
#define APB1_HZ 16000000u
#endif

static void clock_init(void)
{
#if defined(LTC2C_NUCLEO_84MHZ)
    /* VOS scale 2 (reset value) allows 84 MHz. HSI / M=16 * N=336 / P=4 = 84 MHz; Q=7. */
    FLASH_ACR = 2u | (1u << 8) | (1u << 9) | (1u << 10); /* LATENCY=2, PRFTEN, ICEN, DCEN */
    while ((FLASH_ACR & 0xFu) != 2u) {
    }
    RCC_PLLCFGR = 16u | (336u << 6) | (1u << 16) | (7u << 24); /* PLLP=4 encoded as 1, src HSI */
    RCC_CR |= 1u << 24;                                        /* PLLON */
    while ((RCC_CR & (1u << 25)) == 0u) {                      /* PLLRDY */
    }
    RCC_CFGR = (RCC_CFGR & ~((3u << 0) | (7u << 10))) | (4u << 10) | 2u; /* APB1 /2, SW = PLL */
    while ((RCC_CFGR & (3u << 2)) != (2u << 2)) {                       /* SWS = PLL */
    }
#endif
}

static void uart_init(void)
{
    RCC_AHB1ENR |= 1u << 0;  /* GPIOAEN */
    RCC_APB1ENR |= 1u << 17; /* USART2EN */
    (void)RCC_APB1ENR;       /* read back: the enable takes effect before the first access */
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 4)) | (0xAu << 4);    /* PA2, PA3: alternate function */
    GPIOA_AFRL = (GPIOA_AFRL & ~(0xFFu << 8)) | (0x77u << 8);    /* AF7 = USART2 */
    USART2_BRR = (APB1_HZ + BAUD / 2u) / BAUD;                   /* oversampling by 16 */
    USART2_CR1 = (1u << 13) | (1u << 3) | (1u << 2);             /* UE, TE, RE */
}

void ltc2c_board_init(void)
{
    clock_init();
    uart_init();
    ltc2c_dwt_start();
}

void ltc2c_board_write(const char *text, uint32_t length)
{
    uint32_t i;
    for (i = 0; i < length; ++i) {
        if (text[i] == '\n') {
            while ((USART2_SR & (1u << 7)) == 0u) { /* TXE */
            }
            USART2_DR = '\r';
        }
        while ((USART2_SR & (1u << 7)) == 0u) {
        }
        USART2_DR = (uint8_t)text[i];
    }
    while ((USART2_SR & (1u << 6)) == 0u) { /* TC: last byte out */
    }
}

uint32_t ltc2c_board_core_hz(void)
{
    return CORE_HZ;
}
