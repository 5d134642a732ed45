/*
 * ltc2c fixed-point helpers, shared by every integer model. C99, <stdint.h> only, no libm, no float.
 * Mirrored operation for operation by ltc2c/emulate.py (the executable spec): change both or neither.
 *
 * Integer semantics relied upon:
 *  - int32_t / int64_t exist (two's complement, C99 7.18.1.1);
 *  - '>>' of a negative value is an arithmetic shift (floor). C99 leaves it implementation-defined;
 *    GCC, Clang, IAR, armcc and MSVC all do this. Checked at compile time below;
 *  - '/' truncates toward zero (C99 6.5.5).
 * No operation here can overflow for the constants ltc2c generates: ltc2c.quantize proves every
 * intermediate's range at compile time (bound analysis) for any int16 input and state.
 */
#ifndef LTC2C_FIXED_H
#define LTC2C_FIXED_H

#include <stdint.h>

#include "ltc2c_port.h"

/* Compile-time check of the arithmetic right shift: the array size is -1 (an error) otherwise. */
typedef char ltc2c_arithmetic_shift_check[((-8 >> 1) == -4 && ((int32_t)-1 >> 31) == -1) ? 1 : -1];

#if defined(__GNUC__) || defined(__clang__)
#define LTC2C_INLINE static __inline__ __attribute__((always_inline))
#else
#define LTC2C_INLINE static inline
#endif

/* Sigmoid in Q15 (0..32767) of z' = z + 16 in Q(f): table entry i = z' >> idx_shift covers
   [-16 + i h, -16 + (i + 1) h); packed as (y0 + 1) << 16 | dy in Q16 (the +1 rounds the final
   shift), interpolated with a frac_bits fraction and shifted once to Q15. The index is clamped to [0, last]; the table is flat at both
   ends, so the fraction of a clamped index does not matter. */
LTC2C_INLINE int32_t ltc2c_sigmoid_q15(const uint32_t *table, int32_t last, int32_t z, int idx_shift,
                                       int frac_bits)
{
    int32_t i = z >> idx_shift;
    uint32_t e, fr;
    i = i < 0 ? 0 : (i > last ? last : i);
    e = table[i];
    fr = ((uint32_t)z >> (idx_shift - frac_bits)) & (((uint32_t)1 << frac_bits) - 1u);
    return (int32_t)((((e >> 16) << frac_bits) + (e & 0xFFFFu) * fr) >> (frac_bits + 1));
}

/* One fused solver unfold for one neuron, in increment form:
   v' = (c v 2^15 + N 2^15) / (c 2^15 + D) = v + (N - D v / 2^15) / (c + D / 2^15).
   c = cm_t, D = conductance sum (Q15 of K), N = current sum (state units of K); den >= 1 proven. */
LTC2C_INLINE int16_t ltc2c_update(int32_t v, int32_t c, int32_t d_sum, int32_t n_sum)
{
    const int32_t dv = (int32_t)(((int64_t)d_sum * v + 16384) >> 15);
    const int32_t inc = n_sum - dv;
    const int32_t den = c + ((d_sum + 16384) >> 15);
    const int32_t half = den >> 1;
    const int32_t next = v + (inc + (inc >= 0 ? half : -half)) / den; /* rounds half away from 0 */
    return (int16_t)(next > 32767 ? 32767 : (next < -32767 ? -32767 : next));
}

/* 2^31 / elapsed_q, rounded: one division per step on the variable-elapsed-time path. */
LTC2C_INLINE uint32_t ltc2c_inverse_elapsed(uint32_t elapsed_q)
{
    return (((uint32_t)1 << 31) + (elapsed_q >> 1)) / elapsed_q;
}

/* cm_t of one neuron for a given inverse elapsed time: (mult * inv + 2^(shift-1)) >> shift. */
LTC2C_INLINE int32_t ltc2c_cm_t(int32_t mult, int shift, uint32_t inv)
{
    return (int32_t)(((int64_t)mult * (int64_t)inv + ((int64_t)1 << (shift - 1))) >> shift);
}

/* Output map: sat16((mult * v + add) >> shift), add carries the rounding constant. */
LTC2C_INLINE int16_t ltc2c_output(int32_t v, int32_t mult, int32_t add, int shift)
{
    const int32_t y = (mult * v + add) >> shift;
    return (int16_t)(y > 32767 ? 32767 : (y < -32768 ? -32768 : y));
}

#endif /* LTC2C_FIXED_H */
