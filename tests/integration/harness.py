"""Integration-test harness: runs the real sharecard binary on a free port.

Each test module calls main() at the bottom; the binary's path is argv[1]
(CTest passes it).  A Server starts `sharecard serve --listen 127.0.0.1:0`
on a fresh store in a temporary directory, reads the port back from the
"listening on" line, waits for /healthz, and is stopped with SIGTERM, whose
clean exit is itself checked.

Backends: SHARECARD_TEST_BACKEND=postgres runs the same tests on PostgreSQL.
Then every fresh store is a new database (CREATE DATABASE sc_<random>) on
the server SHARECARD_TEST_PG names (an admin URL; the test command starts
that server), dropped when the test process ends.  Tests check rows through
query(), which speaks to either backend; new_db() gives a fresh store.
"""

import atexit
import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

BIN = None
BACKEND = os.environ.get("SHARECARD_TEST_BACKEND", "sqlite")
PG_ADMIN = os.environ.get("SHARECARD_TEST_PG", "")
SKIP = 77  # exit code CTest reads as "skipped" (SKIP_RETURN_CODE)
_databases = []


def is_pg(db=None):
    """True when 'db' (default: the backend under test) is a PostgreSQL URL."""
    if db is None:
        return BACKEND == "postgres"
    return str(db).startswith(("postgres://", "postgresql://"))


def skip_unless_sqlite(reason):
    """A decorator for tests that only make sense on a SQLite file."""
    return unittest.skipIf(is_pg(), f"SQLite only: {reason}")


def _pg_connect(url, autocommit=True):
    import psycopg2
    c = psycopg2.connect(url)
    c.autocommit = autocommit
    return c


def pg_url(dbname, admin=None):
    """The admin URL with its database replaced by 'dbname'."""
    base = (admin or PG_ADMIN).split("?", 1)[0]
    return base.rsplit("/", 1)[0] + "/" + dbname


def new_db(tmpdir, name="sharecard.db"):
    """A fresh, empty store: a file path in 'tmpdir', or a new PostgreSQL database's URL."""
    if not is_pg():
        return os.path.join(tmpdir, name)
    dbname = "sc_" + secrets.token_hex(6)
    c = _pg_connect(PG_ADMIN)
    try:
        c.cursor().execute(f"CREATE DATABASE {dbname}")
    finally:
        c.close()
    _databases.append(dbname)
    return pg_url(dbname)


@atexit.register
def _drop_databases():
    if not _databases:
        return
    try:
        c = _pg_connect(PG_ADMIN)
    except Exception:
        return
    try:
        for name in _databases:
            try:
                c.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except Exception as e:  # a failed drop must not hide the test's result
                print(f"harness: could not drop {name}: {e}", file=sys.stderr)
    finally:
        c.close()


def query(db, sql, params=()):
    """Runs 'sql' (with ? placeholders) on store 'db'; returns the rows as tuples, [] for writes."""
    if is_pg(db):
        c = _pg_connect(db)
        try:
            cur = c.cursor()
            cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
        finally:
            c.close()
    import sqlite3
    c = sqlite3.connect(db)
    try:
        with c:
            return [tuple(r) for r in c.execute(sql, tuple(params))]
    finally:
        c.close()


def visitor_key(vid):
    """The key SQLite files visitor id 'vid' under (tracker/visitor.c, sc_visitor_key): for an id
    minted with a time prefix ("c:" + 12 hex digits of milliseconds + 20 more), those 48 bits and
    then 80 bits of BLAKE2b-128 of the whole id; for any other id, 128 bits of the hash."""
    import hashlib
    h = hashlib.blake2b(vid.encode(), digest_size=16).digest()
    t = vid[2:14]
    if len(vid) == 34 and vid.startswith("c:") and all(ch in "0123456789abcdef" for ch in t):
        return bytes.fromhex(t) + h[:10]
    return h


def visitor_ref(db, vid):
    """How event_visitors() names visitor id 'vid' in store 'db'."""
    return vid if is_pg(db) else visitor_key(vid)


def event_visitors(db, where="1 = 1"):
    """The visitors of the events matching 'where' (over events e), as visitor_ref() names them:
    the id text on PostgreSQL, the key on SQLite (which keeps the text only for visitors who
    shared or signed up)."""
    if is_pg(db):
        sql = "SELECT v.vid FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE "
    else:
        sql = "SELECT k.key FROM events e JOIN visitor_keys k ON k.id = e.visitor_id WHERE "
    return {r[0] for r in query(db, sql + where)}


def stored_ip(v):
    """An events.ip value as text: SQLite keeps an IPv4 /24 as the integer of its three octets."""
    if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
        v = int(v)
        return f"{v >> 16}.{(v >> 8) & 255}.{v & 255}.0"
    return v


def scalar(db, sql, params=()):
    """The first column of the first row of query()."""
    return query(db, sql, params)[0][0]


