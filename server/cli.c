/*
 * cli.c — the sharecard command line (DESIGN.md §10): init, member add/list,
 * token create, serve, qr.  Every command takes --db (or SHARECARD_DB) and
 * --help; errors go to stderr as a sentence, with a non-zero exit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "sharecard/auth.h"
#include "sharecard/card.h"
#include "sharecard/escape.h"
#include "sharecard/server.h"
#include "sharecard/store.h"

#define EXIT_USAGE 2

static const char *const usage_main =
    "usage: sharecard [--db PATH] COMMAND [OPTIONS]\n"
    "\n"
    "Digital business cards with QR codes, share tracking and referral rewards.\n"
    "\n"
    "commands:\n"
    "  init --admin-email E          create the store and its first admin\n"
    "  member add --name N --email E add a salesperson and their card\n"
    "  member list                   list members and their cards\n"
    "  member password --email E     set a member's sign-in password\n"
    "  member disable|enable --email E\n"
    "  customer erase --email E      erase a customer's personal data\n"
    "  token create --email E        make an API token for a member\n"
    "  serve                         run the web service\n"
    "  qr SLUG -o FILE.png|FILE.svg  write a card's QR code\n"
    "  reward approve|void ID        decide on a pending or held reward\n"
    "  demo                          fill a fresh store with 90 days of demo data\n"
    "\n"
    "Every command takes --db PATH (or SHARECARD_DB; default ./sharecard.db) and --help.\n"
    "sharecard --version prints the version.\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sharecard: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int usage_error(const char *usage, const char *what)
{
    fprintf(stderr, "sharecard: %s\n\n%s", what, usage);
    return EXIT_USAGE;
}

/* True for an http:// or https:// URL fit to prefix our links. */
static bool base_url_ok(const char *u)
{
    return (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && sc_url_allowed(u);
}

/* Opens the store named by --db/SHARECARD_DB, or prints why not. */
static struct sc_store *open_store(const char *db)
{
    struct sc_store *s = NULL;
    char msg[512] = "";
    enum sc_err e = sc_store_open(db, &s, msg, sizeof(msg));
    if (e != SC_OK) {
        fail("cannot open the store %s: %s", db, msg[0] ? msg : sc_err_str(e));
        return NULL;
    }
    return s;
}

/* Reads a line from the terminal without echo; false if there is no terminal. */
static bool prompt_secret(const char *prompt, char *out, size_t n)
{
    if (!isatty(STDIN_FILENO))
        return false;
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return false;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fprintf(stderr, "%s", prompt);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = fgets(out, (int)n, stdin) != NULL;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

static void normalise_email(const char *in, char *out, size_t n)
{
    while (*in == ' ' || *in == '\t')
        in++;
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i]);
    out[i] = '\0';
    while (i > 0 && (out[i - 1] == ' ' || out[i - 1] == '\t'))
        out[--i] = '\0';
}

/* ---- init ---------------------------------------------------------------- */

static int stop_at_admin(const struct sc_member *m, void *ctx)
{
    if (m->role == SC_ROLE_ADMIN) {
        *(bool *)ctx = true;
        return 1;
    }
    return 0;
}

