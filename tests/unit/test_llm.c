/*
 * test_llm.c — the pure half of drafts by a language model (intel/llm.c):
 * the request holds a first name, the language, what the lead looked at and
 * the reasons, and nothing that reaches the lead; a reply is used only when
 * it is a chat-completions answer whose text is valid UTF-8 of a draft's
 * length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sharecard/score.h"

static void first_name_is_the_first_word(void **state)
{
    (void)state;
    char out[80];
    sc_llm_first_name("Wang Fang", out, sizeof(out));
    assert_string_equal(out, "Wang");
    sc_llm_first_name("  Ann  Lee", out, sizeof(out));
    assert_string_equal(out, "Ann");
    sc_llm_first_name("王芳", out, sizeof(out));
    assert_string_equal(out, "王芳");
    sc_llm_first_name(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    /* Cut to fit, never inside a character: "王" is 3 bytes, 5 fit in 6. */
    sc_llm_first_name("王芳芳", out, 6);
    assert_string_equal(out, "王");
}

static void request_holds_only_what_a_draft_needs(void **state)
{
    (void)state;
    struct sc_lead_stats st;
    memset(&st, 0, sizeof(st));
    st.visits = 3;
    st.saved = true;
    st.clicks[SC_ACT_WEBSITE] = 1;
    struct sc_score_result res = {.n_reasons = 1};
    res.reasons[0].code = SC_R_SAVED;
    res.reasons[0].value = 1;
    struct sc_llm_facts f = {.first_name = "Mei",
                             .lang = "zh-CN",
                             .card_owner = "Hu Ping",
                             .st = &st,
                             .res = &res,
                             .channel = SC_CONTACT_WECHAT};
    char *text = NULL;
    assert_int_equal(sc_llm_request_json(&f, "tiny", &text), SC_OK);
    json_error_t err;
    json_t *req = json_loads(text, 0, &err);
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "model")), "tiny");
    json_t *msgs = json_object_get(req, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    const char *user = json_string_value(json_object_get(json_array_get(msgs, 1), "content"));
    json_t *facts = json_loads(user, 0, &err);
    assert_non_null(facts);
    /* Exactly these fields. */
    assert_int_equal(json_object_size(facts), 5);
    assert_string_equal(json_string_value(json_object_get(facts, "first_name")), "Mei");
    assert_string_equal(json_string_value(json_object_get(facts, "language")),
                        "Simplified Chinese (zh-CN)");
    assert_string_equal(json_string_value(json_object_get(facts, "channel")), "wechat");
    json_t *looked = json_object_get(facts, "looked_at");
    assert_string_equal(json_string_value(json_array_get(looked, 0)),
                        "the digital business card of Hu Ping");
    assert_non_null(strstr(user, "opened the website"));
    assert_non_null(strstr(user, "came 3 times"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(facts, "reasons"), 0)),
                        "保存了您的联系方式");
    json_decref(facts);
    json_decref(req);
    free(text);
    /* No name known: no first_name at all; no model: a placeholder. */
    f.first_name = "";
    f.lang = "en";
    assert_int_equal(sc_llm_request_json(&f, NULL, &text), SC_OK);
    assert_null(strstr(text, "first_name"));
    assert_non_null(strstr(text, "English"));
    free(text);
}

static void replies_used_only_when_sound(void **state)
{
    (void)state;
    char out[SC_LLM_DRAFT_MAX + 1];
    const char *good = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":"
                       "\"  Hi Mei, shall we talk this week?\\n\"}}]}";
    assert_int_equal(sc_llm_reply_draft(good, strlen(good), out, sizeof(out)), SC_OK);
    assert_string_equal(out, "Hi Mei, shall we talk this week?");
    const char *bad[] = {
        "not json",
        "{\"choices\":[]}",
        "{\"choices\":[{\"message\":{\"content\":null}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"   \"}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"bell \\u0007\"}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"nul \\u0000 inside\"}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"choices\":[]}",
        "{\"choices\":[{\"message\":{\"content\":\"hi \xff there\"}}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sc_llm_reply_draft(bad[i], strlen(bad[i]), out, sizeof(out)), SC_EINVAL);
        assert_string_equal(out, "");
    }
    /* Longer than a draft: not used. */
    char big[2000];
    int n = snprintf(big, sizeof(big), "{\"choices\":[{\"message\":{\"content\":\"");
    memset(big + n, 'x', SC_LLM_DRAFT_MAX + 1);
    n += SC_LLM_DRAFT_MAX + 1;
    n += snprintf(big + n, sizeof(big) - (size_t)n, "\"}}]}");
    assert_int_equal(sc_llm_reply_draft(big, (size_t)n, out, sizeof(out)), SC_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_name_is_the_first_word),
        cmocka_unit_test(request_holds_only_what_a_draft_needs),
        cmocka_unit_test(replies_used_only_when_sound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
