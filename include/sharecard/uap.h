/*
 * uap.h — browser, OS and device families from uap-core, Debian's
 * maintained user-agent database (/usr/share/uap-core/regexes.yaml).
 *
 * The database is loaded and compiled once at start-up; after that a
 * struct sc_uap is shared by every thread.  Answers are cached by UA string,
 * since a deployment sees the same few hundred strings over and over.
 */
#ifndef SHARECARD_UAP_H
#define SHARECARD_UAP_H

#include <stdbool.h>
#include <stddef.h>

#include "sharecard/err.h"

#define SC_UAP_DEFAULT_PATH "/usr/share/uap-core/regexes.yaml"
#define SC_UAP_UA_MAX       512 /* longer UA strings are cut to this many bytes first */

struct sc_uap; /* compiled regexes + answer cache; opaque */

/* Every field is a NUL-terminated string, cut at a UTF-8 boundary when too long. */
struct sc_uap_result {
    char browser[48];       /* user-agent family: "Mobile Safari", "WeChat"; "Other" */
    char browser_major[16]; /* its major version, or "" */
    char os[48];            /* OS family: "iOS", "Windows"; "Other" */
    char device[48];        /* device family: "iPhone", "Spider"; "Other" */
    bool spider;            /* uap-core's device family "Spider": a bot */
};

/*
 * Reads and compiles the uap-core database at 'path' (borrowed; NULL means
 * SC_UAP_DEFAULT_PATH) into '*out' (returns new; free with sc_uap_free()).
 * Returns SC_ENOTFOUND when the file is missing, SC_EIO when it cannot be
 * read, SC_EINVAL when it is not a uap-core file or one of its regexes does
 * not compile, SC_ENOMEM.  On failure '*out' is NULL and a message naming
 * the problem is written into 'err' ('errlen' bytes; 'err' may be NULL).
 */
enum sc_err sc_uap_load(const char *path, struct sc_uap **out, char *err, size_t errlen);

/*
 * Classifies 'ua' (borrowed; NULL or "" gives "Other" everywhere) into
 * '*out'.  Thread-safe; 'u' may be NULL, which also gives "Other".  Never
 * fails: out of memory only skips the cache.
 */
void sc_uap_parse(struct sc_uap *u, const char *ua, struct sc_uap_result *out);

/* Frees 'u' (takes ownership); NULL is a no-op. */
void sc_uap_free(struct sc_uap *u);

#endif
