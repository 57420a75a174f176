/*
 * cli_parse.c — the one option parser of the command line.  Every command's
 * options are a table (cli.c); this reads argv against it the way
 * getopt_long() always read it here: "--name value", "--name=value", a
 * unique prefix of a name, "-h" (and "-o FILE" / "-oFILE" for qr), options
 * and positionals in any order, "--" ending the options, and getopt's own
 * diagnostics on stderr before our usage error.  The global options before
 * the command, and demo's, are read in the plain way they always were:
 * exact names, up to the first positional, without diagnostics.  A check
 * on a value runs as the value is read, so errors come in argv's order.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cli_int.h"
#include "sharecard/escape.h"

int sc_cli_usage_error(const char *usage, const char *what)
{
    fprintf(stderr, "sharecard: %s\n\n%s", what, usage);
    return EXIT_USAGE;
}

char *sc_cli_arg(const struct cli_args *a, const char *name)
{
    for (size_t i = 0; a->cmd->opts[i].name; i++)
        if (strcmp(a->cmd->opts[i].name, name) == 0)
            return a->val[i];
    return NULL;
}

const char *sc_cli_arg_or(const struct cli_args *a, const char *name, const char *dflt)
{
    const char *v = sc_cli_arg(a, name);
    return v ? v : dflt;
}

bool sc_cli_flag(const struct cli_args *a, const char *name)
{
    for (size_t i = 0; a->cmd->opts[i].name; i++)
        if (strcmp(a->cmd->opts[i].name, name) == 0)
            return a->set[i];
    return false;
}

/* The option of 'opts' named 'name' (its first 'n' bytes): exact, else a unique prefix. */
static int find_long(const struct cli_opt *opts, const char *name, size_t n, bool prefixes,
                     bool *ambiguous)
{
    int found = -1;
    *ambiguous = false;
    for (int i = 0; opts[i].name; i++)
        if (strlen(opts[i].name) == n && strncmp(opts[i].name, name, n) == 0)
            return i;
    if (!prefixes)
        return -1;
    for (int i = 0; opts[i].name; i++) {
        if (strncmp(opts[i].name, name, n) != 0)
            continue;
        if (found >= 0)
            *ambiguous = true;
        else
            found = i;
    }
    return *ambiguous ? -1 : found;
}

static int find_short(const struct cli_opt *opts, char c)
{
    for (int i = 0; opts[i].name; i++)
        if (opts[i].short_name == c)
            return i;
    return -1;
}

/* The usage error of an unknown or malformed option of command 'c'. */
int sc_cli_bad_option(const struct cli_cmd *c)
{
    return sc_cli_usage_error(c->bad_usage ? c->bad_usage : c->usage, c->bad);
}

/*
 * Takes the value 'v' of option 'i' (NULL for a flag): --help prints the
 * usage, a check runs.  Returns -1 to go on, else the exit status.
 */
static int take(const struct cli_cmd *c, struct cli_args *a, int i, char *v)
{
    const struct cli_opt *o = &c->opts[i];
    assert(i < CLI_MAX_OPTS); /* a table longer than cli_args holds */
    if (strcmp(o->name, "help") == 0) {
        fputs(c->usage, stdout);
        return 0;
    }
    /*
     * Every value is stored or shown as text, so it must be UTF-8 text; a
     * file name (--db, --output) is the system's bytes and passes as it is.
     */
    if (v && strcmp(o->name, "db") != 0 && strcmp(o->name, "output") != 0 &&
        !sc_utf8_valid(v, strlen(v))) {
        fprintf(stderr, "sharecard: --%s is not valid UTF-8 text (or holds a control character)\n",
                o->name);
        return EXIT_USAGE;
    }
    if (o->check) {
        int rc = o->check(v, c->usage);
        if (rc >= 0)
            return rc;
    }
    a->set[i] = true;
    a->val[i] = v;
    if (strcmp(o->name, "db") == 0)
        a->db = v;
    return -1;
}

