/*
 * fuzz_router.c — libFuzzer target for the request router: a request line's
 * path as libmicrohttpd decodes it (MHD_http_unescape, the percent-decoding
 * every path goes through before we see it) matched against the route table
 * (sc_router_resolve, what sc_router_handle does before any handler runs).
 * The first byte picks the method.
 *
 * What must hold: decoding never grows the path; the outcome and the parts
 * found are the same on a second match; a part points into the path or
 * into the segment buffer and ends there; a segment (a slug, a code) holds
 * no '/' and fits its 128 bytes.  (A part may also be the table's own text:
 * an EXACT route's argument, or "" for an empty /r/{code} sub-path.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "../../server/routes_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 'p' is NULL, the table's text, or a NUL-terminated string inside [lo, lo + n). */
static void inside(const char *p, const char *lo, size_t n)
{
    if (!p || (uintptr_t)p < (uintptr_t)lo || (uintptr_t)p >= (uintptr_t)lo + n)
        return; /* not in the path: a static string of router.c, whose strlen ASan checks */
    if (!memchr(p, '\0', (size_t)(lo + n - p)))
        abort();
    (void)strlen(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int method = data[0] % (M_OTHER + 1);
    size_t n = size - 1;
    char *path = malloc(n + 1);
    if (!path)
        return 0;
    memcpy(path, data + 1, n);
    path[n] = '\0';
    size_t before = strlen(path);
    size_t after = MHD_http_unescape(path);
    if (after > before || strlen(path) > after)
        abort();

    char seg[128], seg2[128];
    memset(seg, 0, sizeof(seg));
    memset(seg2, 0, sizeof(seg2));
    struct route_args a = {NULL, NULL, NULL}, b = {NULL, NULL, NULL};
    bool need = false, need2 = false;
    enum sc_route_outcome o = sc_router_resolve(path, method, seg, &a, &need);
    enum sc_route_outcome o2 = sc_router_resolve(path, method, seg2, &b, &need2);
    if (o != o2 || need != need2)
        abort();
    if (o != SC_ROUTE_NONE) {
        size_t plen = strlen(path) + 1;
        if (a.arg == seg) {
            if (strlen(seg) >= sizeof(seg) || strchr(seg, '/') || strcmp(seg, b.arg) != 0)
                abort();
        } else if (a.arg) {
            inside(a.arg, path, plen);
            if (!b.arg || strcmp(a.arg, b.arg) != 0)
                abort();
        }
        inside(a.sub, path, plen);
        if ((a.sub == NULL) != (b.sub == NULL) || (a.sub && strcmp(a.sub, b.sub) != 0))
            abort();
        if (o == SC_ROUTE_FOUND && a.m)
            abort(); /* no member is looked up before a handler runs */
    }
    free(path);
    return 0;
}
