/*
 * uap.c — browser, OS and device families from uap-core's regexes.yaml.
 *
 * The YAML is read once with libyaml and every regex is compiled (and JIT-
 * compiled) once with PCRE2, so after sc_uap_load() the rule lists are
 * read-only and shared by all threads.  A UA string is matched against the
 * three ordered lists of uap-core's specification (user_agent_parsers,
 * os_parsers, device_parsers): the first regex that matches in each list
 * wins, its *_replacement may quote groups as $1..$9, and without a
 * replacement group 1 is the family (group 2 the browser's major version).
 *
 * Matching costs tens of microseconds, so answers are kept in a bounded
 * cache keyed by the whole (cut) UA string: a chained hash table over a fixed
 * array of entries, evicted with the CLOCK algorithm (an entry hit since the
 * hand last passed gets a second chance), under one mutex.  Matching itself
 * runs outside the mutex with per-call match data.
 *
 * Under valgrind the regexes are interpreted, not JIT-compiled: memcheck
 * cannot follow PCRE2's generated code (it reports uninitialised jumps in
 * frames it cannot name), and the interpreter gives the same answers.
 * RUNNING_ON_VALGRIND is a few no-op instructions outside valgrind; the
 * header comes with Debian's valgrind package, and a build without it
 * always uses the JIT.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <assert.h>
#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sharecard/uap.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define CACHE_MAX     4096                 /* entries kept */
#define CACHE_BUCKETS 8192                 /* hash chains; a power of two */
#define MATCH_LIMIT   1000000              /* PCRE2 match limit: bounds a pathological UA */
#define EXPAND_MAX    (SC_UAP_UA_MAX + 64) /* a replacement before it is cut to its field */

struct rule {
    pcre2_code *re;
    char *family; /* family / os / device replacement; NULL means "$1" */
    char *major;  /* v1_replacement (browsers only); NULL means "$2" */
};

struct rules {
    struct rule *v;
    size_t n, cap;
};

struct entry {
    char *ua;        /* owned copy of the cut UA; NULL while the entry is unused */
    size_t len;      /* strlen(ua) */
    uint64_t hash;   /* hash of ua */
    int32_t next;    /* next entry on the same chain; -1 ends it */
    bool referenced; /* CLOCK bit: hit since the hand last passed */
    struct sc_uap_result res;
};

struct sc_uap {
    struct rules ua, os, dev;        /* uap-core's three lists, in file order */
    uint32_t ovec_pairs;             /* most capture groups of any regex, + 1 */
    pcre2_match_context *mctx;       /* match limit; read-only, so shared */
    pthread_mutex_t lock;            /* guards everything below */
    bool lock_ok;                    /* 'lock' was initialised */
    int32_t buckets[CACHE_BUCKETS];  /* chain heads; -1 empty */
    struct entry entries[CACHE_MAX]; /* the cache */
    uint32_t used;                   /* entries filled so far */
    uint32_t hand;                   /* CLOCK hand: next eviction candidate */
};

__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void rules_free(struct rules *l)
{
    for (size_t i = 0; i < l->n; i++) {
        pcre2_code_free(l->v[i].re);
        free(l->v[i].family);
        free(l->v[i].major);
    }
    free(l->v);
}

void sc_uap_free(struct sc_uap *u)
{
    if (!u)
        return;
    rules_free(&u->ua);
    rules_free(&u->os);
    rules_free(&u->dev);
    pcre2_match_context_free(u->mctx);
    for (uint32_t i = 0; i < u->used; i++)
        free(u->entries[i].ua);
    if (u->lock_ok)
        pthread_mutex_destroy(&u->lock);
    free(u);
}

/* ---- loading ---------------------------------------------------------- */

