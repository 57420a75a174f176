/*
 * webhook.h — outgoing webhooks as the Standard Webhooks specification signs
 * them: secrets, message ids, signatures, the JSON body, the guard that keeps
 * deliveries off loopback and private networks, one delivery over libcurl,
 * the retry schedule, and a bounded sender that delivers off the caller's
 * threads.
 *
 * The module knows no store and no HTTP server: plain structs go in, results
 * come out.  The durable outbox (which survives a restart) lives above it and
 * decides, with sc_webhook_next_attempt(), when an attempt is made again; the
 * sender makes exactly one attempt per submit.
 */
#ifndef SHARECARD_WEBHOOK_H
#define SHARECARD_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sharecard/err.h"

/* Secrets: "whsec_" + standard base64 (padded) of 32 random bytes. */
#define SC_WEBHOOK_SECRET_BYTES     32
#define SC_WEBHOOK_SECRET_MIN_BYTES 24  /* shortest key a decoded secret may have */
#define SC_WEBHOOK_KEY_MAX          64  /* longest key a decoded secret may have */
#define SC_WEBHOOK_SECRET_SIZE      128 /* room for any secret text we accept, with NUL */
/* Message ids: "msg_" + 26 base32 characters (130 random bits). */
#define SC_WEBHOOK_ID_SIZE 31 /* with the NUL */
/* "v1," + base64 of a 32-byte HMAC, with the NUL. */
#define SC_WEBHOOK_SIG_SIZE 48

#define SC_WEBHOOK_BODY_MAX           (1024 * 1024) /* longest body we build or send */
#define SC_WEBHOOK_EXCERPT_MAX        1024          /* bytes of response body kept, valid UTF-8 */
#define SC_WEBHOOK_RESPONSE_MAX       (64 * 1024)   /* a longer response aborts the transfer */
#define SC_WEBHOOK_CONNECT_TIMEOUT_MS 5000
#define SC_WEBHOOK_TIMEOUT_MS         10000
#define SC_WEBHOOK_URL_MAX            2048
#define SC_WEBHOOK_ERROR_SIZE         256

/* ---- secrets, ids, signatures, body ------------------------------------ */

/*
 * Writes a new secret ("whsec_" + base64 of 32 bytes from libsodium's CSPRNG)
 * into 'out' of 'cap' bytes.  SC_ETOOBIG when 'cap' < SC_WEBHOOK_SECRET_SIZE.
 */
enum sc_err sc_webhook_secret_new(char *out, size_t cap);

/*
 * Decodes 'secret' ("whsec_" + standard base64, padded or not, nothing else)
 * into 'key' (at least SC_WEBHOOK_KEY_MAX bytes); '*key_len' gets its length.
 * Strict: SC_EINVAL for a missing prefix, a character outside base64, bad
 * padding, or fewer than SC_WEBHOOK_SECRET_MIN_BYTES (more than
 * SC_WEBHOOK_KEY_MAX) bytes; '*why' (may be NULL) then names the reason
 * (static string).
 */
enum sc_err sc_webhook_secret_decode(const char *secret, unsigned char *key, size_t *key_len,
                                     const char **why);

/* Writes a new message id, "msg_" + 26 random base32 characters, into 'out'. */
void sc_webhook_id_new(char out[SC_WEBHOOK_ID_SIZE]);

/*
 * Signs one attempt: 'out' gets "v1," + base64(HMAC-SHA256(key, "{id}.{ts}.{body}"))
 * where key is 'secret' decoded.  'body' of 'len' bytes (borrowed).  SC_EINVAL
 * for a bad secret or an empty 'id'.
 */
enum sc_err sc_webhook_sign(const char *secret, const char *id, int64_t ts, const char *body,
                            size_t len, char out[SC_WEBHOOK_SIG_SIZE]);

/*
 * True when 'header' (a webhook-signature value: space-separated
 * "version,signature" items) holds a v1 signature of this message that
 * matches, compared in constant time.  Freshness of 'ts' is the caller's
 * to judge (the specification suggests refusing more than 5 minutes' skew).
 */
bool sc_webhook_verify(const char *secret, const char *id, int64_t ts, const char *body, size_t len,
                       const char *header);

