/*
 * sign.c — what makes a webhook a Standard Webhooks message: the secret
 * ("whsec_" + base64 key), message ids, the v1 signature (HMAC-SHA256 over
 * "{id}.{timestamp}.{body}") and its verification, and the JSON body.
 *
 * Keys are decoded strictly, so a secret copied with a stray character fails
 * loudly at `webhook add` instead of signing with a key nobody else holds.
 */
#include "sharecard/webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#define SECRET_PREFIX     "whsec_"
#define SECRET_PREFIX_LEN 6
#define TYPE_MAX          64

/* libsodium must be initialised before its random numbers; idempotent and thread-safe. */
static int sodium_ready(void)
{
    return sodium_init() >= 0;
}

enum sc_err sc_webhook_secret_new(char *out, size_t cap)
{
    unsigned char key[SC_WEBHOOK_SECRET_BYTES];
    if (cap < SC_WEBHOOK_SECRET_SIZE)
        return SC_ETOOBIG;
    if (!sodium_ready())
        return SC_EIO;
    randombytes_buf(key, sizeof(key));
    memcpy(out, SECRET_PREFIX, SECRET_PREFIX_LEN);
    sodium_bin2base64(out + SECRET_PREFIX_LEN, cap - SECRET_PREFIX_LEN, key, sizeof(key),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    return SC_OK;
}

enum sc_err sc_webhook_secret_decode(const char *secret, unsigned char *key, size_t *key_len,
                                     const char **why)
{
    const char *reason = NULL;
    const char *b64, *end = NULL;
    size_t n, got = 0;
    int variant;

    if (!secret || strncmp(secret, SECRET_PREFIX, SECRET_PREFIX_LEN) != 0) {
        reason = "a webhook secret starts with whsec_";
        goto out;
    }
    b64 = secret + SECRET_PREFIX_LEN;
    n = strlen(b64);
    if (n == 0 || n >= SC_WEBHOOK_SECRET_SIZE - SECRET_PREFIX_LEN) {
        reason = "a webhook secret's key is empty or too long";
        goto out;
    }
    /* Padded when its length is a multiple of 4, unpadded otherwise; both exact. */
    variant =
        n % 4 == 0 ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    if (sodium_base642bin(key, SC_WEBHOOK_KEY_MAX, b64, n, NULL, &got, &end, variant) != 0 ||
        end != b64 + n) {
        reason = "a webhook secret's key is not valid base64";
        goto out;
    }
    if (got < SC_WEBHOOK_SECRET_MIN_BYTES) {
        reason = "a webhook secret's key is shorter than 24 bytes";
        goto out;
    }
out:
    if (reason) {
        sodium_memzero(key, SC_WEBHOOK_KEY_MAX);
        got = 0;
    }
    *key_len = got;
    if (why)
        *why = reason;
    return reason ? SC_EINVAL : SC_OK;
}

void sc_webhook_id_new(char out[SC_WEBHOOK_ID_SIZE])
{
    /* Crockford's base32 alphabet in lower case: no i, l, o, u to misread. */
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    (void)sodium_ready();
    memcpy(out, "msg_", 4);
    for (int i = 0; i < 26; i++)
        out[4 + i] = alphabet[randombytes_uniform(32)];
    out[30] = '\0';
}

/* HMAC-SHA256 of "{id}.{ts}.{body}" under 'key' into 'mac'. */
static void mac_of(const unsigned char *key, size_t key_len, const char *id, int64_t ts,
                   const char *body, size_t len, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    char tsbuf[32];
    int tn = snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf, (unsigned long long)tn);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof(st));
}

enum sc_err sc_webhook_sign(const char *secret, const char *id, int64_t ts, const char *body,
                            size_t len, char out[SC_WEBHOOK_SIG_SIZE])
{
    unsigned char key[SC_WEBHOOK_KEY_MAX], mac[crypto_auth_hmacsha256_BYTES];
    size_t key_len;
    enum sc_err err;

    out[0] = '\0';
    if (!id || !*id || (!body && len > 0))
        return SC_EINVAL;
    err = sc_webhook_secret_decode(secret, key, &key_len, NULL);
    if (err != SC_OK)
        return err;
    mac_of(key, key_len, id, ts, body ? body : "", len, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, SC_WEBHOOK_SIG_SIZE - 3, mac, sizeof(mac),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    return SC_OK;
}

bool sc_webhook_verify(const char *secret, const char *id, int64_t ts, const char *body, size_t len,
                       const char *header)
{
    char want[SC_WEBHOOK_SIG_SIZE];
    size_t want_len;
    bool match = false;

    if (!header || sc_webhook_sign(secret, id, ts, body, len, want) != SC_OK)
        return false;
    want_len = strlen(want);
    /* Every item is compared (no early exit), each in constant time. */
    for (const char *p = header; *p;) {
        size_t n = strcspn(p, " ");
        if (n == want_len && sodium_memcmp(p, want, want_len) == 0)
            match = true;
        p += n;
        while (*p == ' ')
            p++;
    }
    return match;
}

static bool type_ok(const char *type)
{
    size_t n = type ? strlen(type) : 0;
    if (n == 0 || n > TYPE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = type[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
            return false;
    }
    return true;
}

enum sc_err sc_webhook_body(const char *type, int64_t ts, const char *data_json, char **out,
                            size_t *len)
{
    enum sc_err err = SC_EINVAL;
    json_t *data = NULL, *root = NULL;
    char stamp[32];
    struct tm tm;
    time_t t = (time_t)ts;

    *out = NULL;
    if (!type_ok(type) || !data_json || !gmtime_r(&t, &tm) ||
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        goto out;
    data = json_loads(data_json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!data)
        goto out;
    err = SC_ENOMEM;
    root = json_object();
    if (!root || json_object_set_new(root, "type", json_string(type)) != 0 ||
        json_object_set_new(root, "timestamp", json_string(stamp)) != 0 ||
        json_object_set(root, "data", data) != 0)
        goto out;
    *out = json_dumps(root, JSON_COMPACT);
    if (!*out)
        goto out;
    if (strlen(*out) > SC_WEBHOOK_BODY_MAX) {
        free(*out);
        *out = NULL;
        err = SC_ETOOBIG;
        goto out;
    }
    if (len)
        *len = strlen(*out);
    err = SC_OK;
out:
    json_decref(data);
    json_decref(root);
    return err;
}
