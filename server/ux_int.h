/*
 * ux_int.h — what visitors, salespeople and managers meet (issue 17),
 * shared inside server/: the deployment's wording on the public pages.
 */
#ifndef SC_UX_INT_H
#define SC_UX_INT_H

#include "sharecard/page.h"
#include "sharecard/server.h"

/*
 * Hands the deployment's wording to 'pages': SHARECARD_CONSENT_TEXT (the
 * sign-up consent sentence; for both languages unless
 * SHARECARD_CONSENT_TEXT_ZH gives the Chinese one) and the points a customer
 * earns per level from 'cfg'.  SC_EINVAL with '*why' when a text is not
 * valid UTF-8 or too long.
 */
enum sc_err sc_ux_pages_configure(struct sc_pages *pages, const struct sc_config *cfg,
                                  const char **why);

#endif
