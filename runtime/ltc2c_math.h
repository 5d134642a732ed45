/*
 * ltc2c float helpers: an exp() written in plain IEEE single-precision operations, so the float32
 * model gives the same bits on every core (hardware FPU or soft-float) and on the host, and needs
 * no libm. Requires float contraction off (gcc's -std=c99 default; pass -ffp-contract=off to clang).
 */
#ifndef LTC2C_MATH_H
#define LTC2C_MATH_H

#include <stdint.h>

/* exp(x) for float x, relative error below 4e-7 over [-87, 88]; x outside is clamped there.
   Branch-free: the clamps compile to min/max, the rounding is the 1.5 * 2^23 trick. */
static inline float ltc2c_expf(float x)
{
    union { float f; uint32_t u; } scale;
    const float round_magic = 12582912.0f; /* adding it rounds to an integer in the low mantissa bits */
    float k, r, p;

    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    /* x = k ln2 + r, |r| <= ln2/2; ln2 split in two parts (Cody-Waite) so k*hi is exact */
    k = (x * 1.44269504f + round_magic) - round_magic;
    r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
    /* degree-5 near-minimax polynomial for exp(r) on [-ln2/2, ln2/2] */
    p = 8.072159253e-03f;
    p = p * r + 4.188501090e-02f;
    p = p * r + 1.667050421e-01f;
    p = p * r + 4.999919832e-01f;
    p = p * r + 9.999989867e-01f;
    p = p * r + 1.0f;
    scale.u = (uint32_t)((int32_t)k + 127) << 23; /* 2^k, k in [-126, 127] */
    return p * scale.f;
}

/* The logistic sigmoid 1 / (1 + exp(-z)). */
static inline float ltc2c_sigmoidf(float z)
{
    return 1.0f / (1.0f + ltc2c_expf(-z));
}

#endif /* LTC2C_MATH_H */
