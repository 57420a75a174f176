"""Hardening (issue 16), each case as an attacker sent it: text that is not
UTF-8 refused at every door with 422 and the field's name (and lists that stay
valid whatever a store already holds), dates that do not exist refused, HTTP
framing that could be read two ways refused with the connection closed, HSTS
behind an https base URL, shares refused from other sites, and one client
address unable to take every connection."""

import json
import os
import re
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
HANG = 20  # seconds after which a connection that neither answers nor closes is a failure


def raw(port, data, src="127.0.0.1"):
    """Sends 'data' on a fresh connection and reads until the server closes it:
    (everything read, True when it closed).  A server that keeps the connection
    open without answering more fails after HANG seconds instead of hanging."""
    s = socket.create_connection(("127.0.0.1", port), timeout=HANG, source_address=(src, 0))
    out = b""
    closed = False
    try:
        s.sendall(data)
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            out += chunk
    finally:
        s.close()
    return out, closed


class Hardening(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server()
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.alice = harness.add_member(db, "Alice Member", "alice@example.com", "--slug",
                                       "alice", "--team", "east")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, path):
        return self.srv.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})

    def admin(self):
        s = Session(self.srv)
        st, _, _ = s.login("admin@example.com", ADMIN_PW)
        self.assertEqual(st, 303)
        st, _, page = s.get("/admin/members")
        self.assertEqual(st, 200)
        return s, re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def raw_post(self, s, path, body):
        st, h, page = self.srv.request(
            "POST", path, body=body,
            headers=s._headers({"Content-Type": "application/x-www-form-urlencoded"}))
        return st, page.decode("utf-8")  # the answer itself is UTF-8

    def members(self):
        st, _, body = self.api("/api/v1/members")
        self.assertEqual(st, 200)
        return {m["email"]: m for m in json.loads(body)}

    # ---- 1. UTF-8 at every door, and lists valid whatever is stored ---------------------

    def test_signup_with_ff_in_the_email_is_422(self):
        b = Browser(self.srv)
        page = b.open_link(self.alice["qr_url"])
        before = json.loads(self.api("/api/v1/signups")[2])
        st, _, body = b.sign_up(page, "alice", name="Mallory", email=b"\xff@example.org")
        self.assertEqual(st, 422, body)
        self.assertIn("email", json.loads(body)["error"]["message"])
        st, _, body = self.api("/api/v1/signups")
        self.assertEqual(json.loads(body), before)  # nothing half-written
        # A control character where a person types is refused too, and a good one passes.
        st, _, body = b.sign_up(page, "alice", name="Mal\x01lory", email="m@example.org")
        self.assertEqual(st, 422, body)
        self.assertIn("name", json.loads(body)["error"]["message"])
        st, _, body = b.sign_up(page, "alice", name="Ünal Çelik", email="unal@example.org")
        self.assertEqual(st, 201, body)

    def test_admin_member_with_team_ff_is_422(self):
        s, csrf = self.admin()
        st, page = self.raw_post(s, "/admin/members",
                                 f"csrf={csrf}&name=Tee&email=tee%40example.com&team=%FF")
        self.assertEqual(st, 422, page)
        self.assertIn("team", page)
        self.assertNotIn("tee@example.com", self.members())

    def test_csv_import_with_ff_is_422(self):
        s, csrf = self.admin()
        st, page = self.raw_post(s, "/admin/members/import",
                                 f"csrf={csrf}&csv=name%2Cemail%0AIvy%2Civy%40example.com%FF")
        self.assertEqual(st, 422, page)
        self.assertIn("csv", page)
        self.assertNotIn("ivy@example.com", self.members())

    def test_cli_member_add_with_team_ff_fails(self):
        p = harness.sharecard("member", "add", "--name", "T", "--email", "t@example.com",
                              "--team", os.fsdecode(b"T\xff"), db=self.srv.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--team", p.stderr)
        self.assertNotIn("t@example.com", self.members())

    def test_json_body_with_a_control_character_is_422(self):
        st, _, body = self.srv.request(
            "POST", "/e", body='{"type":"click","card":"alice","action":"ca\\u0007ll"}',
            headers={"Content-Type": "application/json"})
        self.assertEqual(st, 422, body)
        self.assertIn(b"action", body)
        st, _, body = self.srv.request(
            "POST", "/e", body=b'{"type":"click","card":"al\xffice"}',
            headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400, body)  # not JSON at all (RFC 8259: UTF-8)

    def test_query_argument_with_ff_is_400(self):
        st, _, body = self.api("/api/v1/channels?team=%FF")
        self.assertEqual(st, 400, body)
        self.assertIn(b"team", body)

    @unittest.skipIf(harness.is_pg(), "PostgreSQL refuses to store ill-formed UTF-8")
    def test_lists_stay_utf8_whatever_is_stored(self):
        m = harness.add_member(self.srv.db, "Old Row", "old@example.com", "--team", "west")
        with harness.Rows(self.srv.db) as d:
            d.execute("UPDATE members SET team = CAST(X'54FF' AS TEXT), "
                      "name = CAST(X'22FE3D' AS TEXT) WHERE id = ?", (m["id"],))
        st, _, body = self.api("/api/v1/members")
        self.assertEqual(st, 200)
        rows = {r["email"]: r for r in json.loads(body.decode("utf-8"))}
        self.assertEqual(rows["old@example.com"]["team"], "T\ufffd")
        st, _, body = self.api("/api/v1/members?format=csv")
        self.assertEqual(st, 200)
        text = body.decode("utf-8")  # strict: raises on one ill-formed byte
        self.assertIn('"""\ufffd=",old@example.com,T\ufffd,', text)
        # The other lists the issue names: sign-ups (JSON and CSV) and the leaderboard.
        b = Browser(self.srv)
        st, _, body = b.sign_up(b.open_link(m["qr_url"]), m["slug"], name="Olga Old",
                                email="olga.old@example.com")
        self.assertEqual(st, 201, body)
        with harness.Rows(self.srv.db) as d:
            d.execute("UPDATE customers SET name = CAST(X'4FFF6C6761' AS TEXT), "
                      "email = CAST(X'6FC0406578616D706C652E636F6D' AS TEXT) "
                      "WHERE email = 'olga.old@example.com'")
        st, _, body = self.api("/api/v1/signups")
        self.assertEqual(st, 200)
        rows = json.loads(body.decode("utf-8"))
        self.assertIn("O\ufffdlga", [r["name"] for r in rows])
        self.assertIn("o\ufffd@example.com", [r["email"] for r in rows])
        st, _, body = self.api("/api/v1/signups?format=csv")
        self.assertEqual(st, 200)
        self.assertIn("O\ufffdlga", body.decode("utf-8"))
        st, _, body = self.api("/api/v1/leaderboard")
        self.assertEqual(st, 200)
        self.assertIn('"\ufffd=', [r["name"] for r in json.loads(body.decode("utf-8"))])
        st, _, body = self.api("/api/v1/leaderboard?format=csv")
        self.assertEqual(st, 200)
        self.assertIn("\ufffd=", body.decode("utf-8"))

    # ---- 2. dates that do not exist -----------------------------------------------------

    def test_dates_that_do_not_exist_are_400(self):
        st, _, body = self.api("/api/v1/channels?from=2026-02-30")
        self.assertEqual(st, 400, body)
        self.assertIn(b"YYYY-MM-DD", body)
        st, _, body = self.api("/api/v1/cards/alice/stats?from=2026-02-01&to=2026-12-01%00x")
        self.assertEqual(st, 400, body)
        self.assertIn(b"'to'", body)
        for bad in ("2025-02-29", "2026-04-31", "2026-1-01", "+026-01-01", "2026-01-01x"):
            st, _, _ = self.api(f"/api/v1/cards/alice/stats?from={bad}")
            self.assertEqual(st, 400, bad)
        st, _, _ = self.api("/api/v1/cards/alice/stats?from=2024-02-29&to=2026-12-31")
        self.assertEqual(st, 200)

    # ---- 3. framing ---------------------------------------------------------------------

    def refused(self, req, status):
        out, closed = raw(self.srv.port, req)
        self.assertTrue(out.startswith(f"HTTP/1.1 {status} ".encode()), out[:200])
        self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)  # nothing behind it answered
        self.assertIn(b"\r\nConnection: close\r\n", out)
        self.assertTrue(closed, "the connection stayed open")
        return out

    SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

    def test_content_length_and_transfer_encoding(self):
        self.refused(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + self.SMUGGLED, 400)

    def test_two_content_lengths(self):
        self.refused(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 36"
                     b"\r\n\r\n" + self.SMUGGLED, 400)

    def test_space_before_the_colon(self):
        self.refused(b"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
                     b"0\r\n\r\n" + self.SMUGGLED, 400)

    def test_no_host(self):
        self.refused(b"GET /healthz HTTP/1.1\r\n\r\n", 400)
        self.refused(b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
        out, _ = raw(self.srv.port, b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:100])  # 1.0 needs none

    def test_unknown_transfer_codings(self):
        for te in (b"xchunked", b"chunked, identity", b"gzip, chunked"):
            self.refused(b"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                         b"\r\n\r\n0\r\n\r\n", 501)

    def test_content_length_over_16_mib(self):
        self.refused(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 16777217\r\n\r\nab", 413)

    def test_content_length_not_a_number(self):
        # libmicrohttpd refuses this one itself, before our handler, with its own page (it
        # writes its status line and headers twice, then the page) and closes the connection.
        out, closed = raw(self.srv.port, b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3"
                          b"\r\n\r\n" + self.SMUGGLED)
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:200])
        self.assertNotIn(b"200 OK", out)
        self.assertTrue(closed)

    def test_a_good_request_keeps_its_connection(self):
        out, _ = raw(self.srv.port, self.SMUGGLED + self.SMUGGLED.replace(
            b"Host: x", b"Host: x\r\nConnection: close"))
        self.assertEqual(out.count(b"HTTP/1.1 200 "), 2, out)

    # ---- 4. headers and forms -----------------------------------------------------------

    def test_share_from_another_site_is_refused(self):
        b = Browser(self.srv)
        page = b.open_link(self.alice["qr_url"])
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def share(headers, fields=None):
            h = {"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": f"sc_vid={b.cookie}", "Accept": "application/json"}
            h.update(headers)
            body = "channel=copy" + "".join(f"&{k}={v}" for k, v in (fields or {}).items())
            return self.srv.request("POST", "/c/alice/share", body=body, headers=h)[0]

        self.assertEqual(share({"Origin": "https://evil.example"}), 403)
        self.assertEqual(share({"Sec-Fetch-Site": "cross-site"}), 403)
        self.assertEqual(share({"Origin": "null"}), 403)
        self.assertEqual(share({"Origin": "https://evil.example"}, {"csrf": "forged"}), 403)
        self.assertEqual(share({"Origin": "https://evil.example"}, {"csrf": csrf}), 201)
        self.assertEqual(share({"Origin": self.srv.base}), 201)
        self.assertEqual(share({"Sec-Fetch-Site": "same-origin",
                                "Origin": self.srv.base}), 201)

    def test_no_hsts_over_http(self):
        _, h, _ = self.srv.request("GET", "/healthz")
        self.assertNotIn("strict-transport-security", h)