static int cmd_init(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard init --admin-email EMAIL [--admin-name NAME] [--db PATH]\n"
        "\n"
        "Creates the store (or upgrades an older one) and its first admin.  The admin's\n"
        "password comes from SHARECARD_ADMIN_PASSWORD, or is asked for on the terminal.\n";
    static const struct option opts[] = {{"admin-email", required_argument, NULL, 'e'},
                                         {"admin-name", required_argument, NULL, 'n'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *email = NULL, *name = "Admin";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': email = optarg; break;
        case 'n': name = optarg; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (!email)
        return usage_error(usage, "--admin-email is required");

    char pw[SC_PASSWORD_MAX + 2] = "";
    const char *env = getenv("SHARECARD_ADMIN_PASSWORD");
    if (env && env[0]) {
        snprintf(pw, sizeof(pw), "%s", env);
    } else {
        char again[sizeof(pw)];
        if (!prompt_secret("admin password: ", pw, sizeof(pw)))
            return fail("no password: set SHARECARD_ADMIN_PASSWORD or run init on a terminal");
        if (!prompt_secret("again: ", again, sizeof(again)) || strcmp(pw, again) != 0)
            return fail("the two passwords differ; nothing was created");
    }
    if (strlen(pw) < SC_PASSWORD_MIN || strlen(pw) > SC_PASSWORD_MAX)
        return fail("the password must have %d to %d characters", SC_PASSWORD_MIN, SC_PASSWORD_MAX);

    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    bool has_admin = false;
    sc_store_member_list(s, stop_at_admin, &has_admin);
    if (has_admin) {
        rc = fail("%s already has an admin; add members with 'sharecard member add'", db);
        goto out;
    }
    char hash[SC_PWHASH_LEN];
    if (sc_auth_password_hash(pw, hash) != SC_OK) {
        rc = fail("could not hash the password");
        goto out;
    }
    struct sc_member m;
    memset(&m, 0, sizeof(m));
    normalise_email(email, m.email, sizeof(m.email));
    snprintf(m.name, sizeof(m.name), "%s", name);
    m.role = SC_ROLE_ADMIN;
    struct sc_card profile;
    memset(&profile, 0, sizeof(profile));
    profile.name = m.name;
    profile.email = m.email;
    const char *why = NULL;
    if (sc_card_validate(&profile, &why) != SC_OK) {
        rc = fail("%s", why ? why : "the admin's name or email is not valid");
        goto out;
    }
    struct sc_member out;
    enum sc_err e = sc_store_member_add(s, &m, hash, &profile, &out);
    if (e == SC_ECONFLICT) {
        rc = fail("a member with the email %s already exists", m.email);
        goto out;
    }
    if (e != SC_OK) {
        rc = fail("could not create the admin: %s", sc_err_str(e));
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(pw, sizeof(pw));
    sc_store_close(s);
    return rc;
}

/* ---- member -------------------------------------------------------------- */

static int cmd_member_add(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard member add --name NAME --email EMAIL [--phone P] [--title T]\n"
        "         [--company C] [--role sales|manager|admin] [--team T] [--slug SLUG]\n"
        "         [--lang en|zh-CN] [--website URL] [--wechat ID] [--json] [--db PATH]\n"
        "\n"
        "Adds a member and their card; prints the card's slug (or, with --json,\n"
        "{\"id\",\"slug\",\"qr_url\"}).  SHARECARD_BASE_URL sets the host of qr_url.\n";
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},    {"email", required_argument, NULL, 'e'},
        {"phone", required_argument, NULL, 'p'},   {"title", required_argument, NULL, 't'},
        {"company", required_argument, NULL, 'c'}, {"role", required_argument, NULL, 'r'},
        {"team", required_argument, NULL, 'T'},    {"slug", required_argument, NULL, 's'},
        {"lang", required_argument, NULL, 'l'},    {"website", required_argument, NULL, 'w'},
        {"wechat", required_argument, NULL, 'W'},  {"base-url", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},          {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct sc_member m;
    struct sc_card p;
    memset(&m, 0, sizeof(m));
    memset(&p, 0, sizeof(p));
    const char *name = NULL, *email = NULL, *team = "", *base = getenv("SHARECARD_BASE_URL");
    bool json = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'e': email = optarg; break;
        case 'p': p.phone = optarg; break;
        case 't': p.title = optarg; break;
        case 'c': p.company = optarg; break;
        case 'r':
            if (!sc_role_parse(optarg, &m.role))
                return usage_error(usage, "--role must be sales, manager or admin");
            break;
        case 'T': team = optarg; break;
        case 's':
            snprintf(p.slug, sizeof(p.slug), "%s", optarg);
            if (strlen(optarg) > SC_SLUG_MAX)
                return fail("the slug may have at most %d characters", SC_SLUG_MAX);
            break;
        case 'l': p.lang = sc_lang_parse(optarg, SC_LANG_EN); break;
        case 'w': p.website = optarg; break;
        case 'W': p.wechat = optarg; break;
        case 'b': base = optarg; break;
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (!name || !email)
        return usage_error(usage, "--name and --email are required");
    if (strlen(name) > SC_NAME_MAX || strlen(email) > SC_EMAIL_MAX || strlen(team) > SC_TEAM_MAX)
        return fail("the name, email or team is too long");
    snprintf(m.name, sizeof(m.name), "%s", name);
    normalise_email(email, m.email, sizeof(m.email));
    snprintf(m.team, sizeof(m.team), "%s", team);
    p.name = m.name;
    p.email = m.email;
    const char *why = NULL;
    if (sc_card_validate(&p, &why) != SC_OK)
        return fail("%s", why ? why : "the card is not valid");
    if (p.slug[0] && !sc_slug_valid(p.slug, &why))
        return fail("the slug '%s' cannot be used: %s", p.slug, why ? why : "invalid");

    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    struct sc_member out;
    enum sc_err e = sc_store_member_add(s, &m, NULL, &p, &out);
    int rc = 1;
    if (e == SC_ECONFLICT) {
        fail("a member with the email %s or a card with the slug %s already exists", m.email,
             p.slug[0] ? p.slug : "(generated)");
        goto out;
    }
    if (e != SC_OK) {
        fail("could not add the member: %s", sc_err_str(e));
        goto out;
    }
    sc_store_audit(s, "cli", "member.add", m.email, sc_role_name(m.role));
    if (json) {
        struct sc_card card;
        if (sc_store_card_by_slug(s, out.slug, &card) != SC_OK) {
            fail("the member was added but their card could not be read back");
            goto out;
        }
        char qr[1024];
        snprintf(qr, sizeof(qr), "%s/l/%s", base && base[0] ? base : "http://127.0.0.1:8080",
                 card.qr_code);
        sc_card_cleanup(&card);
        json_t *j = json_pack("{sIssss}", "id", (json_int_t)out.id, "slug", out.slug, "qr_url", qr);
        char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (!txt) {
            json_decref(j);
            fail("out of memory");
            goto out;
        }
        puts(txt);
        free(txt);
        json_decref(j);
    } else {
        puts(out.slug);
    }
    rc = 0;
out:
    sc_store_close(s);
    return rc;
}

struct list_ctx {
    json_t *arr; /* NULL for the text table */
};

static int print_member(const struct sc_member *m, void *ctx)
{
    struct list_ctx *lc = ctx;
    if (lc->arr) {
        json_array_append_new(lc->arr,
                              json_pack("{sIsssssssssssb}", "id", (json_int_t)m->id, "email",
                                        m->email, "name", m->name, "role", sc_role_name(m->role),
                                        "team", m->team, "slug", m->slug, "disabled", m->disabled));
        return 0;
    }
    printf("%-6lld %-32s %-10s %-16s %-12s %s%s\n", (long long)m->id, m->email,
           sc_role_name(m->role), m->team[0] ? m->team : "-", m->slug, m->name,
           m->disabled ? " (disabled)" : "");
    return 0;
}

static int cmd_member_list(int argc, char **argv, const char *db)
{
    static const char *const usage = "usage: sharecard member list [--json] [--db PATH]\n"
                                     "\n"
                                     "Lists members: id, email, role, team, card slug, name.\n";
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool json = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    struct list_ctx lc = {json ? json_array() : NULL};
    if (!json)
        printf("%-6s %-32s %-10s %-16s %-12s %s\n", "ID", "EMAIL", "ROLE", "TEAM", "SLUG", "NAME");
    enum sc_err e = sc_store_member_list(s, print_member, &lc);
    int rc = 0;
    if (e != SC_OK)
        rc = fail("could not list members: %s", sc_err_str(e));
    else if (json) {
        char *txt = json_dumps(lc.arr, JSON_COMPACT);
        if (txt)
            puts(txt);
        free(txt);
    }
    json_decref(lc.arr);
    sc_store_close(s);
    return rc;
}

/* ---- token ----------------------------------------------------------------- */

static int cmd_token_create(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard token create --email EMAIL [--label TEXT] [--db PATH]\n"
        "\n"
        "Prints a new API token for that member (use it as 'Authorization: Bearer TOKEN').\n"
        "It is shown once: only a hash of it is stored.\n";
    static const struct option opts[] = {{"email", required_argument, NULL, 'e'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *email = NULL, *label = "cli";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': email = optarg; break;
        case 'l': label = optarg; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (!email)
        return usage_error(usage, "--email is required");
    if (strlen(label) > 100)
        return fail("the label may have at most 100 characters");
    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    char norm[SC_EMAIL_MAX + 1];
    normalise_email(email, norm, sizeof(norm));
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, norm, &m);
    if (e == SC_ENOTFOUND) {
        fail("there is no member with the email %s", norm);
        goto out;
    }
    if (e != SC_OK) {
        fail("could not read the member: %s", sc_err_str(e));
        goto out;
    }
    char token[SC_TOKEN_LEN], hash[SC_TOKEN_HASH_LEN];
    sc_auth_token_new(token);
    e = sc_auth_token_hash(s, token, hash);
    if (e == SC_OK)
        e = sc_store_token_add(s, m.id, hash, label);
    if (e != SC_OK) {
        fail("could not store the token: %s", sc_err_str(e));
        goto out;
    }
    puts(token);
    rc = 0;
out:
    sc_store_close(s);
    return rc;
}

/* ---- member password ------------------------------------------------------- */

static int cmd_member_password(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard member password --email EMAIL [--db PATH]\n"
        "\n"
        "Sets a member's sign-in password (an admin's reset): from SHARECARD_PASSWORD, or\n"
        "asked for on the terminal.  Their open sessions end.\n";
    static const struct option opts[] = {{"email", required_argument, NULL, 'e'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *email = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': email = optarg; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (!email)
        return usage_error(usage, "--email is required");
    char pw[SC_PASSWORD_MAX + 2] = "";
    const char *env = getenv("SHARECARD_PASSWORD");
    if (env && env[0])
        snprintf(pw, sizeof(pw), "%s", env);
    else if (!prompt_secret("new password: ", pw, sizeof(pw)))
        return fail("no password: set SHARECARD_PASSWORD or run this on a terminal");
    if (strlen(pw) < SC_PASSWORD_MIN || strlen(pw) > SC_PASSWORD_MAX)
        return fail("the password must have %d to %d characters", SC_PASSWORD_MIN, SC_PASSWORD_MAX);
    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    char norm[SC_EMAIL_MAX + 1], hash[SC_PWHASH_LEN];
    normalise_email(email, norm, sizeof(norm));
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, norm, &m);
    if (e == SC_ENOTFOUND)
        fail("there is no member with the email %s", norm);
    else if (e != SC_OK)
        fail("could not read the member: %s", sc_err_str(e));
    else if (sc_auth_password_hash(pw, hash) != SC_OK)
        fail("could not hash the password");
    else if ((e = sc_store_member_set_password(s, m.id, hash)) != SC_OK)
        fail("could not store the password: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli", "member.password_reset", norm, "") != SC_OK)
        fail("the password was set but the audit log could not be written");
    else
        rc = 0;
    sodium_memzero(pw, sizeof(pw));
    sc_store_close(s);
    return rc;
}

/* ---- member disable/enable, customer erase ------------------------------------ */

/* Parses "--email E [--db PATH]" for the one-email commands; NULL email = usage printed. */
static int email_command(int argc, char **argv, const char **db, const char *usage,
                         char email[SC_EMAIL_MAX + 1])
{
    static const struct option opts[] = {{"email", required_argument, NULL, 'e'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *in = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e': in = optarg; break;
        case 'd': *db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (!in)
        return usage_error(usage, "--email is required");
    if (strlen(in) > SC_EMAIL_MAX)
        return fail("the email is too long");
    normalise_email(in, email, SC_EMAIL_MAX + 1);
    return -1; /* go on */
}

static int cmd_member_disable(int argc, char **argv, const char *db, bool disable)
{
    static const char *const usage =
        "usage: sharecard member disable|enable --email EMAIL [--db PATH]\n"
        "\n"
        "A disabled member cannot sign in, their tokens stop working and their card\n"
        "shows a polite page; their history and their sign-ups' credit stay.\n";
    char email[SC_EMAIL_MAX + 1];
    int rc = email_command(argc, argv, &db, usage, email);
    if (rc >= 0)
        return rc;
    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    rc = 1;
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, email, &m);
    if (e == SC_ENOTFOUND)
        fail("there is no member with the email %s", email);
    else if (e != SC_OK || (e = sc_store_member_set_disabled(s, m.id, disable)) != SC_OK)
        fail("could not change the member: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli", disable ? "member.disable" : "member.enable", email, "") !=
             SC_OK)
        fail("the change was made but could not be written to the audit log");
    else
        rc = 0;
    sc_store_close(s);
    return rc;
}

static int cmd_customer_erase(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard customer erase --email EMAIL [--db PATH]\n"
        "\n"
        "Erases a customer's personal data on request: name, email, phone and address\n"
        "are blanked, their browser is no longer linked to them, and rewards they were\n"
        "still to receive are voided.  Sign-up counts and others' rewards stay.\n";
    char email[SC_EMAIL_MAX + 1];
    int rc = email_command(argc, argv, &db, usage, email);
    if (rc >= 0)
        return rc;
    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    rc = 1;
    int64_t id = 0;
    enum sc_err e = sc_store_customer_erase(s, email, (int64_t)time(NULL), &id);
    char target[32];
    snprintf(target, sizeof(target), "customer:%lld", (long long)id);
    if (e == SC_ENOTFOUND)
        fail("there is no customer with the email %s", email);
    else if (e != SC_OK)
        fail("could not erase the customer: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli", "customer.erase", target, "") != SC_OK)
        fail("the data was erased but the audit log could not be written");
    else
        rc = 0;
    sc_store_close(s);
    return rc;
}

/* ---- reward ---------------------------------------------------------------- */

static int cmd_reward(int argc, char **argv, const char *db, const char *status)
{
    static const char *const usage =
        "usage: sharecard reward approve|void ID [--reason TEXT] [--db PATH]\n"
        "\n"
        "A manager's decision on a ledger row that is pending or held for review\n"
        "(see GET /api/v1/rewards): approve it now, or void it (fraud, erasure).\n";
    static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *reason = "";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': reason = optarg; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error(usage, "which ledger row? give its ID");
    char *end;
    long long id = strtoll(argv[optind], &end, 10);
    if (*end || id <= 0)
        return usage_error(usage, "the ID is a positive number");
    if (strlen(reason) > 200)
        return fail("the reason may have at most 200 characters");
    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    enum sc_err e = sc_store_reward_decide(s, id, status, reason, (int64_t)time(NULL));
    int rc = 0;
    char target[32];
    snprintf(target, sizeof(target), "reward:%lld", id);
    if (e == SC_ENOTFOUND)
        rc = fail("there is no pending or held ledger row %lld", id);
    else if (e != SC_OK)
        rc = fail("could not record the decision: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli",
                            strcmp(status, "void") == 0 ? "reward.void" : "reward.approve", target,
                            reason) != SC_OK)
        rc = fail("the decision was recorded but the audit log could not be written");
    sc_store_close(s);
    return rc;
}

/* ---- serve ----------------------------------------------------------------- */

static int cmd_serve(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard serve [--listen HOST:PORT] [--base-url URL] [--threads N]\n"
        "         [--no-access-log] [--db PATH]\n"
        "\n"
        "Runs the web service (default 127.0.0.1:8080; port 0 picks a free one) and prints\n"
        "'listening on http://HOST:PORT' once it accepts.  SIGINT or SIGTERM stop it after\n"
        "the requests in flight.  Environment: SHARECARD_LISTEN, SHARECARD_BASE_URL,\n"
        "SHARECARD_THREADS, SHARECARD_MAX_CONNECTIONS, SHARECARD_PER_IP_CONNECTIONS,\n"
        "SHARECARD_TIMEOUT, SHARECARD_ACCESS_LOG=off.\n";
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"base-url", required_argument, NULL, 'b'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"no-access-log", no_argument, NULL, 'q'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct sc_config cfg;
    sc_config_defaults(&cfg);
    snprintf(cfg.db, sizeof(cfg.db), "%s", db);
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *why;
        switch (c) {
        case 'l':
            if (sc_config_listen(&cfg, optarg, &why) != SC_OK)
                return usage_error(usage, why);
            break;
        case 'b':
            if (strlen(optarg) >= sizeof(cfg.base_url) || !base_url_ok(optarg))
                return usage_error(usage, "--base-url must be an http:// or https:// URL");
            snprintf(cfg.base_url, sizeof(cfg.base_url), "%s", optarg);
            break;
        case 't': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || n < 1 || n > 256)
                return usage_error(usage, "--threads must be a number from 1 to 256");
            cfg.threads = (unsigned)n;
            break;
        }
        case 'q': cfg.access_log = false; break;
        case 'd': snprintf(cfg.db, sizeof(cfg.db), "%s", optarg); break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    size_t n = strlen(cfg.base_url);
    while (n > 0 && cfg.base_url[n - 1] == '/')
        cfg.base_url[--n] = '\0';
    struct sc_store *s = open_store(cfg.db);
    if (!s)
        return 1;
    int rc = sc_server_run(&cfg, s);
    sc_store_close(s);
    return rc;
}

/* ---- qr -------------------------------------------------------------------- */

static int cmd_qr(int argc, char **argv, const char *db)
{
    static const char *const usage =
        "usage: sharecard qr SLUG -o FILE.png|FILE.svg [--size PIXELS] [--base-url URL]\n"
        "         [--db PATH]\n"
        "\n"
        "Writes the QR code of the card's tracked link {base-url}/l/{code}, the same one\n"
        "the service serves.  --size (PNG only, 64 to 4096, default 512) for print use\n"
        "e.g. 2048.  The base URL comes from --base-url or SHARECARD_BASE_URL.\n";
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},   {"size", required_argument, NULL, 's'},
        {"base-url", required_argument, NULL, 'b'}, {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *outpath = NULL, *base = getenv("SHARECARD_BASE_URL");
    unsigned size = SC_QR_SIZE_DEFAULT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': outpath = optarg; break;
        case 's': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < SC_QR_SIZE_MIN || v > SC_QR_SIZE_MAX)
                return usage_error(usage, "--size must be a number from 64 to 4096");
            size = (unsigned)v;
            break;
        }
        case 'b': base = optarg; break;
        case 'd': db = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error(usage, "which card? give its SLUG");
    const char *slug = argv[optind];
    if (!outpath)
        return usage_error(usage, "-o FILE is required");
    size_t ol = strlen(outpath);
    bool svg = ol > 4 && strcmp(outpath + ol - 4, ".svg") == 0;
    bool png = ol > 4 && strcmp(outpath + ol - 4, ".png") == 0;
    if (!svg && !png)
        return usage_error(usage, "the output file must end in .png or .svg");
    if (!base || !base[0])
        base = "http://127.0.0.1:8080";
    if (strlen(base) > 512 || !base_url_ok(base))
        return usage_error(usage, "--base-url must be an http:// or https:// URL");

    struct sc_store *s = open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    struct sc_card card;
    memset(&card, 0, sizeof(card));
    struct sc_buf b;
    sc_buf_init(&b, 8 << 20);
    enum sc_err e =
        strlen(slug) > SC_SLUG_MAX ? SC_ENOTFOUND : sc_store_card_by_slug(s, slug, &card);
    if (e == SC_ENOTFOUND) {
        fail("there is no card with the slug '%s' (see 'sharecard member list')", slug);
        goto out;
    }
    if (e != SC_OK) {
        fail("could not read the card: %s", sc_err_str(e));
        goto out;
    }
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    char url[600];
    snprintf(url, sizeof(url), "%.*s/l/%s", (int)bl, base, card.qr_code);
    e = svg ? sc_qr_svg(&b, url) : sc_qr_png(&b, url, size);
    if (e != SC_OK || sc_buf_error(&b)) {
        fail("could not make the QR code: %s", sc_err_str(e ? e : sc_buf_error(&b)));
        goto out;
    }
    FILE *f = fopen(outpath, "wb");
    if (!f) {
        fail("cannot write %s: %s", outpath, strerror(errno));
        goto out;
    }
    bool ok = fwrite(b.data, 1, b.len, f) == b.len;
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        fail("writing %s failed: %s", outpath, strerror(errno));
        remove(outpath);
        goto out;
    }
    rc = 0;
