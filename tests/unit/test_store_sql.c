/*
 * test_store_sql.c — the statement layer's text rewriting (store/sql.c):
 * one SQL text becomes each backend's — '?' and '?N' as PostgreSQL's $n
 * but never inside a string literal or a quoted name, the named fragments
 * where the dialects differ, an unknown fragment refused — and statement
 * slots are handed out once each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../store/sql.h"

/* The text of 'text' (and optional PostgreSQL text 'pg') for 'd'; '*np' its parameter count. */
static const char *expand(const char *text, const char *pg, enum sc_dialect d, int *np,
                          enum sc_err *e)
{
    static struct sc_buf out;
    static int ready;
    if (!ready) {
        sc_buf_init(&out, 0);
        ready = 1;
    }
    struct sc_sql q = SC_SQL2(text, pg);
    *e = sc_sql_expand(&q, d, &out, np);
    return out.data;
}

static void test_placeholders(void **state)
{
    (void)state;
    int np = 0;
    enum sc_err e;
    const char *t = "SELECT a FROM t WHERE b = ? AND c = ? AND d = '?' AND \"e?\" = ?";
    assert_string_equal(expand(t, NULL, SC_DIALECT_PG, &np, &e),
                        "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = '?' AND \"e?\" = $3");
    assert_int_equal(e, SC_OK);
    assert_int_equal(np, 3);
    /* SQLite takes the text as written. */
    assert_string_equal(expand(t, NULL, SC_DIALECT_SQLITE, &np, &e), t);
    assert_int_equal(np, 3);

    /* Numbered: repeated, out of order; the count is the highest. */
    assert_string_equal(
        expand("x = ?2 OR y = ?1 OR z = ?2 OR w = ?12", NULL, SC_DIALECT_PG, &np, &e),
        "x = $2 OR y = $1 OR z = $2 OR w = $12");
    assert_int_equal(np, 12);

    /* A quote doubled inside a literal stays inside it. */
    assert_string_equal(expand("a = 'it''s ?' AND b = ?", NULL, SC_DIALECT_PG, &np, &e),
                        "a = 'it''s ?' AND b = $1");
    assert_int_equal(np, 1);
}

static void test_fragments(void **state)
{
    (void)state;
    int np = 0;
    enum sc_err e;
    const char *t = "SELECT {distinct}v) FROM u WHERE d = ? ORDER BY n{collate_c}{for_update}";
    assert_string_equal(expand(t, NULL, SC_DIALECT_SQLITE, &np, &e),
                        "SELECT sc_distinct(v) FROM u WHERE d = ? ORDER BY n");
    assert_string_equal(expand(t, NULL, SC_DIALECT_PG, &np, &e),
                        "SELECT count(DISTINCT v) FROM u WHERE d = $1 ORDER BY n COLLATE \"C\" "
                        "FOR UPDATE");
    /* Braces inside a literal are text. */
    assert_string_equal(expand("a = '{distinct}'", NULL, SC_DIALECT_PG, &np, &e),
                        "a = '{distinct}'");
    /* A typo in our own SQL is refused rather than sent. */
    expand("SELECT {distinkt}v)", NULL, SC_DIALECT_PG, &np, &e);
    assert_int_equal(e, SC_EINVAL);
}

static void test_own_text(void **state)
{
    (void)state;
    int np = 0;
    enum sc_err e;
    /* A statement with PostgreSQL's own text: each backend gets its own. */
    assert_string_equal(
        expand("SELECT ?1 / 2", "SELECT CAST(?1 AS BIGINT) / 2", SC_DIALECT_PG, &np, &e),
        "SELECT CAST($1 AS BIGINT) / 2");
    assert_string_equal(
        expand("SELECT ?1 / 2", "SELECT CAST(?1 AS BIGINT) / 2", SC_DIALECT_SQLITE, &np, &e),
        "SELECT ?1 / 2");
}

static void test_slots(void **state)
{
    (void)state;
    static struct sc_sql a = SC_SQL("SELECT 1"), b = SC_SQL("SELECT 2");
    int sa = sc_sql_slot(&a), sb = sc_sql_slot(&b);
    assert_true(sa >= 0 && sb >= 0);
    assert_int_not_equal(sa, sb);
    assert_int_equal(sc_sql_slot(&a), sa); /* the same statement keeps its slot */
    assert_int_equal(sc_sql_slot(&b), sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_own_text),
        cmocka_unit_test(test_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
