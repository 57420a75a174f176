/*
 * fuzz_form_text.c — libFuzzer target for the check every urlencoded body
 * passes before a handler reads it (sc_form_check_text): any bytes are read
 * within bounds, the name it reports fits and is NUL-terminated, and a
 * body it passes yields, through sc_form_get(), only text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/escape.h"
#include "sharecard/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"email", "name", "team", "csv", "", "a"};
    const char *body = (const char *)data;
    char bad[32];
    memset(bad, 'x', sizeof(bad));
    if (sc_form_check_text(body, size, bad, sizeof(bad)) != SC_OK)
        return 0;
    if (!memchr(bad, '\0', sizeof(bad)))
        abort();
    if (bad[0])
        return 0;
    char out[64];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (sc_form_get(body, size, names[i], out, sizeof(out)) == SC_OK &&
            !sc_utf8_valid(out, strlen(out)))
            abort(); /* passed the check, yet a field is not text */
    return 0;
}
