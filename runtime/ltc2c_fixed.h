/*
 * ltc2c fixed-point helpers, shared by every integer model. C99, <stdint.h> only, no libm, no float.
 * Mirrored operation for operation by ltc2c/emulate.py (the executable spec): change both or neither.
 *
 * Integer semantics relied upon:
 *  - int32_t / int64_t exist (two's complement, C99 7.18.1.1), so & on negative values is defined;
 *  - '>>' of a negative value is an arithmetic shift (floor). C99 leaves it implementation-defined;
 *    GCC, Clang, IAR, armcc and MSVC all do this. Checked at compile time below;
 *  - '/' truncates toward zero (C99 6.5.5).
 * No operation here can overflow for the constants ltc2c generates: ltc2c.quantize proves every
 * intermediate's range at compile time (bound analysis) for any int16 input and state.
 *
 * On Arm cores with the DSP extension (Cortex-M4/M7/M33, __ARM_FEATURE_DSP) the helpers use the ACLE
 * intrinsics SMLAWB/SMLAWT, SMLABB, USAT and SSAT; the portable C below computes the same integers.
 */
#ifndef LTC2C_FIXED_H
#define LTC2C_FIXED_H

#include <stdint.h>

#include "ltc2c_port.h"

#if defined(__ARM_FEATURE_SAT) && (defined(__GNUC__) || defined(__clang__))
#include <arm_acle.h>
#define LTC2C_ARM_SAT 1 /* USAT / SSAT (Cortex-M3 and up) */
#if defined(__ARM_FEATURE_DSP)
#define LTC2C_ARM_DSP 1
#endif
#endif

/* The signed low half of x: GCC and Clang define the conversion to int16_t as modulo 2^16 (one
   SXTH); elsewhere the portable form computes the same value. */
#if defined(__GNUC__) || defined(__clang__)
#define LTC2C_LOW16(x) ((int32_t)(int16_t)(x))
#else
#define LTC2C_LOW16(x) (((x) & 0x7FFF) - ((x) & 0x8000))
#endif

/* Hand-scheduled synapse and neuron loops (inline assembly, the same arithmetic) on optimised
   Thumb-2 DSP builds; -O0 keeps a frame pointer and lacks the registers. LTC2C_NO_ASM turns them off. */
#if defined(LTC2C_ARM_DSP) && defined(__thumb2__) && defined(__OPTIMIZE__) && !defined(LTC2C_NO_ASM)
#define LTC2C_ASM 1
#endif

/* Compile-time check of the arithmetic right shift: the array size is -1 (an error) otherwise. */
typedef char ltc2c_arithmetic_shift_check[((-8 >> 1) == -4 && ((int32_t)-1 >> 31) == -1) ? 1 : -1];

#if defined(__GNUC__) || defined(__clang__)
#define LTC2C_INLINE static __inline__ __attribute__((always_inline))
#else
#define LTC2C_INLINE static inline
#endif

/* acc + floor(a * b / 2^16) for b in the int16 range (SMLAWB). */
LTC2C_INLINE int32_t ltc2c_mlaw16(int32_t a, int32_t b, int32_t acc)
{
#if defined(LTC2C_ARM_DSP)
    return __smlawb(a, b, acc);
#elif defined(__ARM_ARCH_6M__)
    return acc + (a >> 16) * b + (((a & 0xFFFF) * b) >> 16);
#else
    return acc + (int32_t)(((int64_t)a * b) >> 16);
#endif
}

/* acc + floor(a * (w >> 16) / 2^16): the top half of a packed word (SMLAWT). */
LTC2C_INLINE int32_t ltc2c_mlawt(int32_t a, int32_t w, int32_t acc)
{
#ifdef LTC2C_ARM_DSP
    return __smlawt(a, w, acc);
#elif defined(__ARM_ARCH_6M__)
    const int32_t b = w >> 16;
    return acc + (a >> 16) * b + (((a & 0xFFFF) * b) >> 16);
#else
    return acc + (int32_t)(((int64_t)a * (w >> 16)) >> 16);
#endif
}

/* Sigmoid of the argument u (in 2^-15 table entries, offset included) in Q31: entry
   i = clamp(u >> 15, 0, 255) = Y << 16 | m, t = the signed low half of u, result
   Y 2^16 + m (t + 1) = e + m t, in [0, 32767 * 2^16]. The end entries are flat (m = 0). */
LTC2C_INLINE int32_t ltc2c_sigmoid(const uint32_t *table, int32_t u)
{
#ifdef LTC2C_ARM_DSP
    const int32_t e = (int32_t)table[__usat(u >> 15, 8)];
    return __smlabb(e, u, e);
#else
#ifdef LTC2C_ARM_SAT
    const int32_t e = (int32_t)table[__usat(u >> 15, 8)];
#else
    int32_t i = u >> 15;
    int32_t e;
    i = i < 0 ? 0 : (i > 255 ? 255 : i);
    e = (int32_t)table[i];
#endif
    return e + (e & 0xFFFF) * LTC2C_LOW16(u);
#endif
}

