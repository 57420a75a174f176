/*
 * uap.c — browser, OS and device families from uap-core's regexes.yaml.
 *
 * The YAML is read once with libyaml; every regex is compiled (and JIT-
 * compiled) once with PCRE2.  A user-agent string is matched against the
 * three ordered lists — the first match in each wins, as the uap-core spec
 * says — and the answer is cached by the whole string, since a deployment
 * sees the same few hundred strings over and over.  Matching happens on the
 * event writer's thread, never on a request's.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sharecard/uap.h"

#define DEFAULT_PATH "/usr/share/uap-core/regexes.yaml"
#define UA_LIMIT     512
#define CACHE_SLOTS  4096

struct rule {
    pcre2_code *re;
    char *repl; /* family / os / device replacement, or NULL for $1 */
    char *v1;   /* v1_replacement (browsers), or NULL for $2 */
};

struct list {
    struct rule *rules;
    size_t n, cap;
};

struct cache_slot {
    char *ua;
    struct sc_uap_result res;
};

struct sc_uap {
    struct list ua, os, dev;
    pthread_mutex_t lock;
    struct cache_slot *cache;
};

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        pcre2_code_free(l->rules[i].re);
        free(l->rules[i].repl);
        free(l->rules[i].v1);
    }
    free(l->rules);
}

void sc_uap_free(struct sc_uap *u)
{
    if (!u)
        return;
    list_free(&u->ua);
    list_free(&u->os);
    list_free(&u->dev);
    if (u->cache) {
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            free(u->cache[i].ua);
        free(u->cache);
    }
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static const char *scalar(yaml_document_t *doc, yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Adds the rules of the sequence node 'seq' to 'l'; 'repl_key' names the replacement. */
static enum sc_err load_list(yaml_document_t *doc, yaml_node_t *seq, const char *repl_key,
                             struct list *l, char *err, size_t errlen)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) {
        snprintf(err, errlen, "a parser list is not a sequence");
        return SC_EINVAL;
    }
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = yaml_document_get_node(doc, *it);
        if (!m || m->type != YAML_MAPPING_NODE)
            continue;
        const char *regex = NULL, *repl = NULL, *v1 = NULL, *flag = NULL;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
            const char *v = scalar(doc, yaml_document_get_node(doc, p->value));
            if (!k || !v)
                continue;
            if (strcmp(k, "regex") == 0)
                regex = v;
            else if (strcmp(k, repl_key) == 0)
                repl = v;
            else if (strcmp(k, "v1_replacement") == 0)
                v1 = v;
            else if (strcmp(k, "regex_flag") == 0)
                flag = v;
        }
        if (!regex)
            continue;
        int code;
        PCRE2_SIZE off;
        uint32_t opts = flag && strchr(flag, 'i') ? PCRE2_CASELESS : 0;
        pcre2_code *re =
            pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
        if (!re)
            continue; /* a pattern PCRE2 cannot read is skipped, not fatal */
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 256;
            struct rule *r = realloc(l->rules, cap * sizeof(*r));
            if (!r) {
                pcre2_code_free(re);
                snprintf(err, errlen, "out of memory");
                return SC_ENOMEM;
            }
            l->rules = r;
            l->cap = cap;
        }
        struct rule *r = &l->rules[l->n++];
        r->re = re;
        r->repl = repl ? strdup(repl) : NULL;
        r->v1 = v1 ? strdup(v1) : NULL;
    }
    return SC_OK;
}

enum sc_err sc_uap_load(const char *path, struct sc_uap **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!path)
        path = DEFAULT_PATH;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s not found (install Debian's uap-core)", path);
        return SC_ENOTFOUND;
    }
    struct sc_uap *u = calloc(1, sizeof(*u));
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser = false, have_doc = false;
    enum sc_err e = SC_ENOMEM;
    if (!u || !(u->cache = calloc(CACHE_SLOTS, sizeof(*u->cache)))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    pthread_mutex_init(&u->lock, NULL);
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_file(&parser, f);
    e = SC_EINVAL;
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s: %s", path, parser.problem ? parser.problem : "not YAML");
        goto out;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: not a uap-core regexes file", path);
        goto out;
    }
    yaml_node_t *lists[3] = {NULL, NULL, NULL};
    static const char *const keys[3] = {"user_agent_parsers", "os_parsers", "device_parsers"};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(&doc, yaml_document_get_node(&doc, p->key));
        for (int i = 0; k && i < 3; i++)
            if (strcmp(k, keys[i]) == 0)
                lists[i] = yaml_document_get_node(&doc, p->value);
    }
    if ((e = load_list(&doc, lists[0], "family_replacement", &u->ua, err, errlen)) != SC_OK ||
        (e = load_list(&doc, lists[1], "os_replacement", &u->os, err, errlen)) != SC_OK ||
        (e = load_list(&doc, lists[2], "device_replacement", &u->dev, err, errlen)) != SC_OK)
        goto out;
    if (u->ua.n == 0) {
        snprintf(err, errlen, "%s: no user-agent parsers", path);
        e = SC_EINVAL;
        goto out;
    }
    e = SC_OK;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    fclose(f);
    if (e != SC_OK) {
        sc_uap_free(u);
        return e;
    }
    *out = u;
    return SC_OK;
}

