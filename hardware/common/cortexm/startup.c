/*
 * Cortex-M start-up for ltc2c firmware (ARMv6-M, ARMv7-M, ARMv8-M Mainline; C99, no libc).
 * Vector table, reset handler (FPU enable, .data copy, .bss clear, board init, main, exit),
 * and one handler for every fault. Symbols come from cortexm/sections.ld.
 */
#include <stdint.h>

#include "ltc2c_board.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

void ltc2c_reset_handler(void);
void ltc2c_fault_handler(void);

typedef void (*ltc2c_vector_t)(void);

/* Only the 16 system exceptions: ltc2c firmware polls its peripherals and enables no IRQ. */
__attribute__((section(".isr_vector"), used)) const ltc2c_vector_t ltc2c_vectors[16] = {
    (ltc2c_vector_t)(uintptr_t)&_estack, /* initial main stack pointer */
    ltc2c_reset_handler,
    ltc2c_fault_handler, /* NMI */
    ltc2c_fault_handler, /* HardFault */
    ltc2c_fault_handler, /* MemManage */
    ltc2c_fault_handler, /* BusFault */
    ltc2c_fault_handler, /* UsageFault */
    ltc2c_fault_handler, /* SecureFault (ARMv8-M) */
    0, 0, 0,
    ltc2c_fault_handler, /* SVCall */
    ltc2c_fault_handler, /* DebugMonitor */
    0,
    ltc2c_fault_handler, /* PendSV */
    ltc2c_fault_handler, /* SysTick (never enabled as an interrupt) */
};

void ltc2c_fault_handler(void)
{
    static const char message[] = "LTC2C FAULT\n";
    ltc2c_board_write(message, (uint32_t)(sizeof message - 1u));
    ltc2c_board_exit(99);
}

void ltc2c_reset_handler(void)
{
    const uint32_t *src = &_sidata;
    uintptr_t p;
#if defined(LTC2C_SET_VTOR)
    /* Images entered by a debugger or boot ROM at an address other than the core's reset
       vector (e.g. RP2040 from SRAM) point VTOR at their own table. */
    *(volatile uint32_t *)0xE000ED08u = (uint32_t)(uintptr_t)ltc2c_vectors;
#endif
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11 before the first floating-point instruction. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    /* Integer compares: the linker symbols are distinct objects as far as C is concerned. */
    if ((uintptr_t)&_sidata != (uintptr_t)&_sdata) {
        for (p = (uintptr_t)&_sdata; p < (uintptr_t)&_edata; p += 4u) {
            *(uint32_t *)p = *src++;
        }
    }
    for (p = (uintptr_t)&_sbss; p < (uintptr_t)&_ebss; p += 4u) {
        *(uint32_t *)p = 0u;
    }
    ltc2c_board_init();
    ltc2c_board_exit(main());
}
