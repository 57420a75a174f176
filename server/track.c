/*
 * track.c — the tracking side of the HTTP service: who the visitor is, the
 * event each request makes, waiting for it to be durable without blocking
 * a pool thread (suspend, submit to the event writer, resume), the beacon
 * endpoint and minting share links.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "auth_int.h"
#include "routes_int.h"
#include "track_int.h"
#include "sharecard/auth.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"
#include "sharecard/ingest.h"
#include "sharecard/log.h"

static bool header_is_1(struct req *r, const char *name)
{
    const char *v = sc_req_header(r, name);
    return v && v[0] == '1' && v[1] == '\0';
}

/* The client's address as text, from the socket (or X-Forwarded-For when trusted). */
static void client_ip(struct req *r, char *out, size_t n)
{
    out[0] = '\0';
    if (r->srv->cfg->trust_proxy) {
        const char *xff = sc_req_header(r, "X-Forwarded-For");
        if (xff) {
            size_t len = strcspn(xff, ", ");
            if (len > 0 && len < n) {
                memcpy(out, xff, len);
                out[len] = '\0';
                return;
            }
        }
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

void sc_track_identify(struct req *r)
{
    if (r->vid[0])
        return;
    if (header_is_1(r, "DNT") || header_is_1(r, "Sec-GPC")) {
        /* No cookie may be set: a hash of address and browser under today's salt. */
        unsigned char salt[32];
        int64_t day = (int64_t)time(NULL) / 86400;
        crypto_generichash(salt, sizeof(salt), (const unsigned char *)&day, sizeof(day),
                           r->srv->salt_key, sizeof(r->srv->salt_key));
        char ip[INET6_ADDRSTRLEN];
        client_ip(r, ip, sizeof(ip));
        const char *ua = sc_req_header(r, MHD_HTTP_HEADER_USER_AGENT);
        sc_visitor_hash(salt, ip, ua ? ua : "", r->vid);
        sodium_memzero(salt, sizeof(salt));
        return;
    }
    const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SC_VID_COOKIE);
    if (c && sc_visitor_cookie_ok(c)) {
        snprintf(r->vid, sizeof(r->vid), "c:%s", c);
        return;
    }
    sc_visitor_new(r->vid);
    r->new_cookie = true;
}

/*
 * Copies the header 'src' into 'dst' ('n' bytes) as it is stored: bytes that
 * are not UTF-8 become U+FFFD, and a cut falls between characters, so what
 * is stored can be listed as it is (a header is not refused: a scan must go on).
 */
static void copy_text(char *dst, size_t n, const char *src)
{
    char stack[1024];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 3 * n + 16);
    size_t len = strnlen(src, 2 * n);
    sc_utf8_repair(&b, src, len);
    size_t cut = b.len < n - 1 ? b.len : n - 1;
    if (sc_buf_error(&b))
        cut = 0;
    while (cut > 0 && cut < b.len && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
        cut--; /* not inside a character */
    memcpy(dst, b.data ? b.data : "", cut);
    dst[cut] = '\0';
    sc_buf_cleanup(&b);
}

/*
 * The client's address, anonymised, into 'out' ("" when unknown).  An IPv4
 * peer (no proxy trusted) is cut from the socket's bytes, without the two
 * rounds through text of the general way.
 */
static void client_ip_anon(struct req *r, char out[SC_IP_ANON_MAX])
{
    if (!r->srv->cfg->trust_proxy) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
            sc_ip4_anonymise((const unsigned char *)&in->sin_addr, out);
            return;
        }
    }
    char ip[INET6_ADDRSTRLEN];
    client_ip(r, ip, sizeof(ip));
    if (sc_ip_anonymise(ip, out) != SC_OK)
        out[0] = '\0';
}

/* The event of 'type' for this request but its visitor. */
static void event_fill(struct req *r, struct sc_event *ev, enum sc_ev_type type, int64_t card_id,
                       int64_t link_id)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts = (int64_t)time(NULL);
    ev->type = type;
    ev->card_id = card_id;
    ev->link_id = link_id;
    client_ip_anon(r, ev->ip);
    const char *ua = sc_req_header(r, MHD_HTTP_HEADER_USER_AGENT);
    if (ua)
        copy_text(ev->ua, sizeof(ev->ua), ua);
    sc_referrer_host(sc_req_header(r, MHD_HTTP_HEADER_REFERER), ev->referrer_host);
    ev->head = r->method == M_HEAD;
}

void sc_track_event_init(struct req *r, struct sc_event *ev, enum sc_ev_type type, int64_t card_id,
                         int64_t link_id)
{
    event_fill(r, ev, type, card_id, link_id);
    sc_track_identify(r);
    memcpy(ev->visitor, r->vid, sizeof(ev->visitor));
    ev->minted = r->new_cookie;
}

