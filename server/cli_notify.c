/*
 * cli_notify.c — `sharecard member notify` (issue 18): a member's
 * notification targets (chat robots and e-mail) and their switches.  Adding
 * prints the new target's id; --list prints one target per line without
 * its secret (a DingTalk or Feishu secret is shown as "set", never again in
 * full); --remove stops one; --test queues a test message; --events,
 * --quiet and --digest-hour change what is sent and when.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sharecard/store.h"
#include "sharecard/webhook.h"

#include "cli_int.h"
#include "notify_int.h"

static int list_row(const struct sc_notify_target_row *t, void *ctx)
{
    (void)ctx;
    char when[32];
    time_t tt = (time_t)t->created_at;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *target = strncmp(t->url, "mailto:", 7) == 0 ? t->url + 7 : t->url;
    printf("%lld\t%s\t%s\t%s\t%s\t%s\n", (long long)t->id, t->kind, target,
           t->secret && t->secret[0] ? "secret set" : "no secret", t->team ? "team" : "own", when);
    return 0;
}

/* A positive id from 'v', or -1. */
static long long parse_id(const char *v)
{
    char *end;
    long long id = v && v[0] ? strtoll(v, &end, 10) : -1;
    return v && v[0] && !*end && id > 0 ? id : -1;
}

int sc_cli_member_notify(const struct cli_args *a)
{
    const char *usage = a->cmd->usage, *email = sc_cli_arg(a, "email");
    const char *kind = sc_cli_arg(a, "kind"), *rm = sc_cli_arg(a, "remove");
    const char *test = sc_cli_arg(a, "test"), *events = sc_cli_arg(a, "events");
    const char *quiet = sc_cli_arg(a, "quiet"), *hour = sc_cli_arg(a, "digest-hour");
    bool list = sc_cli_flag(a, "list"), prefs = events || quiet || hour;
    char why[SC_WEBHOOK_ERROR_SIZE] = "", norm[SC_EMAIL_MAX + 1];
    int rc = 0;
    if (!email)
        return sc_cli_usage_error(usage, "--email is required");
    if ((kind != NULL) + list + (rm != NULL) + (test != NULL) + prefs != 1)
        return sc_cli_usage_error(usage, "give one of --kind, --list, --remove, --test, or "
                                         "--events/--quiet/--digest-hour");
    long long id = rm ? parse_id(rm) : test ? parse_id(test) : 0;
    if (id < 0)
        return sc_cli_usage_error(usage, "the ID is a positive number");
    size_t n = 0;
    for (; email[n] && n < sizeof(norm) - 1; n++)
        norm[n] = (char)tolower((unsigned char)email[n]);
    norm[n] = '\0';
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, norm, &m);
    if (e != SC_OK) {
        rc = e == SC_ENOTFOUND ? sc_cli_fail("there is no member with the email %s", norm)
                               : sc_cli_fail("could not read the member: %s", sc_err_str(e));
        goto out;
    }
    if (list) {
        if ((e = sc_store_notify_target_list(s, m.id, list_row, NULL)) != SC_OK)
            rc = sc_cli_fail("could not list the targets: %s", sc_err_str(e));
    } else if (rm) {
        e = sc_store_notify_target_remove(s, m.id, id, (int64_t)time(NULL));
        if (e == SC_ENOTFOUND)
            rc = sc_cli_fail("%s has no target %lld", norm, id);
        else if (e != SC_OK)
            rc = sc_cli_fail("could not remove the target: %s", sc_err_str(e));
    } else if (test) {
        if ((e = sc_notify_test(s, m.id, id)) != SC_OK)
            rc = sc_cli_fail("could not queue the test message: %s", sc_err_str(e));
    } else if (kind) {
        int64_t tid = 0;
        if (sc_notify_target_add(s, &m, kind, sc_cli_arg(a, "url"), sc_cli_arg(a, "to"),
                                 sc_cli_arg(a, "secret"), sc_cli_flag(a, "team"), &tid, why,
                                 sizeof(why)) != SC_OK) {
            rc = sc_cli_fail("target refused: %s", why);
        } else {
            char target[48];
            snprintf(target, sizeof(target), "notify:%lld", (long long)tid);
            sc_store_audit(s, "cli", "notify.add", target, norm);
            printf("%lld\n", (long long)tid);
        }
    } else {
        struct sc_notify_prefs p;
        char *end = NULL;
        if ((e = sc_store_notify_prefs_get(s, m.id, &p)) != SC_OK) {
            rc = sc_cli_fail("could not read the settings: %s", sc_err_str(e));
            goto out;
        }
        if (events &&
            sc_notify_events_parse(events, p.events, sizeof(p.events), why, sizeof(why)) != SC_OK) {
            rc = sc_cli_usage_error(usage, why);
            goto out;
        }
        if (quiet &&
            sc_notify_quiet_parse(quiet, &p.quiet_from, &p.quiet_to, why, sizeof(why)) != SC_OK) {
            rc = sc_cli_usage_error(usage, why);
            goto out;
        }
        if (hour) {
            long h = strcmp(hour, "off") == 0 ? -1 : strtol(hour, &end, 10);
            if ((end && (*end || end == hour)) || h < -1 || h > 23) {
                rc = sc_cli_usage_error(usage, "--digest-hour is 0 to 23, or off");
                goto out;
            }
            p.digest_hour = (int)h;
        }
        if ((e = sc_store_notify_prefs_set(s, m.id, &p)) != SC_OK)
            rc = sc_cli_fail("could not store the settings: %s", sc_err_str(e));
    }
out:
    sc_store_close(s);
    return rc;
}
