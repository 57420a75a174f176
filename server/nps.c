/*
 * nps.c — the NPS survey (issue 14, 回访) wired into the service.
 *
 * Every order gets a survey in its own transaction (store/q_nps.c), open
 * SHARECARD_NPS_DELAY_DAYS (default 7; 0: at once) after the order's time.
 * Its link /s/{token} carries 128 random bits; the conversion.created
 * webhook carries it (survey_url, survey_available_at) whatever the delay,
 * for the shop to send when it opens, and the customer's own browser finds
 * it on their referral page.  The page needs no account: 0–10 buttons and a
 * comment, in the card's language, CSRF-safe (a token bound to the survey
 * in the form, and a same-origin check), answered once.
 *
 * NPS (intel/'s sc_ret_nps: promoters 9–10 minus detractors 0–6, in points)
 * per company, team and salesperson: GET /api/v1/nps and the dashboard's
 * section, with the detractors listed for follow-up.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth_int.h"
#include "customers_int.h"
#include "http_int.h"
#include "leads_int.h"
#include "pages_int.h"
#include "sharecard/customers.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"
#include "sharecard/log.h"

#define COMMENT_MAX          2000 /* bytes of a comment */
#define DELAY_DEFAULT_DAYS   7
#define MAX_AGE_DEFAULT_DAYS 90 /* no survey for an order older than this when stored */

/* ---- SHARECARD_NPS_DELAY_DAYS ------------------------------------------------------------ */

static int64_t delay_s = DELAY_DEFAULT_DAYS * 86400;
static pthread_once_t delay_once = PTHREAD_ONCE_INIT;

static void delay_read(void)
{
    const char *v = getenv("SHARECARD_NPS_DELAY_DAYS");
    if (!v)
        return;
    size_t n = strlen(v);
    if (n == 0 || n > 3 || strspn(v, "0123456789") != n || atoi(v) > 365) {
        sc_warn("SHARECARD_NPS_DELAY_DAYS ignored: a whole number of days from 0 to 365 (default "
                "%d)",
                DELAY_DEFAULT_DAYS);
        return;
    }
    delay_s = (int64_t)atoi(v) * 86400;
}

int64_t sc_nps_delay_s(void)
{
    pthread_once(&delay_once, delay_read);
    return delay_s;
}

/* ---- SHARECARD_NPS_MAX_AGE_DAYS ---------------------------------------------------------- */

static int64_t max_age_s = MAX_AGE_DEFAULT_DAYS * 86400;
static pthread_once_t max_age_once = PTHREAD_ONCE_INIT;

static void max_age_read(void)
{
    const char *v = getenv("SHARECARD_NPS_MAX_AGE_DAYS");
    if (!v)
        return;
    size_t n = strlen(v);
    if (n == 0 || n > 4 || strspn(v, "0123456789") != n || atoi(v) > 3650) {
        sc_warn("SHARECARD_NPS_MAX_AGE_DAYS ignored: a whole number of days from 0 to 3650 "
                "(default %d; 0: no limit)",
                MAX_AGE_DEFAULT_DAYS);
        return;
    }
    max_age_s = (int64_t)atoi(v) * 86400;
}

int64_t sc_nps_max_age_s(void)
{
    pthread_once(&max_age_once, max_age_read);
    return max_age_s;
}

/* ---- the survey page: /s/{token} ---------------------------------------------------------- */

