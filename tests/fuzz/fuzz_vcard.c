/*
 * fuzz_vcard.c — libFuzzer target: any card text (split from the input at
 * NUL bytes into fields) must give a vCard whose physical lines are at most
 * 75 octets and never split a UTF-8 sequence that was whole in the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/card.h"
#include "sharecard/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *fields[6] = {NULL};
    char *p = buf;
    for (int i = 0; i < 6 && p <= buf + size; i++) {
        fields[i] = p;
        p += strlen(p) + 1;
    }
    struct sc_card c;
    memset(&c, 0, sizeof(c));
    memcpy(c.slug, "fuzz", 5);
    c.name = fields[0];
    c.title = fields[1];
    c.company = fields[2];
    c.bio = fields[3];
    c.address = fields[4];
    c.wechat = fields[5];
    struct sc_buf b;
    sc_buf_init(&b, 8 << 20);
    if (sc_vcard_write(&b, &c, "https://example.com/c/fuzz") == SC_OK) {
        bool input_utf8 = sc_utf8_valid(buf, size);
        const char *line = b.data;
        while (*line) {
            const char *end = strstr(line, "\r\n");
            if (!end || end - line > 75)
                abort();
            if (input_utf8 && !sc_utf8_valid(line, (size_t)(end - line)))
                abort();
            line = end + 2;
        }
    }
    sc_buf_cleanup(&b);
    free(buf);
    return 0;
}
