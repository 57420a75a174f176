/*
 * assets.h — templates and static files embedded in the binary at build
 * time (cmake/embed_run.cmake), so a deployment is one file.
 */
#ifndef SHARECARD_ASSETS_H
#define SHARECARD_ASSETS_H

#include <stddef.h>

struct sc_asset {
    const char *name;          /* path below templates/, e.g. "static/app.js" */
    const unsigned char *data; /* 'len' bytes followed by a NUL */
    size_t len;
};

/* The asset called 'name', or NULL. */
const struct sc_asset *sc_asset_find(const char *name);
/* All assets, ended by an entry whose name is NULL. */
const struct sc_asset *sc_asset_all(void);

#endif
