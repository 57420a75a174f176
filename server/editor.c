/*
 * editor.c — the salesperson edits their own card: every profile field,
 * validated by the card model's rules, with the saved card shown right
 * below in a preview frame (which is not counted as a view).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"

struct field {
    const char *name, *label;
    size_t max;
    bool area;
};

static const struct field fields[] = {
    {"name", "Name", SC_CARD_MAX_FIELD, false},
    {"title", "Title", SC_CARD_MAX_FIELD, false},
    {"company", "Company", SC_CARD_MAX_FIELD, false},
    {"phone", "Mobile", SC_CARD_MAX_FIELD, false},
    {"phone_work", "Office phone", SC_CARD_MAX_FIELD, false},
    {"email", "Email", SC_CARD_MAX_FIELD, false},
    {"wechat", "WeChat id", SC_CARD_MAX_FIELD, false},
    {"website", "Website (https://…)", SC_CARD_MAX_URL, false},
    {"address", "Address", SC_CARD_MAX_TEXT, true},
    {"bio", "About", SC_CARD_MAX_TEXT, true},
};
enum { NFIELDS = sizeof(fields) / sizeof(fields[0]) };

static char **slot(struct sc_card *c, size_t i)
{
    char **s[NFIELDS] = {&c->name,  &c->title,  &c->company, &c->phone,   &c->phone_work,
                         &c->email, &c->wechat, &c->website, &c->address, &c->bio};
    return s[i];
}

static enum MHD_Result editor_page(struct req *r, const struct sc_member *m,
                                   const struct sc_card *c, unsigned status, const char *message)
{
    char remove[160];
    snprintf(remove, sizeof(remove),
             "<button class=\"btn\" type=\"submit\" name=\"remove\" value=\"1\">%s</button>",
             sc_tr("Remove photo"));
    char csrf[32];
    sc_csrf_token(r, csrf);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_ui_begin(r, &b, "Edit my card", m, "/me/edit");
    sc_ui_html(&b, "</header>");
    if (message) {
        sc_ui_htmlf(&b, "<p class=\"%s\" role=\"status\">", status == 200 ? "ok" : "error");
        sc_ui_text(&b, sc_tr(message));
        sc_ui_html(&b, "</p>");
    }
    sc_ui_htmlf(&b,
                "<div class=\"editor\"><div class=\"split\"><div class=\"forms\"><form "
                "method=\"post\" action=\"/me/edit\" "
                "class=\"login\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">",
                csrf);
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *v = *slot((struct sc_card *)(uintptr_t)c, i);
        sc_ui_htmlf(&b, "<label>%s", sc_tr(fields[i].label));
        if (fields[i].area) {
            sc_ui_htmlf(&b, "<textarea name=\"%s\" maxlength=\"%zu\" rows=\"3\">", fields[i].name,
                        fields[i].max);
            sc_ui_text(&b, v);
            sc_ui_html(&b, "</textarea>");
        } else {
            sc_ui_htmlf(&b, "<input name=\"%s\" maxlength=\"%zu\" value=\"", fields[i].name,
                        fields[i].max);
            sc_ui_text(&b, v);
            sc_ui_html(&b, "\">");
        }
        sc_ui_html(&b, "</label>");
    }
    sc_ui_html(&b, "<label>Theme colour<input name=\"theme\" type=\"color\" value=\"");
    sc_ui_text(&b, c->theme[0] ? c->theme : "#1f6feb");
    sc_ui_htmlf(&b,
                "\"></label><label>Language<select name=\"lang\"><option value=\"en\"%s>"
                "English</option><option value=\"zh-CN\"%s>简体中文</option></select></label>"
                "<button class=\"btn primary\" type=\"submit\">Save</button></form>"
                "<form method=\"post\" action=\"/me/avatar\" enctype=\"multipart/form-data\" "
                "class=\"login avatar-form\"><input type=\"hidden\" name=\"csrf\" "
                "value=\"%s\"><label>Photo (PNG or JPEG, up to 512 KB)<input type=\"file\" "
                "name=\"avatar\" accept=\"image/png,image/jpeg\"></label><button "
                "class=\"btn\" type=\"submit\">Upload photo</button>%s</form></div>"
                "<iframe class=\"preview\" title=\"Preview\" src=\"/c/%s?preview=1\" "
                "width=\"390\" height=\"720\"></iframe></div></div>",
                c->lang == SC_LANG_EN ? " selected" : "", c->lang == SC_LANG_ZH ? " selected" : "",
                csrf, c->avatar_len ? remove : "", c->slug);
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_h_editor(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    enum sc_err e = sc_store_card_by_slug(r->srv->store, m->slug, &r->card);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (r->method != M_POST)
        return editor_page(r, m, &r->card, 200, sc_req_arg(r, "saved") ? "Saved." : NULL);

    const char *body = r->body.data ? r->body.data : "";
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, "This form has expired. Reload the page and try again.");
    /* The new values replace the card's; r->card keeps ownership of every string. */
    for (size_t i = 0; i < NFIELDS; i++) {
        char *v = malloc(fields[i].max + 2);
        if (!v)
            return sc_reply_err(r, SC_ENOMEM, NULL);
        e = sc_form_get(body, r->body.len, fields[i].name, v, fields[i].max + 2);
        if (e == SC_ETOOBIG || e == SC_EINVAL) {
            free(v);
            char msg[128];
            snprintf(msg, sizeof(msg), sc_tr("%s is too long or holds characters it may not."),
                     sc_tr(fields[i].label));
            return editor_page(r, m, &r->card, 422, msg);
        }
        char **dst = slot(&r->card, i);
        free(*dst);
        *dst = e == SC_OK && v[0] ? v : NULL;
        if (*dst != v)
            free(v);
    }
    char theme[16] = "", lang[16] = "";
    sc_form_get(body, r->body.len, "theme", theme, sizeof(theme));
    sc_form_get(body, r->body.len, "lang", lang, sizeof(lang));
    snprintf(r->card.theme, sizeof(r->card.theme), "%.7s", theme);
    r->card.lang = sc_lang_parse(lang, r->card.lang);
    const char *why = NULL;
    if (sc_card_validate(&r->card, &why) != SC_OK)
        return editor_page(r, m, &r->card, 422, why ? why : "The card is not valid.");
    e = sc_store_card_update(r->srv->store, &r->card);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    sc_store_audit(r->srv->store, m->email, "card.edit", r->card.slug, "");
    return sc_reply_redirect(r, 303, "/me/edit?saved=1");
}

