/*
 * q_lead_watch.c — what the server's hot-lead watch reads besides the
 * leads' events (issue 15, bounded memory): the leads whose last record in
 * lead_hot says hot.  The watch keeps in memory only the leads that are hot
 * now or were hot at their last record, the only ones whose record can
 * change, instead of every lead of the day (which grew with the visitors:
 * hundreds of megabytes under a burst of new visitors).
 */
#include "store_int.h"

enum sc_err sc_store_leads_hot_now(struct sc_store *s,
                                   int (*fn)(int64_t visitor_id, int64_t card_id, void *ctx),
                                   void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT h.visitor_id, h.card_id FROM lead_hot h WHERE h.hot = 1 AND NOT EXISTS "
               "(SELECT 1 FROM lead_hot n WHERE n.visitor_id = h.visitor_id AND "
               "n.card_id = h.card_id AND n.id > h.id) ORDER BY h.visitor_id, h.card_id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    while (sc_q_next(&r))
        if (fn(sc_sql_col_int(r.st, 0), sc_sql_col_int(r.st, 1), ctx))
            break;
    return sc_q_end(&r);
}
