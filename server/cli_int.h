/*
 * cli_int.h — private to server/: the command line's one option parser
 * (cli_parse.c) and the tables it reads, which cli.c fills: a command is a
 * name, a sub-command, a handler, the options it accepts and its help text.
 */
#ifndef SHARECARD_CLI_INT_H
#define SHARECARD_CLI_INT_H

#include <stdbool.h>

#define EXIT_USAGE 2

#define CLI_MAX_OPTS 16 /* options of one command, at most */
#define CLI_MAX_POS  4

/* Checks an option's value as it is read: -1 to go on, else the exit status (after saying why). */
typedef int opt_check_fn(const char *value, const char *usage);

struct cli_opt {
    const char *name;    /* the long name, without "--"; "help" prints the usage */
    char short_name;     /* its one-letter form (-h, -o), or 0 */
    bool value;          /* takes a value */
    opt_check_fn *check; /* run on each value in the order given, or NULL */
};

struct cli_cmd;

/* What the parser found: the last value of each option, and the positionals. */
struct cli_args {
    const struct cli_cmd *cmd;
    const char *db;          /* --db, else the global one, else SHARECARD_DB or the default */
    char *val[CLI_MAX_OPTS]; /* by the option's index in cmd->opts; NULL when not given */
    bool set[CLI_MAX_OPTS];  /* flags (and values) given */
    char *pos[CLI_MAX_POS];  /* the first positionals */
    int npos;                /* positionals in all */
};

enum cli_style {
    CLI_GNU,   /* as getopt_long(): see above */
    CLI_PLAIN, /* exact names, up to the first positional, no diagnostics */
};

struct cli_cmd {
    const char *name; /* "member" */
    const char *sub;  /* "add", or NULL for a command without sub-commands */
    int (*run)(const struct cli_args *a);
    const struct cli_opt *opts; /* ends with a NULL name */
    const char *usage;          /* the help text: --help prints it, a usage error follows it */
    enum cli_style style;
    bool help_first;       /* CLI_PLAIN: --help only as the first argument */
    const char *bad;       /* the usage error for an unknown option */
    const char *bad_usage; /* the usage printed after it (NULL: 'usage') */
};

/* The value of option 'name' as last given, or NULL; borrowed from argv. */
char *sc_cli_arg(const struct cli_args *a, const char *name);
/* The same, or 'dflt' when not given. */
const char *sc_cli_arg_or(const struct cli_args *a, const char *name, const char *dflt);
/* Was the flag 'name' given? */
bool sc_cli_flag(const struct cli_args *a, const char *name);
/*
 * Reads 'argv' (argv[0] is the command's word, named in diagnostics) against
 * command 'c' into 'a' (zeroed by the caller but for a->db).  Returns -1 to
 * go on, else the exit status (--help answered, or an error said).
 * CLI_PLAIN stops at the first positional and leaves its index in '*next'.
 */
int sc_cli_parse(const struct cli_cmd *c, int argc, char **argv, struct cli_args *a, int *next);
/* Says "sharecard: 'what'" and 'usage' on stderr; returns EXIT_USAGE. */
int sc_cli_usage_error(const char *usage, const char *what);
/* The usage error of an unknown or malformed option of command 'c'. */
int sc_cli_bad_option(const struct cli_cmd *c);

/* ---- shared by the commands (cli.c) ---------------------------------------- */

struct sc_store;

/* Says "sharecard: ..." on stderr; returns 1. */
int sc_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens store 'db' (returns new; close with sc_store_close()), or says why not and returns NULL. */
struct sc_store *sc_cli_open_store(const char *db);

/* ---- the commands about people and access (cli_members.c) ------------------- */

int sc_cli_init(const struct cli_args *a);
int sc_cli_member_add(const struct cli_args *a);
int sc_cli_member_list(const struct cli_args *a);
int sc_cli_member_password(const struct cli_args *a);
int sc_cli_member_disable(const struct cli_args *a); /* and enable, by a->cmd->sub */
int sc_cli_token_create(const struct cli_args *a);
int sc_cli_customer_erase(const struct cli_args *a);

/* ---- the operator's commands: backup, export, customer export (cli_ops.c) ------- */

int sc_cli_backup(const struct cli_args *a);
int sc_cli_export(const struct cli_args *a);
int sc_cli_customer_export(const struct cli_args *a);
extern const struct cli_opt sc_cli_backup_opts[];
extern const struct cli_opt sc_cli_export_opts[];
extern const struct cli_opt sc_cli_customer_export_opts[];
/* ---- webhooks (cli_webhooks.c) ---------------------------------------------- */

/* Notifications (issue 18; cli_notify.c). */
int sc_cli_member_notify(const struct cli_args *a);
int sc_cli_webhook_add(const struct cli_args *a);
int sc_cli_webhook_list(const struct cli_args *a);
int sc_cli_webhook_remove(const struct cli_args *a);
/* ---- the intent model (cli_score.c) ------------------------------------------ */

int sc_cli_score_train(const struct cli_args *a);
int sc_cli_score_eval(const struct cli_args *a);

/* ---- debugging (cli_debug.c) ------------------------------------------------- */

int sc_cli_debug_sql(const struct cli_args *a);

#endif
