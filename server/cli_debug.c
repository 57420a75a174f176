/*
 * cli_debug.c — `sharecard debug sql NAME`: a named statement of the store
 * exactly as this store's database is given it (store/q_upkeep.c,
 * sc_store_sql_text), so that a plan is read from the text that runs, not
 * from a copy kept beside a test (test_outbox_prune_plan).
 */
#include <stdio.h>

#include "sharecard/buf.h"
#include "sharecard/err.h"
#include "sharecard/store.h"

#include "cli_int.h"

int sc_cli_debug_sql(const struct cli_args *a)
{
    if (a->npos != 1)
        return sc_cli_usage_error(a->cmd->usage, "which statement? give one NAME");
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    enum sc_err e = sc_store_sql_text(s, a->pos[0], &b);
    int rc = 0;
    if (e == SC_ENOTFOUND)
        rc = sc_cli_fail("there is no statement named '%s'", a->pos[0]);
    else if (e != SC_OK)
        rc = sc_cli_fail("could not read the statement: %s", sc_err_str(e));
    else
        printf("%s\n", b.data);
    sc_buf_cleanup(&b);
    sc_store_close(s);
    return rc;
}
