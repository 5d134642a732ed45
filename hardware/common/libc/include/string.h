/*
 * ltc2c's stand-in <string.h> for toolchains without a C library. GCC may emit calls to
 * memcpy/memset/memmove/memcmp even with -ffreestanding, so they must exist (../string.c).
 */
#ifndef LTC2C_LIBC_STRING_H
#define LTC2C_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* LTC2C_LIBC_STRING_H */
