/*
 * cli.c — the sharecard command line (DESIGN.md §10): init, member add/list,
 * token create, serve, qr.  Every command takes --db (or SHARECARD_DB) and
 * --help; errors go to stderr as a sentence, with a non-zero exit.
 */
#include <errno.h>
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

#include "cli_int.h"

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

static int cmd_init(const struct cli_args *a)
{
    const char *db = a->db, *email = sc_cli_arg(a, "admin-email"),
               *name = sc_cli_arg_or(a, "admin-name", "Admin");
    if (!email)
        return sc_cli_usage_error(a->cmd->usage, "--admin-email is required");

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

static int cmd_member_add(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage;
    struct sc_member m;
    struct sc_card p;
    memset(&m, 0, sizeof(m));
    memset(&p, 0, sizeof(p));
    const char *name = sc_cli_arg(a, "name"), *email = sc_cli_arg(a, "email"),
               *team = sc_cli_arg_or(a, "team", "");
    const char *base = sc_cli_arg_or(a, "base-url", getenv("SHARECARD_BASE_URL"));
    bool json = sc_cli_flag(a, "json");
    p.phone = sc_cli_arg(a, "phone");
    p.title = sc_cli_arg(a, "title");
    p.company = sc_cli_arg(a, "company");
    p.website = sc_cli_arg(a, "website");
    p.wechat = sc_cli_arg(a, "wechat");
    if (sc_cli_arg(a, "role"))
        sc_role_parse(sc_cli_arg(a, "role"), &m.role); /* checked as it was read (check_role) */
    if (sc_cli_arg(a, "slug"))
        snprintf(p.slug, sizeof(p.slug), "%s", sc_cli_arg(a, "slug"));
    if (sc_cli_arg(a, "lang"))
        p.lang = sc_lang_parse(sc_cli_arg(a, "lang"), SC_LANG_EN);
    if (!name || !email)
        return sc_cli_usage_error(usage, "--name and --email are required");
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

static int cmd_member_list(const struct cli_args *a)
{
    const char *db = a->db;
    bool json = sc_cli_flag(a, "json");
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

static int cmd_token_create(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage;
    const char *email = sc_cli_arg(a, "email"), *label = sc_cli_arg_or(a, "label", "cli");
    if (!email)
        return sc_cli_usage_error(usage, "--email is required");
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

static int cmd_member_password(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage, *email = sc_cli_arg(a, "email");
    if (!email)
        return sc_cli_usage_error(usage, "--email is required");
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

/* The --email of the one-email commands, normalised into 'email'; -1 to go on, else the exit
 * status. */
static int email_arg(const struct cli_args *a, char email[SC_EMAIL_MAX + 1])
{
    const char *in = sc_cli_arg(a, "email");
    if (!in)
        return sc_cli_usage_error(a->cmd->usage, "--email is required");
    if (strlen(in) > SC_EMAIL_MAX)
        return fail("the email is too long");
    normalise_email(in, email, SC_EMAIL_MAX + 1);
    return -1; /* go on */
}

static int cmd_member_disable(const struct cli_args *a)
{
    const char *db = a->db;
    bool disable = strcmp(a->cmd->sub, "disable") == 0;
    char email[SC_EMAIL_MAX + 1];
    int rc = email_arg(a, email);
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

static int cmd_customer_erase(const struct cli_args *a)
{
    const char *db = a->db;
    char email[SC_EMAIL_MAX + 1];
    int rc = email_arg(a, email);
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

static int cmd_reward(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage, *reason = sc_cli_arg_or(a, "reason", "");
    const char *status = strcmp(a->cmd->sub, "approve") == 0 ? "approved" : "void";
    if (a->npos < 1)
        return sc_cli_usage_error(usage, "which ledger row? give its ID");
    char *end;
    long long id = strtoll(a->pos[0], &end, 10);
    if (*end || id <= 0)
        return sc_cli_usage_error(usage, "the ID is a positive number");
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

static int cmd_serve(const struct cli_args *a)
{
    struct sc_config cfg;
    sc_config_defaults(&cfg);
    snprintf(cfg.db, sizeof(cfg.db), "%s", a->db);
    const char *why, *v;
    if ((v = sc_cli_arg(a, "listen")) != NULL)
        sc_config_listen(&cfg, v, &why); /* checked as it was read (check_listen) */
    if ((v = sc_cli_arg(a, "base-url")) != NULL)
        snprintf(cfg.base_url, sizeof(cfg.base_url), "%s", v);
    if ((v = sc_cli_arg(a, "threads")) != NULL)
        cfg.threads = (unsigned)strtoul(v, NULL, 10);
    if (sc_cli_flag(a, "no-access-log"))
        cfg.access_log = false;
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

static int cmd_qr(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage;
    const char *outpath = sc_cli_arg(a, "output"),
               *base = sc_cli_arg_or(a, "base-url", getenv("SHARECARD_BASE_URL"));
    unsigned size = sc_cli_arg(a, "size") ? (unsigned)strtoul(sc_cli_arg(a, "size"), NULL, 10)
                                          : SC_QR_SIZE_DEFAULT;
    if (a->npos < 1)
        return sc_cli_usage_error(usage, "which card? give its SLUG");
    const char *slug = a->pos[0];
    if (!outpath)
        return sc_cli_usage_error(usage, "-o FILE is required");
    size_t ol = strlen(outpath);
    bool svg = ol > 4 && strcmp(outpath + ol - 4, ".svg") == 0;
    bool png = ol > 4 && strcmp(outpath + ol - 4, ".png") == 0;
    if (!svg && !png)
        return sc_cli_usage_error(usage, "the output file must end in .png or .svg");
    if (!base || !base[0])
        base = "http://127.0.0.1:8080";
    if (strlen(base) > 512 || !base_url_ok(base))
        return sc_cli_usage_error(usage, "--base-url must be an http:// or https:// URL");

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

/* ---- the commands' options and the checks made as they are read -------------- */

static int check_role(const char *v, const char *usage)
{
    enum sc_role r;
    return sc_role_parse(v, &r)
               ? -1
               : sc_cli_usage_error(usage, "--role must be sales, manager or admin");
}

static int check_slug(const char *v, const char *usage)
{
    (void)usage;
    return strlen(v) > SC_SLUG_MAX ? fail("the slug may have at most %d characters", SC_SLUG_MAX)
                                   : -1;
}

static int check_listen(const char *v, const char *usage)
{
    struct sc_config cfg;
    const char *why = NULL;
    memset(&cfg, 0, sizeof(cfg));
    return sc_config_listen(&cfg, v, &why) == SC_OK ? -1 : sc_cli_usage_error(usage, why);
}

static int check_base_url(const char *v, const char *usage)
{
    struct sc_config cfg;
    if (strlen(v) >= sizeof(cfg.base_url) || !base_url_ok(v))
        return sc_cli_usage_error(usage, "--base-url must be an http:// or https:// URL");
    return -1;
}

static int check_threads(const char *v, const char *usage)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < 1 || n > 256)
        return sc_cli_usage_error(usage, "--threads must be a number from 1 to 256");
    return -1;
}

static int check_size(const char *v, const char *usage)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < SC_QR_SIZE_MIN || n > SC_QR_SIZE_MAX)
        return sc_cli_usage_error(usage, "--size must be a number from 64 to 4096");
    return -1;
}

static int print_version(const char *v, const char *usage)
{
    (void)v;
    (void)usage;
    printf("sharecard %s\n", SC_VERSION);
    return 0;
}

#define VAL(name)                                                                                  \
    {                                                                                              \
        name, 0, true, NULL                                                                        \
    }
#define FLAG(name)                                                                                 \
    {                                                                                              \
        name, 0, false, NULL                                                                       \
    }
#define COMMON                                                                                     \
    {"db", 0, true, NULL},                                                                         \
    {                                                                                              \
        "help", 'h', false, NULL                                                                   \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0, false, NULL                                                                       \
    }

static const struct cli_opt global_opts[] = {
    {"version", 0, false, print_version}, {"help", 'h', false, NULL}, VAL("db"), END};
static const struct cli_opt demo_opts[] = {{"help", 'h', false, NULL}, VAL("db"), END};
static const struct cli_opt init_opts[] = {VAL("admin-email"), VAL("admin-name"), COMMON, END};
static const struct cli_opt member_add_opts[] = {VAL("name"),
                                                 VAL("email"),
                                                 VAL("phone"),
                                                 VAL("title"),
                                                 VAL("company"),
                                                 {"role", 0, true, check_role},
                                                 VAL("team"),
                                                 {"slug", 0, true, check_slug},
                                                 VAL("lang"),
                                                 VAL("website"),
                                                 VAL("wechat"),
                                                 VAL("base-url"),
                                                 FLAG("json"),
                                                 COMMON,
                                                 END};
static const struct cli_opt member_list_opts[] = {FLAG("json"), COMMON, END};
static const struct cli_opt email_opts[] = {VAL("email"), COMMON, END};
static const struct cli_opt token_opts[] = {VAL("email"), VAL("label"), COMMON, END};
static const struct cli_opt reward_opts[] = {VAL("reason"), COMMON, END};
static const struct cli_opt serve_opts[] = {{"listen", 0, true, check_listen},
                                            {"base-url", 0, true, check_base_url},
                                            {"threads", 0, true, check_threads},
                                            FLAG("no-access-log"),
                                            COMMON,
                                            END};
static const struct cli_opt qr_opts[] = {
    {"output", 'o', true, NULL}, {"size", 0, true, check_size}, VAL("base-url"), COMMON, END};

/* ---- the commands ------------------------------------------------------------ */

static const char *const usage_demo =
    "usage: sharecard demo [--db PATH]\n\nFills a fresh store with two teams, "
    "their cards and 90 days of visits, shares,\nsign-ups and purchases, so the "
    "dashboard has something to show.\n";

static int cmd_demo(const struct cli_args *a)
{
    return sc_demo_main(a->db, 90);
}

#define GNU(name, sub, run, opts, usage)                                                           \
    {                                                                                              \
        name, sub, run, opts, usage, CLI_GNU, false, "unknown option", NULL                        \
    }

static const struct cli_cmd commands[] = {
    GNU("init", NULL, cmd_init, init_opts,
        "usage: sharecard init --admin-email EMAIL [--admin-name NAME] [--db PATH]\n"
        "\n"
        "Creates the store (or upgrades an older one) and its first admin.  The admin's\n"
        "password comes from SHARECARD_ADMIN_PASSWORD, or is asked for on the terminal.\n"),
    GNU("serve", NULL, cmd_serve, serve_opts,
        "usage: sharecard serve [--listen HOST:PORT] [--base-url URL] [--threads N]\n"
        "         [--no-access-log] [--db PATH]\n"
        "\n"
        "Runs the web service (default 127.0.0.1:8080; port 0 picks a free one) and prints\n"
        "'listening on http://HOST:PORT' once it accepts.  SIGINT or SIGTERM stop it after\n"
        "the requests in flight.  Environment: SHARECARD_LISTEN, SHARECARD_BASE_URL,\n"
        "SHARECARD_THREADS, SHARECARD_MAX_CONNECTIONS, SHARECARD_PER_IP_CONNECTIONS,\n"
        "SHARECARD_TIMEOUT, SHARECARD_ACCESS_LOG=off.\n"),
    GNU("qr", NULL, cmd_qr, qr_opts,
        "usage: sharecard qr SLUG -o FILE.png|FILE.svg [--size PIXELS] [--base-url URL]\n"
        "         [--db PATH]\n"
        "\n"
        "Writes the QR code of the card's tracked link {base-url}/l/{code}, the same one\n"
        "the service serves.  --size (PNG only, 64 to 4096, default 512) for print use\n"
        "e.g. 2048.  The base URL comes from --base-url or SHARECARD_BASE_URL.\n"),
    {"demo", NULL, cmd_demo, demo_opts, usage_demo, CLI_PLAIN, true, "demo takes only --db",
     usage_main},
    GNU("member", "add", cmd_member_add, member_add_opts,
        "usage: sharecard member add --name NAME --email EMAIL [--phone P] [--title T]\n"
        "         [--company C] [--role sales|manager|admin] [--team T] [--slug SLUG]\n"
        "         [--lang en|zh-CN] [--website URL] [--wechat ID] [--json] [--db PATH]\n"
        "\n"
        "Adds a member and their card; prints the card's slug (or, with --json,\n"
        "{\"id\",\"slug\",\"qr_url\"}).  SHARECARD_BASE_URL sets the host of qr_url.\n"),
    GNU("member", "list", cmd_member_list, member_list_opts,
        "usage: sharecard member list [--json] [--db PATH]\n"
        "\n"
        "Lists members: id, email, role, team, card slug, name.\n"),
    GNU("member", "password", cmd_member_password, email_opts,
        "usage: sharecard member password --email EMAIL [--db PATH]\n"
        "\n"
        "Sets a member's sign-in password (an admin's reset): from SHARECARD_PASSWORD, or\n"
        "asked for on the terminal.  Their open sessions end.\n"),
    GNU("member", "disable", cmd_member_disable, email_opts,
        "usage: sharecard member disable|enable --email EMAIL [--db PATH]\n"
        "\n"
        "A disabled member cannot sign in, their tokens stop working and their card\n"
        "shows a polite page; their history and their sign-ups' credit stay.\n"),
    GNU("member", "enable", cmd_member_disable, email_opts,
        "usage: sharecard member disable|enable --email EMAIL [--db PATH]\n"
        "\n"
        "A disabled member cannot sign in, their tokens stop working and their card\n"
        "shows a polite page; their history and their sign-ups' credit stay.\n"),
    GNU("customer", "erase", cmd_customer_erase, email_opts,
        "usage: sharecard customer erase --email EMAIL [--db PATH]\n"
        "\n"
        "Erases a customer's personal data on request: name, email, phone and address\n"
        "are blanked, their browser is no longer linked to them, and rewards they were\n"
        "still to receive are voided.  Sign-up counts and others' rewards stay.\n"),
    GNU("token", "create", cmd_token_create, token_opts,
        "usage: sharecard token create --email EMAIL [--label TEXT] [--db PATH]\n"
        "\n"
        "Prints a new API token for that member (use it as 'Authorization: Bearer TOKEN').\n"
        "It is shown once: only a hash of it is stored.\n"),
    GNU("reward", "approve", cmd_reward, reward_opts,
        "usage: sharecard reward approve|void ID [--reason TEXT] [--db PATH]\n"
        "\n"
        "A manager's decision on a ledger row that is pending or held for review\n"
        "(see GET /api/v1/rewards): approve it now, or void it (fraud, erasure).\n"),
    GNU("reward", "void", cmd_reward, reward_opts,
        "usage: sharecard reward approve|void ID [--reason TEXT] [--db PATH]\n"
        "\n"
        "A manager's decision on a ledger row that is pending or held for review\n"
        "(see GET /api/v1/rewards): approve it now, or void it (fraud, erasure).\n"),
};

/* The commands that take a sub-command: what --help says, what a wrong one gets. */
static const struct {
    const char *name;
    const char *help; /* NULL: --help is a wrong sub-command */
    const char *bad;
} groups[] = {
    {"member", "usage: sharecard member add|list|password [OPTIONS] (see --help of each)\n",
     "'member' takes 'add' or 'list'"},
    {"token", "usage: sharecard token create --email EMAIL\n", "'token' takes 'create'"},
    {"customer", NULL, "'customer' takes 'erase'"},
    {"reward", "usage: sharecard reward approve|void ID [--reason TEXT]\n",
     "'reward' takes 'approve' or 'void'"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))
#define NGROUPS   (sizeof(groups) / sizeof(groups[0]))

/* The global options, then the command and its options: the exit status. */
int sc_cli_main(int argc, char **argv)
{
    static const struct cli_cmd global = {
        "sharecard", NULL,      NULL,  global_opts,
        usage_main,  CLI_PLAIN, false, "unknown option before the command",
        NULL};
    struct cli_args a;
    memset(&a, 0, sizeof(a));
    a.db = getenv("SHARECARD_DB");
    if (!a.db || !a.db[0])
        a.db = "sharecard.db";
    if (sodium_init() < 0)
        return fail("libsodium could not start");

    int i = 0;
    int rc = sc_cli_parse(&global, argc, argv, &a, &i);
    if (rc >= 0)
        return rc;
    if (i >= argc)
        return sc_cli_usage_error(usage_main, "which command?");
    const char *name = argv[i], *sub = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(name, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    const char *bad = NULL; /* set for a command with sub-commands */
    for (size_t g = 0; g < NGROUPS; g++) {
        if (strcmp(name, groups[g].name) != 0)
            continue;
        bad = groups[g].bad;
        if (groups[g].help && sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
            fputs(groups[g].help, stdout);
            return 0;
        }
    }
    const char *db = a.db;
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const struct cli_cmd *c = &commands[k];
        if (strcmp(c->name, name) != 0 || (c->sub && (!sub || strcmp(c->sub, sub) != 0)))
            continue;
        int at = c->sub ? i + 1 : i; /* argv[at] is the command's last word */
        memset(&a, 0, sizeof(a));
        a.db = db;
        int next = argc;
        if ((rc = sc_cli_parse(c, argc - at, argv + at, &a, &next)) >= 0)
            return rc;
        if (c->style == CLI_PLAIN && next < argc - at)
            return sc_cli_bad_option(c); /* demo takes no positionals */
        return c->run(&a);
    }
    if (bad)
        return sc_cli_usage_error(usage_main, bad);
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown command '%.100s'", name);
    return sc_cli_usage_error(usage_main, msg);
}