static const char *scalar(yaml_document_t *doc, yaml_node_item_t id)
{
    yaml_node_t *n = yaml_document_get_node(doc, id);
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/*
 * Compiles the rules of the sequence node 'seq' of 'doc' (both borrowed)
 * onto 'l'.  'name' is the list's key, for messages; 'fam_key' names the
 * family replacement and 'major_key' the version one (NULL: none).
 * Returns SC_EINVAL with a message in 'err' for a malformed item or a
 * regex PCRE2 cannot compile: the lists are first-match-wins, so a rule
 * left out would silently hand its strings to a later, wrong rule.
 */
static enum sc_err load_rules(struct sc_uap *u, yaml_document_t *doc, yaml_node_t *seq,
                              const char *name, const char *fam_key, const char *major_key,
                              struct rules *l, char *err, size_t errlen)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) {
        say(err, errlen, "%s is missing or not a list", name);
        return SC_EINVAL;
    }
    size_t count = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (count == 0) {
        say(err, errlen, "%s is empty", name);
        return SC_EINVAL;
    }
    l->v = calloc(count, sizeof(*l->v));
    if (!l->v) {
        say(err, errlen, "out of memory");
        return SC_ENOMEM;
    }
    l->cap = count;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *m = yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
        if (!m || m->type != YAML_MAPPING_NODE) {
            say(err, errlen, "%s item %zu is not a mapping", name, i + 1);
            return SC_EINVAL;
        }
        const char *regex = NULL, *flag = NULL, *fam = NULL, *major = NULL;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(doc, p->key), *v = scalar(doc, p->value);
            if (!k || !v)
                continue;
            if (strcmp(k, "regex") == 0)
                regex = v;
            else if (strcmp(k, "regex_flag") == 0)
                flag = v;
            else if (strcmp(k, fam_key) == 0)
                fam = v;
            else if (major_key && strcmp(k, major_key) == 0)
                major = v;
        }
        if (!regex) {
            say(err, errlen, "%s item %zu has no regex", name, i + 1);
            return SC_EINVAL;
        }
        int code;
        PCRE2_SIZE at;
        uint32_t opts = PCRE2_NEVER_UTF | (flag && strchr(flag, 'i') ? PCRE2_CASELESS : 0);
        pcre2_code *re =
            pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, opts, &code, &at, NULL);
        if (!re) {
            PCRE2_UCHAR msg[120];
            if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
                snprintf((char *)msg, sizeof(msg), "error %d", code);
            say(err, errlen, "%s item %zu: regex '%s': %s at offset %zu", name, i + 1, regex,
                (const char *)msg, (size_t)at);
            return code == PCRE2_ERROR_NOMEMORY ? SC_ENOMEM : SC_EINVAL;
        }
        struct rule *r = &l->v[l->n++]; /* owns 're' from here on */
        r->re = re;
        /* Without JIT (an unsupported CPU, no executable memory, valgrind) PCRE2 interprets:
         * slower, same answers. */
        if (!RUNNING_ON_VALGRIND)
            (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        uint32_t groups = 0;
        if (pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups) == 0 &&
            groups + 1 > u->ovec_pairs)
            u->ovec_pairs = groups + 1;
        if ((fam && !(r->family = strdup(fam))) || (major && !(r->major = strdup(major)))) {
            say(err, errlen, "out of memory");
            return SC_ENOMEM;
        }
    }
    return SC_OK;
}

enum sc_err sc_uap_load(const char *path, struct sc_uap **out, char *err, size_t errlen)
{
    assert(out);
    *out = NULL;
    if (!path)
        path = SC_UAP_DEFAULT_PATH;
    enum sc_err e = SC_ENOMEM;
    struct sc_uap *u = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser = false, have_doc = false;

    FILE *f = fopen(path, "rb");
    if (!f) {
        int saved = errno;
        if (saved == ENOENT || saved == ENOTDIR) {
            say(err, errlen, "%s: no such file (Debian's uap-core package provides it)", path);
            e = SC_ENOTFOUND;
        } else {
            say(err, errlen, "%s: %s", path, strerror(saved));
            e = SC_EIO;
        }
        goto out;
    }
    u = calloc(1, sizeof(*u));
    if (!u || !(u->mctx = pcre2_match_context_create(NULL))) {
        say(err, errlen, "out of memory");
        goto out;
    }
    pcre2_set_match_limit(u->mctx, MATCH_LIMIT);
    if (pthread_mutex_init(&u->lock, NULL) != 0) {
        say(err, errlen, "cannot create a mutex");
        goto out;
    }
    u->lock_ok = true;
    for (size_t i = 0; i < CACHE_BUCKETS; i++)
        u->buckets[i] = -1;

