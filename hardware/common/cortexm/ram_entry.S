/*
 * Entry for Cortex-M images that run from SRAM and are entered by a boot ROM or a debugger at
 * their lowest address (RP2040: a RAM UF2 is entered at its first byte, with no reset through
 * the vector table). Points VTOR at ltc2c_vectors, loads the main stack pointer from it and
 * jumps to the reset handler. Thumb-1 only, so it assembles for ARMv6-M too.
 */
    .syntax unified
    .thumb
    .section .text.ltc2c_entry, "ax", %progbits
    .global ltc2c_ram_entry
    .type ltc2c_ram_entry, %function
    .thumb_func
ltc2c_ram_entry:
    ldr r0, =ltc2c_vectors
    ldr r1, =0xE000ED08      /* SCB->VTOR */
    str r0, [r1]
    ldr r1, [r0]             /* initial stack pointer */
    msr msp, r1
    ldr r1, [r0, #4]         /* reset handler (Thumb bit set) */
    bx r1
    .ltorg
    .size ltc2c_ram_entry, . - ltc2c_ram_entry
