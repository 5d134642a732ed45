/*
 * Semihosting calls (ARM and RISC-V share the operation numbers and argument blocks).
 * Arm: BKPT 0xAB in Thumb state. RISC-V: the uncompressed slli/ebreak/srai sequence, which lives
 * in riscv/start.S because it must stay 16-byte aligned and uncompressed.
 */
#ifndef LTC2C_SEMIHOST_H
#define LTC2C_SEMIHOST_H

#include <stdint.h>

#define LTC2C_SYS_OPEN 0x01u
#define LTC2C_SYS_WRITE 0x05u
#define LTC2C_SYS_EXIT 0x18u          /* angel_SWIreason_ReportException */
#define LTC2C_SYS_EXIT_EXTENDED 0x20u /* keeps the exit status (plain SYS_EXIT reports only 0/1) */
#define LTC2C_ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define LTC2C_ADP_STOPPED_RUNTIME_ERROR 0x20023u

#if defined(__riscv)
uintptr_t ltc2c_semihost_call(uintptr_t op, const void *arg);
#else
static inline uintptr_t ltc2c_semihost_call(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#endif

#endif /* LTC2C_SEMIHOST_H */
