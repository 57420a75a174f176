/*
 * test_i18n.c — the signed-in pages' translations: the table is sorted and
 * unique (lookups use bsearch), every translation keeps its English's printf
 * conversions in order (sc_ui_htmlf formats with it), and the writers translate
 * text and the title/placeholder/aria-label values of our markup, nothing
 * else, and only when the page's language is Chinese.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/buf.h"
#include "sharecard/card.h"

struct tr_entry {
    const char *en, *zh;
};
extern const struct tr_entry sc_tr_table[];
extern const size_t sc_tr_count;
void sc_tr_set(enum sc_lang l);
const char *sc_tr(const char *en);
void sc_ui_html(struct sc_buf *b, const char *html);
void sc_ui_htmlf(struct sc_buf *b, const char *fmt, ...);

/* The printf conversions of 's', as one string ("%s%lld…"). */
static void conversions(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = s; *p; p++) {
        if (*p != '%')
            continue;
        const char *q = p + 1;
        while (*q && strchr("-+ #0123456789.lzh", *q))
            q++;
        for (const char *c = p; c <= q && *c && k + 1 < n; c++)
            out[k++] = *c;
        p = *q ? q : q - 1;
    }
    out[k] = '\0';
}

static void test_table_sorted_unique_and_faithful(void **state)
{
    (void)state;
    assert_true(sc_tr_count > 100);
    for (size_t i = 0; i < sc_tr_count; i++) {
        if (i)
            assert_true(strcmp(sc_tr_table[i - 1].en, sc_tr_table[i].en) < 0);
        char a[64], b[64];
        conversions(sc_tr_table[i].en, a, sizeof(a));
        conversions(sc_tr_table[i].zh, b, sizeof(b));
        if (strcmp(a, b) != 0)
            fail_msg("'%s' and its translation differ in conversions: %s vs %s", sc_tr_table[i].en,
                     a, b);
    }
}

static void test_tr_follows_the_language(void **state)
{
    (void)state;
    sc_tr_set(SC_LANG_EN);
    assert_string_equal(sc_tr("Leaderboard"), "Leaderboard");
    sc_tr_set(SC_LANG_ZH);
    assert_string_equal(sc_tr("Leaderboard"), "排行榜");
    assert_string_equal(sc_tr("Not in the table at all"), "Not in the table at all");
    sc_tr_set(SC_LANG_EN);
}

static void test_markup_text_and_labels_are_translated(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_tr_set(SC_LANG_ZH);
    sc_ui_html(&b, "<h2>Leaderboard</h2><p class=\"hint\" title=\"Share tree\"> Click a heading to "
                   "sort. </p><input placeholder=\"reason\" name=\"Leaderboard\">");
    assert_string_equal(b.data, "<h2>排行榜</h2><p class=\"hint\" title=\"分享树\"> 点击表头排序。 "
                                "</p><input placeholder=\"原因\" name=\"Leaderboard\">");
    sc_buf_reset(&b);
    sc_ui_htmlf(&b, "<div>%+.0f%% vs previous</div><b>%s</b>", 12.0, "Leaderboard");
    /* The format is translated; the arguments are data and stay as they are. */
    assert_string_equal(b.data, "<div>较上期 +12%</div><b>Leaderboard</b>");
    sc_tr_set(SC_LANG_EN);
    sc_buf_reset(&b);
    sc_ui_html(&b, "<h2>Leaderboard</h2>");
    assert_string_equal(b.data, "<h2>Leaderboard</h2>");
    sc_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sorted_unique_and_faithful),
        cmocka_unit_test(test_tr_follows_the_language),
        cmocka_unit_test(test_markup_text_and_labels_are_translated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
