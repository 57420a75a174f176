/*
 * escape.h — escapers for each output context, and the link allow-list.
 *
 * Every byte a user typed passes one of these before it reaches a page, a
 * JSON body, an SVG or a header.
 */
#ifndef SHARECARD_ESCAPE_H
#define SHARECARD_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "sharecard/buf.h"

/* HTML text and attribute values: & < > " ' become entities. */
void sc_esc_html(struct sc_buf *b, const char *s, size_t n);
/*
 * Body of a JSON string (no surrounding quotes): ", \, controls, U+2028/9, and < > & as \u00XX;
 * a byte that is not part of well-formed UTF-8 becomes \ufffd, so the output is always valid.
 */
void sc_esc_json(struct sc_buf *b, const char *s, size_t n);
/* Percent-encodes everything but RFC 3986 unreserved characters. */
void sc_esc_url_component(struct sc_buf *b, const char *s, size_t n);

/*
 * True when 'url' may be put in an href: its scheme is https:, http:,
 * mailto: or tel: (case-insensitive), it has no control characters or
 * spaces, and it is at most 2048 bytes.  Everything else — javascript:,
 * data:, vbscript:, scheme-relative //host, … — is refused.
 */
bool sc_url_allowed(const char *url);

/* True when the 'n' bytes at 's' are valid UTF-8 with no NUL and no C0 controls but \t \n \r. */
bool sc_utf8_valid(const char *s, size_t n);

/*
 * Appends the 'n' bytes at 's' to 'b' with every byte that is not part of
 * well-formed UTF-8 replaced by U+FFFD: for text read back from a store that
 * may hold such bytes (written before input was checked), so what goes out
 * is valid whatever is stored.  Controls are kept (the caller's escaper
 * deals with them).
 */
void sc_utf8_repair(struct sc_buf *b, const char *s, size_t n);

#endif
