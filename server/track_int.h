/*
 * track_int.h — private to server/: the visitor of a request and the event
 * it makes, and waiting for that event to be durable without blocking a
 * pool thread (track.c).
 */
#ifndef SHARECARD_TRACK_INT_H
#define SHARECARD_TRACK_INT_H

#include <jansson.h>

#include "http_int.h"

/* Who the visitor is: the sc_vid cookie, a new one, or a daily hash under DNT/GPC. */
void sc_track_identify(struct req *r);
/* An event of 'type' for this request's visitor, address, browser and referrer. */
void sc_track_event_init(struct req *r, struct sc_event *ev, enum sc_ev_type type, int64_t card_id,
                         int64_t link_id);
/*
 * A bot's fast path (issue 15).  Fills 'ev' as sc_track_event_init() does
 * and classifies its browser once, for the writer too.  For a crawler or a
 * link preview (tracker/'s verdict) it returns true and leaves the event
 * without a visitor: no cookie is minted and no visitor key or unique is
 * made, as a bot is never counted as a visitor.  For a person it returns
 * false with the visitor filled in, to be answered by sc_track_then().
 */
bool sc_track_bot_event(struct req *r, struct sc_event *ev, enum sc_ev_type type, int64_t card_id,
                        int64_t link_id);
/*
 * The same in two steps, for a handler that must know whether it answers a
 * bot before it knows the card (the landing page): sc_track_classify() fills
 * 'ev' but its ids and visitor and returns true for a bot;
 * sc_track_visitor() then fills in a person's visitor (minting the cookie
 * when needed).
 */
bool sc_track_classify(struct req *r, struct sc_event *ev, enum sc_ev_type type);
void sc_track_visitor(struct req *r, struct sc_event *ev);
/*
 * A bot's event 'ev' queued for the writer's next batch and 'cont' called
 * at once: a bot is answered before its row is committed (a crash may lose
 * the last instant's bot rows, never a person's).  503 when the queue is full.
 */
enum MHD_Result sc_track_bot_then(struct req *r, const struct sc_event *ev, continuation_fn *cont);
/* Suspends 'r' until 'ev' is durable, then calls 'cont' to answer. */
enum MHD_Result sc_track_then(struct req *r, const struct sc_event *ev, continuation_fn *cont);
/* The 503 for an event that could not be stored. */
enum MHD_Result sc_reply_not_stored(struct req *r);

/*
 * The beacon's field 'name' from its 'body' ('len' bytes, borrowed): from
 * 'json' when the body was JSON (a string, or an integer written out), else
 * from the urlencoded form; into 'out' ('n' bytes).  sc_form_get()'s errors;
 * SC_EINVAL for another JSON type or a NUL inside.
 */
enum sc_err sc_track_body_field(const char *body, size_t len, json_t *json, const char *name,
                                char *out, size_t n);

#endif
