/*
 * cli_score.c — the commands about the intent model: 'score train' trains
 * it on the store's outcomes now (the server also does it daily) and says
 * in one line what happened; 'score eval' reports the active model's
 * held-out AUC and calibration by decile beside the view-count baseline.
 * Their options are in cli.c's table; the work is lead_intel.c's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sharecard/score.h"
#include "sharecard/store.h"

#include "cli_int.h"
#include "leads_int.h"

int sc_cli_score_train(const struct cli_args *a)
{
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    sc_tz_init();
    struct sc_score_report rep;
    struct sc_score_model m;
    enum sc_err e = sc_leads_train(s, (int64_t)time(NULL), &rep, &m);
    sc_store_close(s);
    if (e != SC_OK)
        return sc_cli_fail("could not train the intent model: %s", sc_err_str(e));
    printf("examples %u, positives %u: ", rep.n, rep.positives);
    switch (rep.verdict) {
    case SC_SCORE_ACTIVATED:
        printf("model v%lld active, held-out AUC %.3f (view count %.3f)\n", (long long)m.version,
               rep.auc, rep.auc_baseline);
        break;
    case SC_SCORE_TOO_FEW:
        printf("too few outcomes (%d positives and %d negatives needed): the %s stays\n",
               SC_SCORE_MIN_CLASS, SC_SCORE_MIN_CLASS,
               m.version > 0 ? "active model" : "shipped prior");
        break;
    case SC_SCORE_UNTESTABLE:
        printf("the newest fifth lacks a sign-up or a non-sign-up: the %s stays\n",
               m.version > 0 ? "active model" : "shipped prior");
        break;
    default:
        printf("held-out AUC %.3f, not above the active model's %.3f (view count %.3f): "
               "v%lld stays\n",
               rep.auc, rep.auc_active, rep.auc_baseline, (long long)m.version);
        break;
    }
    return 0;
}

static void json_num(double v)
{
    if (isfinite(v))
        printf("%.6f", v);
    else
        fputs("null", stdout);
}

int sc_cli_score_eval(const struct cli_args *a)
{
    bool json = sc_cli_flag(a, "json");
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    sc_tz_init();
    struct sc_score_model m;
    bool trained = false;
    struct sc_score_example *ex = NULL;
    size_t n = 0;
    int64_t now = (int64_t)time(NULL);
    enum sc_err e = sc_leads_model(s, &m, &trained);
    if (e == SC_OK)
        e = sc_leads_examples(s, now, &ex, &n);
    sc_store_close(s);
    struct sc_score_report rep;
    if (e == SC_OK)
        e = sc_score_eval(&m, ex, n, &rep);
    free(ex);
    if (e == SC_EINVAL)
        return sc_cli_fail("nothing to evaluate on: the newest fifth of %zu leads lacks a "
                           "sign-up or a non-sign-up",
                           n);
    if (e != SC_OK)
        return sc_cli_fail("could not evaluate the intent model: %s", sc_err_str(e));
    if (json) {
        printf("{\"model\":{\"version\":%lld,\"trained_at\":%lld,\"prior\":%s},"
               "\"examples\":%u,\"positives\":%u,\"test\":%u,\"auc\":",
               (long long)m.version, (long long)m.trained_at, trained ? "false" : "true", rep.n,
               rep.positives, rep.n_test);
        json_num(rep.auc);
        fputs(",\"baseline_auc\":", stdout);
        json_num(rep.auc_baseline);
        fputs(",\"calibration\":[", stdout);
        for (int d = 0; d < SC_SCORE_DECILES; d++) {
            printf("%s{\"n\":%u,\"predicted\":", d ? "," : "", rep.calibration[d].n);
            json_num(rep.calibration[d].predicted);
            fputs(",\"observed\":", stdout);
            json_num(rep.calibration[d].observed);
            fputc('}', stdout);
        }
        fputs("]}\n", stdout);
        return 0;
    }
    printf("model %s%lld on %u examples (%u positives), newest %u held out\n",
           trained ? "v" : "prior v", (long long)m.version, rep.n, rep.positives, rep.n_test);
    printf("AUC %.3f   view-count baseline %.3f\n", rep.auc, rep.auc_baseline);
    printf("decile  leads  predicted  observed\n");
    for (int d = 0; d < SC_SCORE_DECILES; d++)
        printf("%6d  %5u  %9.3f  %8.3f\n", d + 1, rep.calibration[d].n,
               rep.calibration[d].predicted, rep.calibration[d].observed);
    return 0;
}
