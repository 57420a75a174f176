/*
 * fuzz_form.c — libFuzzer target: urlencoded bodies of any shape are read
 * within bounds, and a value found is always NUL-terminated inside 'out'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"type", "card", "link", "", "a"};
    char out[16];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        memset(out, 'x', sizeof(out));
        if (sc_form_get((const char *)data, size, names[i], out, sizeof(out)) == SC_OK &&
            !memchr(out, '\0', sizeof(out)))
            abort();
    }
    return 0;
}
