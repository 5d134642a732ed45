/*
 * ltc2c's stand-in <math.h> for toolchains without a C library (riscv64-unknown-elf-gcc as
 * packaged by Debian ships none). Declares only what ltc2c-generated code calls; the
 * definitions are in ../expf.c. Toolchains with newlib or picolibc use their own <math.h>.
 */
#ifndef LTC2C_LIBC_MATH_H
#define LTC2C_LIBC_MATH_H

float expf(float x);

#endif /* LTC2C_LIBC_MATH_H */
