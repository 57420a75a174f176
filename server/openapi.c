/*
 * openapi.c — GET /api/v1/openapi.json: the OpenAPI 3.1 document of the
 * JSON API, kept as templates/openapi.json (embedded at build time) so it
 * reads and diffs as JSON.  It needs no token: it describes the API, it
 * holds no data.  tests/integration/test_ops.py checks real answers of
 * every endpoint against its schemas, so it cannot drift silently.
 */
#include "routes_int.h"
#include "sharecard/assets.h"

enum MHD_Result sc_api_openapi(struct req *r, const struct route_args *a)
{
    (void)a;
    const struct sc_asset *doc = sc_asset_find("openapi.json");
    if (!doc)
        return sc_reply_error(r, 500, "The API description is missing from this build.");
    return sc_reply_static(r, 200, "application/json", (const char *)doc->data);
}
