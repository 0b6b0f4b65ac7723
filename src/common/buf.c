/*
 * Device-safe buffer helpers: constant-time comparison and wiping of secrets.
 *
 * dsuit_ct_equal() is used wherever a MAC, digest or other value derived
 * from a secret is compared, so that the time taken reveals nothing about
 * where two values first differ. dsuit_wipe() clears key material through a
 * volatile pointer so the compiler cannot remove the stores as dead.
 */
#include <string.h>

#include "dsuit/crypto.h"

int dsuit_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *pa = a;
    const volatile uint8_t *pb = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (uint8_t)(pa[i] ^ pb[i]);
    /* Map 0 -> 1 and 1..255 -> 0 without a data-dependent branch. */
    return (int)(1 & (((unsigned)diff - 1) >> 8));
}

void dsuit_wipe(void *p, size_t len)
{
#if defined(__GNUC__) || defined(__clang__)
    /* memset at full speed, then an empty asm that claims to read the
     * memory through p: the compiler must assume the zeros are used, so
     * it cannot drop the memset as a dead store (the technique behind
     * glibc's explicit_bzero). */
    if (len == 0)
        return;
    memset(p, 0, len);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile uint8_t *v = p;
    for (size_t i = 0; i < len; i++)
        v[i] = 0;
#endif
}
