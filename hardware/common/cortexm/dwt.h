/* DWT cycle counter (ARMv7-M / ARMv8-M Mainline: M3, M4, M7, M33). Not present on M0/M0+. */
#ifndef LTC2C_DWT_H
#define LTC2C_DWT_H

#include <stdint.h>

/* Enable trace (DEMCR.TRCENA), unlock the DWT where a lock exists (M7), start CYCCNT from 0. */
void ltc2c_dwt_start(void);

/* Current CYCCNT: 32-bit core clock cycles, wraps. */
uint32_t ltc2c_dwt_cycles(void);

#endif /* LTC2C_DWT_H */
