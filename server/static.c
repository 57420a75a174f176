/*
 * static.c — the static files under /static/: one prebuilt response per
 * embedded asset, made before the daemon starts and shared by every
 * connection (MHD_RESPMEM_PERSISTENT), with an ETag for 304s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routes_int.h"
#include "sharecard/assets.h"

static const char *mime_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".ico") == 0)
        return "image/x-icon";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    return "application/octet-stream";
}

enum MHD_Result sc_h_static(struct req *r, const struct route_args *a)
{
    const char *name = a->arg;
    struct server *s = r->srv;
    const struct sc_asset *all = sc_asset_all();
    for (size_t i = 0; i < s->nstatics; i++) {
        if (!s->statics[i] || strcmp(all[i].name + 7, name) != 0)
            continue;
        if (sc_req_etag_matches(r, s->static_etags[i]))
            return sc_reply_not_modified(r, s->static_etags[i], "public, max-age=3600");
        r->bytes = all[i].len;
        return sc_reply_response(r, 200, s->statics[i]);
    }
    return sc_reply_error(r, 404, "There is no such file.");
}

/* Builds the response of every static asset into 's'; undone by sc_static_cleanup(). */
enum sc_err sc_static_init(struct server *s)
{
    const struct sc_asset *all = sc_asset_all();
    size_t n = 0;
    while (all[n].name)
        n++;
    s->statics = calloc(n ? n : 1, sizeof(*s->statics));
    s->static_etags = calloc(n ? n : 1, sizeof(*s->static_etags));
    if (!s->statics || !s->static_etags)
        return SC_ENOMEM;
    s->nstatics = n;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(all[i].name, "static/", 7) != 0)
            continue;
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            all[i].len, (void *)(uintptr_t)all[i].data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return SC_ENOMEM;
        sc_etag_make(s->static_etags[i], all[i].data, all[i].len);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime_of(all[i].name));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, s->static_etags[i]);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
        sc_reply_security_headers(s, resp);
        s->statics[i] = resp;
    }
    return SC_OK;
}

void sc_static_cleanup(struct server *s)
{
    for (size_t i = 0; i < s->nstatics; i++)
        if (s->statics[i])
            MHD_destroy_response(s->statics[i]);
    free(s->statics);
    free(s->static_etags);
    s->statics = NULL;
    s->static_etags = NULL;
}
