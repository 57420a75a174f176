/*
 * live_int.h — private to server/: the live feed's lead lines (live_leads.c),
 * which live.c writes into each stream beside its visits: a lead crossing
 * the hot threshold and a follow-up reminder falling due, each once per
 * stream, with cursors that a reconnecting browser hands back in its
 * Last-Event-ID.
 */
#ifndef SHARECARD_LIVE_INT_H
#define SHARECARD_LIVE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sharecard/buf.h"
#include "sharecard/card.h"
#include "sharecard/store.h"

/* 'ts''s time of day in SHARECARD_TZ ("HH:MM:SS"), as the pages show times (issue 17). */
void sc_live_local_time(int64_t ts, char out[16]);

#define LIVE_LEADS_RECENT 256 /* more than a tick reads of either, so none is sent twice */

/* One stream's place in the crossings and the reminders. */
struct live_leads {
    int64_t hot_last, hot_floor;  /* newest crossing id sent; none at or below the floor */
    int64_t rem_after, rem_floor; /* reminders due up to this time were looked at */
    int64_t hot_sent[LIVE_LEADS_RECENT], rem_sent[LIVE_LEADS_RECENT]; /* rings of ids sent */
    unsigned nhot, nrem;
    bool backlog; /* a new stream: its first lines are the reminders already due */
};

/*
 * Where a new stream starts: from 'resume' ("H.R" after the visit id of a
 * Last-Event-ID, or NULL: from now, the newest crossing and 'now').
 */
enum sc_err sc_live_leads_start(struct sc_store *s, struct live_leads *ll, const char *resume,
                                int64_t now);
/*
 * Appends the crossings and reminders new since the last call (in 'lang');
 * on a new stream's first call, first the reminders already due and not
 * followed up (LIVE_BACKLOG of the last LIVE_BACKLOG_S seconds, newest
 * last, so the feed, newest on top, shows the newest first),
 * as SSE messages to 'out', each with the id "V.H.R" ('visit_id', then this
 * state's cursors).
 */
void sc_live_leads_feed(struct sc_store *s, struct live_leads *ll, const struct sc_scope *scope,
                        enum sc_lang lang, int64_t now, int64_t visit_id, struct sc_buf *out);
/* The cursors as the tail of an SSE id ("H.R"), for the visit lines. */
void sc_live_leads_cursor(const struct live_leads *ll, char out[48]);

#endif