/* Writes 'repl' with $1..$9 replaced by the groups of the match into 'out'. */
static void expand(const char *repl, const char *subj, pcre2_match_data *md, int rc, char *out,
                   size_t n)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t o = 0;
    for (const char *p = repl; *p && o + 1 < n; p++) {
        if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            int g = p[1] - '0';
            if (g < rc && ov[2 * g] != PCRE2_UNSET) {
                size_t len = ov[2 * g + 1] - ov[2 * g];
                if (len > n - 1 - o)
                    len = n - 1 - o;
                memcpy(out + o, subj + ov[2 * g], len);
                o += len;
            }
            p++;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    /* Trim what an empty group left behind. */
    while (o > 0 && out[o - 1] == ' ')
        out[--o] = '\0';
    size_t lead = strspn(out, " ");
    if (lead)
        memmove(out, out + lead, o - lead + 1);
}

static void group(const char *subj, pcre2_match_data *md, int rc, int g, char *out, size_t n)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    out[0] = '\0';
    if (g < rc && ov[2 * g] != PCRE2_UNSET) {
        size_t len = ov[2 * g + 1] - ov[2 * g];
        if (len >= n)
            len = n - 1;
        memcpy(out, subj + ov[2 * g], len);
        out[len] = '\0';
    }
}

/* First rule of 'l' matching 'subj': family into 'fam', major version into 'major' (may be NULL).
 */
static void match_list(const struct list *l, const char *subj, size_t len, pcre2_match_data *md,
                       char *fam, size_t n, char *major, size_t mn)
{
    snprintf(fam, n, "Other");
    if (major)
        major[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        int rc = pcre2_match(l->rules[i].re, (PCRE2_SPTR)subj, len, 0, 0, md, NULL);
        if (rc <= 0)
            continue;
        if (l->rules[i].repl)
            expand(l->rules[i].repl, subj, md, rc, fam, n);
        else
            group(subj, md, rc, 1, fam, n);
        if (!fam[0])
            snprintf(fam, n, "Other");
        if (major) {
            if (l->rules[i].v1)
                expand(l->rules[i].v1, subj, md, rc, major, mn);
            else
                group(subj, md, rc, 2, major, mn);
        }
        return;
    }
}

static size_t slot_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % CACHE_SLOTS);
}

void sc_uap_parse(struct sc_uap *u, const char *ua, struct sc_uap_result *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->browser, sizeof(out->browser), "Other");
    snprintf(out->os, sizeof(out->os), "Other");
    snprintf(out->device, sizeof(out->device), "Other");
    if (!u || !ua || !ua[0])
        return;
    char subj[UA_LIMIT + 1];
    size_t len = strnlen(ua, UA_LIMIT);
    memcpy(subj, ua, len);
    subj[len] = '\0';

    struct cache_slot *slot = &u->cache[slot_of(subj)];
    pthread_mutex_lock(&u->lock);
    if (slot->ua && strcmp(slot->ua, subj) == 0) {
        *out = slot->res;
        pthread_mutex_unlock(&u->lock);
        return;
    }
    pthread_mutex_unlock(&u->lock);

    pcre2_match_data *md = pcre2_match_data_create(20, NULL);
    if (!md)
        return;
    match_list(&u->ua, subj, len, md, out->browser, sizeof(out->browser), out->browser_major,
               sizeof(out->browser_major));
    match_list(&u->os, subj, len, md, out->os, sizeof(out->os), NULL, 0);
    match_list(&u->dev, subj, len, md, out->device, sizeof(out->device), NULL, 0);
    pcre2_match_data_free(md);
    out->spider = strcmp(out->device, "Spider") == 0;

    char *copy = strdup(subj);
    if (!copy)
        return;
    pthread_mutex_lock(&u->lock);
    free(slot->ua);
    slot->ua = copy;
    slot->res = *out;
    pthread_mutex_unlock(&u->lock);
}
