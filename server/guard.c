/*
 * guard.c — checks every request passes before any handler sees it: its
 * HTTP framing (one way to know where the body ends, a Host, header names
 * that are tokens), run on the access handler's first call so that a
 * request that could be read two ways is refused and its connection closed
 * before a byte of its body is taken as anything; and its text (query
 * arguments, form fields, JSON strings), which must be well-formed UTF-8
 * without control characters, so that what is stored can always be listed.
 *
 * Handlers keep their own checks of meaning (a known channel, a date that
 * exists); this file only refuses bytes no handler should ever see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http_int.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"

/* ---- framing ------------------------------------------------------------------------- */

struct frame_scan {
    unsigned n_cl, n_te, n_host;
    bool bad_name; /* a header name that is not an RFC 9110 token (a space before ':') */
};

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)value;
    (void)value_size;
    struct frame_scan *f = cls;
    if (key_size == 0)
        f->bad_name = true;
    for (size_t i = 0; i < key_size; i++)
        if (!is_tchar((unsigned char)key[i]))
            f->bad_name = true;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->n_cl++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        f->n_te++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        f->n_host++;
    return MHD_YES;
}

/* True when 's' is one or more decimal digits and nothing else (RFC 9110 Content-Length). */
static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

unsigned sc_guard_framing(struct MHD_Connection *conn, const char *version, uint64_t max_cl,
                          const char **why)
{
    struct frame_scan f = {0, 0, 0, false};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, count_header, &f);
    if (f.bad_name) {
        *why = "A header name holds a space or another character a name may not have.";
        return 400;
    }
    if (f.n_cl > 0 && f.n_te > 0) {
        *why = "The request has both Content-Length and Transfer-Encoding.";
        return 400;
    }
    if (f.n_cl > 1) {
        *why = "The request has more than one Content-Length.";
        return 400;
    }
    if (f.n_te > 1) {
        *why = "The request has more than one Transfer-Encoding.";
        return 400;
    }
    if (f.n_te == 1) {
        const char *te =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (!te || strcasecmp(te, "chunked") != 0) {
            *why = "The only transfer coding this server reads is chunked.";
            return 501;
        }
    }
    if (f.n_cl == 1) {
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (!cl || !all_digits(cl) || strlen(cl) > 19) {
            *why = "Content-Length must be a decimal number.";
            return 400;
        }
        if (strtoull(cl, NULL, 10) > max_cl) {
            *why = "The request body is larger than this server reads.";
            return 413;
        }
    }
    /* RFC 9112 §3.2: exactly one Host on HTTP/1.1 (HTTP/1.0 may have none). */
    if (f.n_host > 1 || (f.n_host == 0 && strcmp(version, MHD_HTTP_VERSION_1_0) != 0)) {
        *why = "The request must have exactly one Host header.";
        return 400;
    }
    return 0;
}

/* ---- sizes: our 414 and 431 before libmicrohttpd's own ------------------------------ */

static enum MHD_Result add_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key;
    (void)value;
    *(size_t *)cls += key_size + value_size + 4; /* ": " and CRLF, or '=' and '&' */
    return MHD_YES;
}

unsigned sc_guard_sizes(struct MHD_Connection *conn, const char *url, const char **why)
{
    size_t uri = strlen(url), headers = 0;
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, add_size, &uri);
    if (uri > SC_URI_MAX) {
        *why = "The address (path and query) is longer than the 8192 bytes this server reads.";
        return 414;
    }
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_size, &headers);
    if (headers > SC_HEADERS_MAX) {
        *why = "The request's headers are larger than the 12288 bytes this server reads.";
        return 431;
    }
    return 0;
}

/* ---- text ---------------------------------------------------------------------------- */

/* Writes to 'out' the field's name when it is text, else a placeholder. */
static void name_of(char *out, size_t n, const char *key, size_t key_len)
{
    if (key_len > 0 && key_len < n && sc_utf8_valid(key, key_len) && !memchr(key, '\n', key_len) &&
        !memchr(key, '\r', key_len)) {
        memcpy(out, key, key_len);
        out[key_len] = '\0';
    } else {
        snprintf(out, n, "%s", "(a name that is not text)");
    }
}

struct arg_scan {
    char bad[96]; /* the first argument that failed, "" when none */
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct arg_scan *a = cls;
    if (!sc_utf8_valid(key, key_size) || (value && !sc_utf8_valid(value, value_size))) {
        name_of(a->bad, sizeof(a->bad), key, strnlen(key, key_size));
        return MHD_NO; /* stop at the first */
    }
    return MHD_YES;
}

