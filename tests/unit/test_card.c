/*
 * test_card.c — card rules: validation, languages, slugs and codes, vCards
 * (escaping and folding) and QR images.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/card.h"
#include "sharecard/escape.h"

static void test_validate(void **state)
{
    struct sc_card c = {0};
    const char *why = NULL;
    c.name = "Ada";
    assert_int_equal(sc_card_validate(&c, &why), SC_OK);
    static const struct {
        const char *field, *value, *needle;
    } bad[] = {
        {"name", "", "name is required"},
        {"name", "   ", "name is required"},
        {"email", "no-at-sign", "email"},
        {"email", "a@b", "email"},
        {"email", "a b@c.d", "email"},
        {"website", "javascript:alert(1)", "website"},
        {"website", "mailto:a@b.c", "website"},
        {"phone", "call me", "phone"},
        {"title", "bad\x01control", "invalid characters"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sc_card x = {0};
        x.name = "Ada";
        if (!strcmp(bad[i].field, "name"))
            x.name = (char *)(uintptr_t)bad[i].value;
        if (!strcmp(bad[i].field, "email"))
            x.email = (char *)(uintptr_t)bad[i].value;
        if (!strcmp(bad[i].field, "website"))
            x.website = (char *)(uintptr_t)bad[i].value;
        if (!strcmp(bad[i].field, "phone"))
            x.phone = (char *)(uintptr_t)bad[i].value;
        if (!strcmp(bad[i].field, "title"))
            x.title = (char *)(uintptr_t)bad[i].value;
        why = NULL;
        assert_int_not_equal(sc_card_validate(&x, &why), SC_OK);
        assert_non_null(why);
        assert_non_null(strstr(why, bad[i].needle));
    }
    char big[SC_CARD_MAX_FIELD + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    c.title = big;
    assert_int_equal(sc_card_validate(&c, &why), SC_ETOOBIG);
    c.title = NULL;
    strcpy(c.theme, "#12ab3Z");
    assert_int_equal(sc_card_validate(&c, &why), SC_EINVAL);
    strcpy(c.theme, "#12ab3f");
    assert_int_equal(sc_card_validate(&c, &why), SC_OK);
    unsigned char gif[] = "GIF89a....";
    c.avatar = gif;
    c.avatar_len = sizeof(gif);
    strcpy(c.avatar_mime, "image/png");
    assert_int_equal(sc_card_validate(&c, &why), SC_EINVAL);
    unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0};
    c.avatar = png;
    c.avatar_len = sizeof(png);
    assert_int_equal(sc_card_validate(&c, &why), SC_OK);
    strcpy(c.avatar_mime, "image/jpeg");
    assert_int_equal(sc_card_validate(&c, &why), SC_EINVAL);
    c.avatar = NULL; /* a length without bytes is refused, not read */
    assert_int_equal(sc_card_validate(&c, &why), SC_EINVAL);
    c.avatar_len = 0;
    static const char *const blank[] = {"\n", " \t\r\n", "\xe3\x80\x80", " \xe3\x80\x80 "};
    for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        c.name = (char *)(uintptr_t)blank[i];
        assert_int_equal(sc_card_validate(&c, &why), SC_EINVAL);
    }
}

