/*
 * expf for toolchains without a C library (Debian's riscv64-unknown-elf-gcc has none): the
 * single-precision fdlibm algorithm that newlib's soft-float libm uses (__ieee754_expf), so code
 * that calls expf gives the same bits on riscv32 as on the soft-float Cortex-M targets. (Generated
 * float32 models call ltc2c_expf from runtime/ltc2c_math.h instead and need no libm at all.)
 * Checked bit for bit against newlib's expf by tests/test_targets.py::test_libc_expf_matches_newlib.
 *
 * ====================================================
 * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *
 * Developed at SunPro, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 * Conversion to float by Ian Lance Taylor, Cygnus Support.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

static uint32_t float_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static const float one = 1.0f;
static const float half[2] = { 0.5f, -0.5f };
static const float o_threshold = 8.8721679688e+01f; /* 0x42b17180 */
static const float u_threshold = -1.0397208405e+02f; /* 0xc2cff1b5 */
static const float ln2_hi[2] = { 6.9313812256e-01f, -6.9313812256e-01f }; /* 0x3f317180 */
static const float ln2_lo[2] = { 9.0580006145e-06f, -9.0580006145e-06f }; /* 0x3717f7d1 */
static const float inv_ln2 = 1.4426950216e+00f; /* 0x3fb8aa3b */
static const float p1 = 1.6666667163e-01f;  /* 0x3e2aaaab */
static const float p2 = -2.7777778450e-03f; /* 0xbb360b61 */
static const float p3 = 6.6137559770e-05f;  /* 0x388ab355 */
static const float p4 = -1.6533901999e-06f; /* 0xb5ddea0e */
static const float p5 = 4.1381369442e-08f;  /* 0x3331bb4c */
static volatile float huge = 1.0e+30f;
static volatile float two_m100 = 7.8886090522e-31f; /* 2**-100 */

float expf(float x)
{
    float y, hi = 0.0f, lo = 0.0f, c, t;
    int32_t k = 0;
    uint32_t hx = float_bits(x);
    const int xsb = (int)((hx >> 31) & 1u);
    hx &= 0x7fffffffu;

    if (hx >= 0x42b17218u) { /* |x| >= 88.72..., or not finite */
        if (hx > 0x7f800000u) {
            return x + x; /* NaN */
        }
        if (hx == 0x7f800000u) {
            return xsb == 0 ? x : 0.0f; /* exp(+-inf) = {inf, 0} */
        }
        if (x > o_threshold) {
            return huge * huge; /* overflow */
        }
        if (x < u_threshold) {
            return two_m100 * two_m100; /* underflow */
        }
    }
    /* argument reduction: x = k*ln2 + r, |r| <= 0.5*ln2 */
    if (hx > 0x3eb17218u) {     /* |x| > 0.5 ln2 */
        if (hx < 0x3f851592u) { /* and |x| < 1.5 ln2 */
            hi = x - ln2_hi[xsb];
            lo = ln2_lo[xsb];
            k = 1 - xsb - xsb;
        } else {
            k = (int32_t)(inv_ln2 * x + half[xsb]);
            t = (float)k;
            hi = x - t * ln2_hi[0]; /* t*ln2_hi is exact here */
            lo = t * ln2_lo[0];
        }
        x = hi - lo;
    } else if (hx < 0x31800000u) { /* |x| < 2**-28 */
        if (huge + x > one) {
            return one + x; /* with inexact */
        }
    }
    /* x is now in the primary range */
    t = x * x;
    c = x - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))));
    if (k == 0) {
        return one - ((x * c) / (c - 2.0f) - x);
    }
    y = one - ((lo - (x * c) / (2.0f - c)) - hi);
    if (k >= -125) {
        return bits_float(float_bits(y) + ((uint32_t)k << 23)); /* add k to y's exponent */
    }
    return bits_float(float_bits(y) + ((uint32_t)(k + 100) << 23)) * two_m100;
}
