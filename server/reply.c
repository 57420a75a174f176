/*
 * reply.c — answering a request: the reply helpers every handler uses
 * (bytes, static text, errors as a page or JSON, redirects, 304 and 405),
 * the headers every response carries, the visitor cookie, the request's
 * headers and arguments, and the one map from sc_err to an HTTP status.
 * Nothing here knows a route: the router and the handlers sit above it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http_int.h"
#include "pages_int.h"
#include "sharecard/escape.h"
#include "sharecard/log.h"
#include "sharecard/page.h"

unsigned sc_http_status_of(enum sc_err e)
{
    switch (e) {
    case SC_OK: return 200;
    case SC_EINVAL: return 400;
    case SC_EFORBIDDEN: return 403;
    case SC_ENOTFOUND: return 404;
    case SC_ECONFLICT: return 409;
    case SC_ETOOBIG: return 413;
    case SC_ENOMEM:
    case SC_EBUSY:
    case SC_EDB:
    case SC_EIO: return 503;
    case SC_EVERSION: return 500;
    }
    return 500;
}

const char *sc_req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *sc_req_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

enum sc_lang sc_req_lang(struct req *r, enum sc_lang dflt)
{
    return sc_lang_accept(sc_req_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE), dflt);
}

void sc_reply_security_headers(struct server *s, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "SAMEORIGIN");
    MHD_add_response_header(resp, "Content-Security-Policy", sc_pages_csp(s->pages));
    if (s->https) /* browsers take HSTS over https only; two years, as hstspreload.org asks */
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=63072000");
}

enum MHD_Result sc_reply_response(struct req *r, unsigned status, struct MHD_Response *resp)
{
    r->answered = true;
    r->status = status;
    if (r->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (r->private_page) { /* whatever the handler chose, no cache keeps a private page */
        const char *cc = MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL);
        if (cc)
            MHD_del_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
    }
    if (r->private_page || r->vary_cookie)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Cookie");
    if (status >= 100 && status < 600)
        atomic_fetch_add(&r->srv->responses[status / 100], 1);
    return MHD_queue_response(r->conn, status, resp);
}

static void free_cb(void *p)
{
    free(p);
}

enum MHD_Result sc_reply_bytes(struct req *r, unsigned status, const char *ctype,
                               struct sc_buf *body)
{
    size_t len = 0;
    char *data = sc_buf_steal(body, &len);
    if (!data) {
        sc_buf_cleanup(body);
        return sc_reply_static(r, 503, "text/plain; charset=utf-8",
                               "Service unavailable: out of memory.\n");
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, data, free_cb);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    sc_reply_security_headers(r->srv, resp);
    sc_reply_add_cookie(r, resp);
    r->bytes = len;
    enum MHD_Result ret = sc_reply_response(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result sc_reply_static(struct req *r, unsigned status, const char *ctype, const char *text)
{
    size_t len = strlen(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    sc_reply_security_headers(r->srv, resp);
    r->bytes = len;
    enum MHD_Result ret = sc_reply_response(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static bool wants_json(struct req *r)
{
    if (strncmp(r->url, "/api/", 5) == 0)
        return true;
    const char *acc = sc_req_header(r, MHD_HTTP_HEADER_ACCEPT);
    return acc && strstr(acc, "application/json") && !strstr(acc, "text/html");
}

enum MHD_Result sc_reply_error(struct req *r, unsigned status, const char *message)
{
    message = sc_tr(message); /* a signed-in page's language; English elsewhere */
    char stack[4096];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 256 * 1024);
    if (wants_json(r)) {
        sc_buf_printf(&b, "{\"error\":{\"status\":%u,\"message\":\"", status);
        sc_esc_json(&b, message, strlen(message));
        sc_buf_puts(&b, "\"}}\n");
        return sc_reply_bytes(r, status, "application/json", &b);
    }
    sc_page_error(r->srv->pages, status, message, sc_req_lang(r, SC_LANG_EN), &b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_reply_err(struct req *r, enum sc_err e, const char *message)
{
    unsigned st = sc_http_status_of(e);
    if (!message)
        message = st == 503 ? "The service is busy or its storage failed; please try again."
                            : sc_err_str(e);
    if (st == 503)
        sc_warn("%s %s: %s", r->method_str, r->url, sc_err_str(e));
    return sc_reply_error(r, st, message);
}

struct MHD_Response *sc_reply_redirect_new(struct server *s, const char *location)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    sc_reply_security_headers(s, resp);
    return resp;
}

enum MHD_Result sc_reply_redirect(struct req *r, unsigned status, const char *location)
{
    struct MHD_Response *resp = sc_reply_redirect_new(r->srv, location);
    if (!resp)
        return MHD_NO;
    sc_reply_add_cookie(r, resp);
    enum MHD_Result ret = sc_reply_response(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

bool sc_req_etag_matches(struct req *r, const char *etag)
{
    const char *inm = sc_req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    return inm && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

enum MHD_Result sc_reply_not_modified(struct req *r, const char *etag, const char *cc)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    enum MHD_Result ret = sc_reply_response(r, 304, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result sc_reply_405(struct req *r, const char *allow)
{
    char stack[4096];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    char msg[128];
    snprintf(msg, sizeof(msg), "This address answers %s only.", allow);
    sc_page_error(r->srv->pages, 405, msg, sc_req_lang(r, SC_LANG_EN), &b);
    size_t len;
    char *data = sc_buf_steal(&b, &len);
    if (!data)
        return sc_reply_static(r, 503, "text/plain", "Service unavailable.\n");
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    sc_reply_security_headers(r->srv, resp);
    r->bytes = len;
    enum MHD_Result ret = sc_reply_response(r, 405, resp);
    MHD_destroy_response(resp);
    return ret;
}

bool sc_req_is_get(struct req *r)
{
    return r->method == M_GET || r->method == M_HEAD;
}

/* Hex of a 64-bit keyed-less BLAKE2b of 'parts', quoted, as an ETag. */
void sc_etag_make(char out[24], const void *data, size_t len)
{
    unsigned char h[8];
    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    char hex[17];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(out, 24, "\"%s\"", hex);
}

void sc_reply_add_cookie(struct req *r, struct MHD_Response *resp)
{
    if (!r->new_cookie)
        return;
        /* Put together by hand: snprintf's vfprintf was on every new visitor's profile (issue 15).
         */
#define SC_STR_(x)  #x
#define SC_STR(x)   SC_STR_(x)
#define COOKIE_TAIL "; Path=/; Max-Age=" SC_STR(SC_VID_COOKIE_MAX_AGE_S) "; HttpOnly; SameSite=Lax"
    static const char head[] = SC_VID_COOKIE "=", tail[] = COOKIE_TAIL, secure[] = "; Secure";
    char v[sizeof(head) + SC_VID_MAX + sizeof(tail) + sizeof(secure)];
    size_t n = sizeof(head) - 1, id = strnlen(r->vid + 2, SC_VID_MAX - 2);
    memcpy(v, head, n);
    memcpy(v + n, r->vid + 2, id);
    n += id;
    memcpy(v + n, tail, sizeof(tail) - 1);
    n += sizeof(tail) - 1;
    if (r->srv->https) {
        memcpy(v + n, secure, sizeof(secure) - 1);
        n += sizeof(secure) - 1;
    }
    v[n] = '\0';
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, v);
}