static void test_languages(void **state)
{
    assert_int_equal(sc_lang_parse("zh-CN", SC_LANG_EN), SC_LANG_ZH);
    assert_int_equal(sc_lang_parse("zh", SC_LANG_EN), SC_LANG_ZH);
    assert_int_equal(sc_lang_parse("en-GB", SC_LANG_ZH), SC_LANG_EN);
    assert_int_equal(sc_lang_parse("zhx", SC_LANG_EN), SC_LANG_EN);
    assert_int_equal(sc_lang_parse(NULL, SC_LANG_ZH), SC_LANG_ZH);
    static const struct {
        const char *h;
        enum sc_lang dflt, want;
    } t[] = {
        {"zh-CN,zh;q=0.9,en;q=0.8", SC_LANG_EN, SC_LANG_ZH},
        {"en-US,en;q=0.9", SC_LANG_ZH, SC_LANG_EN},
        {"fr-FR,en;q=0.5,zh;q=0.7", SC_LANG_EN, SC_LANG_ZH},
        {"fr-FR,de;q=0.5", SC_LANG_ZH, SC_LANG_ZH},
        {"zh-TW;q=0,en", SC_LANG_ZH, SC_LANG_EN},
        {"", SC_LANG_ZH, SC_LANG_ZH},
        {";;;,,,q=", SC_LANG_EN, SC_LANG_EN},
        {"fr;Q=1,zh;Q=0.9,en;Q=0.95", SC_LANG_ZH, SC_LANG_EN}, /* capital Q, no locale */
        {"en;q=0.5,zh;q=0.55", SC_LANG_EN, SC_LANG_ZH},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(sc_lang_accept(t[i].h, t[i].dflt), t[i].want);
    assert_int_equal(sc_lang_accept(NULL, SC_LANG_ZH), SC_LANG_ZH);
    assert_string_equal(sc_lang_tag(SC_LANG_ZH), "zh-CN");
}

static void test_slugs(void **state)
{
    char seen[2000][SC_SLUG_GEN_LEN + 1];
    for (int i = 0; i < 2000; i++) {
        sc_slug_random(seen[i], SC_SLUG_GEN_LEN);
        assert_int_equal(strlen(seen[i]), SC_SLUG_GEN_LEN);
        assert_int_equal(strspn(seen[i], "23456789abcdefghjkmnpqrstuvwxyz"), SC_SLUG_GEN_LEN);
        assert_true(sc_slug_valid(seen[i], NULL));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    static const char *const ok[] = {"ada", "zhang-wei", "a1b2c3",
                                     "abcdefghijklmnopqrstuvwxyz012345"};
    static const char *const bad[] = {"ab",
                                      "Ada",
                                      "-ada",
                                      "ada-",
                                      "a--b",
                                      "a_b",
                                      "a b",
                                      "张伟",
                                      "api",
                                      "admin",
                                      "login",
                                      "static",
                                      "abcdefghijklmnopqrstuvwxyz0123456"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(sc_slug_valid(ok[i], NULL));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        assert_false(sc_slug_valid(bad[i], &why));
        assert_non_null(why);
    }
    assert_false(sc_slug_valid(NULL, NULL));
}

static char *vcard(const struct sc_card *c, const char *url)
{
    struct sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_vcard_write(&b, c, url), SC_OK);
    return sc_buf_steal(&b, NULL);
}

/* Joins folded lines back: CRLF + space is removed. */
static void unfold(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\r' && r[1] == '\n' && r[2] == ' ') {
            r += 3;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static void test_vcard_escaping(void **state)
{
    struct sc_card c = {0};
    strcpy(c.slug, "ada");
    c.name = "Ada Lovelace";
    c.company = "Engines, Ltd; \"Analytical\"";
    c.title = "Back\\slash";
    c.bio = "line one\nline two\r\nthree";
    c.email = "ada@example.com";
    char *v = vcard(&c, "https://cards.example.com/c/ada");
    unfold(v);
    assert_non_null(strstr(v, "BEGIN:VCARD\r\nVERSION:3.0\r\n"));
    assert_non_null(strstr(v, "\r\nN:Lovelace;Ada;;;\r\n"));
    assert_non_null(strstr(v, "\r\nFN:Ada Lovelace\r\n"));
    assert_non_null(strstr(v, "\r\nORG:Engines\\, Ltd\\; \"Analytical\"\r\n"));
    assert_non_null(strstr(v, "\r\nTITLE:Back\\\\slash\r\n"));
    assert_non_null(strstr(v, "\r\nNOTE:line one\\nline two\\nthree\r\n"));
    assert_non_null(strstr(v, "\r\nURL;TYPE=card:https://cards.example.com/c/ada\r\n"));
    assert_non_null(strstr(v, "END:VCARD\r\n"));
    free(v);
    char name[32];
    sc_vcard_filename(&c, name, sizeof(name));
    assert_string_equal(name, "ada.vcf");
}

static void test_vcard_folding_keeps_utf8_whole(void **state)
{
    struct sc_card c = {0};
    strcpy(c.slug, "zw");
    c.name = "张伟";
    char bio[1200] = "";
    for (int i = 0; i < 60; i++)
        strcat(bio, i % 3 ? "销售" : "a销售b");
    c.bio = bio;
    unsigned char png[300];
    memset(png, 7, sizeof(png));
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    c.avatar = png;
    c.avatar_len = sizeof(png);
    strcpy(c.avatar_mime, "image/png");
    char *v = vcard(&c, NULL);
    /* Every physical line: at most 75 octets and whole UTF-8 on its own. */
    char *line = v;
    int lines = 0;
    while (*line) {
        char *end = strstr(line, "\r\n");
        assert_non_null(end);
        size_t n = (size_t)(end - line);
        assert_true(n <= 75);
        assert_true(sc_utf8_valid(line, n));
        line = end + 2;
        lines++;
    }
    assert_true(lines > 10);
    unfold(v);
    assert_non_null(strstr(v, "\r\nN:张伟;;;;\r\n"));
    char want[1300];
    snprintf(want, sizeof(want), "\r\nNOTE:%s\r\n", bio);
    assert_non_null(strstr(v, want));
    assert_non_null(strstr(v, "\r\nPHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgo"));
    free(v);
    c.name = "欧阳 修"; /* family name first: not split at the space */
    v = vcard(&c, NULL);
    unfold(v);
    assert_non_null(strstr(v, "\r\nN:欧阳 修;;;;\r\n"));
    free(v);
}

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static void test_qr(void **state)
{
    struct sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_qr_png(&b, "https://cards.example.com/l/abcd2345", 512), SC_OK);
    const unsigned char *p = (const unsigned char *)b.data;
    assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(p + 12, "IHDR", 4);
    unsigned w = be32(p + 16), h = be32(p + 20);
    assert_int_equal(w, h);
    assert_int_equal(w, 512);   /* exactly the size asked for (issue 17) */
    assert_int_equal(p[24], 1); /* bit depth */
    assert_int_equal(p[25], 0); /* greyscale */
    sc_buf_reset(&b);
    assert_int_equal(sc_qr_png(&b, "https://cards.example.com/l/abcd2345", 1), SC_OK);
    /* clamped up to the minimum: at least 3 pixels a module (version 3: 29 modules and a
     * quiet zone of 8), so phones can read it */
    assert_int_equal(be32((const unsigned char *)b.data + 16), SC_QR_SIZE_MIN);
    assert_true(SC_QR_SIZE_MIN / 37 >= 3);
    sc_buf_reset(&b);
    assert_int_equal(sc_qr_svg(&b, "https://cards.example.com/l/abcd2345"), SC_OK);
    assert_non_null(strstr(b.data, "viewBox=\"0 0 37 37\""));
    assert_non_null(strstr(b.data, "crispEdges"));
    assert_non_null(strstr(b.data, "<path"));
    sc_buf_reset(&b);
    char huge[3000];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(sc_qr_png(&b, huge, 512), SC_ETOOBIG);
    assert_int_equal(sc_qr_svg(&b, ""), SC_EINVAL);
    sc_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_vcard_escaping),
        cmocka_unit_test(test_vcard_folding_keeps_utf8_whole),
        cmocka_unit_test(test_qr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
