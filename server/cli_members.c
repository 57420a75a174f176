/*
 * cli_members.c — the commands about people and access: init (the store
 * and its first admin), member add/list/password/disable/enable, token
 * create and customer erase.  Their options are in cli.c's table.
 */
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
#include "sharecard/store.h"

#include "cli_int.h"

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

int sc_cli_init(const struct cli_args *a)
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
            return sc_cli_fail(
                "no password: set SHARECARD_ADMIN_PASSWORD or run init on a terminal");
        if (!prompt_secret("again: ", again, sizeof(again)) || strcmp(pw, again) != 0)
            return sc_cli_fail("the two passwords differ; nothing was created");
    }
    if (strlen(pw) < SC_PASSWORD_MIN || strlen(pw) > SC_PASSWORD_MAX)
        return sc_cli_fail("the password must have %d to %d characters", SC_PASSWORD_MIN,
                           SC_PASSWORD_MAX);

    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    bool has_admin = false;
    sc_store_member_list(s, stop_at_admin, &has_admin);
    if (has_admin) {
        rc = sc_cli_fail("%s already has an admin; add members with 'sharecard member add'", db);
        goto out;
    }
    char hash[SC_PWHASH_LEN];
    if (sc_auth_password_hash(pw, hash) != SC_OK) {
        rc = sc_cli_fail("could not hash the password");
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
        rc = sc_cli_fail("%s", why ? why : "the admin's name or email is not valid");
        goto out;
    }
    struct sc_member out;
    enum sc_err e = sc_store_member_add(s, &m, hash, &profile, &out);
    if (e == SC_ECONFLICT) {
        rc = sc_cli_fail("a member with the email %s already exists", m.email);
        goto out;
    }
    if (e != SC_OK) {
        rc = sc_cli_fail("could not create the admin: %s", sc_err_str(e));
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(pw, sizeof(pw));
    sc_store_close(s);
    return rc;
}

/* ---- member -------------------------------------------------------------- */

