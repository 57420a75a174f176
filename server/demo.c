/*
 * demo.c — `sharecard demo`: a living dataset for a first look.  Teams,
 * members with cards, and 180 days of visits with a daily and weekly rhythm
 * — scans of QR codes, opens of links shared through WeChat, SMS, e-mail
 * and the rest, views, saves, contact taps, time on page, re-shares,
 * link-preview bots, sign-ups of people with names and phones that chain two
 * levels through customers' own links, purchases (some repeated) spread from
 * each buyer's sign-up to today, NPS answers to a third of the orders (a few
 * detractors with their comment), birthdays for some — all written through the store's
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
#define SHARES_PER    64
#define AGENTS        8
#define RECENT        24
#define MAX_CUSTOMERS 8192
#define MAX_ORDERS    (4 * MAX_CUSTOMERS) /* each buyer orders up to 4 times */
#define DAY_VISITS    1024                /* a day's visits to all cards (about 300 at most) */
#define VISIT_SPAN    120                 /* a visit's events span its first 90 s (the sign-up's) */

/* Visitors' browsers, phones first (most cards are scanned or opened on one). */
static const char *const agents[] = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; V2309A; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 "
    "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/5G Language/zh_CN",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
};

/* One visit of a day: when, and to whose card (people[person]). */
struct visit {
    int64_t ts;
    int person;
};

struct demo {
    struct sc_store *s;
    struct sc_referral_config cfg;
    struct sc_event ev[BATCH];
    struct sc_event_row rows[BATCH];
    struct sc_signup signups[BATCH];
    struct sc_ua_info agent[AGENTS]; /* what sc_ua_families() makes of agents[i] */
    size_t n;
    uint64_t rnd;
    long long visitors;
    struct buyer *customers; /* MAX_CUSTOMERS */
    size_t ncustomers;
    /* Orders planned when their buyer signs up, written when the day's clock reaches them
     * (so rewards are stored in time order, as the ledger lists them): plan[first..nplan)
     * in the order of their times. */
    struct order_plan *plan; /* MAX_ORDERS */
    size_t first, nplan;
    long long orders;
    struct visit day[DAY_VISITS]; /* one day's visits, in time order */
};

/* Orders visits by time, then by card, so the order is the same on every run. */
static int visit_cmp(const void *a, const void *b)
{
    const struct visit *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->person > y->person) - (x->person < y->person);
}

/* A customer who may buy: where to send the order and since when. */
struct buyer {
    char email[255];
    int64_t since, customer_id;
};

/* An order to come: when it is made, by which buyer (customers[buyer]). */
struct order_plan {
    int64_t at;
    size_t buyer;
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
    size_t a = 0;
    while (a + 1 < AGENTS && agents[a] != ua)
        a++;
    d->rows[d->n] = (struct sc_event_row){e, bot, &d->agent[a], SC_OK};
    d->n++;
    return e;
}

/* Mostly phones; a link opened from e-mail or LinkedIn is often on a computer. */
static const char *visitor_agent(struct demo *d)
{
    uint32_t r = rnd(d, 100);
    return r < 84 ? agents[r % 5] : r < 88 ? agents[5] : agents[6 + r % 2];
}

struct person {
    const char *name, *email, *title, *team, *phone, *wechat, *website, *bio, *theme;
    enum sc_role role;
    int weight; /* how busy their card is */
};

/* What a person got in the store: card, QR link, and the links their card
 * was shared through (opens come through these). */
struct seat {
    int64_t card, link, member;
    int64_t shares[SHARES_PER];
    int64_t share_at[SHARES_PER]; /* when each was shared: no visit comes through it before */
    int nshares;
    /* Recent visitors, some of whom come back (and sign up more often). */
    char back[RECENT][SC_VID_MAX];
    const char *back_ua[RECENT];
    bool back_signed[RECENT];
    unsigned nback;
};

/* The people who sign up: varied names in both languages, each with an
 * e-mail and a mobile (the pinyin or the name itself makes the address). */
