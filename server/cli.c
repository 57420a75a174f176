/*
 * cli.c — the sharecard command line (DESIGN.md §10): the table of commands
 * (name, sub-command, handler, the options each accepts, its help text),
 * the global options, and the commands serve, qr, reward and demo; the
 * commands about people are in cli_members.c, the one option parser in
 * cli_parse.c.  Every command takes --db (or SHARECARD_DB) and --help;
 * errors go to stderr as a sentence, with a non-zero exit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include <sodium.h>

#include "sharecard/card.h"
#include "sharecard/escape.h"
#include "sharecard/server.h"
#include "sharecard/store.h"

#include "cli_int.h"
#include "customers_int.h"
#include "orders_int.h"

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
    "  member notify --email E ...   alerts to WeCom, DingTalk, Feishu, Slack or e-mail\n"
    "  customer erase --email E      erase a customer's personal data\n"
    "  customer export --email E|--phone P\n"
    "                                everything stored about a customer, as JSON\n"
    "  backup FILE                   a consistent copy of a SQLite store, while it serves\n"
    "  export TABLE [--format csv|json] [--from D] [--to D]\n"
    "                                a whole table (members, cards, links, events, signups,\n"
    "                                customers, conversions, rewards, coupons, payouts,\n"
    "                                audit)\n"
    "  token create --email E        make an API token for a member\n"
    "  serve                         run the web service\n"
    "  qr SLUG -o FILE.png|FILE.svg  write a card's QR code\n"
    "  reward approve|void ID        decide on a pending or held reward\n"
    "  import orders FILE.csv        back-fill a shop's orders\n"
    "  customers fit                 refit customer value (BG/NBD, Gamma-Gamma) now\n"
    "  webhook add|list|remove       signed webhooks for sign-ups, purchases, rewards\n"
    "  demo                          fill a fresh store with 180 days of demo data\n"
    "  score train|eval [--json]     train the lead intent model now, or evaluate it\n"
    "  debug sql NAME                a statement as the database gets it (to EXPLAIN)\n"
    "\n"
    "Every command takes --db PATH (or SHARECARD_DB; default ./sharecard.db) and --help.\n"
    "sharecard --version prints the version.\n";

int sc_cli_fail(const char *fmt, ...)
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
struct sc_store *sc_cli_open_store(const char *db)
{
    struct sc_store *s = NULL;
    char msg[512] = "";
    enum sc_err e = sc_store_open(db, &s, msg, sizeof(msg));
    if (e != SC_OK) {
        sc_cli_fail("cannot open the store %s: %s", db, msg[0] ? msg : sc_err_str(e));
        return NULL;
    }
    return s;
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
        return sc_cli_fail("the reason may have at most 200 characters");
    struct sc_store *s = sc_cli_open_store(db);
    if (!s)
        return 1;
    enum sc_err e = sc_store_reward_decide(s, id, status, reason, (int64_t)time(NULL));
    int rc = 0;
    char target[32];
    snprintf(target, sizeof(target), "reward:%lld", id);
    if (e == SC_ENOTFOUND)
        rc = sc_cli_fail("there is no pending or held ledger row %lld", id);
    else if (e != SC_OK)
        rc = sc_cli_fail("could not record the decision: %s", sc_err_str(e));
    else if (sc_store_audit(s, "cli",
                            strcmp(status, "void") == 0 ? "reward.void" : "reward.approve", target,
                            reason) != SC_OK)
        rc = sc_cli_fail("the decision was recorded but the audit log could not be written");
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
    char bad[256]; /* issue 19: reward settings are refused at start, with the reason */
    if (sc_config_rewards(&cfg, bad, sizeof(bad)) != SC_OK) {
        fprintf(stderr, "sharecard: %s\n", bad);
        return 2;
    }
    struct sc_store *s = sc_cli_open_store(cfg.db);
    if (!s)
        return 1;
    if (sc_rewards_version(&cfg, s) != SC_OK) { /* issue 19: rules versioned, changes audited */
        fprintf(stderr, "sharecard: could not store the reward rules' version\n");
        sc_store_close(s);
        return 1;
    }
    int rc = sc_server_run(&cfg, s);
    sc_store_close(s);
    return rc;
}

/* ---- qr -------------------------------------------------------------------- */

