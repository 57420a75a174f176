/*
 * test_outbox.c — the webhook outbox on SQLite (store/q_webhooks.c): an
 * event fans out to the endpoints subscribed to it, a claim is a lease no
 * other claim can take until it runs out, an attempt is recorded only by the
 * claim holding it, the same msg id is handed out on every attempt, removing
 * an endpoint cancels what it still had to get, and "send again" starts a
 * delivered row over with its id.  A member's notification target shares
 * that removal: its pending alerts are cancelled, and nobody else's target
 * (or a webhook) can be removed, or have its alerts cancelled, through it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sharecard/store.h"

static struct sc_store *open_mem(void)
{
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(":memory:", &s, err, sizeof(err)), SC_OK);
    return s;
}

struct seen {
    int n;
    int64_t id[16];
    char msg[16][40];
    int attempts[16];
    char type[16][32];
    char url[16][64];
};

static int collect(const struct sc_outbox_row *o, void *ctx)
{
    struct seen *s = ctx;
    if (s->n < 16) {
        s->id[s->n] = o->id;
        snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", o->msg_id);
        s->attempts[s->n] = o->attempts;
        snprintf(s->type[s->n], sizeof(s->type[0]), "%s", o->type);
        snprintf(s->url[s->n], sizeof(s->url[0]), "%s", o->url);
    }
    s->n++;
    return 0;
}

static int count_hooks(const struct sc_webhook_row *w, void *ctx)
{
    (void)w;
    (*(int *)ctx)++;
    return 0;
}

static void test_fan_out_claim_lease_and_attempts(void **state)
{
    (void)state;
    struct sc_store *s = open_mem();
    int64_t a = 0, b = 0, now = 1700000000;
    assert_int_equal(
        sc_store_webhook_add(s, "https://a.example/hook", "whsec_x", "signup.created", now, &a),
        SC_OK);
    assert_int_equal(sc_store_webhook_add(s, "https://b.example/hook", "whsec_y",
                                          SC_WEBHOOK_EVENTS_ALL, now, &b),
                     SC_OK);
    assert_true(a > 0 && b > a);

    /* signup.created reaches both, lead.hot only b. */
    assert_int_equal(sc_store_outbox_add(s, "signup.created", now, "{\"id\":1}"), SC_OK);
    assert_int_equal(sc_store_outbox_add(s, "lead.hot", now, "{\"score\":90}"), SC_OK);
    int64_t pending, delivered, failed;
    assert_int_equal(sc_store_outbox_counts(s, &pending, &delivered, &failed), SC_OK);
    assert_int_equal(pending, 3);

    /* Rows are due from the moment they are written (time()), so claim with a later 'now'. */
    int64_t t = (int64_t)time(NULL) + 1;
    struct seen one = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c1", t, t + 120, 10, collect, &one), SC_OK);
    assert_int_equal(one.n, 3);
    assert_string_not_equal(one.msg[0], one.msg[1]);
    assert_int_equal(strncmp(one.msg[0], "msg_", 4), 0);
    assert_int_equal(strlen(one.msg[0]), 30);

    /* Leased: a second claim (another instance) gets nothing. */
    struct seen none = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c2", t, t + 120, 10, collect, &none), SC_OK);
    assert_int_equal(none.n, 0);

    /* Only the holder of the claim records the attempt. */
    struct sc_outbox_result res = {.status = "pending",
                                   .next_at = t + 20,
                                   .at = t,
                                   .http_status = 503,
                                   .latency_ms = 12,
                                   .error = "HTTP 503",
                                   .excerpt = "busy"};
    assert_int_equal(sc_store_outbox_attempt(s, one.id[0], "c2", &res), SC_ENOTFOUND);
    assert_int_equal(sc_store_outbox_attempt(s, one.id[0], "c1", &res), SC_OK);

    /* Not due before next_at; then the same row, the same msg id, one attempt made. */
    struct seen early = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c3", t + 19, t + 139, 10, collect, &early), SC_OK);
    assert_int_equal(early.n, 0);
    struct seen again = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c4", t + 21, t + 141, 10, collect, &again), SC_OK);
    assert_int_equal(again.n, 1);
    assert_int_equal(again.id[0], one.id[0]);
    assert_string_equal(again.msg[0], one.msg[0]);
    assert_int_equal(again.attempts[0], 1);
    res.status = "delivered";
    res.http_status = 204;
    assert_int_equal(sc_store_outbox_attempt(s, again.id[0], "c4", &res), SC_OK);

    /* A lease that ran out (the instance died) gives the rows to the next claim. */
    struct seen late = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c5", t + 121, t + 241, 10, collect, &late), SC_OK);
    assert_int_equal(late.n, 2);

    /* The claim comes back without an attempt when the sender could not make it. */
    assert_int_equal(sc_store_outbox_release(s, late.id[0], "c5"), SC_OK);
    assert_int_equal(sc_store_outbox_release(s, late.id[1], "c5"), SC_OK);

    /* Send again: the delivered row is pending again, attempts afresh, same id. */
    assert_int_equal(sc_store_outbox_resend(s, one.id[0], t + 200), SC_OK);
    struct seen re = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c6", t + 200, t + 320, 10, collect, &re), SC_OK);
    assert_int_equal(re.n, 3);
    bool found = false;
    for (int i = 0; i < re.n; i++)
        if (re.id[i] == one.id[0]) {
            found = true;
            assert_string_equal(re.msg[i], one.msg[0]);
            assert_int_equal(re.attempts[i], 0);
        }
    assert_true(found);
    /* While an attempt runs, send again is refused. */
    assert_int_equal(sc_store_outbox_resend(s, one.id[0], t + 201), SC_ECONFLICT);
    for (int i = 0; i < re.n; i++)
        assert_int_equal(sc_store_outbox_release(s, re.id[i], "c6"), SC_OK);

    /* Removing an endpoint cancels its pending deliveries and hides it. */
    assert_int_equal(sc_store_webhook_remove(s, a, t), SC_OK);
    assert_int_equal(sc_store_webhook_remove(s, a, t), SC_ENOTFOUND);
    int hooks = 0;
    assert_int_equal(sc_store_webhook_list(s, count_hooks, &hooks), SC_OK);
    assert_int_equal(hooks, 1);
    struct seen rest = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c7", t + 300, t + 420, 10, collect, &rest), SC_OK);
    for (int i = 0; i < rest.n; i++)
        assert_string_equal(rest.url[i], "https://b.example/hook");
    assert_int_equal(rest.n, 2);
    assert_int_equal(sc_store_outbox_resend(s, one.id[0], t + 300),
                     strcmp(one.url[0], "https://a.example/hook") == 0 ? SC_ENOTFOUND
                                                                       : SC_ECONFLICT);
    /* An endpoint removed while its attempt runs: the row stays cancelled. */
    int64_t c = 0;
    assert_int_equal(
        sc_store_webhook_add(s, "https://c.example/hook", "whsec_z", "lead.hot", t, &c), SC_OK);
    assert_int_equal(sc_store_outbox_add(s, "lead.hot", t, "{}"), SC_OK);
    struct seen run = {0};
    assert_int_equal(sc_store_outbox_claim(s, "c8", t + 300, t + 900, 10, collect, &run), SC_OK);
    assert_int_equal(run.n, 2); /* b's lead.hot and c's */
    assert_int_equal(sc_store_webhook_remove(s, c, t), SC_OK);
    for (int i = 0; i < run.n; i++) {
        res.status = "delivered";
        enum sc_err want = strcmp(run.url[i], "https://c.example/hook") == 0 ? SC_ENOTFOUND : SC_OK;
        assert_int_equal(sc_store_outbox_attempt(s, run.id[i], "c8", &res), want);
    }
    sc_store_close(s);
}

