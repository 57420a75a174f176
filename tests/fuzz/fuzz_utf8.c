/*
 * fuzz_utf8.c — libFuzzer target for the UTF-8 checks and repairs that every
 * input and every output goes through: sc_utf8_repair() always yields
 * well-formed UTF-8 and leaves valid text unchanged; sc_esc_json() always
 * yields a JSON string body a strict decoder accepts; sc_utf8_valid() agrees
 * with the repair on what is well-formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/buf.h"
#include "sharecard/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Well-formed UTF-8 (controls allowed): a second, plain reading of Unicode's table 3-7. */
static int well_formed(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i], len, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (n - i < len)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    sc_utf8_repair(&b, s, size);
    if (sc_buf_error(&b) || !well_formed((const unsigned char *)b.data, b.len))
        abort();
    int wf = well_formed(data, size);
    if (wf && (b.len != size || (size > 0 && memcmp(b.data, s, size) != 0)))
        abort(); /* valid text passes unchanged */
    if (!wf && size > 0 && b.len == size && memcmp(b.data, s, size) == 0)
        abort(); /* something was repaired */
    /* Valid per sc_utf8_valid: well-formed, and no control but tab, CR, LF. */
    int ctl = 0;
    for (size_t i = 0; i < size; i++)
        if ((data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' && data[i] != '\r') ||
            data[i] == 0x7f)
            ctl = 1;
    if (sc_utf8_valid(s, size) != (wf && !ctl))
        abort();
    sc_buf_cleanup(&b);

    sc_buf_init(&b, 1 << 20);
    sc_esc_json(&b, s, size);
    if (sc_buf_error(&b) || !well_formed((const unsigned char *)b.data, b.len))
        abort();
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)b.data[i];
        if (c < 0x20 || c == '<' || c == '>' || c == '&')
            abort(); /* raw controls break JSON; < > & break an inline <script> */
        if (c == '"' && (i == 0 || b.data[i - 1] != '\\'))
            abort();
    }
    sc_buf_cleanup(&b);
    return 0;
}