#ifdef LTC2C_ASM
/* The marked synapse loop as asm text, shared by ltc2c_synapses_marked and ltc2c_unfold_run:
   LDM + 10 instructions per synapse, pre = the gain's low byte, falls through after the record
   whose bias has its LSB set. Operands: p g b w t x tab dd nn. */
#define LTC2C_ASM_MARKED_LOOP                   \
    "1:\n\t"                                    \
    "ldmia   %[p]!, {%[g], %[b], %[w]}\n\t"     \
    "uxtb    %[t], %[g]\n\t"                    \
    "ldrsh   %[t], [%[x], %[t], lsl #1]\n\t"    \
    "smlawb  %[t], %[g], %[t], %[b]\n\t"        \
    "usat    %[g], #8, %[t], asr #15\n\t"       \
    "ldr     %[g], [%[tab], %[g], lsl #2]\n\t"  \
    "smlabb  %[g], %[g], %[t], %[g]\n\t"        \
    "smlawb  %[dd], %[g], %[w], %[dd]\n\t"      \
    "smlawt  %[nn], %[g], %[w], %[nn]\n\t"      \
    "tst     %[b], #1\n\t"                      \
    "beq     1b\n\t"
#endif

/* Accumulate the synapse records [p, end) (each {gain | pre, bias, w | w_erev << 16}) of one target
   neuron into *d and *n: u = floor(gain x[gain & mask] / 2^16) + bias, g = sigmoid(u),
   *d += floor(g w / 2^16), *n += floor(g w_erev / 2^16). Returns end. */
LTC2C_INLINE const int32_t *ltc2c_synapses(const int32_t *p, const int32_t *end, const int16_t *x, int32_t mask,
                                           const uint32_t *table, int32_t *d, int32_t *n)
{
#ifdef LTC2C_ASM
    /* The same arithmetic, scheduled by hand: LDM + 10 instructions per synapse. */
    if (p != end) {
        register int32_t gain __asm__("r4");
        register int32_t bias __asm__("r5");
        register int32_t wpair __asm__("r6");
        int32_t t;
        int32_t dd = *d, nn = *n;
        __asm__ __volatile__(
            "1:\n\t"
            "ldmia   %[p]!, {%[g], %[b], %[w]}\n\t"
            "and     %[t], %[g], %[mask]\n\t"
            "ldrsh   %[t], [%[x], %[t], lsl #1]\n\t"
            "smlawb  %[t], %[g], %[t], %[b]\n\t"
            "usat    %[g], #8, %[t], asr #15\n\t"
            "ldr     %[g], [%[tab], %[g], lsl #2]\n\t"
            "smlabb  %[g], %[g], %[t], %[g]\n\t"
            "smlawb  %[dd], %[g], %[w], %[dd]\n\t"
            "smlawt  %[nn], %[g], %[w], %[nn]\n\t"
            "cmp     %[p], %[end]\n\t"
            "bne     1b\n\t"
            : [p] "+&r"(p), [g] "=&r"(gain), [b] "=&r"(bias), [w] "=&r"(wpair), [t] "=&r"(t),
              [dd] "+r"(dd), [nn] "+r"(nn)
            : [end] "r"(end), [x] "r"(x), [mask] "r"(mask), [tab] "r"(table)
            : "cc", "memory");
        *d = dd;
        *n = nn;
    }
    return p;
#else
    int32_t dd = *d, nn = *n;
    for (; p != end; p += 3) {
        const int32_t g = ltc2c_sigmoid(table, ltc2c_mlaw16(p[0], x[p[0] & mask], p[1]));
        dd = ltc2c_mlaw16(g, p[2] & 0xFFFF, dd); /* w >= 0 */
        nn = ltc2c_mlawt(g, p[2], nn);
    }
    *d = dd;
    *n = nn;
    return p;
#endif
}

/* As ltc2c_synapses (with mask 255: pre in the gain's low byte) for the records from p up to and
   including the first one whose bias has its LSB set (the last synapse of the neuron, marked by
   ltc2c.quantize). Returns the next record. */
