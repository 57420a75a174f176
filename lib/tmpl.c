/*
 * tmpl.c — the template engine of tmpl.h.
 *
 * Compiling turns the source into a flat list of ops: literal spans (into a
 * private copy of the source), variables (an index into the caller's value
 * array) and section openers (which jump past their section when it is not
 * to be shown; a closing tag leaves no op).  Every error a template can have
 * is found here, once, at start-up; rendering is then one loop with no
 * parsing and no allocation but the output's.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/escape.h"
#include "sharecard/tmpl.h"

#define MAX_DEPTH    16 /* sections open at once */
#define MAX_NAME_ERR 64 /* bytes of a bad name quoted in an error */

enum op_kind {
    OP_LIT,   /* copy src[off, off + len) */
    OP_VAR,   /* write vals[var] as its kind says */
    OP_IF,    /* {{#var}}: jump to 'jump' unless vals[var] is set */
    OP_IFNOT, /* {{^var}}: jump to 'jump' if vals[var] is set */
};

struct op {
    enum op_kind kind;
    size_t off, len; /* OP_LIT: span of the private source copy */
    size_t var;      /* OP_VAR, OP_IF, OP_IFNOT: index into the values */
    size_t jump;     /* OP_IF, OP_IFNOT: index of the first op after the section */
};

struct sc_tmpl {
    char *src;      /* private copy of the source; OP_LIT spans point here */
    struct op *ops; /* the program */
    size_t nops;    /* ops in use */
    size_t cap;     /* ops allocated */
};

/* A section open while compiling. */
struct open_section {
    size_t op;     /* index of its OP_IF / OP_IFNOT */
    unsigned line; /* where it was opened, for errors */
};

/* Writes "line N: <message>" into 'err' ('errlen' bytes; either may be NULL/0). */
static void __attribute__((format(printf, 4, 5)))
fail_at(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    int n = snprintf(err, errlen, "line %u: ", line);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool push(struct sc_tmpl *t, struct op o)
{
    if (t->nops == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        if (cap > SIZE_MAX / sizeof(struct op))
            return false;
        struct op *p = realloc(t->ops, cap * sizeof(*p));
        if (!p)
            return false;
        t->ops = p;
        t->cap = cap;
    }
    t->ops[t->nops++] = o;
    return true;
}

static unsigned count_lines(const char *a, const char *b)
{
    unsigned n = 0;
    for (; a < b; a++)
        n += *a == '\n';
    return n;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Index of the 'n'-byte 'name' in 'vars', or 'nvars' when it is not there. */
static size_t find_var(const char *name, size_t n, const char *const *vars, size_t nvars)
{
    for (size_t i = 0; i < nvars; i++)
        if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '\0')
            return i;
    return nvars;
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
    struct open_section stack[MAX_DEPTH];
    size_t depth = 0;
    unsigned line = 1; /* line of 'p' */
    struct sc_tmpl *t = calloc(1, sizeof(*t));
    if (!t || !(t->src = strdup(src)))
        goto oom;
    const char *s = t->src, *p = s;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *lit_end = open ? open : p + strlen(p);
        if (lit_end > p &&
            !push(t, (struct op){
                         .kind = OP_LIT, .off = (size_t)(p - s), .len = (size_t)(lit_end - p)}))
            goto oom;
        line += count_lines(p, lit_end);
        if (!open)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            fail_at(err, errlen, line, "'{{' is never closed");
            goto fail;
        }
        unsigned tag_line = line;
        line += count_lines(open, close);
        p = close + 2;

        /* The tag: optional spaces, an optional sigil, optional spaces, a name. */
        const char *a = open + 2, *b = close;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        char sigil = 0;
        if (a < b && (*a == '#' || *a == '^' || *a == '/'))
            sigil = *a++;
        while (a < b && is_space(*a))
            a++;
        size_t nlen = (size_t)(b - a);
        if (nlen == 0) {
            fail_at(err, errlen, tag_line, "empty tag");
            goto fail;
        }
        size_t var = find_var(a, nlen, vars, nvars);
        if (var == nvars) {
            fail_at(err, errlen, tag_line, "unknown variable '%.*s'",
                    (int)(nlen < MAX_NAME_ERR ? nlen : MAX_NAME_ERR), a);
            goto fail;
        }

        if (sigil == '#' || sigil == '^') {
            if (depth == MAX_DEPTH) {
                fail_at(err, errlen, tag_line, "sections nested deeper than %d", MAX_DEPTH);
                goto fail;
            }
            stack[depth++] = (struct open_section){t->nops, tag_line};
            if (!push(t, (struct op){.kind = sigil == '#' ? OP_IF : OP_IFNOT, .var = var}))
                goto oom;
        } else if (sigil == '/') {
            if (depth == 0) {
                fail_at(err, errlen, tag_line, "'{{/%s}}' closes no open section", vars[var]);
                goto fail;
            }
            struct open_section *top = &stack[depth - 1];
            if (t->ops[top->op].var != var) {
                fail_at(err, errlen, tag_line, "'{{/%s}}' does not close '%s', open since line %u",
                        vars[var], vars[t->ops[top->op].var], top->line);
                goto fail;
            }
            t->ops[top->op].jump = t->nops;
            depth--;
        } else if (!push(t, (struct op){.kind = OP_VAR, .var = var})) {
            goto oom;
        }
    }
    if (depth > 0) {
        struct open_section *top = &stack[depth - 1];
        fail_at(err, errlen, top->line, "section '%s' is never closed", vars[t->ops[top->op].var]);
        goto fail;
    }
    return t;
oom:
    fail_at(err, errlen, line, "out of memory");
fail:
    sc_tmpl_free(t);
    return NULL;
}

/* Whether a section on 'v' shows: a non-empty value, and for links an allowed one. */
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
        }
        i++;
    }
}
