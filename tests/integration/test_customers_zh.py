"""The customers, retention, NPS and birthday pages in Simplified Chinese (issue 14).

With Accept-Language zh-CN, the pages a salesperson or a manager reads — /customers (and
its birthday and segment views), a customer's page with its timeline, the dashboard's
customers, retention and NPS sections — carry no English sentence of the translation
table (server/i18n_table.c), and their headings and column names no English words but the
abbreviations every reader knows (NPS, CRR, RFM, CSV …).  The survey page and the
customer's own referral part are checked in test_nps and test_customer_pages."""

import json
import os
import re
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

TABLE = os.path.join(os.path.dirname(__file__), "..", "..", "server", "i18n_table.c")
ALLOWED = {"NPS", "CRR", "RFM", "CSV", "NDR", "UTC", "API", "JSON", "P(alive)", "sharecard"}


def english_keys():
    with open(TABLE, encoding="utf-8") as f:
        src = f.read()
    keys = set()
    for m in re.finditer(r'\{\s*((?:"(?:[^"\\]|\\.)*"\s*)+),\s*(?:"(?:[^"\\]|\\.)*"\s*)+\}', src):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))
        keys.add(bytes("".join(parts), "utf-8").decode("unicode_escape").encode(
            "latin-1").decode("utf-8"))
    return keys


def texts(page):
    """Visible text nodes, and the text of headings and column names."""
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", "", page)
    nodes = [t.strip() for t in re.split(r"<[^>]*>", body)]
    heads = [re.sub(r"<[^>]*>", "", h).strip()
             for h in re.findall(r"(?s)<(?:h1|h2|h3|th)\b[^>]*>(.*?)</(?:h1|h2|h3|th)>", body)]
    return [n for n in nodes if n], heads


class CustomersInChinese(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "0",
                                      "SHARECARD_NPS_DELAY_DAYS": "0",
                                      "SHARECARD_TIERS": "普通:0,银卡:50"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.admin = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "林爱丽", "alice@example.com", "--slug", "alice",
                                   "--team", "华东")
        harness.sharecard("member", "password", "--email", "alice@example.com", db=db,
                          env={"SHARECARD_PASSWORD": "alice-password-1"})
        cls.srv.start()
        b = Browser(cls.srv)
        st, _, body = b.sign_up(b.open_link(cls.a["qr_url"]), "alice", name="王波",
                                email="bob@example.com")
        assert st == 201, body
        cls.bob = json.loads(body)
        c = Browser(cls.srv)
        st, _, body = c.sign_up(c.open_link(cls.bob["referral_url"]), "alice", name="李娜",
                                email="carol@example.com")
        assert st == 201, body
        cls.carol = json.loads(body)
        st, _, body = cls.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": "carol@example.com", "amount": "60", "order_id": "Z-1"}),
            headers={"Authorization": f"Bearer {cls.admin}", "Content-Type": "application/json"})
        assert st == 201, body
        # Carol answers her survey (a detractor), found on her own referral page.
        code = cls.carol["referral_url"].rsplit("/", 1)[1]
        st, _, page = c.get(f"/r/{code}")
        token = re.search(r'href="/s/([0-9a-f]+)"', page.decode()).group(1)
        st, _, page = c.get(f"/s/{token}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.decode()).group(1)
        st, _, _ = cls.srv.request("POST", f"/s/{token}", body=urllib.parse.urlencode(
            {"csrf": csrf, "score": "4", "comment": "太慢"}), headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        assert st == 200, st

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def session(self, email, password):
        s = Session(self.srv, ip=f"203.0.113.{len(email) + 100}")
        st, _, page = s.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = s.post("/login", {"csrf": csrf, "email": email, "password": password})
        self.assertEqual(st, 303)
        return s

    def check(self, s, path, fragment=None):
        st, h, body = self.srv.request("GET", path,
                                       headers=s._headers({"Accept-Language": "zh-CN"}))
        page = body.decode()
        self.assertEqual(st, 200, path)
        if fragment:  # the part of the page this issue adds: from the heading before
            start = page.rfind("<h2", 0, page.index(fragment[0]))  # the first marker
            page = page[start:page.index("</table>", page.index(fragment[1]))]  # to the last
        nodes, heads = texts(page)
        keys = english_keys()
        left = sorted({n for n in nodes if n in keys and re.search(r"[A-Za-z]{2}", n)} - ALLOWED)
        self.assertEqual(left, [], f"{path}: English left untranslated")
        # Nor any English sentence elsewhere in these parts (names, e-mail addresses and
        # links are data, not words).
        prose = set()
        for n in nodes:
            n = re.sub(r"\S+@\S+|https?://\S+|/\S*", " ", n)
            for a in sorted(ALLOWED, key=len, reverse=True):
                n = n.replace(a, " ")
            n = re.sub(r"\balice\b", " ", n)  # the card's slug
            if re.search(r"[A-Za-z]{3,}", n):
                prose.add(n)
        self.assertEqual(sorted(prose), [], f"{path}: English text")
        words = set()
        for h in heads:
            for a in sorted(ALLOWED, key=len, reverse=True):
                h = h.replace(a, " ")
            words |= set(re.findall(r"[A-Za-z]{2,}", h))
        words = sorted(words)
        self.assertEqual(words, [], f"{path}: English in headings {heads}")
        return page

    def test_pages(self):
        alice = self.session("alice@example.com", "alice-password-1")
        self.check(alice, "/customers")
        self.check(alice, "/customers?birthday=week")
        self.check(alice, "/customers?segment=new")
        page = self.check(alice, "/customers?nps=detractor")
        self.assertIn("太慢", page)
        page = self.check(alice, f"/customers/{self.carol['customer_id']}")
        self.assertIn("回答了问卷", page)
        self.check(alice, f"/customers/{self.bob['customer_id']}")  # earned points
        admin = self.session("admin@example.com", "admin-password-1")
        page = self.check(admin, "/dashboard", fragment=('id="retention"', 'id="detractors"'))
        for zh in ("每月客户留存率", "客户满意度", "待跟进的贬损者"):
            self.assertIn(zh, page)


if __name__ == "__main__":
    harness.main()