class HttpsBaseUrl(unittest.TestCase):
    def test_hsts_when_the_base_url_is_https(self):
        srv = harness.Server(extra_args=["--base-url", "https://cards.example.com"])
        try:
            srv.start()
            for path in ("/healthz", "/no-such-page"):
                _, h, _ = srv.request("GET", path)
                self.assertEqual(h.get("strict-transport-security"), "max-age=63072000", path)
            srv.stop()
        finally:
            srv.cleanup()


class PerAddressLimit(unittest.TestCase):
    """One address holds at most N connections; another still gets answers."""

    def hold(self, port, n):
        held = []
        for _ in range(n):  # each answered once and kept alive: the server holds it
            s = socket.create_connection(("127.0.0.1", port), timeout=HANG)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 "))
            held.append(s)
        return held

    def check(self, env, held_n, refused):
        srv = harness.Server(env=env)
        held = []
        try:
            srv.start()
            held = self.hold(srv.port, held_n)
            out, closed = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n")
            if refused:
                self.assertEqual(out, b"")  # closed unanswered: over the limit
                self.assertTrue(closed)
            else:
                self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:100])
            out, _ = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
                         b"\r\n\r\n", src="127.0.0.2")
            self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:100])
            for s in held:
                s.close()
            srv.stop()
        finally:
            for s in held:
                s.close()
            srv.cleanup()

    def test_default_limit_is_256(self):
        self.check({}, 256, refused=True)

    def test_documented_limit(self):
        self.check({"SHARECARD_PER_IP_CONNECTIONS": "20"}, 20, refused=True)

    def test_zero_is_no_limit_and_so_is_a_proxy(self):
        self.check({"SHARECARD_PER_IP_CONNECTIONS": "0"}, 300, refused=False)
        self.check({"SHARECARD_TRUST_PROXY": "1"}, 300, refused=False)


if __name__ == "__main__":
    harness.main()
