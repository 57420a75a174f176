/*
 * score_json.c — the intent model as one JSON text, so the store can keep
 * each model in one row and the server can show its version, date and AUC:
 *
 *   {"format":1,"version":3,"trained_at":1800000000,"examples":812,
 *    "positives":97,"auc":0.81,"baseline_auc":0.64,"l2":1,"bias":-2.1,
 *    "features":[{"name":"visits","mean":0.9,"scale":0.4,"weight":0.3},…]}
 *
 * Doubles are written with 17 significant digits so a model reads back
 * bit for bit.  An AUC that does not exist (the prior's) is null.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sharecard/score.h"

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

enum sc_err sc_score_model_to_json(const struct sc_score_model *m, char **out)
{
    enum sc_err e = SC_ENOMEM;
    json_t *root = json_object(), *feats = json_array();

    if (!root || !feats)
        goto out;
    int bad = 0;
    bad |= json_object_set_new(root, "format", json_integer(SC_SCORE_FORMAT));
    bad |= json_object_set_new(root, "version", json_integer(m->version));
    bad |= json_object_set_new(root, "trained_at", json_integer(m->trained_at));
    bad |= json_object_set_new(root, "examples", json_integer(m->n_examples));
    bad |= json_object_set_new(root, "positives", json_integer(m->n_positive));
    bad |= json_object_set_new(root, "auc", real_or_null(m->auc));
    bad |= json_object_set_new(root, "baseline_auc", real_or_null(m->baseline_auc));
    bad |= json_object_set_new(root, "l2", json_real(m->l2));
    bad |= json_object_set_new(root, "bias", json_real(m->bias));
    for (int j = 0; j < SC_SCORE_NF; j++)
        bad |= json_array_append_new(
            feats, json_pack("{s:s, s:f, s:f, s:f}", "name", sc_score_feature_name(j), "mean",
                             m->mean[j], "scale", m->scale[j], "weight", m->weight[j]));
    if (bad)
        goto out;
    bad = json_object_set(root, "features", feats);
    if (bad)
        goto out;
    *out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (*out)
        e = SC_OK;
out:
    json_decref(feats);
    json_decref(root);
    return e;
}

/* A number member of 'o' that must be finite; NaN when null and 'nullable'. */
static bool get_real(json_t *o, const char *key, bool nullable, double *v)
{
    json_t *j = json_object_get(o, key);
    if (nullable && json_is_null(j)) {
        *v = NAN;
        return true;
    }
    if (!json_is_number(j))
        return false;
    *v = json_number_value(j);
    return isfinite(*v);
}

static bool get_int(json_t *o, const char *key, int64_t *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j))
        return false;
    *v = json_integer_value(j);
    return true;
}

enum sc_err sc_score_model_from_json(const char *json, struct sc_score_model *out)
{
    enum sc_err e = SC_EINVAL;
    struct sc_score_model m;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    int64_t format, ex, pos;

    memset(&m, 0, sizeof(m));
    if (!json_is_object(root) || !get_int(root, "format", &format))
        goto out;
    if (format != SC_SCORE_FORMAT) {
        e = format > SC_SCORE_FORMAT ? SC_EVERSION : SC_EINVAL;
        goto out;
    }
    if (!get_int(root, "version", &m.version) || !get_int(root, "trained_at", &m.trained_at) ||
        !get_int(root, "examples", &ex) || !get_int(root, "positives", &pos) || ex < 0 || pos < 0 ||
        pos > ex || ex > UINT32_MAX || !get_real(root, "auc", true, &m.auc) ||
        !get_real(root, "baseline_auc", true, &m.baseline_auc) ||
        !get_real(root, "l2", false, &m.l2) || !get_real(root, "bias", false, &m.bias))
        goto out;
    m.n_examples = (uint32_t)ex;
    m.n_positive = (uint32_t)pos;
    json_t *feats = json_object_get(root, "features");
    if (!json_is_array(feats))
        goto out;
    if (json_array_size(feats) != SC_SCORE_NF) {
        e = SC_EVERSION; /* another feature list: written by another sharecard */
        goto out;
    }
    for (int j = 0; j < SC_SCORE_NF; j++) {
        json_t *f = json_array_get(feats, (size_t)j);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!json_is_object(f) || !name)
            goto out;
        if (strcmp(name, sc_score_feature_name(j)) != 0) {
            e = SC_EVERSION;
            goto out;
        }
        if (!get_real(f, "mean", false, &m.mean[j]) || !get_real(f, "scale", false, &m.scale[j]) ||
            !(m.scale[j] > 0) || !get_real(f, "weight", false, &m.weight[j]))
            goto out;
    }
    *out = m;
    e = SC_OK;
out:
    json_decref(root);
    return e;
}