/* Does URL 'u' name this machine (localhost, 127.0.0.0/8, ::1, 0.0.0.0)? */
static bool loopback_url(const char *u)
{
    const char *h = strstr(u, "://");
    h = h ? h + 3 : u;
    size_t n = strcspn(h, ":/?#");
    if (h[0] == '[')
        return strncmp(h, "[::1]", 5) == 0;
    return (n == 9 && strncmp(h, "localhost", 9) == 0) || strncmp(h, "127.", 4) == 0 ||
           (n == 7 && strncmp(h, "0.0.0.0", 7) == 0) ||
           (n > 10 && strncmp(h + n - 10, ".localhost", 10) == 0);
}

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
    /* Say what the code will open (issue 17), and warn when only this machine can. */
    fprintf(stderr, "sharecard: the QR code opens %s/l/…\n", base);
    if (loopback_url(base))
        fprintf(stderr,
                "sharecard: warning: %s is this machine only: phones cannot open it; "
                "give --base-url or set SHARECARD_BASE_URL to the public address\n",
                base);

    struct sc_store *s = sc_cli_open_store(db);
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
        sc_cli_fail("there is no card with the slug '%s' (see 'sharecard member list')", slug);
        goto out;
    }
    if (e != SC_OK) {
        sc_cli_fail("could not read the card: %s", sc_err_str(e));
        goto out;
    }
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    char url[600];
    snprintf(url, sizeof(url), "%.*s/l/%s", (int)bl, base, card.qr_code);
    e = svg ? sc_qr_svg(&b, url) : sc_qr_png(&b, url, size);
    if (e != SC_OK || sc_buf_error(&b)) {
        sc_cli_fail("could not make the QR code: %s", sc_err_str(e ? e : sc_buf_error(&b)));
        goto out;
    }
    FILE *f = fopen(outpath, "wb");
    if (!f) {
        sc_cli_fail("cannot write %s: %s", outpath, strerror(errno));
        goto out;
    }
    bool ok = fwrite(b.data, 1, b.len, f) == b.len;
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        sc_cli_fail("writing %s failed: %s", outpath, strerror(errno));
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

/* --lang: one of our languages, en or zh (zh-CN and other tags of the two). */
static int check_lang(const char *v, const char *usage)
{
    bool ok =
        (strncmp(v, "en", 2) == 0 || strncmp(v, "zh", 2) == 0) && (v[2] == '\0' || v[2] == '-');
    return ok ? -1 : sc_cli_usage_error(usage, "--lang must be en or zh-CN");
}

