/*
 * anon.c — IP addresses are anonymised before anything stores them:
 * IPv4 to its /24, IPv6 to its /48 (what privacy-first analytics keep, and
 * enough to tell networks apart for fraud signals).
 */
#include <arpa/inet.h>
#include <string.h>

#include "sharecard/tracker.h"

enum sc_err sc_ip_anonymise(const char *ip, char out[SC_IP_ANON_MAX])
{
    unsigned char a[16];
    if (!ip)
        return SC_EINVAL;
    if (inet_pton(AF_INET, ip, a) == 1) {
        a[3] = 0;
        return inet_ntop(AF_INET, a, out, SC_IP_ANON_MAX) ? SC_OK : SC_EINVAL;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
            a[15] = 0;
            return inet_ntop(AF_INET, a + 12, out, SC_IP_ANON_MAX) ? SC_OK : SC_EINVAL;
        }
        memset(a + 6, 0, 10);
        return inet_ntop(AF_INET6, a, out, SC_IP_ANON_MAX) ? SC_OK : SC_EINVAL;
    }
    return SC_EINVAL;
}

/* Decimal digits of 'v' at 'p'; returns the end. */
static char *put_octet(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

void sc_ip4_anonymise(const unsigned char a[4], char out[SC_IP_ANON_MAX])
{
    char *p = out;
    for (int i = 0; i < 3; i++) {
        p = put_octet(p, a[i]);
        *p++ = '.';
    }
    *p++ = '0';
    *p = '\0';
}
