/*
 * uap.h — user-agent families from uap-core, Debian's maintained
 * user-agent database (/usr/share/uap-core/regexes.yaml).
 */
#ifndef SHARECARD_UAP_H
#define SHARECARD_UAP_H

#include <stdbool.h>
#include <stddef.h>

#include "sharecard/err.h"

struct sc_uap;

struct sc_uap_result {
    char browser[48];
    char browser_major[16];
    char os[48];
    char device[48];
    bool spider; /* uap-core's device family "Spider": a bot */
};

/* Loads 'path' (NULL: the default).  SC_ENOTFOUND when missing, SC_EINVAL when unparsable. */
enum sc_err sc_uap_load(const char *path, struct sc_uap **out, char *err, size_t errlen);
/* Thread-safe; cached by UA string. */
void sc_uap_parse(struct sc_uap *u, const char *ua, struct sc_uap_result *out);
void sc_uap_free(struct sc_uap *u);

#endif
