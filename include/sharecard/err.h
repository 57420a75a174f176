/*
 * err.h — the one error type every fallible sharecard function returns.
 *
 * Results travel through out-parameters; the return value only says whether
 * and how the call failed.  server/reply.c (sc_http_status_of) maps these to HTTP statuses
 * in exactly one place.
 */
#ifndef SHARECARD_ERR_H
#define SHARECARD_ERR_H

enum sc_err {
    SC_OK = 0,
    SC_ENOMEM,    /* out of memory */
    SC_EINVAL,    /* bad input from the caller or the user */
    SC_ENOTFOUND, /* no such row / file / route */
    SC_ECONFLICT, /* unique key already taken */
    SC_ETOOBIG,   /* input or output over its size limit */
    SC_EDB,       /* the store failed */
    SC_EIO,       /* a file or socket failed */
    SC_EBUSY,     /* overloaded: try again later */
    SC_EVERSION,  /* data written by a newer sharecard */
    SC_EFORBIDDEN /* authenticated but not allowed */
};

/* A short English phrase for 'e'; never NULL, static storage. */
const char *sc_err_str(enum sc_err e);

#endif