/*
 * Reads 'argv' (argv[0] is the command's word, named in diagnostics) against
 * command 'c' into 'a'.  Returns -1 to go on, else the exit status (--help
 * answered, or an error said).  CLI_PLAIN stops at the first positional and
 * leaves its index in '*next'.
 */
int sc_cli_parse(const struct cli_cmd *c, int argc, char **argv, struct cli_args *a, int *next)
{
    const bool gnu = c->style == CLI_GNU;
    const char *prog = argv[0];
    a->cmd = c;
    int k = 1;
    for (; k < argc; k++) {
        char *s = argv[k];
        if (gnu && strcmp(s, "--") == 0) {
            for (k++; k < argc; k++)
                if (a->npos++ < CLI_MAX_POS)
                    a->pos[a->npos - 1] = argv[k];
            break;
        }
        if (s[0] != '-' || (gnu && s[1] == '\0')) {
            if (!gnu)
                break;
            if (a->npos++ < CLI_MAX_POS)
                a->pos[a->npos - 1] = s;
            continue;
        }
        if (!gnu && c->help_first && k == 1 && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
            fputs(c->usage, stdout);
            return 0;
        }
        int i, rc;
        if (s[1] == '-') {
            char *name = s + 2, *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            bool ambiguous;
            i = find_long(c->opts, name, n, gnu, &ambiguous);
            if (i >= 0 && !gnu && c->help_first && strcmp(c->opts[i].name, "help") == 0)
                i = -1; /* demo: --help only first */
            if (i < 0) {
                if (!gnu)
                    return sc_cli_bad_option(c);
                if (ambiguous) {
                    fprintf(stderr, "%s: option '--%s' is ambiguous; possibilities:", prog, name);
                    for (int j = 0; c->opts[j].name; j++)
                        if (strncmp(c->opts[j].name, name, n) == 0)
                            fprintf(stderr, " '--%s'", c->opts[j].name);
                    fputc('\n', stderr);
                } else {
                    fprintf(stderr, "%s: unrecognized option '--%s'\n", prog, name);
                }
                return sc_cli_bad_option(c);
            }
            char *v = NULL;
            if (c->opts[i].value) {
                if (eq)
                    v = eq + 1; /* a part of argv[k] */
                else if (k + 1 < argc)
                    v = argv[++k];
                else {
                    if (gnu)
                        fprintf(stderr, "%s: option '--%s' requires an argument\n", prog,
                                c->opts[i].name);
                    return sc_cli_bad_option(c);
                }
            } else if (eq) {
                if (gnu)
                    fprintf(stderr, "%s: option '--%s' doesn't allow an argument\n", prog,
                            c->opts[i].name);
                return sc_cli_bad_option(c);
            }
            if ((rc = take(c, a, i, v)) >= 0)
                return rc;
            continue;
        }
        if (!gnu) {
            /* Plain: "-h" alone is the one short option. */
            i = s[1] && s[2] == '\0' ? find_short(c->opts, s[1]) : -1;
            if (i < 0 || (c->help_first && strcmp(c->opts[i].name, "help") == 0))
                return sc_cli_bad_option(c);
            if ((rc = take(c, a, i, NULL)) >= 0)
                return rc;
            continue;
        }
        /* A cluster of short options: -h, -o FILE, -oFILE. */
        for (char *p = s + 1; *p; p++) {
            i = find_short(c->opts, *p);
            if (i < 0) {
                fprintf(stderr, "%s: invalid option -- '%c'\n", prog, *p);
                return sc_cli_bad_option(c);
            }
            char *v = NULL;
            if (c->opts[i].value) {
                if (p[1])
                    v = p + 1;
                else if (k + 1 < argc)
                    v = argv[++k];
                else {
                    fprintf(stderr, "%s: option requires an argument -- '%c'\n", prog, *p);
                    return sc_cli_bad_option(c);
                }
            }
            if ((rc = take(c, a, i, v)) >= 0)
                return rc;
            if (v)
                break;
        }
    }
    if (next)
        *next = k;
    return -1;
}
