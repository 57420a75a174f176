/*
 * tmpl.h — templates compiled once at start-up, escaping by default.
 *
 * Syntax:
 *   {{name}}               the value, escaped for HTML
 *   {{#name}} … {{/name}}  the enclosed part when 'name' is set and non-empty
 *   {{^name}} … {{/name}}  the enclosed part when 'name' is unset or empty
 *
 * How a value is written is decided by its kind, never by the template:
 * SC_TV_TEXT is HTML-escaped; SC_TV_URL must pass sc_url_allowed() (else it
 * is treated as unset) and is then HTML-escaped; only SC_TV_TRUSTED — markup
 * our own code built — is written raw.
 *
 * Every name a template uses must be in the list given to sc_tmpl_compile():
 * an unknown name, an unclosed or mismatched section is a compile error, so a
 * typo stops the server at start-up rather than showing an empty field.
 */
#ifndef SHARECARD_TMPL_H
#define SHARECARD_TMPL_H

#include <stddef.h>

#include "sharecard/buf.h"
#include "sharecard/err.h"

enum sc_tv_kind {
    SC_TV_TEXT = 0, /* user text: HTML-escaped */
    SC_TV_URL,      /* a link from user data: allow-listed, then escaped */
    SC_TV_TRUSTED   /* markup built by our code: written as is */
};

struct sc_tval {
    const char *s; /* NULL means unset */
    enum sc_tv_kind kind;
};

struct sc_tmpl;

/*
 * Compiles 'src' (borrowed; copied) against the 'nvars' names in 'vars'
 * (borrowed; index i of the values passed to sc_tmpl_render() is vars[i]).
 * Returns new, free with sc_tmpl_free(); NULL on error with a message naming
 * the line in 'err' ('errlen' bytes).
 */
struct sc_tmpl *sc_tmpl_compile(const char *src, const char *const *vars, size_t nvars, char *err,
                                size_t errlen);
void sc_tmpl_free(struct sc_tmpl *t);

/* Appends the template with 'vals' (nvars entries, borrowed) to 'out'. */
void sc_tmpl_render(const struct sc_tmpl *t, const struct sc_tval *vals, struct sc_buf *out);

#endif
