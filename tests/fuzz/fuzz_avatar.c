/*
 * fuzz_avatar.c — libFuzzer target: any bytes offered as a photo are either
 * refused with a reason or come out as a JPEG (the decoders' bounds hold).
 * Inputs are tried as they are and behind a PNG and a JPEG signature, so
 * the fuzzer reaches both decoders from the start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const unsigned char *p, size_t n)
{
    unsigned char *out = NULL;
    size_t len = 0;
    const char *why = NULL;
    enum sc_err e = sc_avatar_normalise(p, n, &out, &len, &why);
    if (e == SC_OK) {
        if (!out || len < 3 || out[0] != 0xff || out[1] != 0xd8 || out[2] != 0xff)
            abort();
    } else if (out || (e != SC_ENOMEM && !why)) {
        abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpg[3] = {0xff, 0xd8, 0xff};
    if (size > 64 * 1024)
        return 0;
    one(data, size);
    unsigned char *buf = malloc(size + 8);
    if (!buf)
        return 0;
    memcpy(buf, png, 8);
    memcpy(buf + 8, data, size);
    one(buf, size + 8);
    memcpy(buf, jpg, 3);
    memcpy(buf + 3, data, size);
    one(buf, size + 3);
    free(buf);
    return 0;
}