/* ---- POST /me/avatar: a photo, as multipart/form-data ------------------------------- */

struct upload {
    struct sc_buf file; /* the "avatar" part, up to SC_AVATAR_MAX (+1 to notice more) */
    char csrf[64];
    bool remove;
    bool got_file;
};

static enum MHD_Result upload_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *filename, const char *content_type,
                                   const char *transfer_encoding, const char *data, uint64_t off,
                                   size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    struct upload *u = cls;
    if (strcmp(key, "avatar") == 0) {
        u->got_file = true;
        sc_buf_append(&u->file, data, size);
    } else if (strcmp(key, "csrf") == 0 && off + size < sizeof(u->csrf)) {
        memcpy(u->csrf + off, data, size);
        u->csrf[off + size] = '\0';
    } else if (strcmp(key, "remove") == 0 && size > 0) {
        u->remove = true;
    }
    return MHD_YES;
}

enum MHD_Result sc_h_avatar_upload(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    struct upload u = {.csrf = ""};
    sc_buf_init(&u.file, SC_AVATAR_MAX + 1);
    struct MHD_PostProcessor *pp = MHD_create_post_processor(r->conn, 16 * 1024, upload_part, &u);
    if (!pp) {
        sc_buf_cleanup(&u.file);
        return sc_reply_error(r, 415, "Send the photo as a multipart/form-data form.");
    }
    enum MHD_Result ok = r->body.len ? MHD_post_process(pp, r->body.data, r->body.len) : MHD_YES;
    MHD_destroy_post_processor(pp);
    const char *why = NULL;
    unsigned status = 0;
    unsigned char *jpg = NULL;
    size_t jlen = 0;
    if (!sc_csrf_matches(r, u.csrf)) {
        sc_buf_cleanup(&u.file);
        return sc_reply_error(r, 403, "This form has expired. Reload the page and try again.");
    }
    if (ok != MHD_YES) {
        status = 400;
        why = "The form could not be read.";
    } else if (sc_buf_error(&u.file)) {
        status = 413;
        why = "The photo is larger than 512 KB.";
    } else if (!u.remove && (!u.got_file || u.file.len == 0)) {
        status = 422;
        why = "Choose a photo to upload.";
    } else if (!u.remove) {
        enum sc_err e =
            sc_avatar_normalise((const unsigned char *)u.file.data, u.file.len, &jpg, &jlen, &why);
        status = e == SC_ETOOBIG ? 413 : e == SC_OK ? 0 : e == SC_EINVAL ? 422 : 500;
        if (status == 500) {
            sc_buf_cleanup(&u.file);
            return sc_reply_err(r, e, NULL);
        }
    }
    sc_buf_cleanup(&u.file);
    enum sc_err e = sc_store_card_by_slug(r->srv->store, m->slug, &r->card);
    if (e != SC_OK) {
        free(jpg);
        return sc_reply_err(r, e, NULL);
    }
    if (status) {
        char msg[160];
        snprintf(msg, sizeof(msg), sc_tr("Not uploaded: %s"),
                 sc_tr(why ? why : "the photo cannot be used."));
        return editor_page(r, m, &r->card, status, msg);
    }
    free(r->card.avatar);
    r->card.avatar = jpg; /* NULL when removing */
    r->card.avatar_len = jlen;
    snprintf(r->card.avatar_mime, sizeof(r->card.avatar_mime), "%s", jpg ? "image/jpeg" : "");
    e = sc_store_card_update(r->srv->store, &r->card);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    sc_store_audit(r->srv->store, m->email, u.remove ? "card.avatar_remove" : "card.avatar",
                   r->card.slug, "");
    return sc_reply_redirect(r, 303, "/me/edit?saved=1");
}
