"""Managing things from the browser (issue 5, second part): password change, API
tokens created and revoked in the UI, members added, edited, disabled and imported
from CSV with a per-row report, rewards approved and voided, the audit log, the
share tree with its K-factor, the channel report, and the live feed (SSE)."""

import http.client
import json
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
MANAGER_PW = "manager-password-1"
SALES_PW = "sales-password-1"


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class Manage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "14"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.com", "--slug", "zhang",
                                       "--team", "east")
        harness.add_member(db, "Mona Manager", "mona@example.com", "--slug", "mona",
                           "--role", "manager", "--team", "east")
        harness.add_member(db, "Wes West", "wes@example.com", "--slug", "wes", "--team", "west")
        for email, pw in (("mona@example.com", MANAGER_PW), ("zhang@example.com", SALES_PW)):
            harness.sharecard("member", "password", "--email", email, db=db,
                              env={"SHARECARD_PASSWORD": pw})
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, path, token=None):
        st, h, body = self.srv.request("GET", path,
                                       headers={"Authorization": f"Bearer {token or self.token}"})
        return st, h, body

    def signed_in(self, email, pw, ip):
        s = Session(self.srv, ip=ip)
        st, _, _ = s.login(email, pw)
        self.assertEqual(st, 303)
        return s

    # ---- account ---------------------------------------------------------------------

    def test_api_token_from_the_ui_shown_once_and_revocable(self):
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.40")
        st, _, page = z.get("/me/account")
        self.assertEqual(st, 200)
        st, _, page = z.post("/me/tokens", {"csrf": csrf_of(page), "label": "CRM sync"})
        self.assertEqual(st, 201)
        token = re.search(r'<code id="token">([^<]+)</code>', page).group(1)
        st, _, body = self.api("/api/v1/cards/zhang/stats", token=token)
        self.assertEqual(st, 200)
        # Shown once: the next visit lists it by label only.
        st, _, page = z.get("/me/account")
        self.assertNotIn(token, page)
        self.assertIn("CRM sync", page)
        tid = re.search(r'data-token="(\d+)"><td>CRM sync', page).group(1)
        # Someone else's token cannot be revoked by this member.
        m = self.signed_in("mona@example.com", MANAGER_PW, "198.51.100.41")
        st, _, mpage = m.get("/me/account")
        st, _, _ = m.post("/me/tokens/revoke", {"csrf": csrf_of(mpage), "id": tid})
        self.assertEqual(st, 404)
        self.assertEqual(self.api("/api/v1/cards/zhang/stats", token=token)[0], 200)
        st, _, page = z.post("/me/tokens/revoke", {"csrf": csrf_of(page), "id": tid})
        self.assertEqual(st, 200)
        self.assertEqual(self.api("/api/v1/cards/zhang/stats", token=token)[0], 401)
        # Without the form's token, nothing is created.
        st, _, _ = z.post("/me/tokens", {"label": "forged"})
        self.assertEqual(st, 403)

    def test_password_change(self):
        harness.add_member(self.srv.db, "Pat Password", "pat@example.com", "--slug", "pat")
        harness.sharecard("member", "password", "--email", "pat@example.com", db=self.srv.db,
                          env={"SHARECARD_PASSWORD": "first-password-1"})
        pat = self.signed_in("pat@example.com", "first-password-1", "198.51.100.42")
        other = self.signed_in("pat@example.com", "first-password-1", "198.51.100.43")
        st, _, page = pat.get("/me/account")
        csrf = csrf_of(page)
        st, _, page = pat.post("/me/password", {"csrf": csrf, "current": "wrong-password-0",
                                                "new": "second-password-2",
                                                "again": "second-password-2"})
        self.assertEqual(st, 422)
        self.assertIn("current password is wrong", page)
        st, _, page = pat.post("/me/password", {"csrf": csrf, "current": "first-password-1",
                                                "new": "second-password-2", "again": "typo"})
        self.assertEqual(st, 422)
        old_cookie = pat.cookies["sc_session"]
        st, h, _ = pat.post("/me/password", {"csrf": csrf, "current": "first-password-1",
                                             "new": "second-password-2",
                                             "again": "second-password-2"})
        self.assertEqual((st, h["location"]), (303, "/me/account?changed=1"))
        self.assertNotEqual(pat.cookies["sc_session"], old_cookie)  # rotated
        self.assertEqual(pat.get("/me")[0], 200)
        self.assertEqual(other.get("/me")[0], 303)  # every other session ended
        st, _, _ = Session(self.srv, ip="198.51.100.44").login("pat@example.com",
                                                               "first-password-1")
        self.assertEqual(st, 401)
        self.signed_in("pat@example.com", "second-password-2", "198.51.100.45")

    # ---- members -----------------------------------------------------------------------

    def test_members_add_edit_disable_and_roles(self):
        self.assertEqual(self.signed_in("zhang@example.com", SALES_PW,
                                        "198.51.100.50").get("/admin/members")[0], 403)
        mona = self.signed_in("mona@example.com", MANAGER_PW, "198.51.100.51")
        st, _, page = mona.get("/admin/members")
        self.assertEqual(st, 200)
        self.assertIn("zhang@example.com", page)   # her team
        self.assertNotIn("wes@example.com", page)  # not another team's
        csrf = csrf_of(page)
        # A manager adds salespeople to her own team, never a manager.
        st, _, _ = mona.post("/admin/members", {"csrf": csrf, "name": "Neo New",
                                                "email": "neo@example.com", "role": "manager"})
        self.assertEqual(st, 403)
        st, _, page = mona.post("/admin/members", {"csrf": csrf, "name": "Neo New",
                                                   "email": "neo@example.com", "team": "west"})
        self.assertEqual(st, 201)
        st, _, body = self.api("/api/v1/members")
        members = {m["email"]: m for m in json.loads(body)}
        self.assertEqual(members["neo@example.com"]["team"], "east")
        self.assertEqual(members["neo@example.com"]["role"], "sales")
        self.assertEqual(self.srv.request("GET", "/c/" + members["neo@example.com"]["card"])[0],
                         200)
        # A bad address is refused with the reason, and nobody is added.
        st, _, page = mona.post("/admin/members", {"csrf": csrf, "name": "Bad",
                                                   "email": "not-an-address"})
        self.assertEqual(st, 422)
        self.assertIn("e-mail address is not valid", page)
        # She may not edit someone of another team.
        self.assertEqual(mona.get(f"/admin/members/{members['wes@example.com']['id']}")[0], 403)
        # Disable Neo from the edit page: the card shows the polite page; history stays.
        nid = members["neo@example.com"]["id"]
        st, _, page = mona.get(f"/admin/members/{nid}")
        self.assertEqual(st, 200)
        st, _, page = mona.post(f"/admin/members/{nid}", {"csrf": csrf_of(page),
                                                          "name": "Neo Renamed",
                                                          "role": "sales", "disabled": "1"})
        self.assertEqual(st, 200)
        self.assertEqual(self.srv.request("GET", "/c/" + members["neo@example.com"]["card"])[0],
                         410)
        st, _, body = self.api("/api/v1/members")
        neo = {m["email"]: m for m in json.loads(body)}["neo@example.com"]
        self.assertEqual((neo["name"], neo["disabled"]), ("Neo Renamed", True))
        # An admin-initiated reset shows a temporary password once, and it works.
        st, _, page = mona.post(f"/admin/members/{nid}/password", {"csrf": csrf_of(page)})
        self.assertEqual(st, 200)
        temp = re.search(r'<code id="temp-password">([^<]+)</code>', page).group(1)
        mona.post(f"/admin/members/{nid}", {"csrf": csrf_of(page), "name": "Neo Renamed",
                                            "role": "sales"})
        st, h, _ = Session(self.srv, ip="198.51.100.52").login("neo@example.com", temp)
        self.assertEqual((st, h["location"]), (303, "/me"))
        # The audit log has each change, with who made it.
        st, _, body = self.api("/api/v1/audit")
        log = [(a["actor"], a["action"], a["target"]) for a in json.loads(body)]
        for entry in (("mona@example.com", "member.add", "neo@example.com"),
                      ("mona@example.com", "member.edit", "neo@example.com"),
                      ("mona@example.com", "member.disable", "neo@example.com"),
                      ("mona@example.com", "member.enable", "neo@example.com"),
                      ("mona@example.com", "member.password_reset", "neo@example.com")):
            self.assertIn(entry, log)
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.53")
        st, _, page = root.get("/admin/audit")
        self.assertEqual(st, 200)
        self.assertIn("member.password_reset", page)
        self.assertEqual(mona.get("/admin/audit")[0], 403)

    def test_csv_import_reports_each_row(self):
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.60")
        st, _, page = root.get("/admin/members")
        csv = ("\ufeffName,Email,Team,Role,Slug\r\n"
               "李娜,lina@example.com,north,sales,lina\r\n"
               "\"Kim, Jr.\",kim@example.com,north,manager,\r\n"
               "Dup,zhang@example.com,north,sales,\r\n"
               ",nobody@example.com,north,sales,\r\n"
               "Bad Mail,not-mail,north,sales,\r\n"
               "Bad Slug,slug@example.com,north,sales,no spaces allowed\r\n")
        st, _, page = root.post("/admin/members/import", {"csrf": csrf_of(page), "csv": csv})
        self.assertEqual(st, 422)  # some rows were refused
        self.assertIn("Import: 2 added, 4 not", page)
        report = re.findall(r'<tr class="(ok|error)"><td class="n">(\d+)</td><td>([^<]*)</td>'
                            r'<td>([^<]*)</td>', page)
        outcome = {int(line): (cls, why) for cls, line, _, why in report}
        self.assertEqual(outcome[2], ("ok", "added"))
        self.assertEqual(outcome[3], ("ok", "added"))
        self.assertEqual(outcome[4][0], "error")
        self.assertIn("exists", outcome[4][1])
        self.assertIn("name is required", outcome[5][1])
        self.assertIn("not valid", outcome[6][1])
        self.assertIn("slug cannot be used", outcome[7][1])
        st, _, body = self.api("/api/v1/members")
        members = {m["email"]: m for m in json.loads(body)}
        self.assertEqual((members["lina@example.com"]["name"], members["lina@example.com"]["card"]),
                         ("李娜", "lina"))
        self.assertEqual((members["kim@example.com"]["name"], members["kim@example.com"]["role"]),
                         ("Kim, Jr.", "manager"))
        self.assertNotIn("nobody@example.com", members)
        self.assertNotIn("slug@example.com", members)
        # A file without the needed columns says so.
        st, _, page = root.post("/admin/members/import", {"csrf": csrf_of(page),
                                                          "csv": "who,where\nx,y\n"})
        self.assertEqual(st, 422)
        self.assertIn("at least name and email", page)

    # ---- reports ---------------------------------------------------------------------

    def test_share_tree_channels_rewards_and_live_feed(self):
        # The live feed, opened before anything happens, as the manager of the team.
        mona = self.signed_in("mona@example.com", MANAGER_PW, "198.51.100.70")
        seen, stop = [], threading.Event()

        def listen():
            c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
            c.request("GET", "/api/v1/live", headers={
                "Cookie": "; ".join(f"{k}={v}" for k, v in mona.cookies.items()),
                "Accept": "text/event-stream"})
            r = c.getresponse()
            seen.append(("status", r.status, r.getheader("Content-Type")))
            while not stop.is_set():
                line = r.fp.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    seen.append(json.loads(line[6:]))
            c.close()

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        time.sleep(0.5)

        # Zhang's QR → Ann signs up → Ann shares on WeChat → Ben signs up through it.
        ann = Browser(self.srv)
        page = ann.open_link(self.zhang["qr_url"])
        st, _, body = ann.sign_up(page, "zhang", name="Ann", email="ann@example.com")
        self.assertEqual(st, 201, body)
        st, _, body = ann.post("/c/zhang/share", {  # as the page's share button sends it
            "channel": "wechat", "from": self.zhang["qr_url"].rsplit("/", 1)[-1]},
            json_answer=True)
        self.assertEqual(st, 201)
        ben = Browser(self.srv)
        page = ben.open_link(json.loads(body)["url"])
        st, _, body = ben.sign_up(page, "zhang", name="Ben", email="ben@example.com")
        self.assertEqual(st, 201, body)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                isinstance(e, dict) and e.get("via") == "Ann" and e["type"] == "view"
                for e in seen):
            time.sleep(0.2)
        stop.set()
        self.assertEqual(seen[0][:2], ("status", 200))
        self.assertTrue(seen[0][2].startswith("text/event-stream"))
        events = [e for e in seen[1:]]
        texts = [e["text"] for e in events]
        self.assertIn("Someone scanned 张伟's QR code (iOS phone)", texts)
        self.assertIn("Ann shared 张伟's card on WeChat", texts)  # words; the field a code
        self.assertTrue(any(e["type"] == "view" and e["via"] == "Ann" and e["channel"] == "wechat"
                            and "via a WeChat share from customer Ann" in e["text"]
                            for e in events), texts)
        self.assertTrue(any(e["type"] == "signup" for e in events))
        self.assertTrue(all(e["card"] == "zhang" for e in events))

        # The share tree: the QR link at the root, Ann's WeChat link under it.
        st, _, body = self.api("/api/v1/cards/zhang/tree")
        self.assertEqual(st, 200)
        tree = json.loads(body)
        nodes = {n["code"]: n for n in tree["nodes"]}
        wechat = [n for n in tree["nodes"] if n["owner"] == "Ann" and n["channel"] == "wechat"]
        self.assertEqual(len(wechat), 1)
        self.assertEqual((wechat[0]["channel"], wechat[0]["owner_type"], wechat[0]["depth"],
                          wechat[0]["signups"], wechat[0]["visits"]),
                         ("wechat", "customer", 1, 1, 1))
        qr = nodes[wechat[0]["parent"]]
        self.assertEqual((qr["channel"], qr["depth"], qr["signups"]), ("qr", 0, 1))
        # Two sign-ups, one of them produced by a customer: K = 1 / 2.
        self.assertEqual((tree["signups"], tree["signups_by_customers"]), (2, 1))
        self.assertAlmostEqual(tree["k_factor"], 0.5)
        # A tree larger than any buffer's first size: every node intact, every parent known.
        for v in range(3):
            sharer = Browser(self.srv)
            sharer.open_link(self.zhang["qr_url"])
            for _ in range(25):
                st, _, _ = sharer.post("/c/zhang/share", {"channel": "sms"}, json_answer=True)
                self.assertEqual(st, 201)
        st, _, body = self.api("/api/v1/cards/zhang/tree")
        big = json.loads(body)["nodes"]
        self.assertGreater(len(big), 75)
        codes = {n["code"] for n in big}
        self.assertTrue(all(re.fullmatch(r"[a-z0-9]{8}", c) for c in codes), codes)
        self.assertTrue(all(n["parent"] is None or n["parent"] in codes for n in big))
        st, _, page = mona.get("/dashboard/tree/zhang")
        self.assertEqual(st, 200)
        self.assertIn('data-kpi="kfactor" data-value="0.50"', page)
        self.assertIn('data-depth="1"', page)
        self.assertEqual(mona.get("/dashboard/tree/wes")[0], 403)  # another team's card

        # Channels: the QR scan and the WeChat open, each in its own row.
        st, _, body = self.api("/api/v1/channels")
        ch = {c["channel"]: c for c in json.loads(body)}
        self.assertGreaterEqual(ch["qr"]["scans"], 1)
        self.assertGreaterEqual(ch["wechat"]["opens"], 1)
        self.assertGreaterEqual(ch["wechat"]["signups"], 1)
        # Devices: the phones counted as phones, nothing as a desktop.
        st, _, body = self.api("/api/v1/devices")
        dev = {d["device"]: d["visitors"] for d in json.loads(body)}
        self.assertGreaterEqual(dev["phone"], 2)  # Ann and Ben, at least
        self.assertEqual(dev["desktop"], 0)
        st, _, page = mona.get("/dashboard?days=7")
        self.assertIn('data-device="phone" data-value="%d"' % dev["phone"], page)
        self.assertIn('data-channel="wechat"', page)
        self.assertIn('id="teams"', page)
        self.assertIn('class="funnel"', page)

        # Rewards: the manager voids one and approves another from the ledger page.
        st, _, page = mona.get("/admin/rewards")
        self.assertEqual(st, 200)
        ids = re.findall(r'data-reward="(\d+)" data-status="pending"', page)
        self.assertGreaterEqual(len(ids), 2)
        csrf = csrf_of(page)
        st, _, _ = mona.post(f"/admin/rewards/{ids[0]}", {"csrf": csrf, "decision": "void",
                                                          "reason": "duplicate person"})
        self.assertEqual(st, 200)
        st, _, _ = mona.post(f"/admin/rewards/{ids[1]}", {"csrf": csrf,
                                                          "decision": "approved"})
        self.assertEqual(st, 200)
        st, _, _ = mona.post(f"/admin/rewards/{ids[0]}", {"csrf": csrf, "decision": "approved"})
        self.assertEqual(st, 409)  # decided already
        st, _, body = self.api("/api/v1/rewards")
        status = {str(w["id"]): w["status"] for w in json.loads(body)}
        self.assertEqual((status[ids[0]], status[ids[1]]), ("void", "approved"))
        st, _, body = self.api("/api/v1/audit")
        self.assertIn(("mona@example.com", "reward.void", f"reward:{ids[0]}"),
                      [(a["actor"], a["action"], a["target"]) for a in json.loads(body)])
        # A salesperson cannot decide.
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.71")
        self.assertEqual(z.get("/admin/rewards")[0], 403)

    def test_custom_range_and_exports(self):
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.80")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        st, _, page = root.get(f"/dashboard?from=2026-01-01&to={today}")
        self.assertEqual(st, 200)
        self.assertIn('class="inline custom on"', page)
        st, h, body = self.api("/api/v1/channels?format=csv")
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b"\xef\xbb\xbfchannel,scans,"))
        st, _, _ = self.api("/api/v1/channels?from=2026-13-01")
        self.assertEqual(st, 400)

    def test_t_leads_and_their_timelines(self):
        cleo = Browser(self.srv)
        page = cleo.open_link(self.zhang["qr_url"])
        self.assertEqual(cleo.get("/c/zhang/vcard.vcf")[0], 200)  # saves the contact
        st, _, body = cleo.sign_up(page, "zhang", name="Cleo", email="cleo@example.com")
        self.assertEqual(st, 201, body)
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.90")
        st, _, body = z.get("/api/v1/leads")
        self.assertEqual(st, 200)
        lead = [x for x in json.loads(body) if x["customer"] == "Cleo"][0]
        self.assertEqual((lead["card"], lead["signed_up"], lead["saves"]), ("zhang", True, 1))
        self.assertGreaterEqual(lead["visits"], 2)  # the scan and the view
        st, _, body = z.get(f"/api/v1/leads/{lead['id']}")
        self.assertEqual(st, 200)
        kinds = [e["type"] for e in json.loads(body)]
        self.assertEqual(kinds[:2], ["signup", "save"])  # newest first
        self.assertIn("scan", kinds)
        st, _, page = z.get("/leads")
        self.assertEqual(st, 200)
        self.assertIn("Cleo", page)
        st, _, page = z.get(f"/leads/{lead['id']}")
        self.assertEqual(st, 200)
        self.assertIn("Saved the contact", page)
        self.assertIn("Scanned the QR code", page)
        # Another team's salesperson sees nothing of Cleo.
        wes = harness.sharecard("token", "create", "--email", "wes@example.com",
                                db=self.srv.db).stdout.strip()
        self.assertEqual(self.api(f"/api/v1/leads/{lead['id']}", token=wes)[0], 404)
        st, _, body = self.api("/api/v1/leads", token=wes)
        self.assertNotIn("Cleo", [x["customer"] for x in json.loads(body)])
        st, _, body = self.api("/api/v1/leads?format=csv")
        self.assertTrue(body.startswith(b"\xef\xbb\xbfid,card,customer,"))
        self.assertIn("Cleo", body.decode("utf-8"))

    def test_avatar_upload_is_validated_and_re_encoded(self):
        import struct
        import zlib
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.95")
        st, _, page = z.get("/me/edit")
        csrf = csrf_of(page)

        def upload(data, filename="me.png", ctype="image/png", token=csrf, extra=None):
            boundary = "----sharecardtest7d1f"
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
                     f'{token}\r\n'.encode()]
            for k, v in (extra or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"'
                             f'\r\n\r\n{v}\r\n'.encode())
            if data is not None:
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="avatar"; '
                             f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                             + data + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            st, h, page = z.srv.request("POST", "/me/avatar", body=body, headers=dict(
                z._headers(), **{"Content-Type": f"multipart/form-data; boundary={boundary}"}))
            return st, h, page.decode("utf-8", "replace")

        def png(w, h, rows=None):
            def chunk(kind, data):
                return (struct.pack(">I", len(data)) + kind + data
                        + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
            raw = rows if rows is not None else b"".join(
                b"\0" + bytes(v for x in range(w) for v in (x * 7 % 256, y * 5 % 256, 128))
                for y in range(h))
            return (b"\x89PNG\r\n\x1a\n"
                    + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

        # Not an image; a forged form; an image too large to decode; a file too big.
        st, _, page = upload(b"<?php echo 1; ?>", "x.png")
        self.assertEqual(st, 422)
        self.assertIn("must be a PNG or JPEG", page)
        self.assertEqual(upload(png(8, 8), token="forged")[0], 403)
        st, _, page = upload(png(100000, 100000, rows=b""))
        self.assertEqual(st, 413)
        self.assertIn("too large", page)
        st, _, page = upload(b"\xff\xd8\xff" + os.urandom(600 * 1024), "big.jpg", "image/jpeg")
        self.assertEqual(st, 413)
        self.assertEqual(self.srv.request("GET", "/c/zhang/avatar")[0], 404)

        # A real 900×600 PNG: kept as a JPEG that fits 400 px, shown on the card and in the vCard.
        st, h, _ = upload(png(900, 600))
        self.assertEqual((st, h["location"]), (303, "/me/edit?saved=1"))
        st, h, jpg = self.srv.request("GET", "/c/zhang/avatar")
        self.assertEqual((st, h["content-type"]), (200, "image/jpeg"))
        self.assertEqual(jpg[:3], b"\xff\xd8\xff")
        i = 2  # walk the JPEG's segments to its frame header: 400×267
        while jpg[i] == 0xFF and jpg[i + 1] not in (0xC0, 0xC2):
            i += 2 + struct.unpack(">H", jpg[i + 2:i + 4])[0]
        height, width = struct.unpack(">HH", jpg[i + 5:i + 9])
        self.assertEqual((width, height), (400, 266))
        st, _, card = self.srv.request("GET", "/c/zhang")
        self.assertIn(b"/c/zhang/avatar?v=", card)
        st, _, vcf = self.srv.request("GET", "/c/zhang/vcard.vcf")
        self.assertIn(b"PHOTO;ENCODING=b;TYPE=JPEG:", vcf)
        # Removing it.
        st, h, _ = upload(None, extra={"remove": "1"})
        self.assertEqual(st, 303)
        self.assertEqual(self.srv.request("GET", "/c/zhang/avatar")[0], 404)

    def test_u_own_link_per_channel(self):
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.99")
        st, _, page = z.get("/me")
        self.assertEqual(st, 200)
        section = page.split('id="channel-links"', 1)[1].split("</ul>", 1)[0]
        links = dict(re.findall(r"<li>([^:<]+): <a href=\"[^\"]*/l/([a-z0-9]{8})\"", section))
        self.assertEqual(set(links), {"WeChat", "WhatsApp", "SMS", "E-mail", "LinkedIn",
                                      "Anywhere else"})
        self.assertEqual(len(set(links.values())), 6)
        st, _, again = z.get("/me")  # the same links every time, not new ones
        self.assertIn(links["WeChat"], again)
        st, h, _ = Browser(self.srv).get(f"/l/{links['WhatsApp']}")
        self.assertEqual(st, 302)
        st, _, body = self.api("/api/v1/cards/zhang/tree")
        node = {n["code"]: n for n in json.loads(body)["nodes"]}[links["WhatsApp"]]
        self.assertEqual((node["channel"], node["owner"], node["depth"], node["visits"]),
                         ("whatsapp", "张伟", 0, 1))

    def test_v_pages_in_chinese(self):
        zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
        mona = self.signed_in("mona@example.com", MANAGER_PW, "198.51.100.110")

        def get(s, path):
            st, _, body = self.srv.request("GET", path, headers=dict(s._headers(), **zh))
            self.assertEqual(st, 200, path)
            return body.decode()
        page = get(mona, "/dashboard")
        self.assertIn('<html lang="zh-CN">', page)
        for text in ("仪表盘 · 团队", "排行榜", "转化漏斗", "二维码扫描", "转化率", "实时动态", "退出"):
            self.assertIn(text, page)
        self.assertNotIn(">Leaderboard<", page)
        self.assertIn("添加成员", get(mona, "/admin/members"))
        self.assertIn("最近 30 天内打开过名片的人", get(mona, "/leads"))
        # Without the header, English, as before.
        st, _, page = mona.get("/dashboard")
        self.assertIn('<html lang="en">', page)
        self.assertIn(">Leaderboard<", page)
        # Errors on signed-in pages speak the page's language too.
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.111")
        st, _, body = self.srv.request("GET", "/dashboard", headers=dict(z._headers(), **zh))
        self.assertEqual(st, 403)
        self.assertIn("仪表盘供经理使用", body.decode())
        self.assertIn("各渠道的专属链接", get(z, "/me"))


if __name__ == "__main__":
    harness.main()