    if (!yaml_parser_initialize(&parser)) {
        say(err, errlen, "out of memory");
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR) {
            say(err, errlen, "out of memory");
        } else {
            say(err, errlen, "%s:%zu: %s", path, (size_t)parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "not YAML");
            e = parser.error == YAML_READER_ERROR && ferror(f) ? SC_EIO : SC_EINVAL;
        }
        goto out;
    }
    have_doc = true;
    e = SC_EINVAL;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        say(err, errlen, "%s: not a uap-core regexes file", path);
        goto out;
    }
    static const char *const keys[3] = {"user_agent_parsers", "os_parsers", "device_parsers"};
    yaml_node_t *lists[3] = {NULL, NULL, NULL};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(&doc, p->key);
        for (int i = 0; k && i < 3; i++)
            if (strcmp(k, keys[i]) == 0)
                lists[i] = yaml_document_get_node(&doc, p->value);
    }
    char why[400];
    why[0] = '\0';
    if ((e = load_rules(u, &doc, lists[0], keys[0], "family_replacement", "v1_replacement", &u->ua,
                        why, sizeof(why))) != SC_OK ||
        (e = load_rules(u, &doc, lists[1], keys[1], "os_replacement", NULL, &u->os, why,
                        sizeof(why))) != SC_OK ||
        (e = load_rules(u, &doc, lists[2], keys[2], "device_replacement", NULL, &u->dev, why,
                        sizeof(why))) != SC_OK) {
        say(err, errlen, "%s: %s", path, why);
        goto out;
    }
    e = SC_OK;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    if (f)
        fclose(f);
    if (e != SC_OK) {
        sc_uap_free(u);
        return e;
    }
    *out = u;
    return SC_OK;
}

/* ---- matching --------------------------------------------------------- */

/*
 * Writes template 'tmpl' with $1..$9 replaced by the groups of the match in
 * 'ov' ('rc' from pcre2_match) of 'subj' into 'buf' ('n' bytes, cut when
 * full); an unset group is empty.  Returns the length written.
 */
static size_t expand(const char *tmpl, const char *subj, const PCRE2_SIZE *ov, int rc, char *buf,
                     size_t n)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < n; p++) {
        if (p[0] != '$' || p[1] < '1' || p[1] > '9') {
            buf[o++] = *p;
            continue;
        }
        int g = *++p - '0';
        if (g < rc && ov[2 * g] != PCRE2_UNSET) {
            size_t len = ov[2 * g + 1] - ov[2 * g];
            if (len > n - 1 - o)
                len = n - 1 - o;
            memcpy(buf + o, subj + ov[2 * g], len);
            o += len;
        }
    }
    buf[o] = '\0';
    return o;
}

/*
 * Copies 'src' ('len' bytes) into the field 'dst' ('n' bytes): control
 * bytes dropped (the text came from a stranger's header and ends up in
 * logs and CSV), surrounding spaces trimmed as the spec asks, and cut at a
 * UTF-8 character boundary when too long.  'fallback' (NULL: "") stands in
 * for an empty result.
 */
