/*
 * ltc2c board support interface: what the firmware harness needs from a board, and nothing else.
 * Implemented once for QEMU (semihost.c: semihosting console and exit status) and once per real
 * board (hardware/<board>/board.c: clock, UART, cycle counter). C99, <stdint.h> only.
 */
#ifndef LTC2C_BOARD_H
#define LTC2C_BOARD_H

#include <stdint.h>

/* Clocks, console and cycle counter. Called once by the startup code before main(). */
void ltc2c_board_init(void);

/* Write length bytes of text to the console (semihosting or UART; blocking, no buffering). */
void ltc2c_board_write(const char *text, uint32_t length);

/* Report status and stop: exit QEMU with this status, or park a real board. Never returns. */
void ltc2c_board_exit(int status) __attribute__((noreturn));

/* Free-running core clock cycle counter (DWT CYCCNT, or SysTick where there is no DWT).
   ltc2c_board_cycle_bits() is its width in bits (24 for SysTick), 0 when the board has none. */
uint32_t ltc2c_board_cycles(void);
uint32_t ltc2c_board_cycle_bits(void);

/* Core clock in Hz as configured by ltc2c_board_init() (0 when unknown, e.g. under QEMU). */
uint32_t ltc2c_board_core_hz(void);

/* Lowest address the stack may grow down to (end of .bss), from the linker script. */
extern uint32_t _ltc2c_stack_bottom;

/* The current stack pointer. */
static inline uintptr_t ltc2c_stack_pointer(void)
{
    uintptr_t sp;
#if defined(__riscv)
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#else
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#endif
    return sp;
}

#endif /* LTC2C_BOARD_H */