static int64_t member(struct sc_store *s, const char *email, const char *slug)
{
    struct sc_member m = {0}, out = {0};
    snprintf(m.email, sizeof(m.email), "%s", email);
    snprintf(m.name, sizeof(m.name), "%s", slug);
    struct sc_card p = {0};
    snprintf(p.slug, sizeof(p.slug), "%s", slug);
    assert_int_equal(sc_store_member_add(s, &m, NULL, &p, &out), SC_OK);
    return out.id;
}

static void test_notify_target_remove_cancels_its_own(void **state)
{
    (void)state;
    struct sc_store *s = open_mem();
    int64_t now = (int64_t)time(NULL), ma = member(s, "a@example.com", "alice"),
            mb = member(s, "b@example.com", "bob"), ta = 0, tb = 0, hook = 0;
    assert_int_equal(
        sc_store_notify_target_add(s, ma, "slack", "https://a.example/robot", "", false, now, &ta),
        SC_OK);
    assert_int_equal(
        sc_store_notify_target_add(s, mb, "slack", "https://b.example/robot", "", false, now, &tb),
        SC_OK);
    assert_int_equal(
        sc_store_webhook_add(s, "https://h.example/hook", "whsec_h", "lead.hot", now, &hook),
        SC_OK);
    assert_int_equal(sc_store_notify_add(s, ma, ta, "notify.test", now, "{}"), SC_OK);
    assert_int_equal(sc_store_notify_add(s, mb, tb, "notify.test", now, "{}"), SC_OK);
    assert_int_equal(sc_store_outbox_add(s, "lead.hot", now, "{}"), SC_OK);
    int64_t pending, delivered, failed;
    assert_int_equal(sc_store_outbox_counts(s, &pending, &delivered, &failed), SC_OK);
    assert_int_equal(pending, 3);

    /* Not yours, or not a target: refused, and nothing cancelled. */
    assert_int_equal(sc_store_notify_target_remove(s, mb, ta, now), SC_ENOTFOUND);
    assert_int_equal(sc_store_notify_target_remove(s, ma, hook, now), SC_ENOTFOUND);
    assert_int_equal(sc_store_outbox_counts(s, &pending, &delivered, &failed), SC_OK);
    assert_int_equal(pending, 3);

    /* Yours: gone, and its alert with it; bob's alert and the webhook's delivery stay. */
    assert_int_equal(sc_store_notify_target_remove(s, ma, ta, now), SC_OK);
    assert_int_equal(sc_store_notify_target_remove(s, ma, ta, now), SC_ENOTFOUND);
    assert_int_equal(sc_store_outbox_counts(s, &pending, &delivered, &failed), SC_OK);
    assert_int_equal(pending, 2);
    struct seen rest = {0};
    assert_int_equal(sc_store_outbox_claim(s, "n1", now + 60, now + 180, 10, collect, &rest),
                     SC_OK);
    assert_int_equal(rest.n, 2);
    for (int i = 0; i < rest.n; i++)
        assert_true(strcmp(rest.url[i], "https://a.example/robot") != 0);
    sc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fan_out_claim_lease_and_attempts),
        cmocka_unit_test(test_notify_target_remove_cancels_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
