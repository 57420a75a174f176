/*
 * llm.c — the pure half of drafting a lead's next message with a language
 * model (an OpenAI-compatible chat-completions endpoint, optional): the
 * request's JSON, holding only what a draft needs (a first name, the
 * language, what the lead looked at and did, the reasons and the channel;
 * never a full name, a phone number or an e-mail address), and
 * the reading of the reply, which must be a well-formed answer whose text is
 * valid UTF-8 of bounded length, or it is not used.  The HTTP half, its
 * timeout and cache are the server's (server/llm.c); the template draft is
 * the fallback on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sharecard/escape.h"
#include "sharecard/score.h"

#define FIRST_NAME_MAX 64

void sc_llm_first_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (!name)
        return;
    while (*name == ' ')
        name++;
    while (name[n] && name[n] != ' ' && n < FIRST_NAME_MAX && n + 1 < cap)
        n++;
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80) /* not in a character's middle */
        n--;
    memcpy(out, name, n);
    out[n] = '\0';
    if (!sc_utf8_valid(out, n))
        out[0] = '\0';
}

/* What the lead looked at and did, as short facts in English (the model writes the language). */
static json_t *looked_at(const struct sc_llm_facts *f)
{
    const struct sc_lead_stats *st = f->st;
    json_t *a = json_array();
    char t[160];
    if (!a)
        return NULL;
    if (f->card_owner && f->card_owner[0]) {
        snprintf(t, sizeof(t), "the digital business card of %s", f->card_owner);
        json_array_append_new(a, json_string(t));
    }
    if (!st)
        return a;
    if (st->visits > 1) {
        snprintf(t, sizeof(t), "came %u times", st->visits);
        json_array_append_new(a, json_string(t));
    }
    if (st->clicks[SC_ACT_WEBSITE])
        json_array_append_new(a, json_string("opened the website"));
    if (st->clicks[SC_ACT_MAP])
        json_array_append_new(a, json_string("opened the map"));
    if (st->saved)
        json_array_append_new(a, json_string("saved the contact"));
    if (st->shares)
        json_array_append_new(a, json_string("shared the card with others"));
    return a;
}

enum sc_err sc_llm_request_json(const struct sc_llm_facts *f, const char *model, char **out)
{
    enum sc_err e = SC_ENOMEM;
    json_t *facts = NULL, *req = NULL, *reasons = json_array();
    char *user = NULL;
    bool zh = sc_score_lang_zh(f->lang);
    *out = NULL;
    if (!reasons)
        goto out;
    for (size_t i = 0; f->res && i < f->res->n_reasons; i++) {
        char t[256];
        if (sc_score_reason_text(&f->res->reasons[i], zh ? "zh-CN" : "en", t, sizeof(t)) == SC_OK)
            json_array_append_new(reasons, json_string(t));
    }
    facts = json_pack("{s:s*, s:s, s:o*, s:o, s:s}", "first_name",
                      f->first_name && f->first_name[0] ? f->first_name : NULL, "language",
                      zh ? "Simplified Chinese (zh-CN)" : "English", "looked_at", looked_at(f),
                      "reasons", reasons, "channel", sc_score_contact_name(f->channel));
    reasons = NULL; /* json_pack took it, even on failure */
    user = facts ? json_dumps(facts, JSON_COMPACT) : NULL;
    if (!user)
        goto out;
    req = json_pack(
        "{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i, s:f}", "model",
        model && model[0] ? model : "default", "messages", "role", "system", "content",
        "You draft the next message a salesperson sends to a lead who looked at their digital "
        "business card. Write it in the language given, at most two short sentences: greet "
        "the lead by first name when one is given, mention what they looked at, and give "
        "them a reason to reply. Use only the facts given; no placeholders, no phone numbers, "
        "no addresses. Answer with the message alone.",
        "role", "user", "content", user, "max_tokens", 200, "temperature", 0.7);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (text) {
        *out = text;
        e = SC_OK;
    }
out:
    json_decref(reasons);
    json_decref(facts);
    json_decref(req);
    free(user);
    return e;
}

enum sc_err sc_llm_reply_draft(const char *body, size_t n, char *out, size_t cap)
{
    json_error_t err;
    out[0] = '\0';
    json_t *root = json_loadb(body, n, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return SC_EINVAL;
    enum sc_err e = SC_EINVAL;
    json_t *choices = json_object_get(root, "choices");
    json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    json_t *content = json_object_get(msg, "content");
    const char *s = json_string_value(content);
    if (!s)
        goto out;
    size_t len = json_string_length(content);
    while (len && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
        len--;
    }
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == '\t'))
        len--;
    /* Text of a draft's length: valid UTF-8 without controls (NUL included), else unused. */
    if (len == 0 || memchr(s, '\0', len) || !sc_utf8_valid(s, len)) {
        e = SC_EINVAL;
        goto out;
    }
    if (len >= cap || len > SC_LLM_DRAFT_MAX) {
        e = SC_ETOOBIG;
        goto out;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    e = SC_OK;
out:
    json_decref(root);
    return e;
}
