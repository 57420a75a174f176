/*
 * rfm.c — recency, frequency and monetary value per customer, scored 1–5
 * by quintile among customers with orders, and the segment names of the
 * widely used recency × frequency map (DESIGN.md §6).
 *
 * Quintiles by "how many are strictly worse" rather than by position in a
 * sorted list: equal values then always share a score and the result does
 * not depend on the order rows arrive in, at the price of uneven fifths
 * where many customers tie (most have one order day, and all of them score
 * f = 1).
 */
#include <stdlib.h>
#include <string.h>

#include "intel_int.h"
#include "sharecard/customers.h"

/*
 * The recency × frequency map, rows r = 1…5, columns f = 1…5:
 *
 *        f=1             f=2                 f=3                 f=4         f=5
 *  r=5   new             potential loyalist  potential loyalist  champions   champions
 *  r=4   promising       potential loyalist  potential loyalist  loyal       loyal
 *  r=3   about to sleep  about to sleep      need attention      loyal       loyal
 *  r=2   hibernating     hibernating         at risk             at risk     can't lose
 *  r=1   hibernating     hibernating         at risk             at risk     can't lose
 */
#define CH SC_RFM_CHAMPIONS
#define LO SC_RFM_LOYAL
#define PL SC_RFM_POTENTIAL_LOYALIST
#define NE SC_RFM_NEW
#define PR SC_RFM_PROMISING
#define NA SC_RFM_NEED_ATTENTION
#define AS SC_RFM_ABOUT_TO_SLEEP
#define AR SC_RFM_AT_RISK
#define CL SC_RFM_CANT_LOSE
#define HI SC_RFM_HIBERNATING
static const enum sc_rfm_segment rf_map[5][5] = {
    /* r=1 */ {HI, HI, AR, AR, CL},
    /* r=2 */ {HI, HI, AR, AR, CL},
    /* r=3 */ {AS, AS, NA, LO, LO},
    /* r=4 */ {PR, PL, PL, LO, LO},
    /* r=5 */ {NE, PL, PL, CH, CH},
};
#undef CH
#undef LO
#undef PL
#undef NE
#undef PR
#undef NA
#undef AS
#undef AR
#undef CL
#undef HI

static const char *const segment_names[SC_RFM_NSEGMENTS] = {
    "champions",      "loyal",   "potential loyalist", "new",         "promising", "need attention",
    "about to sleep", "at risk", "can't lose",         "hibernating",
};

enum sc_rfm_segment sc_rfm_segment_of(int r, int f)
{
    r = r < 1 ? 1 : r > 5 ? 5 : r;
    f = f < 1 ? 1 : f > 5 ? 5 : f;
    return rf_map[r - 1][f - 1];
}

const char *sc_rfm_segment_name(enum sc_rfm_segment s)
{
    return (unsigned)s < SC_RFM_NSEGMENTS ? segment_names[s] : "hibernating";
}

bool sc_rfm_segment_parse(const char *s, enum sc_rfm_segment *out)
{
    for (unsigned i = 0; s && i < SC_RFM_NSEGMENTS; i++)
        if (strcmp(s, segment_names[i]) == 0) {
            *out = (enum sc_rfm_segment)i;
            return true;
        }
    return false;
}

/* A value to rank and the row it belongs to; larger 'key' is better. */
struct ranked {
    int64_t key;
    size_t row;
};

static int ranked_cmp(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    return (a->key > b->key) - (a->key < b->key);
}

/* Scores 1 + ⌊5w/n⌋ into 'score' of each row, w = rows with a smaller key. */
static void quintiles(struct ranked *v, size_t n, struct sc_rfm_row *rows, int which)
{
    qsort(v, n, sizeof(*v), ranked_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].key == v[i].key)
            j++;
        int score = 1 + (int)(5 * i / n); /* i rows are strictly worse */
        for (size_t k = i; k < j; k++) {
            struct sc_rfm_row *r = &rows[v[k].row];
            *(which == 0 ? &r->r : which == 1 ? &r->f : &r->m) = score;
        }
        i = j;
    }
}

enum sc_err sc_rfm_compute(const struct sc_cust_order *orders, size_t norders, int32_t now,
                           struct sc_rfm_row **rows, size_t *nrows)
{
    enum sc_err err = SC_OK;
    struct sc_cust_order *o = NULL;
    struct sc_rfm_row *r = NULL;
    struct ranked *v = NULL;
    size_t n = 0, nr = 0;

    *rows = NULL;
    *nrows = 0;
    if ((err = sc_cust_orders_until(orders, norders, now, &o, &n)) != SC_OK || n == 0)
        goto out;
    r = calloc(n, sizeof(*r));
    v = malloc(n * sizeof(*v));
    if (!r || !v) {
        err = SC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n;) {
        struct sc_rfm_row *row = &r[nr++];
        size_t j = i;
        row->customer_id = o[i].customer_id;
        while (j < n && o[j].customer_id == o[i].customer_id) {
            if (j == i || o[j].day != o[j - 1].day)
                row->frequency++;
            row->monetary += o[j].amount;
            j++;
        }
        row->recency = now - o[j - 1].day;
        i = j;
    }
    for (size_t i = 0; i < nr; i++)
        v[i] = (struct ranked){-(int64_t)r[i].recency, i}; /* more recent is better */
    quintiles(v, nr, r, 0);
    for (size_t i = 0; i < nr; i++)
        v[i] = (struct ranked){r[i].frequency, i};
    quintiles(v, nr, r, 1);
    for (size_t i = 0; i < nr; i++)
        v[i] = (struct ranked){r[i].monetary, i};
    quintiles(v, nr, r, 2);
    for (size_t i = 0; i < nr; i++)
        r[i].segment = sc_rfm_segment_of(r[i].r, r[i].f);
    *rows = r;
    *nrows = nr;
    r = NULL;
out:
    free(o);
    free(r);
    free(v);
    return err;
}

void sc_rfm_free(struct sc_rfm_row *rows)
{
    free(rows);
}

void sc_rfm_summarise(const struct sc_rfm_row *rows, size_t nrows,
                      struct sc_rfm_segment_stat stats[SC_RFM_NSEGMENTS])
{
    memset(stats, 0, SC_RFM_NSEGMENTS * sizeof(*stats));
    for (size_t i = 0; i < nrows; i++) {
        unsigned s = (unsigned)rows[i].segment;
        if (s < SC_RFM_NSEGMENTS) {
            stats[s].customers++;
            stats[s].revenue += rows[i].monetary;
        }
    }
}