bool sc_track_classify(struct req *r, struct sc_event *ev, enum sc_ev_type type)
{
    event_fill(r, ev, type, 0, 0);
    ev->bot_reason = sc_ua_judge(ev->ua, ev->head, r->srv->uap, &ev->agent);
    ev->classified = true; /* the writer takes this answer, for a person's event too */
    return ev->bot_reason != NULL;
}

void sc_track_visitor(struct req *r, struct sc_event *ev)
{
    sc_track_identify(r);
    memcpy(ev->visitor, r->vid, sizeof(ev->visitor));
    ev->minted = r->new_cookie;
}

bool sc_track_bot_event(struct req *r, struct sc_event *ev, enum sc_ev_type type, int64_t card_id,
                        int64_t link_id)
{
    bool bot = sc_track_classify(r, ev, type);
    ev->card_id = card_id;
    ev->link_id = link_id;
    if (bot)
        return true; /* no visitor: no cookie minted, no visitor key, no unique */
    sc_track_visitor(r, ev);
    return false;
}

enum MHD_Result sc_track_bot_then(struct req *r, const struct sc_event *ev, continuation_fn *cont)
{
    /* Queued without a callback: written in the next batch, answered now. */
    enum sc_err e = sc_ingest_submit(r->srv->ingest, ev, NULL, NULL);
    r->ev_result = e == SC_OK ? SC_OK : SC_EBUSY;
    r->ev_done = true;
    return cont(r);
}

static void on_durable(void *ctx, enum sc_err result)
{
    struct req *r = ctx;
    r->ev_result = result;
    r->ev_done = true;
    MHD_resume_connection(r->conn);
}