static const char *const zh_family[][2] = {
    {"王", "wang"}, {"李", "li"},    {"张", "zhang"}, {"刘", "liu"},  {"陈", "chen"},
    {"杨", "yang"}, {"黄", "huang"}, {"赵", "zhao"},  {"周", "zhou"}, {"吴", "wu"},
    {"徐", "xu"},   {"孙", "sun"},   {"马", "ma"},    {"朱", "zhu"},  {"胡", "hu"},
    {"郭", "guo"},  {"何", "he"},    {"林", "lin"},   {"罗", "luo"},  {"高", "gao"},
};
static const char *const zh_given[][2] = {
    {"秀英", "xiuying"}, {"敏", "min"},      {"静", "jing"},      {"丽", "li"},
    {"强", "qiang"},     {"磊", "lei"},      {"军", "jun"},       {"洋", "yang"},
    {"艳", "yan"},       {"勇", "yong"},     {"杰", "jie"},       {"娟", "juan"},
    {"涛", "tao"},       {"明", "ming"},     {"超", "chao"},      {"霞", "xia"},
    {"平", "ping"},      {"刚", "gang"},     {"桂英", "guiying"}, {"子涵", "zihan"},
    {"浩然", "haoran"},  {"雨桐", "yutong"}, {"思远", "siyuan"},  {"欣怡", "xinyi"},
};
static const char *const en_first[] = {
    "Olivia", "Liam",  "Emma",   "Noah",  "Amelia", "Oliver", "Sophia", "James", "Isabella",
    "Lucas",  "Mia",   "Ethan",  "Chloe", "Daniel", "Grace",  "Henry",  "Zoe",   "Samuel",
    "Priya",  "Arjun", "Fatima", "Omar",  "Hana",   "Kenji",  "Sofia",  "Mateo",
};
static const char *const en_last[] = {
    "Smith", "Johnson", "Brown",  "Taylor", "Wilson", "Martin", "Clarke", "Walker",
    "Patel", "Nguyen",  "Kim",    "Garcia", "Rossi",  "Müller", "Tanaka", "O'Brien",
    "Lee",   "Chen",    "Murphy", "Singh",  "Lopez",  "Evans",
};
static const char *const mail_hosts[] = {"example.com", "example.org", "example.net", "example.cn"};

/* A new customer's name, e-mail and phone; 'n' keeps e-mails unique. */
static void person_make(struct demo *d, long long n, struct sc_signup *su)
{
    if (rnd(d, 100) < 60) {
        const char *const *f = zh_family[rnd(d, sizeof(zh_family) / sizeof(zh_family[0]))];
        const char *const *g = zh_given[rnd(d, sizeof(zh_given) / sizeof(zh_given[0]))];
        snprintf(su->name, sizeof(su->name), "%s%s", f[0], g[0]);
        snprintf(su->email, sizeof(su->email), "%s.%s%lld@%s", g[1], f[1], n,
                 mail_hosts[rnd(d, 4)]);
        static const char *const prefix[] = {"138", "139", "135", "186", "159", "177"};
        snprintf(su->phone, sizeof(su->phone), "+86%s%08u", prefix[rnd(d, 6)],
                 10000000u + rnd(d, 89999999u));
    } else {
        const char *f = en_first[rnd(d, sizeof(en_first) / sizeof(en_first[0]))];
        const char *l = en_last[rnd(d, sizeof(en_last) / sizeof(en_last[0]))];
        snprintf(su->name, sizeof(su->name), "%s %s", f, l);
        char local[64];
        snprintf(local, sizeof(local), "%c.%s%lld", f[0] | 0x20, l, n);
        for (char *p = local; *p; p++)
            if ((unsigned char)*p >= 0x80 || *p == '\'')
                *p = 'x';
            else if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p | 0x20);
        snprintf(su->email, sizeof(su->email), "%s@%s", local, mail_hosts[rnd(d, 3)]);
        if (rnd(d, 100) < 70) /* not everyone leaves a phone */
            snprintf(su->phone, sizeof(su->phone), "+4477%08u", 10000000u + rnd(d, 89999999u));
    }
    if (rnd(d, 100) < 45) { /* the optional birthday, some with the year */
        su->birth_month = 1 + (int)rnd(d, 12);
        su->birth_day = 1 + (int)rnd(d, 28);
        su->birth_year = rnd(d, 2) ? 1965 + (int)rnd(d, 38) : 0;
    }
}

/* What some customers write when they answer the survey: praise, or why they would not
 * recommend (the dashboard lists detractors with their comment). */
static const char *const praise[] = {"", "", "服务很专业，响应很快。", "Quick and helpful.",
                                     "Great follow-up after the order."};
static const char *const complaints[] = {"送货太慢了。", "Delivery took two weeks.",
                                         "价格比预期高。", "Nobody called back about the invoice.",
                                         "安装说明不清楚。"};

