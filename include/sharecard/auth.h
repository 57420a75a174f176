/*
 * auth.h — passwords and API tokens.
 *
 * Passwords are hashed with argon2id (libsodium's crypto_pwhash_str, at its
 * "interactive" limits: 2 passes over 64 MiB, above OWASP's minimum).
 * API tokens are 256 random bits shown once; only a keyed BLAKE2b hash of
 * each is stored, keyed by a per-store secret.
 */
#ifndef SHARECARD_AUTH_H
#define SHARECARD_AUTH_H

#include <stddef.h>

#include "sharecard/err.h"

struct sc_store;

#define SC_PASSWORD_MIN   8
#define SC_PASSWORD_MAX   256
#define SC_PWHASH_LEN     128 /* >= crypto_pwhash_STRBYTES */
#define SC_TOKEN_LEN      48  /* "sc_" + 43 base64url chars + NUL, rounded */
#define SC_TOKEN_HASH_LEN 65

/* Hashes 'password' into 'out'.  SC_EINVAL when its length is out of bounds. */
enum sc_err sc_auth_password_hash(const char *password, char out[SC_PWHASH_LEN]);
/* SC_OK when 'password' matches 'hash', SC_EFORBIDDEN when not. */
enum sc_err sc_auth_password_check(const char *hash, const char *password);

/* A new random token in 'out'. */
void sc_auth_token_new(char out[SC_TOKEN_LEN]);
/* The keyed hash of 'token' for store 's', hex in 'out'. */
enum sc_err sc_auth_token_hash(struct sc_store *s, const char *token, char out[SC_TOKEN_HASH_LEN]);

#endif
