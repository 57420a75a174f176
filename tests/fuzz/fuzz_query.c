/*
 * fuzz_query.c — libFuzzer target for what query strings carry into the
 * reports: dates (sc_ui_day_parse) and numbers (sc_num_arg).  A date is
 * accepted only when it is ten bytes YYYY-MM-DD naming a day that exists,
 * and formats back to itself; a number only when it is all digits and
 * positive.  Also the CSV writer: its output is always UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/pages_int.h"
#include "sharecard/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    int64_t day;
    if (sc_ui_day_parse(s, &day)) {
        char back[11];
        sc_ui_day_format(day, back);
        if (strlen(s) != 10 || strcmp(back, s) != 0)
            abort(); /* 2026-02-30 would come back as 2026-03-02 */
    }
    int64_t v = sc_num_arg(s);
    if (v < 0 || (v > 0 && strspn(s, "0123456789") != strlen(s)))
        abort();

    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    char *z = malloc(size + 1);
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    sc_ui_csv_field(&b, z);
    /* Controls are the CSV's to keep; what must hold is well-formed UTF-8. */
    struct sc_buf again;
    sc_buf_init(&again, 1 << 20);
    sc_utf8_repair(&again, b.data ? b.data : "", b.len);
    if (!sc_buf_error(&b) && b.len > 0 &&
        (again.len != b.len || memcmp(again.data, b.data, b.len) != 0))
        abort();
    sc_buf_cleanup(&again);
    sc_buf_cleanup(&b);
    free(z);
    return 0;
}
