/*
 * tmpl.c — the template engine of tmpl.h.
 *
 * Compiling turns the source into a flat list of ops: literal spans (into a
 * private copy of the source), variables (an index into the caller's value
 * array) and sections (a jump to the op after their end when the section is
 * not to be shown).  Rendering is then one loop with no parsing and no
 * allocation but the output's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/escape.h"
#include "sharecard/tmpl.h"

#define MAX_DEPTH 16

enum op_kind { OP_LIT, OP_VAR, OP_IF, OP_IFNOT, OP_END };

struct op {
    enum op_kind kind;
    size_t off, len; /* OP_LIT: span of the source copy */
    size_t var;      /* OP_VAR, OP_IF, OP_IFNOT */
    size_t jump;     /* OP_IF, OP_IFNOT: index of the op after the matching OP_END */
};

struct sc_tmpl {
    char *src;
    struct op *ops;
    size_t nops, cap;
};

static int push(struct sc_tmpl *t, struct op o)
{
    if (t->nops == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        struct op *p = realloc(t->ops, cap * sizeof(*p));
        if (!p)
            return -1;
        t->ops = p;
        t->cap = cap;
    }
    t->ops[t->nops++] = o;
    return 0;
}

static unsigned line_of(const char *src, const char *at)
{
    unsigned line = 1;
    for (const char *p = src; p < at; p++)
        line += *p == '\n';
    return line;
}

static long find_var(const char *name, size_t n, const char *const *vars, size_t nvars)
{
    for (size_t i = 0; i < nvars; i++)
        if (strlen(vars[i]) == n && memcmp(vars[i], name, n) == 0)
            return (long)i;
    return -1;
}

void sc_tmpl_free(struct sc_tmpl *t)
{
    if (!t)
        return;
    free(t->src);
    free(t->ops);
    free(t);
}

struct sc_tmpl *sc_tmpl_compile(const char *src, const char *const *vars, size_t nvars, char *err,
                                size_t errlen)
{
    struct sc_tmpl *t = calloc(1, sizeof(*t));
    size_t stack[MAX_DEPTH];
    size_t depth = 0;
    if (!t || !(t->src = strdup(src))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    const char *s = t->src, *p = s;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            if (push(t, (struct op){OP_LIT, (size_t)(p - s), strlen(p), 0, 0}))
                goto oom;
            break;
        }
        if (open > p && push(t, (struct op){OP_LIT, (size_t)(p - s), (size_t)(open - p), 0, 0}))
            goto oom;
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            snprintf(err, errlen, "line %u: '{{' is never closed", line_of(s, open));
            goto fail;
        }
        const char *a = open + 2, *b = close;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        char sigil = (a < b && (*a == '#' || *a == '^' || *a == '/')) ? *a : 0;
        if (sigil)
            a++;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        if (a == b) {
            snprintf(err, errlen, "line %u: empty tag", line_of(s, open));
            goto fail;
        }
        long var = find_var(a, (size_t)(b - a), vars, nvars);
        if (var < 0) {
            snprintf(err, errlen, "line %u: unknown variable '%.*s'", line_of(s, open),
                     (int)(b - a), a);
            goto fail;
        }
        if (sigil == '#' || sigil == '^') {
            if (depth == MAX_DEPTH) {
                snprintf(err, errlen, "line %u: sections nested deeper than %d", line_of(s, open),
                         MAX_DEPTH);
                goto fail;
            }
            stack[depth++] = t->nops;
            if (push(t, (struct op){sigil == '#' ? OP_IF : OP_IFNOT, 0, 0, (size_t)var, 0}))
                goto oom;
        } else if (sigil == '/') {
            if (depth == 0 || t->ops[stack[depth - 1]].var != (size_t)var) {
                snprintf(err, errlen, "line %u: '{{/%.*s}}' closes no open section",
                         line_of(s, open), (int)(b - a), a);
                goto fail;
            }
            if (push(t, (struct op){OP_END, 0, 0, (size_t)var, 0}))
                goto oom;
            t->ops[stack[--depth]].jump = t->nops;
        } else {
            if (push(t, (struct op){OP_VAR, 0, 0, (size_t)var, 0}))
                goto oom;
        }
        p = close + 2;
    }
    if (depth > 0) {
        snprintf(err, errlen, "section '%s' is never closed", vars[t->ops[stack[depth - 1]].var]);
        goto fail;
    }
    return t;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    sc_tmpl_free(t);
    return NULL;
}

static bool is_set(const struct sc_tval *v)
{
    if (!v->s || !v->s[0])
        return false;
    return v->kind != SC_TV_URL || sc_url_allowed(v->s);
}

void sc_tmpl_render(const struct sc_tmpl *t, const struct sc_tval *vals, struct sc_buf *out)
{
    size_t i = 0;
    while (i < t->nops) {
        const struct op *o = &t->ops[i];
        switch (o->kind) {
        case OP_LIT: sc_buf_append(out, t->src + o->off, o->len); break;
        case OP_VAR: {
            const struct sc_tval *v = &vals[o->var];
            if (!is_set(v))
                break;
            if (v->kind == SC_TV_TRUSTED)
                sc_buf_puts(out, v->s);
            else
                sc_esc_html(out, v->s, strlen(v->s));
            break;
        }
        case OP_IF:
            if (!is_set(&vals[o->var])) {
                i = o->jump;
                continue;
            }
            break;
        case OP_IFNOT:
            if (is_set(&vals[o->var])) {
                i = o->jump;
                continue;
            }
            break;
        case OP_END: break;
        }
        i++;
    }
}
