/*
 * coupon.c — coupon codes: made from random bytes the store draws, read back
 * from what a person typed.  A readable alphabet (no 0/O, no 1/I) and a
 * Luhn mod 32 check character, so a mistyped code is told apart from an
 * unknown one without asking the store.
 */
#include <stdbool.h>
#include <string.h>

#include "sharecard/referral.h"

static const char alphabet[33] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/* The index of 'c' in the alphabet (any case), or -1. */
static int index_of(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Luhn mod 32 over 'n' indices: the check character's index. */
static int check_of(const int *v, size_t n)
{
    int sum = 0;
    int factor = 2;
    for (size_t i = n; i-- > 0;) {
        int add = factor * v[i];
        sum += add / 32 + add % 32;
        factor = factor == 2 ? 1 : 2;
    }
    return (32 - sum % 32) % 32;
}

/* Writes the 13 indices 'v' as "ABCD-EFGH-JKLM-N". */
static void write_code(const int *v, char out[SC_COUPON_CODE_MAX])
{
    size_t o = 0;
    for (size_t i = 0; i < SC_COUPON_RANDOM + 1; i++) {
        if (i && i % 4 == 0)
            out[o++] = '-';
        out[o++] = alphabet[v[i]];
    }
    out[o] = '\0';
}

void sc_coupon_code_make(const unsigned char rnd[SC_COUPON_RANDOM], char out[SC_COUPON_CODE_MAX])
{
    int v[SC_COUPON_RANDOM + 1];
    for (size_t i = 0; i < SC_COUPON_RANDOM; i++)
        v[i] = rnd[i] % 32; /* 256 is a multiple of 32: uniform, 5 bits each */
    v[SC_COUPON_RANDOM] = check_of(v, SC_COUPON_RANDOM);
    write_code(v, out);
}

bool sc_coupon_code_parse(const char *in, char out[SC_COUPON_CODE_MAX])
{
    int v[SC_COUPON_RANDOM + 1];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        int k = index_of(*p);
        if (k < 0 || n == SC_COUPON_RANDOM + 1)
            return false;
        v[n++] = k;
    }
    if (n != SC_COUPON_RANDOM + 1 || check_of(v, SC_COUPON_RANDOM) != v[SC_COUPON_RANDOM])
        return false;
    write_code(v, out);
    return true;
}