int sc_cli_member_add(const struct cli_args *a)
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
        return sc_cli_fail("the name, email or team is too long");
    snprintf(m.name, sizeof(m.name), "%s", name);
    normalise_email(email, m.email, sizeof(m.email));
    snprintf(m.team, sizeof(m.team), "%s", team);
    p.name = m.name;
    p.email = m.email;
    const char *why = NULL;
    if (sc_card_validate(&p, &why) != SC_OK)
        return sc_cli_fail("%s", why ? why : "the card is not valid");
    if (p.slug[0] && !sc_slug_valid(p.slug, &why))
        return sc_cli_fail("the slug '%s' cannot be used: %s", p.slug, why ? why : "invalid");

    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    struct sc_member out;
    enum sc_err e = sc_store_member_add(s, &m, NULL, &p, &out);
    int rc = 1;
    if (e == SC_ECONFLICT) { /* say which one (issue 17) */
        struct sc_member other;
        struct sc_card taken;
        if (sc_store_member_by_email(s, m.email, &other) == SC_OK) {
            sc_cli_fail("a member with the email %s already exists (%s, card %s)", m.email,
                        other.name, other.slug);
        } else if (p.slug[0] && sc_store_card_by_slug(s, p.slug, &taken) == SC_OK) {
            sc_cli_fail("a card with the slug %s already exists (%s's); choose another --slug",
                        p.slug, taken.name ? taken.name : "");
            sc_card_cleanup(&taken);
        } else {
            sc_cli_fail("a member with the email %s or a card with the slug %s already exists",
                        m.email, p.slug[0] ? p.slug : "(generated)");
        }
        goto out;
    }
    if (e != SC_OK) {
        sc_cli_fail("could not add the member: %s", sc_err_str(e));
        goto out;
    }
    sc_store_audit(s, "cli", "member.add", m.email, sc_role_name(m.role));
    if (json) {
        struct sc_card card;
        if (sc_store_card_by_slug(s, out.slug, &card) != SC_OK) {
            sc_cli_fail("the member was added but their card could not be read back");
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
            sc_cli_fail("out of memory");
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

int sc_cli_member_list(const struct cli_args *a)
{
    const char *db = a->db;
    bool json = sc_cli_flag(a, "json");
    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    struct list_ctx lc = {json ? json_array() : NULL};
    if (!json)
        printf("%-6s %-32s %-10s %-16s %-12s %s\n", "ID", "EMAIL", "ROLE", "TEAM", "SLUG", "NAME");
    enum sc_err e = sc_store_member_list(s, print_member, &lc);
    int rc = 0;
    if (e != SC_OK)
        rc = sc_cli_fail("could not list members: %s", sc_err_str(e));
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

int sc_cli_token_create(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage;
    const char *email = sc_cli_arg(a, "email"), *label = sc_cli_arg_or(a, "label", "cli");
    if (!email)
        return sc_cli_usage_error(usage, "--email is required");
    if (strlen(label) > 100)
        return sc_cli_fail("the label may have at most 100 characters");
    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    char norm[SC_EMAIL_MAX + 1];
    normalise_email(email, norm, sizeof(norm));
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, norm, &m);
    if (e == SC_ENOTFOUND) {
        sc_cli_fail("there is no member with the email %s", norm);
        goto out;
    }
    if (e != SC_OK) {
        sc_cli_fail("could not read the member: %s", sc_err_str(e));
        goto out;
    }
    char token[SC_TOKEN_LEN], hash[SC_TOKEN_HASH_LEN];
    sc_auth_token_new(token);
    e = sc_auth_token_hash(s, token, hash);
    if (e == SC_OK)
        e = sc_store_token_add(s, m.id, hash, label);
    if (e != SC_OK) {
        sc_cli_fail("could not store the token: %s", sc_err_str(e));
        goto out;
    }
    /* Audited like a token made on the page (settings.c), by "cli" (issue 17). */
    if (sc_store_audit(s, "cli", "token.create", m.email, label) != SC_OK) {
        sc_cli_fail("the token was made but the audit log could not be written; it is not "
                    "shown");
        goto out;
    }
    puts(token);
    rc = 0;
out:
    sc_store_close(s);
    return rc;
}

/* ---- member password ------------------------------------------------------- */

int sc_cli_member_password(const struct cli_args *a)
{
    const char *db = a->db, *usage = a->cmd->usage, *email = sc_cli_arg(a, "email");
    if (!email)
        return sc_cli_usage_error(usage, "--email is required");
    char pw[SC_PASSWORD_MAX + 2] = "";
    const char *env = getenv("SHARECARD_PASSWORD");
    if (env && env[0])
        snprintf(pw, sizeof(pw), "%s", env);
    else if (!prompt_secret("new password: ", pw, sizeof(pw)))
        return sc_cli_fail("no password: set SHARECARD_PASSWORD or run this on a terminal");
    if (strlen(pw) < SC_PASSWORD_MIN || strlen(pw) > SC_PASSWORD_MAX)
        return sc_cli_fail("the password must have %d to %d characters", SC_PASSWORD_MIN,
                           SC_PASSWORD_MAX);
    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    int rc = 1;
    char norm[SC_EMAIL_MAX + 1], hash[SC_PWHASH_LEN];
    normalise_email(email, norm, sizeof(norm));
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, norm, &m);
    if (e == SC_ENOTFOUND)
        sc_cli_fail("there is no member with the email %s", norm);
    else if (e != SC_OK)
        sc_cli_fail("could not read the member: %s", sc_err_str(e));
    else if (sc_auth_password_hash(pw, hash) != SC_OK)
        sc_cli_fail("could not hash the password");
    else if ((e = sc_store_member_set_password(s, m.id, hash)) != SC_OK)
        sc_cli_fail("could not store the password: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli", "member.password_reset", norm, "") != SC_OK)
        sc_cli_fail("the password was set but the audit log could not be written");
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
        return sc_cli_fail("the email is too long");
    normalise_email(in, email, SC_EMAIL_MAX + 1);
    return -1; /* go on */
}

int sc_cli_member_disable(const struct cli_args *a)
{
    const char *db = a->db;
    bool disable = strcmp(a->cmd->sub, "disable") == 0;
    char email[SC_EMAIL_MAX + 1];
    int rc = email_arg(a, email);
    if (rc >= 0)
        return rc;
    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    rc = 1;
    struct sc_member m;
    enum sc_err e = sc_store_member_by_email(s, email, &m);
    if (e == SC_ENOTFOUND)
        sc_cli_fail("there is no member with the email %s", email);
    else if (e != SC_OK || (e = sc_store_member_set_disabled(s, m.id, disable)) != SC_OK)
        sc_cli_fail("could not change the member: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli", disable ? "member.disable" : "member.enable", email, "") !=
             SC_OK)
        sc_cli_fail("the change was made but could not be written to the audit log");
    else
        rc = 0;
    sc_store_close(s);
    return rc;
}

int sc_cli_customer_erase(const struct cli_args *a)
{
    const char *db = a->db;
    char email[SC_EMAIL_MAX + 1];
    int rc = email_arg(a, email);
    if (rc >= 0)
        return rc;
    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    rc = 1;
    int64_t id = 0;
    enum sc_err e = sc_store_customer_erase(s, email, (int64_t)time(NULL), &id);
    char target[32];
    snprintf(target, sizeof(target), "customer:%lld", (long long)id);
    if (e == SC_ENOTFOUND)
        sc_cli_fail("there is no customer with the email %s", email);
    else if (e != SC_OK)
        sc_cli_fail("could not erase the customer: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli", "customer.erase", target, "") != SC_OK)
        sc_cli_fail("the data was erased but the audit log could not be written");
    else
        rc = 0;
    sc_store_close(s);
    return rc;
}