enum MHD_Result sc_track_then(struct req *r, const struct sc_event *ev, continuation_fn *cont)
{
    r->cont = cont;
    r->ev_done = false;
    MHD_suspend_connection(r->conn);
    enum sc_err e = sc_ingest_submit(r->srv->ingest, ev, on_durable, r);
    if (e != SC_OK) {
        r->ev_result = SC_EBUSY;
        r->ev_done = true;
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

enum MHD_Result sc_reply_not_stored(struct req *r)
{
    return sc_reply_error(r, 503,
                          "We could not record this visit just now; please try again in a moment.");
}

/* ---- beacons: POST /e ------------------------------------------------------------ */

static enum MHD_Result done_204(struct req *r)
{
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    sc_reply_security_headers(r->srv, resp);
    enum MHD_Result ret = sc_reply_response(r, 204, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A field of the body, urlencoded or JSON; SC_ENOTFOUND when absent. */
enum sc_err sc_track_body_field(const char *body, size_t len, json_t *json, const char *name,
                                char *out, size_t n)
{
    if (json) {
        json_t *v = json_object_get(json, name);
        if (!v)
            return SC_ENOTFOUND;
        if (json_is_integer(v)) {
            snprintf(out, n, "%lld", (long long)json_integer_value(v));
            return SC_OK;
        }
        if (!json_is_string(v))
            return SC_EINVAL;
        if (json_string_length(v) >= n)
            return SC_ETOOBIG;
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
        return strlen(out) == json_string_length(v) ? SC_OK : SC_EINVAL;
    }
    return sc_form_get(body, len, name, out, n);
}

/* A field of the beacon's body (JSON when 'json', else a form). */
static enum sc_err body_field(struct req *r, json_t *json, const char *name, char *out, size_t n)
{
    return sc_track_body_field(r->body.data ? r->body.data : "", r->body.len, json, name, out, n);
}

static bool is_json(struct req *r)
{
    const char *ct = sc_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    return ct && strncmp(ct, "application/json", 16) == 0;
}

enum MHD_Result sc_h_event(struct req *r, const struct route_args *a)
{
    (void)a;
    json_t *json = NULL;
    enum MHD_Result ret;
    if (is_json(r)) {
        json =
            json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(json)) {
            json_decref(json);
            return sc_reply_error(r, 400, "The event is not a JSON object.");
        }
    }
    char type[16], slug[SC_SLUG_MAX + 1], code[SC_CODE_LEN + 8], action[16], secs[16];
    enum sc_ev_type t;
    if (body_field(r, json, "type", type, sizeof(type)) != SC_OK || !sc_ev_parse(type, &t) ||
        (t != SC_EV_CLICK && t != SC_EV_DWELL && t != SC_EV_SAVE)) {
        ret = sc_reply_error(r, 400, "type must be click, dwell or save.");
        goto out;
    }
    if (body_field(r, json, "card", slug, sizeof(slug)) != SC_OK) {
        ret = sc_reply_error(r, 400, "card (the card's slug) is required.");
        goto out;
    }
    if (sc_store_card_by_slug(r->srv->store, slug, &r->card) != SC_OK) {
        ret = sc_reply_error(r, 400, "The event names a card that does not exist.");
        goto out;
    }
    int64_t link_id = 0;
    enum sc_err e = body_field(r, json, "link", code, sizeof(code));
    if (e == SC_OK && code[0]) {
        if (sc_store_link_by_code(r->srv->store, code, &r->link) != SC_OK ||
            r->link.card_id != r->card.id) {
            ret = sc_reply_error(r, 400, "The event names a link that does not lead to this card.");
            goto out;
        }
        link_id = r->link.id;
    } else if (e != SC_OK && e != SC_ENOTFOUND) {
        ret = sc_reply_error(r, 400, "link is malformed.");
        goto out;
    }
    struct sc_event ev;
    sc_track_event_init(r, &ev, t, r->card.id, link_id);
    if (t == SC_EV_CLICK) {
        if (body_field(r, json, "action", action, sizeof(action)) != SC_OK ||
            !sc_action_parse(action, &ev.action)) {
            ret = sc_reply_error(r, 400, "action must be call, email, wechat, website or map.");
            goto out;
        }
    } else if (t == SC_EV_DWELL) {
        long v = -1;
        if (body_field(r, json, "seconds", secs, sizeof(secs)) == SC_OK && secs[0] &&
            strlen(secs) <= 4 && strspn(secs, "0123456789") == strlen(secs))
            v = strtol(secs, NULL, 10); /* digits only: no sign, space or "0x" */
        if (v < 0 || v > 3600) {
            ret = sc_reply_error(r, 400, "seconds must be a whole number from 0 to 3600.");
            goto out;
        }
        ev.value = (int32_t)v;
    }
    if (!sc_rl_allow(r->srv->rl, "e", r->vid, 120, 60)) {
        ret = sc_reply_error(r, 429, "Too many events from this browser; slow down.");
        goto out;
    }
    bool reached = false;
    if (r->new_cookie ||
        sc_store_visitor_reached(r->srv->store, r->vid, r->card.id, link_id, &reached) != SC_OK ||
        !reached) {
        /* A crawler's or preview's tap or time on the page: its view was recorded with no
         * visitor (issue 15), so nothing ties it to this browser; it is recorded as a bot's,
         * like that view, and answered at once. */
        struct sc_event bot;
        if (sc_track_bot_event(r, &bot, t, r->card.id, link_id)) {
            bot.action = ev.action;
            bot.value = ev.value;
            ret = sc_track_bot_then(r, &bot, done_204);
            goto out;
        }
        ret = sc_reply_error(r, 400, "The event names a card or link this browser did not open.");
        goto out;
    }
    ret = sc_track_then(r, &ev, done_204);
out:
    json_decref(json);
    return ret;
}

/* ---- shares: POST /c/{slug}/share ----------------------------------------------- */

static enum MHD_Result done_share(struct req *r)
{
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    struct sc_buf b;
    sc_buf_init(&b, 4096);
    sc_buf_printf(&b, "{\"code\":\"%s\",\"url\":\"", r->code);
    sc_esc_json(&b, r->srv->base_url, strlen(r->srv->base_url));
    sc_buf_printf(&b, "/l/%s\"}\n", r->code);
    return sc_reply_bytes(r, 201, "application/json", &b);
}

enum MHD_Result sc_h_share(struct req *r, const struct route_args *a)
{
    const char *slug = a->arg;
    char channel[16] = "", from[SC_CODE_LEN + 8] = "";
    enum sc_channel ch;
    /* A share mints a link and counts: only the page (its token) or this site may ask. */
    if (!sc_csrf_ok(r) && !sc_guard_same_origin(r))
        return sc_reply_error(r, 403,
                              "A share must come from the card's page (its csrf token) or "
                              "this site.");
    enum sc_err e = sc_form_get(r->body.data ? r->body.data : "", r->body.len, "channel", channel,
                                sizeof(channel));
    if (e != SC_OK || !sc_channel_parse(channel, &ch) || ch == SC_CH_QR)
        return sc_reply_error(r, 400,
                              "channel must be one of wechat, sms, email, whatsapp, "
                              "linkedin, copy, other.");
    e = sc_store_card_by_slug(r->srv->store, slug, &r->card);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "There is no card at this address.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (r->card.disabled)
        return sc_reply_error(r, 410, "This card is no longer active.");
    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_SHARE, r->card.id, 0);
    if (!sc_rl_allow(r->srv->rl, "share", r->vid, 30, 60))
        return sc_reply_error(r, 429, "Too many shares from this browser; try again in a minute.");
    if (sc_form_get(r->body.data ? r->body.data : "", r->body.len, "from", from, sizeof(from)) ==
            SC_OK &&
        from[0] && sc_store_link_by_code(r->srv->store, from, &r->link) == SC_OK &&
        r->link.card_id == r->card.id)
        ev.new_parent = r->link.id;
    sc_slug_random(ev.new_code, SC_CODE_LEN);
    memcpy(r->code, ev.new_code, sizeof(r->code));
    ev.new_channel = (int)ch;
    return sc_track_then(r, &ev, done_share);
}