static int check_slug(const char *v, const char *usage)
{
    (void)usage;
    return strlen(v) > SC_SLUG_MAX
               ? sc_cli_fail("the slug may have at most %d characters", SC_SLUG_MAX)
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
        return sc_cli_usage_error(usage, "--size must be a number from 128 to 4096");
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
                                                 {"lang", 0, true, check_lang},
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
static const struct cli_opt import_opts[] = {COMMON, END}; /* customers and orders */
/* Notifications (issue 18; cli_notify.c). */
static const struct cli_opt member_notify_opts[] = {
    VAL("email"),  VAL("kind"), VAL("url"),    VAL("to"),    VAL("secret"),      FLAG("list"),
    VAL("remove"), VAL("test"), VAL("events"), VAL("quiet"), VAL("digest-hour"), FLAG("team"),
    COMMON,        END};

/* import orders: its surveys' links take serve's base URL (orders.c) */
static const struct cli_opt import_orders_opts[] = {
    {"listen", 0, true, check_listen}, {"base-url", 0, true, check_base_url}, COMMON, END};
/* Webhooks (cli_webhooks.c). */
static const struct cli_opt webhook_add_opts[] = {VAL("url"), VAL("events"), COMMON, END};
static const struct cli_opt webhook_opts[] = {COMMON, END};
/* The intent model (issue 13). */
static const struct cli_opt score_train_opts[] = {COMMON, END};
static const struct cli_opt score_eval_opts[] = {FLAG("json"), COMMON, END};
/* Debugging (cli_debug.c). */
static const struct cli_opt debug_opts[] = {COMMON, END};
static const struct cli_opt qr_opts[] = {
    {"output", 'o', true, NULL}, {"size", 0, true, check_size}, VAL("base-url"), COMMON, END};

/* ---- the commands ------------------------------------------------------------ */

static const char *const usage_demo =
    "usage: sharecard demo [--db PATH]\n\nFills a fresh store with two teams, "
    "their cards and 180 days of visits, shares,\nsign-ups and purchases (five months "
    "before the default 30-day window), so the "
    "dashboard has something to show.\n";

static int cmd_demo(const struct cli_args *a)
{
    return sc_demo_main(a->db, 180);
}

#define GNU(name, sub, run, opts, usage)                                                           \
    {                                                                                              \
        name, sub, run, opts, usage, CLI_GNU, false, "unknown option", NULL                        \
    }

static const struct cli_cmd commands[] = {
    GNU("init", NULL, sc_cli_init, init_opts,
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
        "the service serves.  --size (PNG only, 128 to 4096, default 512) for print use\n"
        "e.g. 2048: the image is exactly that many pixels a side (whole pixels per\n"
        "module, the rest a white margin).  The base URL comes from --base-url or\n"
        "SHARECARD_BASE_URL (default http://127.0.0.1:8080); it is printed on stderr,\n"
        "with a warning when it is a loopback address phones cannot reach.\n"),
    {"demo", NULL, cmd_demo, demo_opts, usage_demo, CLI_PLAIN, true, "demo takes only --db",
     usage_main},
    GNU("member", "add", sc_cli_member_add, member_add_opts,
        "usage: sharecard member add --name NAME --email EMAIL [--phone P] [--title T]\n"
        "         [--company C] [--role sales|manager|admin] [--team T] [--slug SLUG]\n"
        "         [--lang en|zh-CN] [--website URL] [--wechat ID] [--json] [--db PATH]\n"
        "\n"
        "Adds a member and their card; prints the card's slug (or, with --json,\n"
        "{\"id\",\"slug\",\"qr_url\"}).  SHARECARD_BASE_URL sets the host of qr_url.\n"),
    GNU("member", "list", sc_cli_member_list, member_list_opts,
        "usage: sharecard member list [--json] [--db PATH]\n"
        "\n"
        "Lists members: id, email, role, team, card slug, name.\n"),
    GNU("member", "password", sc_cli_member_password, email_opts,
        "usage: sharecard member password --email EMAIL [--db PATH]\n"
        "\n"
        "Sets a member's sign-in password (an admin's reset): from SHARECARD_PASSWORD, or\n"
        "asked for on the terminal.  Their open sessions end.\n"),
    GNU("member", "disable", sc_cli_member_disable, email_opts,
        "usage: sharecard member disable|enable --email EMAIL [--db PATH]\n"
        "\n"
        "A disabled member cannot sign in, their tokens stop working and their card\n"
        "shows a polite page; their history and their sign-ups' credit stay.\n"),
    GNU("member", "enable", sc_cli_member_disable, email_opts,
        "usage: sharecard member disable|enable --email EMAIL [--db PATH]\n"
        "\n"
        "A disabled member cannot sign in, their tokens stop working and their card\n"
        "shows a polite page; their history and their sign-ups' credit stay.\n"),
    GNU("customer", "erase", sc_cli_customer_erase, email_opts,
        "usage: sharecard customer erase --email EMAIL [--db PATH]\n"
        "\n"
        "Erases a customer's personal data on request: name, email, phone and address\n"
        "are blanked, their browser is no longer linked to them, and rewards they were\n"
        "still to receive are voided.  Sign-up counts and others' rewards stay.\n"),
    GNU("token", "create", sc_cli_token_create, token_opts,
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
    /* customers and orders (orders.c) */
    GNU("customers", "fit", sc_cli_customers_fit, import_opts,
        "usage: sharecard customers fit [--db PATH]\n"
        "\n"
        "Refits customer value now (BG/NBD on order days, Gamma-Gamma on repeat buyers'\n"
        "order values; days in SHARECARD_TZ) and keeps the fit that GET /api/v1/customers\n"
        "evaluates; the server also refits at start and every 24 hours.  Exit 0.\n"),
    GNU("import", "orders", sc_cli_import_orders, import_orders_opts,
        "usage: sharecard import orders FILE.csv [--base-url URL] [--listen HOST:PORT] [--db "
        "PATH]\n"
        "\n"
        "Back-fills a shop's orders.  The first line names the columns: order_id, amount\n"
        "(currency units, at most 2 decimals), email or customer_id, and optionally\n"
        "ordered_at (ISO 8601, not in the future; empty: now).  Each line is reported;\n"
        "an order id already stored is skipped, so the import can be run again.  Exit 1\n"
        "when a line was refused.  FILE - reads standard input.  Each order gets an NPS\n"
        "survey whose link starts with the base URL serve would use (--base-url,\n"
        "SHARECARD_BASE_URL, else http://HOST:PORT of --listen or SHARECARD_LISTEN); an\n"
        "order older than SHARECARD_NPS_MAX_AGE_DAYS (default 90) gets none.\n"),
    /* The operator's commands (issue 12): cli_ops.c. */
    GNU("backup", NULL, sc_cli_backup, sc_cli_backup_opts,
        "usage: sharecard backup FILE [--db PATH]\n"
        "\n"
        "Writes a consistent copy of the SQLite store to FILE (a new file) while the\n"
        "service keeps running, with SQLite's online backup API; progress on a terminal.\n"
        "Serve the copy with 'sharecard --db FILE serve'.  A PostgreSQL store is backed\n"
        "up with pg_dump instead.\n"),
    GNU("export", NULL, sc_cli_export, sc_cli_export_opts,
        "usage: sharecard export TABLE [--format csv|json] [--from YYYY-MM-DD]\n"
        "         [--to YYYY-MM-DD] [--db PATH]\n"
        "\n"
        "Writes a table to stdout, row by row (constant memory): members, cards, links,\n"
        "events, signups, customers, conversions, rewards, coupons, payouts or audit.\n"
        "CSV (UTF-8 with a BOM, the default) or a JSON array; times are ISO 8601 UTC.\n"
        "--from and --to (both included, UTC days) keep the rows created in that range.\n"),
    GNU("customer", "export", sc_cli_customer_export, sc_cli_customer_export_opts,
        "usage: sharecard customer export --email EMAIL|--phone PHONE [--db PATH]\n"
        "\n"
        "Prints everything stored about one customer as one JSON document: profile\n"
        "(with the consent version and time), sign-up, own links, visits, orders and\n"
        "the rewards they earn (a data subject's access request).\n"),
    /* Notifications (issue 18; cli_notify.c). */
    GNU("member", "notify", sc_cli_member_notify, member_notify_opts,
        "usage: sharecard member notify --email E --kind wecom|dingtalk|feishu|slack --url URL\n"
        "                                [--secret S] [--team] [--db PATH]\n"
        "       sharecard member notify --email E --kind email --to ADDRESS\n"
        "       sharecard member notify --email E --list | --remove ID | --test ID\n"
        "       sharecard member notify --email E [--events LIST] [--quiet HH:MM-HH:MM|off]\n"
        "                                [--digest-hour H|off]\n"
        "\n"
        "Sends the member's alerts (hot leads, sign-ups credited to them, follow-up\n"
        "reminders) to a group robot or by e-mail (SHARECARD_SMTP_URL, SHARECARD_SMTP_FROM).\n"
        "Adding prints the target's ID.  Robot URLs are https (http and private hosts\n"
        "only with SHARECARD_WEBHOOK_ALLOW_PRIVATE=1); --secret is DingTalk's or Feishu's\n"
        "signing secret; --team (managers, admins) also sends them their team's alerts.\n"
        "--list: ID, kind, where, secret set, own/team, created.  --events is a subset of "
        "hot,signup,reminder,quiet,digest (or\n"
        "all, none); --quiet holds alerts in those hours (SHARECARD_TZ) until they end.\n"),
    /* Webhooks (cli_webhooks.c). */
    GNU("webhook", "add", sc_cli_webhook_add, webhook_add_opts,
        "usage: sharecard webhook add --url URL [--events LIST] [--db PATH]\n"
        "\n"
        "Sends signed POSTs (Standard Webhooks) to URL for each event in LIST, a\n"
        "comma-separated subset of signup.created,conversion.created,reward.approved,\n"
        "lead.hot (default: all).  Prints the signing secret (whsec_...), once.\n"
        "http and https only, no user or password in the URL; a host on a loopback or\n"
        "private network is refused unless SHARECARD_WEBHOOK_ALLOW_PRIVATE=1.\n"),
    GNU("webhook", "list", sc_cli_webhook_list, webhook_opts,
        "usage: sharecard webhook list [--db PATH]\n"
        "\n"
        "One webhook per line: ID, URL, events, created (UTC), tab-separated.\n"),
    GNU("webhook", "remove", sc_cli_webhook_remove, webhook_opts,
        "usage: sharecard webhook remove ID [--db PATH]\n"
        "\n"
        "Stops sending to that webhook; its undelivered events are cancelled.\n"),
    /* The intent model (issue 13; cli_score.c). */
    GNU("score", "train", sc_cli_score_train, score_train_opts,
        "usage: sharecard score train [--db PATH]\n"
        "\n"
        "Trains the lead intent model on this store's outcomes now (the server does it\n"
        "daily): a lead is positive when it signed up or bought within 30 days of its\n"
        "first touch.  The oldest 80 % train, the newest 20 % test; the new model becomes\n"
        "active only if its held-out AUC is not below the active one's, and the shipped\n"
        "prior stays until 40 positive and 40 negative outcomes exist.  Prints one line.\n"),
    GNU("score", "eval", sc_cli_score_eval, score_eval_opts,
        "usage: sharecard score eval [--json] [--db PATH]\n"
        "\n"
        "Prints the active model's AUC on the newest 20 % of leads, the view count's AUC\n"
        "beside it (the naive baseline) and calibration by decile of predicted\n"
        "probability: predicted against observed sign-up rates.\n"),
    /* Debugging (cli_debug.c). */
    GNU("debug", "sql", sc_cli_debug_sql, debug_opts,
        "usage: sharecard debug sql NAME [--db PATH]\n"
        "\n"
        "Prints statement NAME exactly as this store's database is given it, one line,\n"
        "to read its plan (EXPLAIN).  Names: outbox_prune (the webhook outbox's pruner;\n"
        "?1/$1 the time before which finished rows go, ?2/$2 the batch size).\n"),
};

/* The commands that take a sub-command: what --help says, what a wrong one gets. */
static const struct {
    const char *name;
    const char *help; /* NULL: --help is a wrong sub-command */
    const char *bad;
} groups[] = {
    {"member",
     "usage: sharecard member add|list|password|disable|enable [OPTIONS] (see --help of "
     "each)\n",
     "'member' takes 'add', 'list', 'password', 'disable' or 'enable'"},
    {"token", "usage: sharecard token create --email EMAIL\n", "'token' takes 'create'"},
    {"customer", NULL, "'customer' takes 'erase' or 'export'"},
    {"reward", "usage: sharecard reward approve|void ID [--reason TEXT]\n",
     "'reward' takes 'approve' or 'void'"},
    /* customers and orders */
    {"import", "usage: sharecard import orders FILE.csv\n", "'import' takes 'orders'"},
    {"customers", "usage: sharecard customers fit\n", "'customers' takes 'fit'"},
    {"webhook", "usage: sharecard webhook add|list|remove (see --help of each)\n",
     "'webhook' takes 'add', 'list' or 'remove'"},
    {"score", "usage: sharecard score train|eval [--json] (see --help of each)\n",
     "'score' takes 'train' or 'eval'"},
    {"debug", "usage: sharecard debug sql NAME\n", "'debug' takes 'sql'"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))
#define NGROUPS   (sizeof(groups) / sizeof(groups[0]))

/* The global options, then the command and its options: the exit status. */
/* Commands that only read: run on a store that does not exist, they would make an empty one. */
static bool reads_only(const struct cli_cmd *c)
{
    static const char *const ro[][2] = {
        {"member", "list"},  {"qr", NULL},      {"export", NULL}, {"customer", "export"},
        {"webhook", "list"}, {"score", "eval"}, {"backup", NULL}, {"debug", "sql"}};
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
        if (strcmp(c->name, ro[i][0]) == 0 &&
            (ro[i][1] ? c->sub && strcmp(c->sub, ro[i][1]) == 0 : !c->sub))
            return true;
    return false;
}

/* Whether store 'db' exists: a PostgreSQL URL is the server's to say; a SQLite file is there. */
static bool store_exists(const char *db)
{
    if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0)
        return true;
    struct stat st;
    return stat(db, &st) == 0;
}

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
        return sc_cli_fail("libsodium could not start");
    sc_customers_init(); /* days in SHARECARD_TZ, before any thread */

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
            return sc_cli_bad_option(c);          /* demo takes no positionals */
        if (reads_only(c) && !store_exists(a.db)) /* issue 17: a typo makes no empty store */
            return sc_cli_fail("cannot open the store %s: it does not exist (give --db, set "
                               "SHARECARD_DB, or run 'sharecard init' first)",
                               a.db);
        return c->run(&a);
    }
    if (bad)
        return sc_cli_usage_error(usage_main, bad);
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown command '%.100s'", name);
    return sc_cli_usage_error(usage_main, msg);
}
