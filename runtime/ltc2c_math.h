/*
 * ltc2c float helpers: an exp() written in plain IEEE single-precision operations, so the float32
 * model gives the same bits on every core (hardware FPU or soft-float) and on the host, and needs
 * no libm. Requires float contraction off (gcc's -std=c99 default; pass -ffp-contract=off to clang).
 */
#ifndef LTC2C_MATH_H
#define LTC2C_MATH_H

#include <stdint.h>

/* exp(x) for float x, relative error below 2e-7 over [-87, 88]; x outside is clamped there. */
static inline float ltc2c_expf(float x)
{
    union { float f; uint32_t u; } scale;
    float k, r, p;
    int32_t n;

    if (x > 88.0f) {
        x = 88.0f;
    } else if (x < -87.0f) {
        x = -87.0f;
    }
    /* x = n ln2 + r, |r| <= ln2/2; ln2 split in two parts (Cody-Waite) so n*hi is exact */
    k = x * 1.44269504f;
    n = (int32_t)(k < 0.0f ? k - 0.5f : k + 0.5f);
    k = (float)n;
    r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
    /* Taylor series to r^7: truncation below 1.3e-9 for |r| <= 0.35 */
    p = 1.98412698e-04f;
    p = p * r + 1.38888889e-03f;
    p = p * r + 8.33333333e-03f;
    p = p * r + 4.16666667e-02f;
    p = p * r + 1.66666667e-01f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    scale.u = (uint32_t)(n + 127) << 23; /* 2^n, n in [-126, 127] */
    return p * scale.f;
}

/* The logistic sigmoid 1 / (1 + exp(-z)). */
static inline float ltc2c_sigmoidf(float z)
{
    return 1.0f / (1.0f + ltc2c_expf(-z));
}

#endif /* LTC2C_MATH_H */
