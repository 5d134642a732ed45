/*
 * RISC-V (RV32, machine mode) start-up for ltc2c firmware: stack and global pointer, trap vector,
 * FPU enable on F builds, .data copy, .bss clear, then ltc2c_riscv_start() (riscv/crt.c).
 * Also holds the semihosting trap sequence, which must be uncompressed and must not straddle a
 * page, hence its own 16-byte-aligned function.
 */
    .section .text.ltc2c_entry, "ax", @progbits
    .globl ltc2c_riscv_entry
    .type ltc2c_riscv_entry, @function
ltc2c_riscv_entry:
    .option push
    .option norelax
    la   gp, __global_pointer$
    .option pop
    la   sp, _estack
    la   t0, ltc2c_trap_entry
    csrw mtvec, t0
#ifdef __riscv_flen
    li   t0, (1 << 13)            /* mstatus.FS = Initial */
    csrs mstatus, t0
    csrw fcsr, zero
#endif
    la   t0, _sidata
    la   t1, _sdata
    la   t2, _edata
    beq  t0, t1, 2f
1:  bgeu t1, t2, 2f
    lw   t3, 0(t0)
    sw   t3, 0(t1)
    addi t0, t0, 4
    addi t1, t1, 4
    j    1b
2:  la   t0, _sbss
    la   t1, _ebss
3:  bgeu t0, t1, 4f
    sw   zero, 0(t0)
    addi t0, t0, 4
    j    3b
4:  call ltc2c_riscv_start
5:  j    5b

    .balign 4
ltc2c_trap_entry:
    la   sp, _estack
    call ltc2c_fault_handler
6:  j    6b
    .size ltc2c_riscv_entry, . - ltc2c_riscv_entry

    .section .text.ltc2c_semihost_call, "ax", @progbits
    .globl ltc2c_semihost_call
    .type ltc2c_semihost_call, @function
    .balign 16
ltc2c_semihost_call:              /* uintptr_t ltc2c_semihost_call(op in a0, arg in a1) */
    .option push
    .option norvc
    slli x0, x0, 0x1f
    ebreak
    srai x0, x0, 7
    .option pop
    ret
    .size ltc2c_semihost_call, . - ltc2c_semihost_call