/*
 * A customer answers the NPS survey the store made with their order, a day
 * to a week after it (never after 'now'): mostly promoters, some passives,
 * a few detractors, as real answers come (about a third of orders).
 */
static void survey_answer(struct demo *d, int64_t customer_id, int64_t ordered_at, int64_t now)
{
    if (!customer_id || rnd(d, 100) >= 35)
        return;
    /* A day to a week later, between 09:00 and 22:00 Beijing time (UTC+8). */
    int64_t at =
        (ordered_at / 86400 + 1 + (int64_t)rnd(d, 6)) * 86400 + 3600 + (int64_t)rnd(d, 13 * 3600);
    if (at > now)
        return;
    char token[SC_SURVEY_TOKEN_MAX + 1];
    if (sc_store_survey_open(d->s, customer_id, at, token) != SC_OK)
        return;
    uint32_t r = rnd(d, 100);
    int score = r < 55 ? 9 + (int)rnd(d, 2) : r < 82 ? 7 + (int)rnd(d, 2) : (int)rnd(d, 7);
    const char *comment = score <= 6 ? complaints[rnd(d, 5)] : praise[rnd(d, 5)];
    sc_store_survey_answer(d->s, token, score, comment, at);
}

/*
 * Purchases: about a third of the customers buy, some again, at times spread
 * from their sign-up to today, so each period has its own revenue.  Planned
 * when buyer 'k' signs up, kept in time order among those still to come.
 */
static void plan_orders(struct demo *d, size_t k, int64_t now)
{
    if (rnd(d, 100) >= 35)
        return;
    const struct buyer *b = &d->customers[k];
    int times = 1 + (rnd(d, 100) < 40) + (rnd(d, 100) < 20) + (rnd(d, 100) < 10);
    for (int t = 0; t < times && d->nplan < MAX_ORDERS; t++) {
        int64_t span = now - b->since;
        if (span < 3600)
            break;
        int64_t at = b->since + 3600 + (int64_t)rnd(d, (uint32_t)(span - 3600));
        size_t j = d->nplan++;
        while (j > d->first && d->plan[j - 1].at > at) { /* insertion: the rest are sorted */
            d->plan[j] = d->plan[j - 1];
            j--;
        }
        d->plan[j] = (struct order_plan){at, k};
    }
}

/* Writes the planned orders made up to 'until', each posted when it was made, as a shop's
 * webhook posts it (its commissions carry that time), and some answered surveys. */
static enum sc_err orders_due(struct demo *d, int64_t until, int64_t now)
{
    while (d->first < d->nplan && d->plan[d->first].at <= until) {
        const struct order_plan *p = &d->plan[d->first++];
        const struct buyer *b = &d->customers[p->buyer];
        struct sc_conversion cv = {0};
        cv.cfg = &d->cfg;
        snprintf(cv.order_id, sizeof(cv.order_id), "DEMO-%05lld", ++d->orders);
        snprintf(cv.email, sizeof(cv.email), "%s", b->email);
        cv.customer_id = b->customer_id;
        cv.amount_cents = 9900 + 100 * (long long)rnd(d, 900);
        cv.ordered_at = p->at;
        struct sc_event *e = next(d, SC_EV_CONVERT, p->at, 0, 0, "", "sharecard-demo", NULL);
        e->conversion = &cv;
        e->visitor[0] = '\0';
        enum sc_err err = flush(d);
        if (err != SC_OK)
            return err;
        survey_answer(d, b->customer_id, cv.ordered_at, now);
    }
    return SC_OK;
}

/* Channels people share a card through, most often WeChat. */
static enum sc_channel share_channel(struct demo *d)
{
    uint32_t r = rnd(d, 100);
    return r < 45   ? SC_CH_WECHAT
           : r < 62 ? SC_CH_COPY
           : r < 72 ? SC_CH_SMS
           : r < 82 ? SC_CH_EMAIL
           : r < 91 ? SC_CH_LINKEDIN
                    : SC_CH_WHATSAPP;
}

