/*
 * share_tree.c — a card's share tree (who shared to whom, down from its
 * QR link) with its K-factor: the page /dashboard/tree/{slug} and the JSON
 * at /api/v1/cards/{slug}/tree, for whoever may read the card.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/escape.h"
#include "ux_int.h"

/* ---- the share tree ---------------------------------------------------------------- */

struct tree {
    struct sc_tree_row *rows;
    char (*codes)[SC_CODE_LEN + 1];
    int *depth;
    size_t n, cap;
};

static int keep_node(const struct sc_tree_row *t, void *ctx)
{
    struct tree *tr = ctx;
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 64;
        struct sc_tree_row *rows = realloc(tr->rows, cap * sizeof(*rows));
        if (rows)
            tr->rows = rows;
        char(*codes)[SC_CODE_LEN + 1] = realloc(tr->codes, cap * sizeof(*codes));
        if (codes)
            tr->codes = codes;
        int *depth = realloc(tr->depth, cap * sizeof(*depth));
        if (depth)
            tr->depth = depth;
        if (!rows || !codes || !depth)
            return 1;
        tr->cap = cap;
    }
    tr->rows[tr->n] = *t;
    snprintf(tr->codes[tr->n], SC_CODE_LEN + 1, "%s", t->code ? t->code : "");
    tr->rows[tr->n].code = NULL; /* set once loading is over: 'codes' may still move */
    /* Parents come first (ids grow), so a parent's depth is known: look it up. */
    int d = 0;
    for (size_t i = tr->n; t->parent_id && i-- > 0;)
        if (tr->rows[i].id == t->parent_id) {
            d = tr->depth[i] + 1;
            break;
        }
    tr->depth[tr->n] = d;
    tr->n++;
    return 0;
}

static void tree_free(struct tree *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        tr->rows[i].code = NULL;
    free(tr->rows);
    free(tr->codes);
    free(tr->depth);
}

/*
 * K-factor: sign-ups produced per signed-up customer.  Customers who signed
 * up through this card, and the sign-ups that came through links customers
 * shared; their ratio is how many new sign-ups each sign-up brings.
 */
struct kfactor {
    int64_t signups, by_customers;
    int max_depth;
};

static struct kfactor kfactor_of(const struct tree *tr)
{
    struct kfactor k = {0, 0, 0};
    for (size_t i = 0; i < tr->n; i++) {
        k.signups += tr->rows[i].signups;
        if (tr->rows[i].owner.type == SC_PARTY_CUSTOMER)
            k.by_customers += tr->rows[i].signups;
        if (tr->depth[i] > k.max_depth)
            k.max_depth = tr->depth[i];
    }
    return k;
}

/* Loads the tree of card 'slug' if 'm' may read it; answers and returns false if not. */
static bool load_tree(struct req *r, const struct sc_member *m, const char *slug, struct tree *tr,
                      enum MHD_Result *ret)
{
    enum sc_err e = strlen(slug) <= SC_SLUG_MAX
                        ? sc_store_card_by_slug(r->srv->store, slug, &r->card)
                        : SC_ENOTFOUND;
    if (e != SC_OK) {
        *ret = sc_reply_err(r, e, e == SC_ENOTFOUND ? "There is no such card." : NULL);
        return false;
    }
    if (!sc_session_may_read_card(r, m, r->card.member_id)) {
        *ret = sc_reply_error(r, 403, "This card belongs to another team.");
        return false;
    }
    e = sc_store_share_tree(r->srv->store, r->card.id, keep_node, tr);
    if (e != SC_OK) {
        tree_free(tr);
        *ret = sc_reply_err(r, e, NULL);
        return false;
    }
    for (size_t i = 0; i < tr->n; i++)
        tr->rows[i].code = tr->codes[i];
    return true;
}

