/*
 * ux.c — what visitors, salespeople and managers meet (issue 17): the
 * deployment's own wording on the public pages, read once at start.
 */
#include <stdlib.h>
#include <string.h>

#include "ux_int.h"
#include "sharecard/escape.h"

/* The value of 'name' when set, checked; NULL when unset or empty. */
static bool env_text(const char *name, const char **out, const char **why)
{
    const char *v = getenv(name);
    *out = NULL;
    if (!v || !v[0])
        return true;
    size_t n = strlen(v);
    if (n > SC_CONSENT_TEXT_MAX || !sc_utf8_valid(v, n) || strpbrk(v, "\r\n")) {
        *why = strcmp(name, "SHARECARD_CONSENT_TEXT") == 0
                   ? "SHARECARD_CONSENT_TEXT must be one line of UTF-8 text, at most 600 bytes"
                   : "SHARECARD_CONSENT_TEXT_ZH must be one line of UTF-8 text, at most 600 bytes";
        return false;
    }
    *out = v;
    return true;
}

enum sc_err sc_ux_pages_configure(struct sc_pages *pages, const struct sc_config *cfg,
                                  const char **why)
{
    const char *en, *zh;
    if (!env_text("SHARECARD_CONSENT_TEXT", &en, why) ||
        !env_text("SHARECARD_CONSENT_TEXT_ZH", &zh, why))
        return SC_EINVAL;
    sc_pages_configure(pages, en, zh ? zh : en, cfg->referral.points[0], cfg->referral.points[1]);
    return SC_OK;
}
