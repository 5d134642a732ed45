/*
 * DWT cycle counter (ARMv7-M / ARMv8-M Mainline: M3, M4, M7, M33). Not present on M0/M0+.
 * dwt.c also implements ltc2c_board_cycles() (CYCCNT) and ltc2c_board_cycle_bits() (32), so a
 * board that lists common/cortexm/dwt.c in its sources only calls ltc2c_dwt_start() from init.
 */
#ifndef LTC2C_DWT_H
#define LTC2C_DWT_H

/* Enable trace (DEMCR.TRCENA), unlock the DWT where a lock exists (M7), start CYCCNT from 0. */
void ltc2c_dwt_start(void);

#endif /* LTC2C_DWT_H */