/* The form's CSRF token: a keyed hash of the survey's token under the server's key. */
static void form_token(struct req *r, const char *token, char out[32])
{
    unsigned char h[16];
    char msg[SC_SURVEY_TOKEN_MAX + 8];
    snprintf(msg, sizeof(msg), "nps:%s", token);
    crypto_generichash(h, sizeof(h), (const unsigned char *)msg, strlen(msg), r->srv->csrf_key,
                       sizeof(r->srv->csrf_key));
    sodium_bin2base64(out, 32, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool token_ok(const char *t)
{
    size_t n = strlen(t);
    return n > 0 && n <= SC_SURVEY_TOKEN_MAX && strspn(t, "0123456789abcdef") == n;
}

/* A card's colour as the page may put it in CSS: "#" and up to 6 hex digits. */
static bool colour_ok(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    return n >= 2 && n <= 7 && c[0] == '#' && strspn(c + 1, "0123456789abcdefABCDEF") == n - 1;
}

/* The page around 'body' (our own HTML, translated by sc_ui_html) in the current language. */
static enum MHD_Result survey_page(struct req *r, unsigned status, const char *theme,
                                   const char *body)
{
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_printf(&b,
                  "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\"><meta "
                  "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta "
                  "name=\"robots\" content=\"noindex\"><link rel=\"icon\" "
                  "href=\"/static/icon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" "
                  "href=\"/static/card.css\"><title>",
                  sc_tr_lang() == SC_LANG_ZH ? "zh-CN" : "en");
    sc_ui_text(&b, sc_tr("A short survey"));
    sc_buf_puts(&b, "</title><style>:root{--accent:");
    sc_ui_text(&b, colour_ok(theme) ? theme : "#1f6feb");
    sc_buf_puts(&b, "}</style></head><body><main class=\"card plain survey\">");
    sc_buf_puts(&b, body);
    sc_buf_puts(&b, "</main></body></html>");
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

/* A page with one heading and one message, both translated. */
static enum MHD_Result survey_message(struct req *r, unsigned status, const char *theme,
                                      const char *heading, const char *msg)
{
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_puts(&b, "<h1>");
    sc_ui_text(&b, sc_tr(heading));
    sc_buf_printf(&b, "</h1><p class=\"msg\" data-status=\"%u\">", status);
    sc_ui_text(&b, sc_tr(msg));
    sc_buf_puts(&b, "</p>");
    enum MHD_Result ret = survey_page(r, status, theme, b.data ? b.data : "");
    sc_buf_cleanup(&b);
    return ret;
}

/*
 * "Not open yet" with when it opens: 'at' as a day and minute in
 * SHARECARD_TZ with its offset, in the current language, and as an ISO
 * 8601 UTC time in <time datetime>.
 */
static enum MHD_Result survey_not_open(struct req *r, unsigned status, const char *theme,
                                       int64_t at)
{
    int32_t off = sc_tz_min(at);
    time_t local = (time_t)(at + (int64_t)off * 60), utc = (time_t)at;
    struct tm lt, ut;
    char when[64], iso[32];
    if (!gmtime_r(&local, &lt) || !gmtime_r(&utc, &ut))
        return survey_message(r, status, theme, "Not open yet", "This survey is not open yet.");
    int32_t a = off < 0 ? -off : off;
    snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d (UTC%c%02d:%02d)", lt.tm_year + 1900,
             lt.tm_mon + 1, lt.tm_mday, lt.tm_hour, lt.tm_min, off < 0 ? '-' : '+', (int)(a / 60),
             (int)(a % 60));
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &ut);
    /* The translated sentence around its one %s, so each language orders it its own way. */
    const char *fmt = sc_tr("This survey opens on %s."), *hole = strstr(fmt, "%s");
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_puts(&b, "<h1>");
    sc_ui_text(&b, sc_tr("Not open yet"));
    sc_buf_printf(&b, "</h1><p class=\"msg\" data-status=\"%u\">", status);
    if (hole) {
        sc_esc_html(&b, fmt, (size_t)(hole - fmt));
        sc_buf_printf(&b, "<time datetime=\"%s\">%s</time>", iso, when);
        sc_esc_html(&b, hole + 2, strlen(hole + 2));
    } else {
        sc_ui_text(&b, sc_tr("This survey is not open yet."));
    }
    sc_buf_puts(&b, "</p>");
    enum MHD_Result ret = survey_page(r, status, theme, b.data ? b.data : "");
    sc_buf_cleanup(&b);
    return ret;
}

static enum MHD_Result survey_form(struct req *r, const char *token, const char *theme)
{
    char csrf[32];
    form_token(r, token, csrf);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_puts(&b, "<h1>");
    sc_ui_text(&b, sc_tr("How likely are you to recommend us to a friend?"));
    sc_buf_printf(&b, "</h1><form method=\"post\" action=\"/s/%s\" class=\"nps\">", token);
    sc_buf_printf(&b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><p class=\"scale\">",
                  csrf);
    for (int i = 0; i <= 10; i++)
        sc_buf_printf(
            &b, "<button class=\"btn\" type=\"submit\" name=\"score\" value=\"%d\">%d</button>", i,
            i);
    sc_buf_puts(&b, "</p><p class=\"hint\">");
    sc_ui_text(&b, sc_tr("0: not at all likely · 10: extremely likely"));
    sc_buf_puts(&b, "</p><label for=\"comment\">");
    sc_ui_text(&b, sc_tr("Anything you would like to tell us? (optional; write it before you "
                         "choose a number)"));
    sc_buf_printf(&b,
                  "</label><textarea id=\"comment\" name=\"comment\" maxlength=\"%d\" "
                  "rows=\"4\"></textarea></form>",
                  COMMENT_MAX / 4);
    enum MHD_Result ret = survey_page(r, 200, theme, b.data ? b.data : "");
    sc_buf_cleanup(&b);
    return ret;
}

/* The score field: exactly one of "0" … "10". */
static bool score_parse(const char *s, int *out)
{
    size_t n = strlen(s);
    if (n < 1 || n > 2 || strspn(s, "0123456789") != n || (n == 2 && s[0] == '0'))
        return false;
    *out = atoi(s);
    return *out <= 10;
}

static enum MHD_Result survey_post(struct req *r, const char *token, const struct sc_survey *sv,
                                   const char *theme)
{
    const char *body = r->body.data ? r->body.data : "";
    char csrf[64], want[32], score_s[8], comment[COMMENT_MAX + 1];
    form_token(r, token, want);
    if (!sc_guard_same_origin(r) ||
        sc_form_get(body, r->body.len, "csrf", csrf, sizeof(csrf)) != SC_OK ||
        strlen(csrf) != strlen(want) || sodium_memcmp(csrf, want, strlen(want)) != 0)
        return survey_message(r, 403, theme, "This form has expired",
                              "The answer did not come from this survey's page. Open the link "
                              "again and answer there.");
    enum sc_err e = sc_form_get(body, r->body.len, "score", score_s, sizeof(score_s));
    int score = -1;
    if (e != SC_OK || !score_parse(score_s, &score)) /* missing, too long or not 0–10 */
        return survey_message(r, 422, theme, "Choose a number",
                              "score must be a whole number from 0 to 10.");
    e = sc_form_get(body, r->body.len, "comment", comment, sizeof(comment));
    if (e == SC_ENOTFOUND)
        comment[0] = '\0';
    else if (e == SC_ETOOBIG)
        return survey_message(r, 422, theme, "Your comment is too long",
                              "comment may be at most 2000 bytes.");
    else if (e != SC_OK || !sc_utf8_valid(comment, strlen(comment)))
        return survey_message(r, 422, theme, "Your comment could not be read",
                              "comment must be UTF-8 text.");
    int64_t now = (int64_t)time(NULL);
    if (sv->answered_at)
        return survey_message(r, 409, theme, "Already answered",
                              "This survey was answered already: one answer per survey.");
    if (now < sv->available_at)
        return survey_not_open(r, 409, theme, sv->available_at);
    e = sc_store_survey_answer(r->srv->store, token, score, comment, now);
    if (e == SC_ECONFLICT)
        return survey_message(r, 409, theme, "Already answered",
                              "This survey was answered already: one answer per survey.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    return survey_message(r, 200, theme, "Thank you!", "Your answer was recorded.");
}

enum MHD_Result sc_h_survey(struct req *r, const struct route_args *a)
{
    const char *token = a->arg;
    r->private_page = true; /* the customer's survey: no cache keeps it */
    struct sc_survey sv;
    enum sc_err e =
        token_ok(token) ? sc_store_survey_by_token(r->srv->store, token, &sv) : SC_ENOTFOUND;
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404,
                              "This survey does not exist. Check that the link was copied "
                              "whole.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    enum sc_lang lang = SC_LANG_EN;
    /* The request's card (freed with the request): its language and colour. */
    if (sc_store_card_by_slug(r->srv->store, sv.card_slug, &r->card) == SC_OK)
        lang = r->card.lang;
    lang = sc_req_lang(r, lang);
    enum sc_lang was = sc_tr_lang();
    sc_tr_set(lang);
    enum MHD_Result ret;
    const char *theme = r->card.theme;
    if (r->method == M_POST)
        ret = survey_post(r, token, &sv, theme);
    else if (sv.answered_at)
        ret = survey_message(r, 200, theme, "Thank you!", "This survey was answered already.");
    else if ((int64_t)time(NULL) < sv.available_at)
        ret = survey_not_open(r, 200, theme, sv.available_at);
    else
        ret = survey_form(r, token, theme);
    sc_tr_set(was);
    return ret;
}

void sc_nps_own_link(struct req *r, int64_t customer_id, struct sc_buf *b)
{
    char token[SC_SURVEY_TOKEN_MAX + 1];
    if (sc_store_survey_open(r->srv->store, customer_id, (int64_t)time(NULL), token) != SC_OK)
        return;
    sc_buf_printf(b, "<p class=\"survey\"><a class=\"btn primary\" href=\"/s/%s\">", token);
    sc_ui_text(b, sc_tr("How did we do? Answer a short survey"));
    sc_buf_puts(b, "</a></p>");
}

/* ---- NPS figures: GET /api/v1/nps and the dashboard -------------------------------------- */

struct answer {
    int64_t customer_id, member_id;
    char *customer_name, *member_name, *team, *comment;
    int score;
    int64_t answered_at;
};

struct answers {
    struct answer *a;
    size_t n, cap;
    bool oom;
};

static char *str_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int take_answer(const struct sc_nps_answer_row *w, void *ctx)
{
    struct answers *as = ctx;
    if (as->n == as->cap) {
        size_t cap = as->cap ? 2 * as->cap : 64;
        void *p = realloc(as->a, cap * sizeof(*as->a));
        if (!p) {
            as->oom = true;
            return 1;
        }
        as->a = p;
        as->cap = cap;
    }
    struct answer x = {w->customer_id,
                       w->member_id,
                       str_or_empty(w->customer_name),
                       str_or_empty(w->member_name),
                       str_or_empty(w->team),
                       str_or_empty(w->comment),
                       w->score,
                       w->answered_at};
    if (!x.customer_name || !x.member_name || !x.team || !x.comment) {
        free(x.customer_name), free(x.member_name), free(x.team), free(x.comment);
        as->oom = true;
        return 1;
    }
    as->a[as->n++] = x;
    return 0;
}

static void answers_free(struct answers *as)
{
    for (size_t i = 0; i < as->n; i++) {
        free(as->a[i].customer_name);
        free(as->a[i].member_name);
        free(as->a[i].team);
        free(as->a[i].comment);
    }
    free(as->a);
    memset(as, 0, sizeof(*as));
}

/* By team, then member: each group's answers are one run. */
static int by_team_member(const void *pa, const void *pb)
{
    const struct answer *x = pa, *y = pb;
    int c = strcmp(x->team, y->team);
    if (c)
        return c;
    return x->member_id < y->member_id ? -1 : x->member_id > y->member_id;
}

static int newest_first(const void *pa, const void *pb)
{
    const struct answer *x = *(const struct answer *const *)pa,
                        *y = *(const struct answer *const *)pb;
    if (x->answered_at != y->answered_at)
        return x->answered_at > y->answered_at ? -1 : 1;
    return x->customer_id > y->customer_id ? -1 : x->customer_id < y->customer_id;
}

/* One group's figures. */
struct nps_fig {
    int64_t answers, promoters, passives, detractors;
    double nps;
    bool defined;
};

static enum sc_err figure(const struct answer *a, size_t n, struct nps_fig *f)
{
    memset(f, 0, sizeof(*f));
    int *scores = malloc((n ? n : 1) * sizeof(*scores));
    if (!scores)
        return SC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        scores[i] = a[i].score;
        f->promoters += a[i].score >= 9;
        f->detractors += a[i].score <= 6;
    }
    f->answers = (int64_t)n;
    f->passives = f->answers - f->promoters - f->detractors;
    enum sc_err e = sc_ret_nps(scores, n, &f->nps, &f->defined);
    free(scores);
    return e;
}

/*
 * Answers of 'scope' given on days 'from'..'to' of SHARECARD_TZ (as retention
 * and birthdays count days), sorted by team and member.
 */
static enum sc_err load(struct sc_store *s, const struct sc_scope *scope, int64_t from, int64_t to,
                        struct answers *as)
{
    enum sc_err e = sc_store_nps_answers(s, scope, 0, sc_customers_day_start(from),
                                         sc_customers_day_start(to + 1), take_answer, as);
    if (e == SC_OK && as->oom)
        e = SC_ENOMEM;
    if (e == SC_OK && as->n)
        qsort(as->a, as->n, sizeof(*as->a), by_team_member);
    return e;
}

static void json_fig(struct sc_buf *b, const struct nps_fig *f)
{
    sc_buf_printf(b,
                  "\"answers\":%" PRId64 ",\"promoters\":%" PRId64 ",\"passives\":%" PRId64
                  ",\"detractors\":%" PRId64 ",\"nps\":",
                  f->answers, f->promoters, f->passives, f->detractors);
    if (f->defined)
        sc_buf_printf(b, "%.10g", f->nps);
    else
        sc_buf_puts(b, "null");
}

static void csv_fig(struct list_out *o, const char *group, const char *team, int64_t member_id,
                    const char *member, const struct nps_fig *f)
{
    char id[24] = "", n[24], p[24], pa[24], d[24], v[32] = "";
    if (member_id)
        snprintf(id, sizeof(id), "%" PRId64, member_id);
    snprintf(n, sizeof(n), "%" PRId64, f->answers);
    snprintf(p, sizeof(p), "%" PRId64, f->promoters);
    snprintf(pa, sizeof(pa), "%" PRId64, f->passives);
    snprintf(d, sizeof(d), "%" PRId64, f->detractors);
    if (f->defined)
        snprintf(v, sizeof(v), "%.10g", f->nps);
    const char *row[] = {group, team, id, member, n, p, pa, d, v};
    sc_list_csv_row(o, row, sizeof(row) / sizeof(row[0]));
}

enum sc_err sc_nps_company(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                           int64_t to, double *nps, bool *defined)
{
    struct answers as = {0};
    struct nps_fig f;
    enum sc_err e = load(s, scope, from, to, &as);
    if (e == SC_OK)
        e = figure(as.a, as.n, &f);
    if (e == SC_OK) {
        *nps = f.nps;
        *defined = f.defined;
    }
    answers_free(&as);
    return e;
}

/* The detractors (0–6) of 'as', newest answer first: indices into as->a (new; free()). */
static const struct answer **detractors_of(const struct answers *as, size_t *n)
{
    const struct answer **d = malloc((as->n ? as->n : 1) * sizeof(*d));
    *n = 0;
    if (!d)
        return NULL;
    for (size_t i = 0; i < as->n; i++)
        if (as->a[i].score <= 6)
            d[(*n)++] = &as->a[i];
    if (*n > 1)
        qsort(d, *n, sizeof(*d), newest_first);
    return d;
}

enum MHD_Result sc_api_nps(struct req *r, const struct route_args *a)
{
    struct sc_scope scope;
    int64_t from, to;
    enum MHD_Result ret;
    if (!sc_report_range(r, a->m, &scope, &from, &to, &ret))
        return ret;
    /* By default the last 30 days up to today in SHARECARD_TZ (sc_report_range's are UTC's). */
    if (!sc_req_arg(r, "to"))
        to = sc_customers_day((int64_t)time(NULL));
    if (!sc_req_arg(r, "from"))
        from = to - 29;
    if (from > to)
        return sc_reply_error(r, 400, "from must not be after to.");
    struct answers as = {0};
    struct nps_fig f;
    enum sc_err e = load(r->srv->store, &scope, from, to, &as);
    if (e == SC_OK)
        e = figure(as.a, as.n, &f);
    if (e != SC_OK) {
        answers_free(&as);
        return sc_reply_err(r, e, NULL);
    }
    const char *fmt = sc_req_arg(r, "format");
    bool csv = fmt && strcmp(fmt, "csv") == 0;
    struct list_out o;
    struct sc_buf *b = &o.b;
    char fd[11], td[11];
    sc_ui_day_format(from, fd);
    sc_ui_day_format(to, td);
    if (csv) {
        sc_list_begin(r, &o,
                      "group,team,member_id,member,answers,promoters,passives,detractors,"
                      "nps\r\n");
        csv_fig(&o, "company", "", 0, "", &f);
    } else {
        sc_buf_init(b, 64 << 20);
        sc_buf_printf(b, "{\"from\":\"%s\",\"to\":\"%s\",\"company\":{", fd, td);
        json_fig(b, &f);
        sc_buf_puts(b, "},\"teams\":[");
    }
    /* Teams, then members: runs of the sorted answers. */
    for (int pass = 0; pass < 2 && e == SC_OK; pass++) {
        if (pass == 1 && !csv)
            sc_buf_puts(b, "],\"members\":[");
        size_t groups = 0;
        for (size_t i = 0; i < as.n && e == SC_OK;) {
            size_t j = i + 1;
            while (j < as.n && strcmp(as.a[j].team, as.a[i].team) == 0 &&
                   (pass == 0 || as.a[j].member_id == as.a[i].member_id))
                j++;
            struct nps_fig g;
            if ((e = figure(as.a + i, j - i, &g)) != SC_OK)
                break;
            if (csv) {
                csv_fig(&o, pass ? "member" : "team", as.a[i].team, pass ? as.a[i].member_id : 0,
                        pass ? as.a[i].member_name : "", &g);
            } else {
                sc_buf_puts(b, groups ? ",{" : "{");
                if (pass) {
                    sc_buf_printf(b, "\"member_id\":%" PRId64 ",\"name\":", as.a[i].member_id);
                    sc_ui_json_str(b, as.a[i].member_name);
                    sc_buf_putc(b, ',');
                }
                sc_buf_puts(b, "\"team\":");
                sc_ui_json_str(b, as.a[i].team);
                sc_buf_putc(b, ',');
                json_fig(b, &g);
                sc_buf_putc(b, '}');
            }
            groups++;
            i = j;
        }
    }
    if (e != SC_OK) {
        answers_free(&as);
        sc_buf_cleanup(b);
        return sc_reply_err(r, e, NULL);
    }
    if (csv) {
        answers_free(&as);
        return sc_list_finish(r, &o, SC_OK);
    }
    /* Detractors for follow-up, newest first, with their comments. */
    sc_buf_puts(b, "],\"detractors\":[");
    size_t nd = 0;
    const struct answer **det = detractors_of(&as, &nd);
    if (!det) {
        answers_free(&as);
        sc_buf_cleanup(b);
        return sc_reply_err(r, SC_ENOMEM, NULL);
    }
    size_t k = 0;
    for (size_t i = 0; i < nd; i++) {
        const struct answer *x = det[i];
        char when[32];
        sc_ui_iso_time(x->answered_at, when);
        sc_buf_printf(b, "%s{\"customer_id\":%" PRId64 ",\"name\":", k++ ? "," : "",
                      x->customer_id);
        sc_ui_json_str(b, x->customer_name);
        sc_buf_printf(b, ",\"member_id\":%" PRId64 ",\"score\":%d,\"comment\":", x->member_id,
                      x->score);
        sc_ui_json_str(b, x->comment);
        sc_buf_printf(b, ",\"answered_at\":\"%s\"}", when);
    }
    sc_buf_puts(b, "]}\n");
    free(det);
    answers_free(&as);
    return sc_reply_bytes(r, 200, "application/json", b);
}

/* A row of the dashboard's NPS table: a team's (member_id 0) or a salesperson's. */
static void nps_row(struct sc_buf *b, const char *team, int64_t member_id, const char *who,
                    const struct nps_fig *g)
{
    if (member_id) {
        sc_buf_printf(b, "<tr data-member=\"%" PRId64 "\"><td>", member_id);
    } else {
        sc_buf_puts(b, "<tr class=\"team\" data-team=\"");
        sc_ui_text(b, team);
        sc_buf_puts(b, "\"><td>");
    }
    sc_ui_text(b, team);
    sc_buf_puts(b, "</td><td>");
    sc_ui_text(b, who);
    sc_buf_printf(b, "</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">", g->answers);
    if (g->defined)
        sc_buf_printf(b, "%.0f", g->nps);
    sc_buf_puts(b, "</td></tr>");
}

/* "Detractors to follow up": newest first, each with a link, the score and the comment. */
static void detractors_table(struct sc_buf *b, const struct answers *as)
{
    /* Times in SHARECARD_TZ (sc_ui_when), as the page's footer names; the table scrolls
     * sideways on a phone instead of widening the page. */
    sc_ui_html(b, "<h2>Detractors to follow up</h2><div class=\"scroll\"><table class=\"t\" "
                  "id=\"detractors\"><thead><tr><th>Customer</th><th class=\"n\">Score</th>"
                  "<th>Comment</th><th>Answered</th></tr></thead><tbody>");
    size_t nd = 0;
    const struct answer **det = detractors_of(as, &nd);
    for (size_t i = 0; det && i < nd; i++) {
        const struct answer *x = det[i];
        sc_buf_printf(b,
                      "<tr data-customer=\"%" PRId64 "\"><td><a href=\"/customers/%" PRId64 "\">",
                      x->customer_id, x->customer_id);
        sc_ui_text(b, x->customer_name);
        sc_buf_printf(b, "</a></td><td class=\"n\">%d</td><td>", x->score);
        sc_ui_text(b, x->comment);
        sc_buf_puts(b, "</td><td>");
        sc_ui_when(b, x->answered_at);
        sc_buf_puts(b, "</td></tr>");
    }
    if (!nd)
        sc_ui_html(b, "<tr><td colspan=\"4\">No detractor in this period.</td></tr>");
    sc_ui_html(b, "</tbody></table></div>");
    free(det);
}

enum sc_err sc_nps_detractors(struct req *r, struct sc_buf *b, const struct sc_scope *scope,
                              int64_t from, int64_t to)
{
    struct answers as = {0};
    enum sc_err e = load(r->srv->store, scope, from, to, &as);
    if (e == SC_OK)
        detractors_table(b, &as);
    answers_free(&as);
    return e;
}

void sc_nps_dashboard(struct req *r, struct sc_buf *b, const struct sc_scope *scope, int64_t from,
                      int64_t to)
{
    struct answers as = {0};
    struct nps_fig f;
    sc_ui_html(b, "<h2>Customer satisfaction (NPS)</h2>");
    enum sc_err e = load(r->srv->store, scope, from, to, &as);
    if (e == SC_OK)
        e = figure(as.a, as.n, &f);
    if (e != SC_OK) {
        sc_ui_html(b, "<p class=\"hint\">The survey figures could not be read now.</p>");
        goto out;
    }
    sc_ui_html(b, "<p class=\"hint\">NPS = promoters (9–10) − detractors (0–6), as a share of "
                  "the answers, from −100 to 100.</p><section class=\"tiles\" id=\"nps\">");
    sc_ui_htmlf(b, "<div class=\"tile\" data-kpi=\"nps\"><div class=\"v\">");
    if (f.defined)
        sc_buf_printf(b, "%.0f", f.nps);
    else
        sc_buf_puts(b, "—");
    sc_ui_html(b, "</div><div class=\"k\">NPS</div></div>");
    sc_ui_htmlf(b,
                "<div class=\"tile\" data-kpi=\"nps_answers\"><div class=\"v\">%" PRId64
                "</div><div class=\"k\">Answers</div></div><div class=\"tile\" "
                "data-kpi=\"detractors\"><div class=\"v\">%" PRId64
                "</div><div class=\"k\">Detractors</div></div>",
                f.answers, f.detractors);
    sc_ui_html(b, "</section><div class=\"scroll\"><table class=\"t\" id=\"nps-members\"><thead>"
                  "<tr><th>Team</th>"
                  "<th>Salesperson</th><th class=\"n\">Answers</th><th class=\"n\">NPS</th></tr>"
                  "</thead><tbody>");
    /* A row per team (all its salespeople), then one per salesperson of it. */
    for (size_t t = 0; t < as.n;) {
        size_t te = t + 1;
        while (te < as.n && strcmp(as.a[te].team, as.a[t].team) == 0)
            te++;
        struct nps_fig g;
        if (figure(as.a + t, te - t, &g) == SC_OK)
            nps_row(b, as.a[t].team, 0, sc_tr("All salespeople"), &g);
        for (size_t i = t; i < te;) {
            size_t j = i + 1;
            while (j < te && as.a[j].member_id == as.a[i].member_id)
                j++;
            if (figure(as.a + i, j - i, &g) == SC_OK)
                nps_row(b, as.a[i].team, as.a[i].member_id, as.a[i].member_name, &g);
            i = j;
        }
        t = te;
    }
    sc_ui_html(b, "</tbody></table></div>");
    detractors_table(b, &as);
out:
    answers_free(&as);
}