class Rows:
    """`with Rows(db) as d: d.execute(sql, params)` — query() in sqlite3's shape."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=()):
        return query(self.db, sql, params)


def sharecard(*args, db=None, env=None, check=True, input=None):
    """Runs a sharecard command; returns CompletedProcess with text output."""
    full_env = dict(os.environ)
    full_env.pop("SHARECARD_DB", None)
    if env:
        full_env.update(env)
    cmd = [BIN] + ([f"--db={db}"] if db else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=full_env,
                       input=input, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
    return p


class Server:
    def __init__(self, db=None, extra_args=(), env=None):
        self.tmp = tempfile.mkdtemp(prefix="sharecard-it-")
        self.db = db or new_db(self.tmp)
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.proc = None
        self.port = None
        self.log = []

    def start(self):
        env = dict(os.environ)
        env.pop("SHARECARD_DB", None)
        env.update(self.env)
        self.proc = subprocess.Popen(
            [BIN, f"--db={self.db}", "serve", "--listen", "127.0.0.1:0"] + self.extra_args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise AssertionError(f"server did not start: {line!r} {err}")
        self.port = int(m.group(1))
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 20
        while True:
            try:
                st, _, _ = self.request("GET", "/healthz")
                if st == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server never became healthy")
            time.sleep(0.05)
        return self

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        """One request on a fresh connection: (status, headers dict, body bytes)."""
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def stop(self):
        """SIGTERM, then the exit code must be 0 within 20 s."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop within 20 s of SIGTERM")
            if rc != 0:
                raise AssertionError(f"server exited {rc} after SIGTERM:\n{''.join(self.log)}")
        return True

    def cleanup(self):
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.proc:
                self.proc.stdout.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def add_member(db, name, email, *extra):
    out = sharecard("member", "add", "--name", name, "--email", email, "--json", *extra, db=db)
    import json
    return json.loads(out.stdout)


PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


class Browser:
    """One person's phone on a network of its own: keeps its cookie across requests."""
    _net = 0

    def __init__(self, srv, ua=PHONE_UA, ip=None):
        self.srv, self.ua, self.cookie = srv, ua, None
        Browser._net += 1
        self.ip = ip or f"198.51.{Browser._net % 250}.7"

    def get(self, path, headers=None):
        h = {"User-Agent": self.ua, "X-Forwarded-For": self.ip}
        if self.cookie:
            h["Cookie"] = f"sc_vid={self.cookie}"
        h.update(headers or {})
        st, hd, body = self.srv.request("GET", path, headers=h)
        self._keep(hd)
        return st, hd, body

    def post(self, path, fields, json_answer=False):
        h = {"User-Agent": self.ua, "Content-Type": "application/x-www-form-urlencoded",
             "X-Forwarded-For": self.ip}
        if self.cookie:
            h["Cookie"] = f"sc_vid={self.cookie}"
        if json_answer:
            h["Accept"] = "application/json"
        st, hd, body = self.srv.request("POST", path, body=urllib.parse.urlencode(fields),
                                        headers=h)
        self._keep(hd)
        return st, hd, body

    def _keep(self, hd):
        sc = hd.get("set-cookie", "")
        if sc.startswith("sc_vid="):
            self.cookie = sc.split(";", 1)[0].split("=", 1)[1]

    def open_link(self, url_or_code):
        code = url_or_code.rsplit("/", 1)[-1]
        st, hd, _ = self.get(f"/l/{code}")
        assert st == 302, st
        st, _, page = self.get(hd["location"])
        assert st == 200, st
        return page.decode()

    def sign_up(self, page, slug, json_answer=True, **fields):
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = {"csrf": csrf, "consent": "yes"}
        form.update(fields)
        return self.post(f"/c/{slug}/signup", form, json_answer=json_answer)

    def join(self, link, slug, **fields):
        """Opens 'link' (a card's or a customer's tracked link) and signs up on card 'slug'
        with 'fields' (name, email, ...): (status, headers, body) as sign_up() answers."""
        return self.sign_up(self.open_link(link), slug, **fields)



class Stub:
    """A local HTTP receiver standing in for a webhook endpoint or a model: 127.0.0.1, a free
    port ('port', 'url'), each request on a daemon thread of its own (a stub that hangs
    holds only its thread).  'on_post(handler, body)' answers every POST; 'body' is the
    request body read in full (Content-Length)."""

    def __init__(self, on_post):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                on_post(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def shutdown(self):
        """Stops taking requests (a request still held keeps its own thread)."""
        self.httpd.shutdown()

    @staticmethod
    def reply(handler, status, body=b"", content_type="application/json"):
        """Answers 'handler''s request with 'status' and 'body' (bytes; none for a 204)."""
        handler.send_response(status)
        if body:
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if body:
            handler.wfile.write(body)


def main():
    global BIN
    if len(sys.argv) < 2:
        sys.exit("usage: test_x.py PATH/TO/sharecard")
    BIN = os.path.abspath(sys.argv.pop(1))
    if is_pg() and not PG_ADMIN:
        print("skipped: SHARECARD_TEST_BACKEND=postgres needs SHARECARD_TEST_PG, a PostgreSQL "
              "admin URL (scripts/test.sh starts a server and sets it)")
        sys.exit(SKIP)
    unittest.main(verbosity=2)
