/*
 * fuzz_tmpl.c — libFuzzer target for the template engine.
 *
 * Any bytes as a template source must either compile or be refused with a
 * message naming a line; a compiled template must render with hostile
 * values without touching memory it does not own.  The escaping promise is
 * checked too: with no trusted value holding markup, every '<', '>', '"' and
 * '\'' in the output comes from the template itself (each literal is written
 * at most once, so the output can hold no more of them than the source), and
 * a refused link renders exactly as an unset value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vars[] = {"a", "b", "url", "raw", "t"};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static size_t count(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

/* Renders 't' with 'v' into 'b' (caller cleans up) and returns its bytes, or NULL if over the cap.
 */
static const char *render(const struct sc_tmpl *t, const struct sc_tval *v, struct sc_buf *b)
{
    sc_buf_init(b, 1 << 20);
    sc_tmpl_render(t, v, b);
    if (sc_buf_error(b) != SC_OK)
        return NULL;
    return b->data ? b->data : "";
}

/*
 * Renders 't' with 'v' and with 'same' ('v' with each refused link made
 * NULL): the two must match byte for byte.  No value in 'v' holds markup,
 * so the output may not hold more '<', '>', '"' or '\'' than 'src'.
 */
static void check_pair(const struct sc_tmpl *t, const struct sc_tval *v, const struct sc_tval *same,
                       const char *src)
{
    static const char special[] = "<>\"'";
    struct sc_buf b1, b2;
    const char *o1 = render(t, v, &b1);
    const char *o2 = render(t, same, &b2);
    if (o1 && o2) {
        if (b1.len != b2.len || memcmp(o1, o2, b1.len) != 0)
            abort(); /* a refused link changed the output */
        size_t srclen = strlen(src);
        for (const char *c = special; *c; c++)
            if (count(o1, b1.len, *c) > count(src, srclen, *c))
                abort(); /* a value's markup got through unescaped */
    }
    sc_buf_cleanup(&b1);
    sc_buf_cleanup(&b2);
}

/* Renders 't' with every value set and hostile, with every value unset, and with trusted markup. */
static void render_all(const struct sc_tmpl *t, const char *src)
{
    const struct sc_tval hostile[NVARS] = {
        {"<script>alert('x')</script>\"&", SC_TV_TEXT},
        {"{{a}}{{#b}}\xe2\x80\xa8\xff\xc0\xaf", SC_TV_TEXT},
        {"javascript:alert(\"x\")", SC_TV_URL},
        {"plain trusted text", SC_TV_TRUSTED},
        {"https://ok.example/\"><svg onload=x>", SC_TV_URL},
    };
    struct sc_tval hostile_same[NVARS];
    memcpy(hostile_same, hostile, sizeof(hostile));
    hostile_same[2].s = NULL;
    check_pair(t, hostile, hostile_same, src);

    const struct sc_tval unset[NVARS] = {
        {NULL, SC_TV_TEXT},
        {"", SC_TV_TEXT},
        {" javascript:x", SC_TV_URL},
        {"", SC_TV_TRUSTED},
        {"//evil.example", SC_TV_URL},
    };
    struct sc_tval unset_same[NVARS];
    memcpy(unset_same, unset, sizeof(unset));
    unset_same[2].s = NULL;
    unset_same[4].s = NULL;
    check_pair(t, unset, unset_same, src);

    /* Trusted markup is written raw: only memory safety is checked. */
    const struct sc_tval trusted[NVARS] = {
        {"a", SC_TV_TEXT},         {"b", SC_TV_TEXT},
        {"tel:+1", SC_TV_URL},     {"<b>\"raw\"</b>", SC_TV_TRUSTED},
        {"mailto:x@y", SC_TV_URL},
    };
    struct sc_buf b;
    render(t, trusted, &b);
    sc_buf_cleanup(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    char err[128] = "";
    struct sc_tmpl *t = sc_tmpl_compile(src, vars, NVARS, err, sizeof(err));
    if (t)
        render_all(t, src);
    else if (strncmp(err, "line ", 5) != 0)
        abort(); /* a refusal always says where */
    sc_tmpl_free(t);
    free(src);
    return 0;
}