/*
 * The delivery body {"type":'type',"timestamp":"YYYY-MM-DDTHH:MM:SSZ","data":'data_json'},
 * compact UTF-8.  'type' is lower-case letters, digits, '.' and '_' (at most 64);
 * 'data_json' must be valid JSON (borrowed).  '*out' returns new memory (free
 * with free()), '*len' (may be NULL) its length.  SC_EINVAL for bad input,
 * SC_ETOOBIG for a body over SC_WEBHOOK_BODY_MAX.
 */
enum sc_err sc_webhook_body(const char *type, int64_t ts, const char *data_json, char **out,
                            size_t *len);

/* ---- where a webhook may go --------------------------------------------- */

/* What an address is, for deciding whether a webhook may connect to it. */
enum sc_webhook_addr {
    SC_WEBHOOK_ADDR_PUBLIC = 0,  /* a global unicast address */
    SC_WEBHOOK_ADDR_LOOPBACK,    /* 127/8, ::1 */
    SC_WEBHOOK_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16 */
    SC_WEBHOOK_ADDR_CGNAT,       /* 100.64/10 */
    SC_WEBHOOK_ADDR_ULA,         /* fc00::/7 */
    SC_WEBHOOK_ADDR_LINK_LOCAL,  /* 169.254/16 (cloud metadata), fe80::/10 */
    SC_WEBHOOK_ADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
    SC_WEBHOOK_ADDR_MULTICAST,   /* 224/4, ff00::/8 */
    SC_WEBHOOK_ADDR_BROADCAST,   /* 255.255.255.255 */
    SC_WEBHOOK_ADDR_RESERVED,    /* documentation, benchmarking, 240/4, fec0::/10, ... */
    SC_WEBHOOK_ADDR_UNKNOWN      /* not IPv4 or IPv6, or too short */
};

/*
 * Classifies 'sa' of 'len' bytes (borrowed); pure.  IPv6 forms that carry an
 * IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) are classified by the IPv4 address inside.
 */
enum sc_webhook_addr sc_webhook_addr_classify(const struct sockaddr *sa, socklen_t len);

/* A short English name for 'a' ("loopback", ...); static storage. */
const char *sc_webhook_addr_str(enum sc_webhook_addr a);

/*
 * Whether a webhook may connect to an address of class 'a'.  Public addresses
 * always; with 'allow_private', loopback, private, CGNAT and ULA addresses
 * too.  Link-local (where cloud metadata services answer), unspecified,
 * multicast, broadcast and reserved addresses never.
 */
bool sc_webhook_addr_allowed(enum sc_webhook_addr a, bool allow_private);

/* True when the environment says SHARECARD_WEBHOOK_ALLOW_PRIVATE=1. */
bool sc_webhook_allow_private_env(void);

/*
 * The check at `webhook add` time: 'url' parses (libcurl's URL API), is http
 * or https, has no user or password, is at most SC_WEBHOOK_URL_MAX bytes, and
 * every address its host resolves to is allowed (see sc_webhook_addr_allowed).
 * SC_EINVAL otherwise, with the reason in 'why' of 'why_size' bytes (may be
 * NULL).  Deliveries check the address again as they connect, so a name that
 * resolves elsewhere later (DNS rebinding) is still stopped.  Resolving the
 * name blocks (DNS): call it from the CLI or off the request threads.
 */
enum sc_err sc_webhook_url_check(const char *url, bool allow_private, char *why, size_t why_size);

/* ---- one delivery --------------------------------------------------------- */

/*
 * How a delivery is made.  STANDARD: a Standard Webhooks POST (signed
 * headers).  ROBOT: a chat robot's POST of the body as it is (the URL and
 * body already carry the platform's own signature), a 2xx whose JSON says
 * errcode/code != 0 counting as a failure.  SMTP: the body is a whole
 * e-mail sent to 'mail_to' over the SMTP URL (the operator's relay, so
 * private addresses allowed).
 */
enum sc_webhook_style { SC_WEBHOOK_STANDARD = 0, SC_WEBHOOK_ROBOT, SC_WEBHOOK_SMTP };

