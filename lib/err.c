/*
 * err.c — names for enum sc_err.
 */
#include "sharecard/err.h"

const char *sc_err_str(enum sc_err e)
{
    switch (e) {
    case SC_OK: return "ok";
    case SC_ENOMEM: return "out of memory";
    case SC_EINVAL: return "invalid input";
    case SC_ENOTFOUND: return "not found";
    case SC_ECONFLICT: return "already exists";
    case SC_ETOOBIG: return "too large";
    case SC_EDB: return "database error";
    case SC_EIO: return "input/output error";
    case SC_EBUSY: return "busy, try again later";
    case SC_EVERSION: return "written by a newer version of sharecard";
    case SC_EFORBIDDEN: return "forbidden";
    }
    return "unknown error";
}
