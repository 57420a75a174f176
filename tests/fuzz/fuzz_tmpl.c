/*
 * fuzz_tmpl.c — libFuzzer target: any bytes as a template source must
 * compile or be refused with a message, and render without touching memory
 * it does not own, whatever the values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vars[] = {"a", "b", "url", "raw"};
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    char err[128];
    struct sc_tmpl *t = sc_tmpl_compile(src, vars, 4, err, sizeof(err));
    if (t) {
        struct sc_tval v[4] = {{"<x>&\"'", SC_TV_TEXT},
                               {"", SC_TV_TEXT},
                               {"javascript:alert(1)", SC_TV_URL},
                               {"<b>", SC_TV_TRUSTED}};
        struct sc_buf b;
        sc_buf_init(&b, 1 << 20);
        sc_tmpl_render(t, v, &b);
        if (b.data && strstr(b.data, "javascript:") && !strstr(src, "javascript:"))
            abort(); /* a refused link must never be written */
        sc_buf_cleanup(&b);
        sc_tmpl_free(t);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(src);
    return 0;
}
