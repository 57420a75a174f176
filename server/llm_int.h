/*
 * llm_int.h — private to server/: drafts of a lead's next message by an
 * operator's OpenAI-compatible chat-completions endpoint (llm.c), off unless
 * SHARECARD_LLM_URL is set.  Only the single lead's page and its draft API
 * ask for one, never a list; answers are cached per lead.
 */
#ifndef SHARECARD_LLM_INT_H
#define SHARECARD_LLM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leads_int.h"
#include "sharecard/score.h"
#include "sharecard/store.h"

/*
 * Reads SHARECARD_LLM_URL (http or https), SHARECARD_LLM_MODEL,
 * SHARECARD_LLM_KEY and SHARECARD_LLM_TIMEOUT_MS (default 3000) once, before
 * threads start.  False, with the reason on stderr, when the URL or the
 * timeout is malformed (the server then refuses to start).
 */
bool sc_llm_init(void);
/* Whether a model is configured. */
bool sc_llm_on(void);
/* Stops the background workers (a call in flight ends within the timeout). */
void sc_llm_stop(void);
/*
 * The model's draft for lead 'visitor_id' on card 'card' from 'f' (borrowed)
 * into 'out' of 'cap' bytes: true when the model drafted it, false on any
 * failure (off, a timeout, an error status, an oversized or malformed answer,
 * text that is not valid UTF-8); the caller then keeps the template.  A
 * draft is cached for the same lead, language and facts; a failure for a
 * minute.  Not cached: with 'wait' asked for now (or the background job in
 * flight awaited), without it queued for the background and false at once,
 * '*pending' (may be NULL) then telling whether it is queued or in flight.
 */
bool sc_llm_draft(int64_t visitor_id, const char *card, const struct sc_llm_facts *f, bool wait,
                  bool *pending, char *out, size_t cap);

/*
 * The model's draft for scored lead 'li' (borrowed), named 'name' (may be
 * NULL; only its first name is sent), in 'lang', into 'out': true
 * when the model drafted it (the card's owner looked up in 's'); 'wait' and
 * 'pending' as for sc_llm_draft().
 */
bool sc_llm_lead_draft(struct sc_store *s, const struct lead_intel *li, const char *name,
                       const char *lang, bool wait, bool *pending, char *out, size_t cap);

#endif