LTC2C_INLINE const int32_t *ltc2c_synapses_marked(const int32_t *p, const int16_t *x,
                                                  const uint32_t *table, int32_t *d, int32_t *n)
{
#ifdef LTC2C_ASM
    register int32_t gain __asm__("r4");
    register int32_t bias __asm__("r5");
    register int32_t wpair __asm__("r6");
    int32_t t;
    int32_t dd = *d, nn = *n;
    __asm__ __volatile__(
        LTC2C_ASM_MARKED_LOOP
        : [p] "+&r"(p), [g] "=&r"(gain), [b] "=&r"(bias), [w] "=&r"(wpair), [t] "=&r"(t),
          [dd] "+r"(dd), [nn] "+r"(nn)
        : [x] "r"(x), [tab] "r"(table)
        : "cc", "memory");
    *d = dd;
    *n = nn;
    return p;
#else
    int32_t dd = *d, nn = *n, last;
    do {
        const int32_t g = ltc2c_sigmoid(table, ltc2c_mlaw16(p[0], x[p[0] & 255], p[1]));
        dd = ltc2c_mlaw16(g, p[2] & 0xFFFF, dd); /* w >= 0 */
        nn = ltc2c_mlawt(g, p[2], nn);
        last = p[1] & 1;
        p += 3;
    } while (!last);
    *d = dd;
    *n = nn;
    return p;
#endif
}

/* One fused solver unfold for one neuron, in increment form:
   v' = (c v 2^15 + N 2^15) / (c 2^15 + D) = v + (N - D v / 2^15) / (c + D / 2^15).
   c = cm_t, D = conductance sum (units of K 2^15), N = current sum (state units of K); den >= 1
   proven. inc = N - 2 floor(D v / 2^16); the quotient rounds to nearest (r = den >> 1, or
   ~(den >> 1) = -(den >> 1) - 1 for inc < 0) and truncates; v' saturates to int16. */
LTC2C_INLINE int16_t ltc2c_update(int32_t v, int32_t c, int32_t d_sum, int32_t n_sum)
{
    const int32_t inc = n_sum - 2 * ltc2c_mlaw16(d_sum, v, 0);
    const int32_t den = c + (d_sum >> 15);
    const int32_t next = v + (inc + ((inc >> 31) ^ (den >> 1))) / den;
#ifdef LTC2C_ARM_SAT
    return (int16_t)__ssat(next, 16);
#else
    return (int16_t)(next > 32767 ? 32767 : (next < -32768 ? -32768 : next));
#endif
}

/* One unfold of a block of consecutive neurons that all have synapses (D, N pairs from fx, the
   block ends at the record whose bias has bit 1 set): next[j] = ltc2c_update(v[j], cm[j],
   D + synapses, N + synapses), the synapses reading the old state x (x[pre]); v = the block's old
   states, next = its new states. Returns the next record. */
LTC2C_INLINE const int32_t *ltc2c_unfold_run(const int32_t *p, const uint32_t *table, const int16_t *x,
                                             const int16_t *v, int16_t *next, const int32_t *fx,
                                             const int32_t *cm)
{
#ifdef LTC2C_ASM
    register int32_t gain __asm__("r4");
    register int32_t bias __asm__("r5");
    register int32_t wpair __asm__("r6");
    int32_t t, dd, nn;
    __asm__ __volatile__(
        "2:\n\t"
        "ldrd    %[dd], %[nn], [%[fx]], #8\n\t"
        LTC2C_ASM_MARKED_LOOP
        "tst     %[b], #2\n\t" /* end of the block: the flags survive the update (no flag-setting op) */
        /* update: inc = N - 2 floor(D v / 2^16), den = c + (D >> 15), v' = ssat16(v + (inc + r) / den) */
        "ldrsh   %[w], [%[v]], #2\n\t"
        "ldr     %[b], [%[cm]], #4\n\t"
        "smulwb  %[t], %[dd], %[w]\n\t"
        "sub.w   %[nn], %[nn], %[t], lsl #1\n\t"
        "add.w   %[b], %[b], %[dd], asr #15\n\t"
        "asr.w   %[t], %[b], #1\n\t"
        "eor.w   %[t], %[t], %[nn], asr #31\n\t"
        "add.w   %[nn], %[nn], %[t]\n\t"
        "sdiv    %[nn], %[nn], %[b]\n\t"
        "add.w   %[nn], %[nn], %[w]\n\t"
        "ssat    %[nn], #16, %[nn]\n\t"
        "strh    %[nn], [%[next]], #2\n\t"
        "beq     2b\n\t"
        : [p] "+&r"(p), [g] "=&r"(gain), [b] "=&r"(bias), [w] "=&r"(wpair), [t] "=&r"(t),
          [dd] "=&r"(dd), [nn] "=&r"(nn), [v] "+&r"(v), [next] "+&r"(next), [fx] "+&r"(fx), [cm] "+&r"(cm)
        : [x] "r"(x), [tab] "r"(table)
        : "cc", "memory");
    return p;
#else
    int32_t end;
    do {
        int32_t d = fx[0], n = fx[1];
        p = ltc2c_synapses_marked(p, x, table, &d, &n);
        end = p[-2] & 2;
        *next++ = ltc2c_update(*v++, *cm++, d, n);
        fx += 2;
    } while (!end);
    return p;
#endif
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
