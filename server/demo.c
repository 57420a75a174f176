/*
 * demo.c — `sharecard demo`: a living dataset for a first look.  Teams,
 * members with cards, and 90 days of visits with a daily and weekly rhythm
 * — scans, opens of shared links, views, saves, contact taps, time on page,
 * re-shares, link-preview bots, sign-ups that chain two levels through
 * customers' own links, a few purchases — all written through the store's
 * event path, the one the server's writer uses, so attribution, rollups and
 * the ledger are computed exactly as for real traffic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sharecard/auth.h"
#include "sharecard/server.h"
#include "sharecard/store.h"

#define DEMO_PASSWORD "sharecard-demo"
#define BATCH         2048

struct demo {
    struct sc_store *s;
    struct sc_referral_config cfg;
    struct sc_event ev[BATCH];
    struct sc_event_row rows[BATCH];
    struct sc_signup signups[BATCH];
    struct sc_ua_info agent;
    size_t n;
    uint64_t rnd;
    long long visitors;
};

static uint32_t rnd(struct demo *d, uint32_t n)
{
    d->rnd = d->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(d->rnd >> 33) % n;
}

static enum sc_err flush(struct demo *d)
{
    enum sc_err e = sc_store_events_write(d->s, d->rows, d->n);
    d->n = 0;
    return e;
}

static struct sc_event *next(struct demo *d, enum sc_ev_type t, int64_t ts, int64_t card,
                             int64_t link, const char *vid, const char *ua, const char *bot)
{
    struct sc_event *e = &d->ev[d->n];
    memset(e, 0, sizeof(*e));
    e->ts = ts;
    e->type = t;
    e->card_id = card;
    e->link_id = link;
    snprintf(e->visitor, sizeof(e->visitor), "%s", vid);
    snprintf(e->ip, sizeof(e->ip), "198.51.%u.0", rnd(d, 250));
    snprintf(e->ua, sizeof(e->ua), "%s", ua);
    d->rows[d->n] = (struct sc_event_row){e, bot, &d->agent, SC_OK};
    d->n++;
    return e;
}

static const char *const phones[] = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
};

struct person {
    const char *name, *email, *title, *team;
    enum sc_role role;
    int weight; /* how busy their card is */
    int64_t card, link, member;
};

