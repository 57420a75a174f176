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

#endif