static void put_field(char *dst, size_t n, const char *src, size_t len, const char *fallback)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c < 0x20 || c == 0x7f || (c == ' ' && o == 0))
            continue;
        dst[o++] = (char)c;
    }
    /* Drop a last character the cut (or the sender) left incomplete. */
    size_t k = o;
    while (k > 0 && o - k < 3 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
        k--;
    if (k > 0) {
        unsigned char lead = (unsigned char)dst[k - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (o - (k - 1) < need)
            o = k - 1;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
    if (o == 0 && fallback)
        snprintf(dst, n, "%s", fallback);
}

/* The first rule of 'l' that matches 'subj' ('len' bytes), its groups in 'md'; NULL if none. */
static const struct rule *first_match(const struct sc_uap *u, const struct rules *l,
                                      const char *subj, size_t len, pcre2_match_data *md, int *rc)
{
    for (size_t i = 0; i < l->n; i++) {
        /* Below zero is "no match" or a hit limit: either way this rule did not match. */
        *rc = pcre2_match(l->v[i].re, (PCRE2_SPTR)subj, len, 0, 0, md, u->mctx);
        if (*rc > 0)
            return &l->v[i];
    }
    return NULL;
}

/* Fills 'out' from the three lists for 'subj' ('len' bytes).  False when out of memory. */
static bool classify(const struct sc_uap *u, const char *subj, size_t len,
                     struct sc_uap_result *out)
{
    pcre2_match_data *md = pcre2_match_data_create(u->ovec_pairs, NULL);
    if (!md)
        return false;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    char buf[EXPAND_MAX];
    size_t n;
    int rc;
    const struct rule *r;

    if ((r = first_match(u, &u->ua, subj, len, md, &rc))) {
        n = expand(r->family ? r->family : "$1", subj, ov, rc, buf, sizeof(buf));
        put_field(out->browser, sizeof(out->browser), buf, n, "Other");
        n = expand(r->major ? r->major : "$2", subj, ov, rc, buf, sizeof(buf));
        put_field(out->browser_major, sizeof(out->browser_major), buf, n, NULL);
    }
    if ((r = first_match(u, &u->os, subj, len, md, &rc))) {
        n = expand(r->family ? r->family : "$1", subj, ov, rc, buf, sizeof(buf));
        put_field(out->os, sizeof(out->os), buf, n, "Other");
    }
    if ((r = first_match(u, &u->dev, subj, len, md, &rc))) {
        n = expand(r->family ? r->family : "$1", subj, ov, rc, buf, sizeof(buf));
        put_field(out->device, sizeof(out->device), buf, n, "Other");
    }
    out->spider = strcmp(out->device, "Spider") == 0;
    pcre2_match_data_free(md);
    return true;
}

/* ---- cache ------------------------------------------------------------ */

static uint64_t hash_ua(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The entry holding 'ua' ('len' bytes, hash 'h'), or -1.  Caller holds the lock. */
static int32_t cache_find(const struct sc_uap *u, uint64_t h, const char *ua, size_t len)
{
    for (int32_t i = u->buckets[h & (CACHE_BUCKETS - 1)]; i >= 0; i = u->entries[i].next) {
        const struct entry *e = &u->entries[i];
        if (e->hash == h && e->len == len && memcmp(e->ua, ua, len) == 0)
            return i;
    }
    return -1;
}

static void cache_unlink(struct sc_uap *u, int32_t i)
{
    int32_t *pp = &u->buckets[u->entries[i].hash & (CACHE_BUCKETS - 1)];
    while (*pp != i)
        pp = &u->entries[*pp].next;
    *pp = u->entries[i].next;
}

/* Copies the cached answer for 'ua' into 'out'; false on a miss. */
static bool cache_get(struct sc_uap *u, uint64_t h, const char *ua, size_t len,
                      struct sc_uap_result *out)
{
    pthread_mutex_lock(&u->lock);
    int32_t i = cache_find(u, h, ua, len);
    if (i >= 0) {
        u->entries[i].referenced = true;
        *out = u->entries[i].res;
    }
    pthread_mutex_unlock(&u->lock);
    return i >= 0;
}

/* Remembers 'res' for 'ua'; when full, evicts the first entry CLOCK finds unreferenced. */
static void cache_put(struct sc_uap *u, uint64_t h, const char *ua, size_t len,
                      const struct sc_uap_result *res)
{
    char *copy = malloc(len + 1), *evicted = NULL;
    if (!copy)
        return; /* the answer is still right, only not remembered */
    memcpy(copy, ua, len);
    copy[len] = '\0';
    pthread_mutex_lock(&u->lock);
    if (cache_find(u, h, ua, len) >= 0) {
        evicted = copy; /* another thread got here first */
        goto out;
    }
    int32_t i;
    if (u->used < CACHE_MAX) {
        i = (int32_t)u->used++;
    } else {
        while (u->entries[u->hand].referenced) {
            u->entries[u->hand].referenced = false;
            u->hand = (u->hand + 1) % CACHE_MAX;
        }
        i = (int32_t)u->hand;
        u->hand = (u->hand + 1) % CACHE_MAX;
        cache_unlink(u, i);
        evicted = u->entries[i].ua;
    }
    struct entry *e = &u->entries[i];
    e->ua = copy;
    e->len = len;
    e->hash = h;
    e->referenced = false;
    e->res = *res;
    e->next = u->buckets[h & (CACHE_BUCKETS - 1)];
    u->buckets[h & (CACHE_BUCKETS - 1)] = i;
out:
    pthread_mutex_unlock(&u->lock);
    free(evicted);
}

void sc_uap_parse(struct sc_uap *u, const char *ua, struct sc_uap_result *out)
{
    assert(out);
    memset(out, 0, sizeof(*out));
    snprintf(out->browser, sizeof(out->browser), "Other");
    snprintf(out->os, sizeof(out->os), "Other");
    snprintf(out->device, sizeof(out->device), "Other");
    if (!u || !ua || !ua[0])
        return;
    size_t len = strnlen(ua, SC_UAP_UA_MAX); /* the cut string is both subject and key */
    uint64_t h = hash_ua(ua, len);
    if (cache_get(u, h, ua, len, out))
        return;
    if (classify(u, ua, len, out))
        cache_put(u, h, ua, len, out);
}