int sc_demo_main(const char *db, int days)
{
    static struct person people[] = {
        {"王芳", "wang.fang@example.cn", "区域经理", "华北", SC_ROLE_MANAGER, 3, 0, 0, 0},
        {"张伟", "zhang.wei@example.cn", "销售总监", "华北", SC_ROLE_SALES, 10, 0, 0, 0},
        {"李娜", "li.na@example.cn", "客户经理", "华北", SC_ROLE_SALES, 7, 0, 0, 0},
        {"刘洋", "liu.yang@example.cn", "销售代表", "华北", SC_ROLE_SALES, 4, 0, 0, 0},
        {"Grace Hopper", "grace@example.com", "Regional Manager", "South", SC_ROLE_MANAGER, 3, 0, 0,
         0},
        {"Ada Lovelace", "ada@example.com", "Head of Sales", "South", SC_ROLE_SALES, 8, 0, 0, 0},
        {"Alan Turing", "alan@example.com", "Account Executive", "South", SC_ROLE_SALES, 5, 0, 0,
         0},
        {"陈静", "chen.jing@example.cn", "销售代表", "South", SC_ROLE_SALES, 2, 0, 0, 0},
    };
    enum { NP = sizeof(people) / sizeof(people[0]) };
    struct demo *d = calloc(1, sizeof(*d));
    if (!d)
        return 1;
    char err[512];
    if (sc_store_open(db, &d->s, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "sharecard: cannot open the store %s: %s\n", db, err);
        free(d);
        return 1;
    }
    int rc = 1;
    int64_t count = 0;
    sc_store_member_count(d->s, &count);
    if (count > 1) {
        fprintf(stderr,
                "sharecard: %s already holds members; demo data goes into a fresh store "
                "only (try --db demo.db)\n",
                db);
        goto out;
    }
    sc_referral_config_defaults(&d->cfg);
    snprintf(d->agent.browser, sizeof(d->agent.browser), "Mobile Safari");
    snprintf(d->agent.os, sizeof(d->agent.os), "iOS");
    snprintf(d->agent.device, sizeof(d->agent.device), "phone");
    d->rnd = 20261122;
    char hash[SC_PWHASH_LEN];
    if (sc_auth_password_hash(DEMO_PASSWORD, hash) != SC_OK)
        goto out;
    if (count == 0) {
        struct sc_member a = {0}, out;
        snprintf(a.email, sizeof(a.email), "admin@example.com");
        snprintf(a.name, sizeof(a.name), "Demo Admin");
        a.role = SC_ROLE_ADMIN;
        struct sc_card p = {0};
        if (sc_store_member_add(d->s, &a, hash, &p, &out) != SC_OK)
            goto out;
    }
    for (int i = 0; i < NP; i++) {
        struct sc_member m = {0}, out;
        snprintf(m.email, sizeof(m.email), "%s", people[i].email);
        snprintf(m.name, sizeof(m.name), "%s", people[i].name);
        snprintf(m.team, sizeof(m.team), "%s", people[i].team);
        m.role = people[i].role;
        struct sc_card p = {0};
        p.name = m.name;
        p.title = (char *)(uintptr_t)people[i].title;
        p.company = (char *)(uintptr_t)(people[i].email[strlen(people[i].email) - 1] == 'n'
                                            ? "北京示例科技有限公司"
                                            : "Analytical Engines Ltd");
        p.phone = "+86 138 0013 8000";
        p.lang = people[i].email[strlen(people[i].email) - 1] == 'n' ? SC_LANG_ZH : SC_LANG_EN;
        if (sc_store_member_add(d->s, &m, hash, &p, &out) != SC_OK)
            goto out;
        struct sc_card c;
        struct sc_link l;
        if (sc_store_card_by_slug(d->s, out.slug, &c) != SC_OK ||
            sc_store_link_by_code(d->s, c.qr_code, &l) != SC_OK)
            goto out;
        people[i].card = c.id;
        people[i].link = l.id;
        people[i].member = out.id;
        sc_card_cleanup(&c);
    }

    /* Customers' own links, for visits that come through them (two-level chains). */
    int64_t cust_links[512], cust_cards[512];
    size_t ncust = 0;
    long long signups = 0, events = 0;
    int64_t today = (int64_t)time(NULL) / 86400;
    for (int day = days - 1; day >= 0; day--) {
        int64_t dayno = today - day;
        int dow = (int)((dayno + 4) % 7); /* 0 = Sunday */
        int rhythm = dow == 0 || dow == 6 ? 4 : 10;
        int growth = 10 + (days - day) * 10 / days;
        for (int i = 0; i < NP; i++) {
            int visits = people[i].weight * rhythm * growth / 60 + (int)rnd(d, 3);
            for (int v = 0; v < visits; v++) {
                if (d->n + 12 >= BATCH) {
                    if (flush(d) != SC_OK)
                        goto out;
                }
                /* Visits cluster in working hours, Beijing time (UTC+8). */
                int hour = 1 + (int)rnd(d, 10);
                int64_t ts = dayno * 86400 + hour * 3600 + rnd(d, 3600);
                char vid[SC_VID_MAX];
                snprintf(vid, sizeof(vid), "c:%012llx%020llu", (long long)ts * 1000,
                         (unsigned long long)++d->visitors);
                const char *ua = phones[rnd(d, 4)];
                int64_t card = people[i].card, link = people[i].link;
                bool via_customer = ncust > 0 && rnd(d, 100) < 12;
                if (via_customer) {
                    size_t k = rnd(d, (uint32_t)ncust);
                    card = cust_cards[k];
                    link = cust_links[k];
                }
                bool scan = !via_customer && rnd(d, 100) < 55;
                next(d, scan ? SC_EV_SCAN : SC_EV_OPEN, ts, card, link, vid, ua, NULL);
                next(d, SC_EV_VIEW, ts + 2, card, link, vid, ua, NULL);
                if (rnd(d, 100) < 25)
                    next(d, SC_EV_SAVE, ts + 20, card, link, vid, ua, NULL);
                if (rnd(d, 100) < 20)
                    next(d, SC_EV_CLICK, ts + 25, card, link, vid, ua, NULL)->action =
                        (enum sc_click_action)(1 + rnd(d, 4));
                next(d, SC_EV_DWELL, ts + 60, card, link, vid, ua, NULL)->value =
                    (int32_t)(5 + rnd(d, 120));
                if (rnd(d, 100) < 8) {
                    struct sc_event *sh = next(d, SC_EV_SHARE, ts + 40, card, 0, vid, ua, NULL);
                    sc_slug_random(sh->new_code, SC_CODE_LEN);
                    sh->new_channel = rnd(d, 2) ? SC_CH_WECHAT : SC_CH_COPY;
                    sh->new_parent = link;
                    /* The chat app unfurls the new link: a bot, never counted. */
                    next(d, SC_EV_OPEN, ts + 41, card, 0, "", "facebookexternalhit/1.1", "preview");
                }
                if (rnd(d, 100) < (via_customer ? 9 : 5)) {
                    struct sc_signup *su = &d->signups[d->n];
                    memset(su, 0, sizeof(*su));
                    su->cfg = &d->cfg;
                    snprintf(su->name, sizeof(su->name), "Customer %lld", signups + 1);
                    snprintf(su->email, sizeof(su->email), "customer%lld@example.org", signups + 1);
                    next(d, SC_EV_SIGNUP, ts + 90, card, 0, vid, ua, NULL)->signup = su;
                    signups++;
                    /* Flush now so the customer's own link exists for later visits. */
                    if (flush(d) != SC_OK)
                        goto out;
                    struct sc_link own;
                    if (su->customer_id && ncust < 512 &&
                        sc_store_link_by_code(d->s, su->referral_code, &own) == SC_OK) {
                        cust_links[ncust] = own.id;
                        cust_cards[ncust++] = own.card_id;
                    }
                }
                events += 4;
            }
        }
    }
    if (d->n && flush(d) != SC_OK)
        goto out;
    /* A few purchases, with commissions up each buyer's chain. */
    for (long long k = 1; k <= signups; k += 4) {
        struct sc_conversion cv = {0};
        cv.cfg = &d->cfg;
        snprintf(cv.order_id, sizeof(cv.order_id), "DEMO-%05lld", k);
        snprintf(cv.email, sizeof(cv.email), "customer%lld@example.org", k);
        cv.amount_cents = 9900 + 100 * (long long)rnd(d, 900);
        struct sc_event *e = next(d, SC_EV_CONVERT, (int64_t)time(NULL) - rnd(d, 86400 * 30), 0, 0,
                                  "", "sharecard-demo", NULL);
        e->conversion = &cv;
        e->visitor[0] = '\0';
        if (flush(d) != SC_OK)
            goto out;
    }
    printf("demo data: %d members in 2 teams, about %lld visits over %d days, %lld sign-ups\n", NP,
           events / 4, days, signups);
    printf("sign in as admin@example.com, wang.fang@example.cn (manager) or "
           "zhang.wei@example.cn (sales), password %s\n",
           DEMO_PASSWORD);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "sharecard: writing the demo data failed\n");
    sc_store_close(d->s);
    free(d);
    return rc;
}
