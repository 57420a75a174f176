/*
 * q_demo.c — what `sharecard demo` (server/demo.c) needs beyond the real
 * write paths, once for both backends: the members and links it wrote at
 * the wall-clock time (a member, their card's QR link) dated back to the
 * start of the history it makes, so no link is younger than its first scan.
 */
#include <stddef.h>

#include "store_int.h"

enum sc_err sc_store_demo_backdate(struct sc_store *s, int64_t since, int64_t at)
{
    static struct sc_sql q_members =
        SC_SQL("UPDATE members SET created_at = ? WHERE created_at >= ?");
    static struct sc_sql q_links = SC_SQL("UPDATE links SET created_at = ? WHERE created_at >= ?");
    struct sc_sql *qs[] = {&q_members, &q_links};
    struct sc_q r;
    if (sc_q_write(&r, s, true))
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]) && r.e == SC_OK; i++)
            if (sc_q_prepare(&r, qs[i])) {
                sc_sql_int(r.st, 1, at);
                sc_sql_int(r.st, 2, since);
                sc_q_exec(&r, false);
            }
    return sc_q_end(&r);
}