/* Records a share of 'link' (on 'card') and returns the new link's id, 0 on failure. */
static int64_t share(struct demo *d, int64_t ts, int64_t card, int64_t link, const char *vid,
                     const char *ua)
{
    struct sc_event *sh = next(d, SC_EV_SHARE, ts, card, link, vid, ua, NULL);
    sc_slug_random(sh->new_code, SC_CODE_LEN);
    sh->new_channel = share_channel(d);
    sh->new_parent = link;
    char code[SC_CODE_LEN + 1];
    memcpy(code, sh->new_code, sizeof(code));
    /* The chat app unfurls the new link: a bot, never counted. */
    next(d, SC_EV_OPEN, ts + 1, card, 0, "", "facebookexternalhit/1.1", "preview");
    struct sc_link l;
    if (flush(d) != SC_OK || sc_store_link_by_code(d->s, code, &l) != SC_OK)
        return 0;
    return l.id;
}

int sc_demo_main(const char *db, int days)
{
    static struct person people[] = {
        {"王芳", "wang.fang@example.cn", "区域经理", "华北", "+86 139 1062 4417", "wangfang_bj",
         "https://example.cn/team/wangfang", "负责华北区大客户与渠道合作，十年企业服务经验。",
         "#b4232c", SC_ROLE_MANAGER, 3},
        {"张伟", "zhang.wei@example.cn", "销售总监", "华北", "+86 138 0013 5520", "zw_sales88",
         "https://example.cn/zhangwei", "帮助制造企业把销售线索变成订单。周末也回微信。", "#0b6e4f",
         SC_ROLE_SALES, 10},
        {"李娜", "li.na@example.cn", "客户经理", "华北", "+86 186 1188 2093", "lina_service", NULL,
         "客户成功与续约，擅长零售和连锁门店。", "#6d28d9", SC_ROLE_SALES, 7},
        {"刘洋", "liu.yang@example.cn", "销售代表", "华北", "+86 135 2201 7764", "liuyang-tj", NULL,
         NULL, "#1d4ed8", SC_ROLE_SALES, 4},
        {"Grace Hopper", "grace@example.com", "Regional Manager", "South", "+44 7700 900431", NULL,
         "https://example.com/grace", "Runs the South team. Ask me about rollouts.", "#9a3412",
         SC_ROLE_MANAGER, 3},
        {"Ada Lovelace", "ada@example.com", "Head of Sales", "South", "+44 7700 900118", "ada_l",
         "https://example.com/ada",
         "I help finance teams automate reporting. Happy to show a 15-minute demo.", "#be185d",
         SC_ROLE_SALES, 8},
        {"Alan Turing", "alan@example.com", "Account Executive", "South", "+44 7700 900772", NULL,
         "https://example.com/alan", "Public sector and universities.", "#0f766e", SC_ROLE_SALES,
         5},
        {"陈静", "chen.jing@example.cn", "销售代表", "South", "+86 159 0215 3308", "chenjing_sh",
         NULL, "上海、杭州地区的新客户开发。", "#a16207", SC_ROLE_SALES, 2},
    };
    enum { NP = sizeof(people) / sizeof(people[0]) };
    static struct seat seat[NP];
    struct demo *d = calloc(1, sizeof(*d));
    if (!d)
        return 1;
    d->customers = calloc(MAX_CUSTOMERS, sizeof(*d->customers)); /* owned: freed at out */
    d->plan = calloc(MAX_ORDERS, sizeof(*d->plan));              /* owned: freed at out */
    if (!d->customers || !d->plan) {
        free(d->plan);
        free(d);
        return 1;
    }
    char err[512];
    if (sc_store_open(db, &d->s, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "sharecard: cannot open the store %s: %s\n", db, err);
        free(d->customers);
        free(d);
        return 1;
    }
    int rc = 1;
    int64_t count = 0;
    int64_t started = (int64_t)time(NULL); /* what is written from now on is dated back */
    sc_store_member_count(d->s, &count);
    if (count > 1) {
        fprintf(stderr,
                "sharecard: %s already holds members; demo data goes into a fresh store "
                "only (try --db demo.db)\n",
                db);
        goto out;
    }
    sc_referral_config_defaults(&d->cfg);
    for (size_t a = 0; a < AGENTS; a++)
        sc_ua_families(agents[a], &d->agent[a]);
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
        bool zh = people[i].email[strlen(people[i].email) - 1] == 'n';
        struct sc_card p = {0};
        p.name = m.name;
        p.title = (char *)(uintptr_t)people[i].title;
        p.company = (char *)(uintptr_t)(zh ? "北京示例科技有限公司" : "Analytical Engines Ltd");
        p.phone = (char *)(uintptr_t)people[i].phone;
        p.phone_work = (char *)(uintptr_t)(zh ? "+86 10 6552 8800" : "+44 20 7946 0958");
        p.email = m.email;
        p.wechat = (char *)(uintptr_t)people[i].wechat;
        p.website = (char *)(uintptr_t)people[i].website;
        p.bio = (char *)(uintptr_t)people[i].bio;
        p.address = (char *)(uintptr_t)(zh ? "北京市朝阳区建国路 88 号" : "1 Engine Row, London");
        snprintf(p.theme, sizeof(p.theme), "%s", people[i].theme);
        p.lang = zh ? SC_LANG_ZH : SC_LANG_EN;
        if (sc_store_member_add(d->s, &m, hash, &p, &out) != SC_OK)
            goto out;
        struct sc_card c;
        struct sc_link l;
        if (sc_store_card_by_slug(d->s, out.slug, &c) != SC_OK ||
            sc_store_link_by_code(d->s, c.qr_code, &l) != SC_OK)
            goto out;
        seat[i].card = c.id;
        seat[i].link = l.id;
        seat[i].member = out.id;
        sc_card_cleanup(&c);
    }

    /* Customers' own links, for visits that come through them (two-level
     * chains), with the link each one shared onwards, if any. */
    int64_t cust_links[512], cust_cards[512], cust_shares[512];
    int64_t cust_at[512], cust_share_at[512]; /* when the link, and its share, came to be */
    size_t ncust = 0;
    long long signups = 0, events = 0;
    int64_t now = (int64_t)time(NULL);
    int64_t today = now / 86400;
    /* On the first day each member sends their card out through two channels. */
    for (int i = 0; i < NP; i++)
        for (int k = 0; k < 2; k++) {
            int64_t at = (today - days + 1) * 86400 + 60 * (1 + k);
            int64_t id = share(d, at, seat[i].card, seat[i].link, "c:000000000000owner", agents[0]);
            if (id) {
                seat[i].share_at[seat[i].nshares] = at;
                seat[i].shares[seat[i].nshares++] = id;
            }
        }
    for (int day = days - 1; day >= 0; day--) {
        int64_t dayno = today - day;
        int dow = (int)((dayno + 4) % 7); /* 0 = Sunday */
        int rhythm = dow == 0 || dow == 6 ? 4 : 10;
        int growth = 10 + (days - day) * 10 / days;
        /* The day's visits to every card, in the order of their times, and none yet to
         * come today: so sign-ups are stored in time order (the dashboard lists the
         * latest by id) and nothing happens in the future. */
        size_t nv = 0;
        for (int i = 0; i < NP; i++) {
            int visits = people[i].weight * rhythm * growth / 60 + (int)rnd(d, 3);
            for (int v = 0; v < visits && nv < DAY_VISITS; v++) {
                /* Visits cluster in working hours, Beijing time (UTC+8). */
                int hour = 1 + (int)rnd(d, 10);
                int64_t ts = dayno * 86400 + hour * 3600 + rnd(d, 3600);
                if (ts + VISIT_SPAN <= now)
                    d->day[nv++] = (struct visit){ts, i};
            }
        }
        qsort(d->day, nv, sizeof(d->day[0]), visit_cmp);
        for (size_t dv = 0; dv < nv; dv++) {
            int i = d->day[dv].person;
            int64_t ts = d->day[dv].ts;
            if (orders_due(d, ts + 90, now) != SC_OK) /* up to this visit's sign-up */
                goto out;
            if (d->n + 12 >= BATCH) {
                if (flush(d) != SC_OK)
                    goto out;
            }
            char vid[SC_VID_MAX];
            const char *ua;
            unsigned slot;
            bool again = seat[i].nback > 0 && rnd(d, 100) < 22;
            if (again) {
                slot = rnd(d, seat[i].nback < RECENT ? seat[i].nback : RECENT);
                memcpy(vid, seat[i].back[slot], sizeof(vid));
                ua = seat[i].back_ua[slot];
            } else {
                snprintf(vid, sizeof(vid), "c:%012llx%020llu", (long long)ts * 1000,
                         (unsigned long long)++d->visitors);
                ua = visitor_agent(d);
                slot = seat[i].nback++ % RECENT;
                memcpy(seat[i].back[slot], vid, sizeof(vid));
                seat[i].back_ua[slot] = ua;
                seat[i].back_signed[slot] = false;
            }
            /* Where the visit comes from: a QR code is scanned, a shared
             * link is opened (in the channel it was shared through). */
            int64_t card = seat[i].card, link = seat[i].link;
            bool onward = false; /* a share from this visit is customer k's onward link */
            size_t k = 0;
            bool scan = rnd(d, 100) < 45;
            /* Only through links that exist by the visit's time. */
            bool via_customer = ncust > 0 && rnd(d, 100) < 12;
            if (via_customer) {
                k = rnd(d, (uint32_t)ncust);
                via_customer = cust_at[k] <= ts;
            }
            if (via_customer) {
                card = cust_cards[k];
                link = cust_links[k];
                if (!scan && cust_shares[k] && cust_share_at[k] <= ts)
                    link = cust_shares[k];
                else
                    scan = true;
                onward = !cust_shares[k];
            } else if (!scan && seat[i].nshares > 0) {
                uint32_t j = rnd(d, (uint32_t)seat[i].nshares);
                if (seat[i].share_at[j] <= ts)
                    link = seat[i].shares[j];
                else
                    scan = true;
            } else {
                scan = true;
            }
            next(d, scan ? SC_EV_SCAN : SC_EV_OPEN, ts, card, link, vid, ua, NULL);
            next(d, SC_EV_VIEW, ts + 2, card, link, vid, ua, NULL);
            if (rnd(d, 100) < 25)
                next(d, SC_EV_SAVE, ts + 20, card, link, vid, ua, NULL);
            if (rnd(d, 100) < 20)
                next(d, SC_EV_CLICK, ts + 25, card, link, vid, ua, NULL)->action =
                    (enum sc_click_action)(1 + rnd(d, 4));
            next(d, SC_EV_DWELL, ts + 60, card, link, vid, ua, NULL)->value =
                (int32_t)(5 + rnd(d, 120));
            if (rnd(d, 100) < 6) {
                int64_t id = share(d, ts + 40, card, link, vid, ua);
                if (id && onward) {
                    cust_shares[k] = id;
                    cust_share_at[k] = ts + 40;
                } else if (id && card == seat[i].card && seat[i].nshares < SHARES_PER) {
                    seat[i].share_at[seat[i].nshares] = ts + 40;
                    seat[i].shares[seat[i].nshares++] = id;
                }
            }
            /* Sign-ups: more often from people who came back, or came
             * through someone's recommendation, than from a first scan. */
            uint32_t odds = again ? 9 : link != seat[i].link ? 7 : 4;
            if (!seat[i].back_signed[slot] && rnd(d, 100) < odds) {
                seat[i].back_signed[slot] = true;
                struct sc_signup *su = &d->signups[d->n];
                memset(su, 0, sizeof(*su));
                su->cfg = &d->cfg;
                person_make(d, signups + 1, su);
                next(d, SC_EV_SIGNUP, ts + 90, card, 0, vid, ua, NULL)->signup = su;
                signups++;
                /* Flush now so the customer's own link exists for later visits. */
                if (flush(d) != SC_OK)
                    goto out;
                if (su->customer_id && d->ncustomers < MAX_CUSTOMERS) {
                    struct buyer *b = &d->customers[d->ncustomers++];
                    snprintf(b->email, sizeof(b->email), "%s", su->email);
                    b->since = ts + 90;
                    b->customer_id = su->customer_id;
                    plan_orders(d, d->ncustomers - 1, now);
                }
                struct sc_link own;
                if (su->customer_id && ncust < 512 &&
                    sc_store_link_by_code(d->s, su->referral_code, &own) == SC_OK) {
                    cust_links[ncust] = own.id;
                    cust_shares[ncust] = 0;
                    cust_at[ncust] = ts + 90; /* made with the sign-up */
                    cust_cards[ncust++] = own.card_id;
                }
            }
            events += 4;
        }
    }
    if (orders_due(d, now, now) != SC_OK || (d->n && flush(d) != SC_OK))
        goto out;
    /* The members and their QR links were written just now: dated at the history's start. */
    if (sc_store_demo_backdate(d->s, started, (today - days + 1) * 86400) != SC_OK)
        goto out;
    printf("demo data: %d members in 2 teams, about %lld visits over %d days, %lld sign-ups, "
           "%lld purchases\n",
           NP, events / 4, days, signups, d->orders);
    printf("sign in as admin@example.com, wang.fang@example.cn (manager) or "
           "zhang.wei@example.cn (sales), password %s\n",
           DEMO_PASSWORD);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "sharecard: writing the demo data failed\n");
    sc_store_close(d->s);
    free(d->customers);
    free(d->plan);
    free(d);
    return rc;
}
