/*
 * fuzz_beacon.c — libFuzzer target for the body of POST /e, as a form and
 * as JSON (the first byte chooses): every field the handler reads comes out
 * NUL-terminated inside its buffer, or an error; nothing reads past the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/track_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"type", "card", "link", "action", "seconds"};
    if (size == 0)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    json_t *json = NULL;
    if (data[0] & 1) {
        json = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(json)) {
            json_decref(json);
            return 0;
        }
    }
    char out[16];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        memset(out, 'x', sizeof(out));
        if (sc_track_body_field(body, len, json, names[i], out, sizeof(out)) == SC_OK &&
            !memchr(out, '\0', sizeof(out)))
            abort();
    }
    json_decref(json);
    return 0;
}
