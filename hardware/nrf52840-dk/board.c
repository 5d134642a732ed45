/*
 * ltc2c board support for the Nordic nRF52840-DK (PCA10056; nRF52840, Cortex-M4F at 64 MHz).
 * Clock: the 64 MHz HFXO is started for an accurate UART baud rate (the CPU runs at 64 MHz either way).
 * Console: UART0 (non-DMA), TX P0.06 / RX P0.08, 115200 8N1, to the J-Link virtual COM port.
 * Cycles: DWT CYCCNT (common/cortexm/dwt.c). Exit: WFI loop (common/cortexm/park.c).
 * Register addresses from the nRF52840 Product Specification v1.x.
 */
#include <stdint.h>

#include "cortexm/dwt.h"
#include "ltc2c_board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART REG(CLOCK_BASE + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED REG(CLOCK_BASE + 0x100u)

#define P0_BASE 0x50000000u
#define P0_OUTSET REG(P0_BASE + 0x508u)
#define P0_DIRSET REG(P0_BASE + 0x518u)

#define UART0_BASE 0x40002000u
#define UART0_TASKS_STARTTX REG(UART0_BASE + 0x008u)
#define UART0_EVENTS_TXDRDY REG(UART0_BASE + 0x11Cu)
#define UART0_ENABLE REG(UART0_BASE + 0x500u)
#define UART0_PSEL_RTS REG(UART0_BASE + 0x508u)
#define UART0_PSEL_TXD REG(UART0_BASE + 0x50Cu)
#define UART0_PSEL_CTS REG(UART0_BASE + 0x510u)
#define UART0_PSEL_RXD REG(UART0_BASE + 0x514u)
#define UART0_TXD REG(UART0_BASE + 0x51Cu)
#define UART0_BAUDRATE REG(UART0_BASE + 0x524u)
#define UART0_CONFIG REG(UART0_BASE + 0x56Cu)

#define TX_PIN 6u
#define RX_PIN 8u
#define PSEL_DISCONNECTED 0xFFFFFFFFu
#define BAUD_115200 0x01D7E000u

void ltc2c_board_init(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    while (CLOCK_EVENTS_HFCLKSTARTED == 0u) {
    }
    P0_OUTSET = 1u << TX_PIN; /* idle high before the UART takes the pin */
    P0_DIRSET = 1u << TX_PIN;
    UART0_PSEL_TXD = TX_PIN;
    UART0_PSEL_RXD = RX_PIN;
    UART0_PSEL_RTS = PSEL_DISCONNECTED;
    UART0_PSEL_CTS = PSEL_DISCONNECTED;
    UART0_BAUDRATE = BAUD_115200;
    UART0_CONFIG = 0u; /* 8N1, no flow control */
    UART0_ENABLE = 4u;
    UART0_TASKS_STARTTX = 1u;
    ltc2c_dwt_start();
}

static void put_byte(uint8_t byte)
{
    UART0_EVENTS_TXDRDY = 0u;
    UART0_TXD = byte;
    while (UART0_EVENTS_TXDRDY == 0u) {
    }
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
}

uint32_t ltc2c_board_core_hz(void)
{
    return 64000000u;
}
