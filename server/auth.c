/*
 * auth.c — password hashing and API tokens (see auth.h for the choices).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sharecard/auth.h"
#include "sharecard/store.h"

_Static_assert(SC_PWHASH_LEN >= crypto_pwhash_STRBYTES, "room for an argon2id string");

enum sc_err sc_auth_password_hash(const char *password, char out[SC_PWHASH_LEN])
{
    size_t n = strlen(password);
    if (n < SC_PASSWORD_MIN || n > SC_PASSWORD_MAX)
        return SC_EINVAL;
    if (sodium_init() < 0)
        return SC_ENOMEM;
    if (crypto_pwhash_str_alg(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return SC_ENOMEM;
    return SC_OK;
}

enum sc_err sc_auth_password_check(const char *hash, const char *password)
{
    if (sodium_init() < 0)
        return SC_ENOMEM;
    if (!hash || !hash[0])
        return SC_EFORBIDDEN;
    size_t n = strlen(password);
    if (n > SC_PASSWORD_MAX)
        return SC_EFORBIDDEN;
    return crypto_pwhash_str_verify(hash, password, n) == 0 ? SC_OK : SC_EFORBIDDEN;
}

void sc_auth_token_new(char out[SC_TOKEN_LEN])
{
    unsigned char raw[32];
    if (sodium_init() < 0)
        abort();
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, "sc_", 3);
    sodium_bin2base64(out + 3, SC_TOKEN_LEN - 3, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

enum sc_err sc_auth_token_hash(struct sc_store *s, const char *token, char out[SC_TOKEN_HASH_LEN])
{
    char secret_hex[65];
    enum sc_err e = sc_store_secret(s, "token", secret_hex);
    if (e != SC_OK)
        return e;
    unsigned char key[32], h[32];
    size_t keylen = 0;
    if (sodium_hex2bin(key, sizeof(key), secret_hex, 64, NULL, &keylen, NULL) != 0 ||
        keylen != sizeof(key))
        return SC_EDB;
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), key, sizeof(key));
    sodium_bin2hex(out, SC_TOKEN_HASH_LEN, h, sizeof(h));
    sodium_memzero(key, sizeof(key));
    return SC_OK;
}