struct sc_webhook_delivery {
    const char *url;         /* borrowed; http or https */
    const char *secret;      /* borrowed; "whsec_..." */
    const char *id;          /* borrowed; the same "msg_..." on every attempt */
    const char *body;        /* borrowed; sc_webhook_body()'s output */
    size_t body_len;         /* bytes of 'body' */
    int64_t timestamp;       /* webhook-timestamp; 0: time(NULL) when the attempt starts */
    int attempt;             /* 0 for the first attempt, n for the n-th retry */
    bool allow_private;      /* may connect to loopback/private addresses */
    long connect_timeout_ms; /* 0: SC_WEBHOOK_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* whole attempt; 0: SC_WEBHOOK_TIMEOUT_MS */
    /* Notifications (issue 18): how the attempt is made; 0 is a signed webhook. */
    enum sc_webhook_style style;
    const char *mail_from, *mail_to; /* SC_WEBHOOK_SMTP: the envelope (borrowed) */
};

struct sc_webhook_result {
    bool ok;         /* a 2xx status line arrived (a body cut after it does not undo it) */
    long status;     /* HTTP status, 0 when none arrived */
    long latency_ms; /* from the start of the attempt to its end */
    bool timed_out;  /* the connect or total timeout ran out */
    bool refused;    /* the address guard stopped the connection */
    bool cut;        /* the response passed SC_WEBHOOK_RESPONSE_MAX: transfer aborted */
    bool cancelled;  /* the sender stopped before or during the attempt */
    char error[SC_WEBHOOK_ERROR_SIZE];        /* "" when ok, else why not */
    char excerpt[SC_WEBHOOK_EXCERPT_MAX + 1]; /* start of the response body, valid UTF-8 */
};

/*
 * Makes one attempt of 'd' (borrowed) and fills 'r': POST of the body with
 * Content-Type, User-Agent and the webhook-id/-timestamp/-signature headers,
 * signed when the attempt starts; no redirects, no proxy, http and https only,
 * every address checked as it is connected to.  Returns SC_OK when an attempt
 * was made (whatever its outcome: see r->ok), SC_EINVAL for a delivery that
 * cannot be attempted (bad URL, id or secret; r->error says why), SC_ETOOBIG
 * for a body over SC_WEBHOOK_BODY_MAX, SC_ENOMEM.
 * Blocks up to the timeouts; use a sender to keep it off request threads.
 */
enum sc_err sc_webhook_deliver(const struct sc_webhook_delivery *d, struct sc_webhook_result *r);

/*
 * Copies the first bytes of 'in' ('len' bytes, borrowed) into 'out' of 'size'
 * bytes as valid UTF-8: each invalid byte becomes U+FFFD, NULs too, and the
 * copy ends at a character boundary (a character cut by the end of 'in' is
 * dropped).  Always NUL-terminates when 'size' > 0; returns the bytes written.
 */
size_t sc_webhook_excerpt(const char *in, size_t len, char *out, size_t size);

/* ---- retries -------------------------------------------------------------- */

/*
 * When to try again after 'attempts' failed attempts (1 after the first):
 * '*when' = 'now' + about 20 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h for
 * attempts 1..7, each with up to ±10 % random jitter (the first never past
 * 30 s), so a receiver that is down for a while is not hit by every sender at
 * once.  Returns false when it is time to give up (after 8 attempts, about
 * 27.6 hours after the first): mark the message failed.  'attempts' 0: 'now'.
 */
bool sc_webhook_next_attempt(int attempts, int64_t now, int64_t *when);

/* ---- the sender ----------------------------------------------------------- */

struct sc_webhook_sender;

/* Counters for /metrics; one consistent snapshot. */
struct sc_webhook_stats {
    uint64_t delivered; /* attempts answered 2xx */
    uint64_t failed;    /* attempts that ended otherwise */
    uint64_t retried;   /* attempts submitted with attempt > 0 */
    uint64_t rejected;  /* submits refused because the queue was full */
    uint64_t cancelled; /* queued or running attempts stopped by sc_webhook_sender_free */
    size_t in_flight;   /* attempts running now */
    size_t queued;      /* attempts waiting for a thread */
};

/*
 * Called on a sender thread once per submitted attempt, with the delivery
 * (borrowed: the sender's copy, valid during the call) and its result.
 */
typedef void (*sc_webhook_done_fn)(const struct sc_webhook_delivery *d,
                                   const struct sc_webhook_result *r, void *ctx);

/*
 * Starts 'threads' (1..64) delivery threads and a queue of at most
 * 'queue_max' (>= 1) waiting attempts.  '*out' returns new memory; free with
 * sc_webhook_sender_free().  SC_EINVAL, SC_ENOMEM, SC_EIO (no thread).
 */