out:
    sc_buf_cleanup(&b);
    sc_card_cleanup(&card);
    sc_store_close(s);
    return rc;
}

/* ---- dispatch -------------------------------------------------------------- */

int sc_cli_main(int argc, char **argv)
{
    const char *db = getenv("SHARECARD_DB");
    if (!db || !db[0])
        db = "sharecard.db";
    if (sodium_init() < 0)
        return fail("libsodium could not start");

    int i = 1;
    /* Global options before the command. */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--version") == 0) {
            printf("sharecard %s\n", SC_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_main, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[i + 1];
            i += 2;
            continue;
        }
        if (strncmp(argv[i], "--db=", 5) == 0) {
            db = argv[i] + 5;
            i++;
            continue;
        }
        return usage_error(usage_main, "unknown option before the command");
    }
    if (i >= argc)
        return usage_error(usage_main, "which command?");
    const char *cmd = argv[i];
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - i, argv + i, db);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - i, argv + i, db);
    if (strcmp(cmd, "qr") == 0)
        return cmd_qr(argc - i, argv + i, db);
    if (strcmp(cmd, "demo") == 0) {
        const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
        if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
            fputs("usage: sharecard demo [--db PATH]\n\nFills a fresh store with two teams, "
                  "their cards and 90 days of visits, shares,\nsign-ups and purchases, so the "
                  "dashboard has something to show.\n",
                  stdout);
            return 0;
        }
        for (int k = i + 1; k < argc; k++) {
            if (strcmp(argv[k], "--db") == 0 && k + 1 < argc)
                db = argv[++k];
            else if (strncmp(argv[k], "--db=", 5) == 0)
                db = argv[k] + 5;
            else
                return usage_error(usage_main, "demo takes only --db");
        }
        return sc_demo_main(db, 90);
    }
    if (strcmp(cmd, "customer") == 0) {
        const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
        if (sub && strcmp(sub, "erase") == 0)
            return cmd_customer_erase(argc - i - 1, argv + i + 1, db);
        return usage_error(usage_main, "'customer' takes 'erase'");
    }
    if (strcmp(cmd, "reward") == 0) {
        const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
        if (sub && (strcmp(sub, "approve") == 0 || strcmp(sub, "void") == 0))
            return cmd_reward(argc - i - 1, argv + i + 1, db,
                              strcmp(sub, "approve") == 0 ? "approved" : "void");
        if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
            fputs("usage: sharecard reward approve|void ID [--reason TEXT]\n", stdout);
            return 0;
        }
        return usage_error(usage_main, "'reward' takes 'approve' or 'void'");
    }
    if (strcmp(cmd, "member") == 0 || strcmp(cmd, "token") == 0) {
        const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
        if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
            fputs(strcmp(cmd, "member") == 0
                      ? "usage: sharecard member add|list|password [OPTIONS] (see --help of each)\n"
                      : "usage: sharecard token create --email EMAIL\n",
                  stdout);
            return 0;
        }
        if (strcmp(cmd, "member") == 0 && sub && strcmp(sub, "add") == 0)
            return cmd_member_add(argc - i - 1, argv + i + 1, db);
        if (strcmp(cmd, "member") == 0 && sub && strcmp(sub, "list") == 0)
            return cmd_member_list(argc - i - 1, argv + i + 1, db);
        if (strcmp(cmd, "member") == 0 && sub && strcmp(sub, "password") == 0)
            return cmd_member_password(argc - i - 1, argv + i + 1, db);
        if (strcmp(cmd, "member") == 0 && sub &&
            (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0))
            return cmd_member_disable(argc - i - 1, argv + i + 1, db, sub[0] == 'd');
        if (strcmp(cmd, "token") == 0 && sub && strcmp(sub, "create") == 0)
            return cmd_token_create(argc - i - 1, argv + i + 1, db);
        return usage_error(usage_main, strcmp(cmd, "member") == 0 ? "'member' takes 'add' or 'list'"
                                                                  : "'token' takes 'create'");
    }
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown command '%.100s'", cmd);
    return usage_error(usage_main, msg);
}