/* The first string (key or value) of 'j' that is not UTF-8 text: its key into 'bad'. */
static bool check_json(json_t *j, const char *key, char *bad, size_t badn)
{
    if (json_is_string(j)) {
        if (!sc_utf8_valid(json_string_value(j), json_string_length(j))) {
            name_of(bad, badn, key ? key : "(the body)", strlen(key ? key : "(the body)"));
            return false;
        }
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            if (!sc_utf8_valid(k, strlen(k))) {
                name_of(bad, badn, k, strlen(k));
                return false;
            }
            if (!check_json(v, k, bad, badn))
                return false;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            if (!check_json(v, key, bad, badn))
                return false;
        }
    }
    return true;
}

/*
 * The sign-up form (POST /c/{slug}/signup) whose name, phone, e-mail or
 * birthday is not text: noted in r->text_bad for its handler, which refuses it
 * (422) before using anything, on the card page itself with that field marked,
 * as its other errors (issue 17), rather than this bare page.
 */
static bool defer_to_form(struct req *r, const char *bad)
{
    static const char *const fields[] = {"name", "phone", "email", "birthday"};
    size_t n = strlen(r->url);
    if (r->method != M_POST || strncmp(r->url, "/c/", 3) != 0 || n < 11 ||
        strcmp(r->url + n - 7, "/signup") != 0)
        return false;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(bad, fields[i]) == 0) {
            snprintf(r->text_bad, sizeof(r->text_bad), "%s", bad);
            return true;
        }
    return false;
}

bool sc_guard_text(struct req *r, enum MHD_Result *ret)
{
    char msg[192];
    struct arg_scan a = {""};
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
    if (a.bad[0]) {
        snprintf(msg, sizeof(msg),
                 "The query argument '%s' is not valid UTF-8 text (or holds a NUL or a control "
                 "character).",
                 a.bad);
        *ret = sc_reply_error(r, 400, msg);
        return false;
    }
    if (r->body.len == 0)
        return true;
    const char *ct = sc_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    char bad[96] = "";
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0)
        return true; /* an upload's file: the handler checks what it is */
    if (ct && strncasecmp(ct, "application/json", 16) == 0) {
        /* Jansson refuses ill-formed UTF-8 and \u0000; controls written as \u00XX it lets in. */
        json_t *j = json_loadb(r->body.data, r->body.len, 0, NULL);
        if (!j)
            return true; /* the handler says why it is not JSON */
        bool ok = check_json(j, NULL, bad, sizeof(bad));
        json_decref(j);
        if (ok)
            return true;
    } else {
        if (sc_form_check_text(r->body.data, r->body.len, bad, sizeof(bad)) != SC_OK) {
            *ret = sc_reply_err(r, SC_ENOMEM, NULL);
            return false;
        }
        if (!bad[0] || defer_to_form(r, bad))
            return true;
    }
    snprintf(msg, sizeof(msg),
             "The field '%s' is not valid UTF-8 text (or holds a NUL or a control character).",
             bad);
    *ret = sc_reply_error(r, 422, msg);
    return false;
}

/* ---- same origin ---------------------------------------------------------------------- */

/* True when 'origin' is the scheme, host and port of 'url' (which may go on with a path). */
static bool origin_of(const char *url, const char *origin)
{
    const char *host = strstr(url, "://");
    if (!host)
        return false;
    size_t n = (size_t)(host + 3 - url) + strcspn(host + 3, "/?#");
    return strlen(origin) == n && strncasecmp(url, origin, n) == 0;
}

bool sc_guard_same_origin(struct req *r)
{
    const char *site = sc_req_header(r, "Sec-Fetch-Site");
    if (site)
        return strcmp(site, "same-origin") == 0;
    const char *origin = sc_req_header(r, "Origin");
    if (!origin)
        return true; /* not sent by a browser's cross-site request: every browser sends Origin */
    if (origin_of(r->srv->base_url, origin))
        return true;
    const char *host = sc_req_header(r, MHD_HTTP_HEADER_HOST);
    if (!host)
        return false;
    char self[600];
    snprintf(self, sizeof(self), "%s://%s", r->srv->https ? "https" : "http", host);
    return strcasecmp(self, origin) == 0;
}
