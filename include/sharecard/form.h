/*
 * form.h — reading application/x-www-form-urlencoded bodies and query strings.
 */
#ifndef SHARECARD_FORM_H
#define SHARECARD_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "sharecard/err.h"

/*
 * Finds field 'name' in the urlencoded 'body' ('len' bytes, borrowed) and
 * writes its decoded value (+ is a space, %XX a byte) into 'out' ('outlen'
 * bytes, NUL-terminated).  SC_ENOTFOUND when absent, SC_ETOOBIG when the
 * value does not fit, SC_EINVAL for a broken %-escape or a NUL byte.
 */
enum sc_err sc_form_get(const char *body, size_t len, const char *name, char *out, size_t outlen);

/*
 * Checks that every field name and value of the urlencoded 'body' ('len'
 * bytes, borrowed), decoded, is text: sc_utf8_valid() (well-formed UTF-8, no
 * NUL, no control character but tab, CR, LF).  'bad' ('badn' bytes) gets
 * the first failing field's name ("" when all pass; a placeholder when the
 * name itself is not text).  A broken %-escape is left to sc_form_get().
 * SC_ENOMEM when out of memory, else SC_OK.
 */
enum sc_err sc_form_check_text(const char *body, size_t len, char *bad, size_t badn);

#endif