enum MHD_Result sc_h_tree(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *slug = a->arg;
    if (!sc_req_is_get(r))
        return sc_reply_405(r, "GET, HEAD");
    struct tree tree = {0};
    enum MHD_Result ret;
    if (!load_tree(r, m, slug, &tree, &ret))
        return ret;
    struct kfactor k = kfactor_of(&tree);
    int64_t customers = 0;
    for (size_t i = 0; i < tree.n; i++)
        customers += tree.rows[i].signups;
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    char title[300];
    snprintf(title, sizeof(title), sc_tr("Share tree · %s"), r->card.name ? r->card.name : slug);
    sc_ui_begin(r, &b, title, m, m->role == SC_ROLE_SALES ? "/me" : "/dashboard");
    sc_ui_htmlf(&b,
                "</header><section class=\"tiles\"><div class=\"tile\" data-kpi=\"links\" "
                "data-value=\"%zu\"><div class=\"v\">%zu</div><div class=\"k\">Tracked links"
                "</div></div><div class=\"tile\" data-kpi=\"depth\" data-value=\"%d\"><div "
                "class=\"v\">%d</div><div class=\"k\">Deepest share</div></div><div "
                "class=\"tile\" data-kpi=\"signups\" data-value=\"%lld\"><div class=\"v\">%lld"
                "</div><div class=\"k\">Sign-ups through links</div></div><div class=\"tile\" "
                "data-kpi=\"kfactor\" data-value=\"%.2f\"><div class=\"v\">%.2f</div><div "
                "class=\"k\">K-factor (sign-ups per signed-up customer)</div></div></section>",
                tree.n, tree.n, k.max_depth, k.max_depth, (long long)k.signups,
                (long long)k.signups, customers ? (double)k.by_customers / (double)customers : 0,
                customers ? (double)k.by_customers / (double)customers : 0);
    sc_ui_html(&b, "<p class=\"hint\">Each line is a tracked link: who shared it, through "
                   "which channel, the visits that came through it and the sign-ups it won. "
                   "Indented links were shared from a page reached through the link above.</p>"
                   "<ul class=\"tree\" id=\"tree\">");
    /* Depth-first: children right under their parent. */
    size_t *stack = malloc((tree.n + 1) * sizeof(*stack));
    bool *done = calloc(tree.n + 1, sizeof(*done));
    size_t sp = 0;
    for (size_t root = 0; stack && done && root < tree.n; root++) {
        if (done[root] || tree.depth[root] != 0)
            continue;
        stack[sp++] = root;
        while (sp) {
            size_t i = stack[--sp];
            if (done[i])
                continue;
            done[i] = true;
            const struct sc_tree_row *t = &tree.rows[i];
            sc_ui_htmlf(&b, "<li style=\"margin-left:%dem\" data-depth=\"%d\" data-code=\"%s\">",
                        tree.depth[i] * 2 > 40 ? 40 : tree.depth[i] * 2, tree.depth[i], t->code);
            if (t->owner.type == SC_PARTY_NONE)
                sc_ui_html(&b, sc_tr("a visitor"));
            else
                sc_ui_text(&b, t->owner.name);
            sc_ui_htmlf(&b, " <span class=\"chip\">%s</span> <span class=\"hint\">",
                        sc_words_channel(sc_channel_name(t->channel)));
            if (sc_tr_lang() == SC_LANG_ZH) { /* no plural: the table's sentence */
                sc_ui_htmlf(&b, "%lld visits · %lld sign-ups · ", (long long)t->visits,
                            (long long)t->signups);
            } else { /* "1 visit · 2 sign-ups" */
                sc_words_count(&b, t->visits, "visit", "visits");
                sc_ui_html(&b, " · ");
                sc_words_count(&b, t->signups, "sign-up", "sign-ups");
                sc_ui_html(&b, " · ");
            }
            sc_ui_when(&b, t->created_at);
            sc_ui_html(&b, "</span></li>");
            for (size_t c = tree.n; c-- > i + 1;) /* pushed in reverse: oldest child first */
                if (!done[c] && tree.rows[c].parent_id == t->id)
                    stack[sp++] = c;
        }
    }
    free(stack);
    free(done);
    sc_ui_htmlf(&b, "</ul><p><a href=\"/api/v1/cards/%s/tree\">As JSON</a></p>", r->card.slug);
    tree_free(&tree);
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_api_tree(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *slug = a->arg;
    enum MHD_Result ret;
    struct tree tr = {0};
    if (!load_tree(r, m, slug, &tr, &ret))
        return ret;
    struct kfactor k = kfactor_of(&tr);
    int64_t customers = k.signups;
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    sc_buf_puts(&b, "{\"card\":");
    sc_ui_json_str(&b, r->card.slug);
    sc_buf_printf(&b,
                  ",\"links\":%zu,\"max_depth\":%d,\"signups\":%lld,"
                  "\"signups_by_customers\":%lld,\"k_factor\":%.4f,\"nodes\":[",
                  tr.n, k.max_depth, (long long)k.signups, (long long)k.by_customers,
                  customers ? (double)k.by_customers / (double)customers : 0);
    for (size_t i = 0; i < tr.n; i++) {
        const struct sc_tree_row *t = &tr.rows[i];
        char at[32];
        sc_ui_iso_time(t->created_at, at);
        sc_buf_printf(&b, "%s{\"code\":\"%s\",\"parent\":", i ? ",\n" : "\n", t->code);
        const char *parent = NULL;
        for (size_t j = 0; t->parent_id && j < i; j++)
            if (tr.rows[j].id == t->parent_id)
                parent = tr.rows[j].code;
        sc_ui_json_str(&b, parent);
        sc_buf_printf(&b, ",\"depth\":%d,\"channel\":\"%s\",\"owner_type\":\"%s\",\"owner\":",
                      tr.depth[i], sc_channel_name(t->channel),
                      t->owner.type == SC_PARTY_MEMBER     ? "member"
                      : t->owner.type == SC_PARTY_CUSTOMER ? "customer"
                                                           : "visitor");
        sc_ui_json_str(&b, t->owner.type ? t->owner.name : NULL);
        sc_buf_printf(&b, ",\"visits\":%lld,\"signups\":%lld,\"created_at\":\"%s\"}",
                      (long long)t->visits, (long long)t->signups, at);
    }
    sc_buf_puts(&b, "\n]}\n");
    tree_free(&tr);
    if (sc_buf_error(&b)) {
        sc_buf_cleanup(&b);
        return sc_reply_error(r, 413, "The tree is too large to send at once.");
    }
    return sc_reply_bytes(r, 200, "application/json", &b);
}