enum sc_err sc_webhook_sender_new(int threads, size_t queue_max, struct sc_webhook_sender **out);

/*
 * Queues one attempt of 'd' (copied: the caller keeps 'd' and its strings).
 * Never blocks on the network.  'done' (may be NULL) gets 'ctx' and the
 * result later.  SC_EBUSY when the queue is full, SC_EINVAL for a delivery
 * without url, secret, id or body, or after the sender began stopping,
 * SC_ETOOBIG for a body over SC_WEBHOOK_BODY_MAX.
 */
enum sc_err sc_webhook_sender_submit(struct sc_webhook_sender *s,
                                     const struct sc_webhook_delivery *d, sc_webhook_done_fn done,
                                     void *ctx);

/* Fills 'st' with the counters now. */
void sc_webhook_sender_stats(struct sc_webhook_sender *s, struct sc_webhook_stats *st);

/*
 * Stops 's' and frees it.  With 'drain' every queued attempt is made first;
 * without, queued attempts are reported to their 'done' as cancelled and
 * running ones are aborted within about a second (also reported, cancelled).
 * Either way every submitted attempt gets its 'done' call exactly once
 * before this returns.  NULL is a no-op.
 */
void sc_webhook_sender_free(struct sc_webhook_sender *s, bool drain);

/* ---- notifications where salespeople live (issue 18; webhook/notify.c) ---------------- */

enum sc_notify_kind {
    SC_NOTIFY_WECOM = 0,
    SC_NOTIFY_DINGTALK,
    SC_NOTIFY_FEISHU,
    SC_NOTIFY_SLACK,
    SC_NOTIFY_EMAIL
};
/* "wecom", "dingtalk", "feishu", "slack", "email"; false for anything else. */
bool sc_notify_kind_parse(const char *name, enum sc_notify_kind *out);
const char *sc_notify_kind_name(enum sc_notify_kind k);
/* An address we will put in a To: header: dot-atoms @ a domain of two labels or more. */
bool sc_notify_email_valid(const char *addr);
/* SHARECARD_SMTP_URL's check: smtp:// or smtps:// with a host.  SC_EINVAL with the reason. */
enum sc_err sc_notify_smtp_check(const char *url, char *why, size_t why_size);
/*
 * A target's check: for e-mail 'target' is the address; for a robot its
 * webhook URL, https only unless 'allow_private', then as
 * sc_webhook_url_check() (resolves the host).  A 'secret' only for DingTalk
 * and Feishu.  SC_EINVAL with the reason in 'why'.
 */
enum sc_err sc_notify_target_check(enum sc_notify_kind k, const char *target, const char *secret,
                                   bool allow_private, char *why, size_t why_size);
/* DingTalk: base64(HMAC-SHA256(key secret, "ts_ms\nsecret")) (not yet URL-encoded). */
enum sc_err sc_notify_sign_dingtalk(const char *secret, int64_t ts_ms, char *out, size_t size);
/* Feishu: base64(HMAC-SHA256(key "ts_s\nsecret", "")). */
enum sc_err sc_notify_sign_feishu(const char *secret, int64_t ts_s, char *out, size_t size);

/* One message, all borrowed UTF-8: its title, markdown, plain text and HTML forms. */
struct sc_notify_msg {
    const char *title, *markdown, *text, *html;
};
/*
 * The request for target kind 'k' at 'url' (for e-mail the SMTP URL):
 * '*url_out' the URL to post to (DingTalk's with &timestamp=&sign= when
 * 'secret' is set), '*body_out' WeCom's or DingTalk's markdown JSON,
 * Feishu's text JSON (signed in the body), Slack's {"text"}, or a whole
 * multipart/alternative e-mail from 'from' to 'to'.  Both new (free()).
 * 'now_ms' is the wall clock the signatures carry.
 */
enum sc_err sc_notify_request(enum sc_notify_kind k, const char *url, const char *secret,
                              const struct sc_notify_msg *m, int64_t now_ms, const char *from,
                              const char *to, char **url_out, char **body_out);
/* False (the reason in 'why') when a robot's answer is JSON with errcode/code != 0. */
bool sc_notify_answer_ok(const char *body, char *why, size_t why_size);

#endif
