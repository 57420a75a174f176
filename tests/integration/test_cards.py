"""Cards over real HTTP: landing page, QR codes, vCards, errors, keep-alive.

Run by CTest with the binary's path as the first argument.  What other tools
see is checked with those tools: zbarimg decodes our QR PNGs, python3-vobject
parses our vCards, and an XML parser reads our SVGs.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import vobject  # noqa: E402  (Debian's python3-vobject)


def zbar(png_bytes):
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png_bytes)
        f.flush()
        p = subprocess.run(["zbarimg", "-q", "--raw", f.name], capture_output=True, text=True)
        return p.returncode, p.stdout.strip()


class Cards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server()
        db = cls.srv.db
        cls.ada = harness.add_member(db, "Ada Lovelace", "Ada@Example.com", "--title",
                                     "Head of Sales", "--company", "Analytical, Engines; Ltd",
                                     "--phone", "+44 20 7946 0000", "--website",
                                     "https://ada.example.com", "--wechat", "ada_l")
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.cn", "--title", "销售总监",
                                       "--company", "北京示例科技有限公司", "--phone",
                                       "+86 138 0013 8000", "--lang", "zh-CN", "--slug",
                                       "zhang-wei")
        cls.evil = harness.add_member(db, "Mallory", "mallory@example.com")
        # Hostile values written straight into the store, as an older version or
        # another tool might have: the page must still escape or refuse them.
        harness.query(db, "UPDATE cards SET name=?, title=?, company=?, website=?, bio=?, "
                      "address=?, wechat=? WHERE slug=?",
                      ('<script>alert(1)</script>"Mal', "\"><img src=x onerror=alert(2)>",
                       "Evil & Co '", "javascript:alert(3)", "line1\n<b>bold</b>",
                       "1 </textarea> St", "x\" onclick=\"alert(4)", cls.evil["slug"]))
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def get(self, path, headers=None):
        return self.srv.request("GET", path, headers=headers)

    # -- landing page ------------------------------------------------------

    def test_landing_page_shows_the_card(self):
        st, h, body = self.get(f"/c/{self.ada['slug']}")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        html = body.decode()
        self.assertIn("Ada Lovelace", html)
        self.assertIn("Head of Sales", html)
        self.assertIn('property="og:title" content="Ada Lovelace"', html)
        self.assertIn('property="og:description" content="Head of Sales · Analytical, Engines; Ltd"',
                      html)
        self.assertIn('name="twitter:card"', html)
        self.assertIn('href="tel:+442079460000"', html)
        self.assertIn('href="mailto:ada%40example.com"', html)
        self.assertIn('href="https://ada.example.com"', html)
        self.assertIn(f'href="/c/{self.ada["slug"]}/vcard.vcf"', html)
        self.assertIn('data-copy="ada_l"', html)
        self.assertIn('id="share"', html)
        self.assertIn('id="signup"', html)
        # No third-party requests: every src/href is ours or a contact scheme.
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            self.assertTrue(url.startswith(("/", "tel:", "mailto:", self.srv.base,
                                            "https://ada.example.com")), url)
        self.assertIn("content-security-policy", h)
        self.assertIn("script-src 'self'", h["content-security-policy"])
        self.assertNotIn("<script>", html.replace('<script src="/static/card.js" defer></script>', ""))

    def test_hostile_fields_are_escaped_or_refused(self):
        st, _, body = self.get(f"/c/{self.evil['slug']}")
        self.assertEqual(st, 200)
        html = body.decode()
        self.assertNotIn("<script>alert", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;&quot;Mal", html)
        self.assertNotIn("<img src=x", html)
        self.assertNotIn("javascript:", html)
        self.assertNotIn("<b>bold</b>", html)
        self.assertIn("&lt;b&gt;bold&lt;/b&gt;", html)
        self.assertIn("Evil &amp; Co &#39;", html)
        self.assertNotIn('onclick="alert', html)

    def test_language_follows_card_then_visitor(self):
        _, _, body = self.get("/c/zhang-wei")
        html = body.decode()
        self.assertIn('lang="zh-CN"', html)
        self.assertIn("保存到通讯录", html)
        self.assertIn("张伟", html)
        _, _, body = self.get("/c/zhang-wei", {"Accept-Language": "en-GB,en;q=0.9"})
        self.assertIn("Save contact", body.decode())
        _, _, body = self.get(f"/c/{self.ada['slug']}", {"Accept-Language": "zh-CN,zh;q=0.9"})
        self.assertIn("保存到通讯录", body.decode())

    def test_unknown_slug_is_404_page(self):
        st, h, body = self.get("/c/no-such-card")
        self.assertEqual(st, 404)
        self.assertIn("There is no card at this address.", body.decode())
        st, _, _ = self.get("/c/" + "a" * 300)
        self.assertEqual(st, 404)
        st, _, body = self.get("/nothing-here")
        self.assertEqual(st, 404)

    # -- QR ----------------------------------------------------------------

    def test_qr_png_decodes_to_the_tracked_link(self):
        st, h, png = self.get(f"/c/{self.ada['slug']}/qr.png")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "image/png")
        self.assertIn("etag", h)
        self.assertIn("max-age", h["cache-control"])
        rc, text = zbar(png)
        self.assertEqual(rc, 0)
        code = self.ada["qr_url"].rsplit("/", 1)[1]
        self.assertEqual(text, f"{self.srv.base}/l/{code}")

    def test_qr_png_size_and_bounds(self):
        st, _, small = self.get(f"/c/{self.ada['slug']}/qr.png?size=128")
        st2, _, big = self.get(f"/c/{self.ada['slug']}/qr.png?size=1024")
        self.assertEqual((st, st2), (200, 200))
        w_small = int.from_bytes(small[16:20], "big")
        w_big = int.from_bytes(big[16:20], "big")
        self.assertLessEqual(w_small, 128)
        self.assertLessEqual(w_big, 1024)
        self.assertGreater(w_big, 3 * w_small)
        self.assertEqual(zbar(big)[0], 0)
        for bad in ("0", "10", "99999", "abc", "-5", ""):
            st, _, body = self.get(f"/c/{self.ada['slug']}/qr.png?size={bad}")
            self.assertEqual(st, 400, bad)
            self.assertIn(b"size must be", body)

    def test_qr_etag_gives_304(self):
        path = f"/c/{self.zhang['slug']}/qr.png"
        st, h, _ = self.get(path)
        self.assertEqual(st, 200)
        st, _, body = self.get(path, {"If-None-Match": h["etag"]})
        self.assertEqual(st, 304)
        self.assertEqual(body, b"")
        # The cached copy is the same bytes as the first.
        _, _, a = self.get(path)
        _, _, b = self.get(path)
        self.assertEqual(a, b)

    def test_qr_svg_is_wellformed_and_scalable(self):
        st, h, svg = self.get(f"/c/{self.ada['slug']}/qr.svg")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "image/svg+xml")
        root = ET.fromstring(svg)
        self.assertTrue(root.tag.endswith("svg"))
        self.assertIn("viewBox", root.attrib)
        self.assertIn(b"crispEdges", svg)

    def test_cli_qr_writes_the_same_png(self):
        out = os.path.join(self.srv.tmp, "ada.png")
        harness.sharecard("qr", self.ada["slug"], "-o", out, "--base-url", self.srv.base,
                          db=self.srv.db)
        with open(out, "rb") as f:
            rc, text = zbar(f.read())
        self.assertEqual(rc, 0)
        self.assertEqual(text, self.ada["qr_url"].replace("http://127.0.0.1:8080",
                                                           self.srv.base))

    # -- vCard ---------------------------------------------------------------

    def test_vcard_parses_and_round_trips(self):
        st, h, body = self.get(f"/c/{self.ada['slug']}/vcard.vcf")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "text/vcard; charset=utf-8")
        self.assertIn(f'filename="{self.ada["slug"]}.vcf"', h["content-disposition"])
        for line in body.split(b"\r\n"):
            self.assertLessEqual(len(line), 75)
        card = vobject.readOne(body.decode("utf-8"))
        self.assertEqual(card.version.value, "3.0")
        self.assertEqual(card.fn.value, "Ada Lovelace")
        self.assertEqual(card.n.value.family, "Lovelace")
        self.assertEqual(card.n.value.given, "Ada")
        self.assertEqual(card.org.value, ["Analytical, Engines; Ltd"])
        self.assertEqual(card.title.value, "Head of Sales")
        self.assertEqual(card.email.value, "ada@example.com")
        self.assertEqual(card.tel.value.replace(" ", ""), "+442079460000")

    def test_vcard_chinese_name_intact(self):
        st, h, body = self.get("/c/zhang-wei/vcard.vcf")
        self.assertEqual(st, 200)
        self.assertIn("filename*=UTF-8''%E5%BC%A0%E4%BC%9F.vcf", h["content-disposition"])
        card = vobject.readOne(body.decode("utf-8"))
        self.assertEqual(card.fn.value, "张伟")
        self.assertEqual(card.title.value, "销售总监")
        self.assertEqual(card.org.value, ["北京示例科技有限公司"])
        self.assertEqual(card.email.value, "zhang@example.cn")

    # -- HTTP behaviour ------------------------------------------------------

    def test_oversized_body_is_413(self):
        st, _, body = self.srv.request("POST", f"/c/{self.ada['slug']}",
                                       body=b"x" * (256 * 1024),
                                       headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 413)
        self.assertIn(b"larger than", body)

    def test_wrong_method_is_405_with_allow(self):
        st, h, _ = self.srv.request("DELETE", f"/c/{self.ada['slug']}")
        self.assertEqual(st, 405)
        self.assertIn("GET", h["allow"])

    def test_keep_alive(self):
        c = self.srv.conn()
        try:
            socks = set()
            for path in ("/healthz", f"/c/{self.ada['slug']}", f"/c/{self.ada['slug']}/qr.svg",
                         "/c/unknown-x", "/static/card.js"):
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                self.assertNotEqual((r.getheader("Connection") or "").lower(), "close", path)
                socks.add(id(c.sock))
                self.assertIsNotNone(c.sock, path)
            self.assertEqual(len(socks), 1)
        finally:
            c.close()

    def test_static_assets_have_etags(self):
        st, h, body = self.get("/static/card.js")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/javascript"))
        self.assertIn("sendBeacon", body.decode())
        st, _, _ = self.get("/static/card.js", {"If-None-Match": h["etag"]})
        self.assertEqual(st, 304)
        st, _, _ = self.get("/static/nope.js")
        self.assertEqual(st, 404)

    def test_tracked_link_redirects_to_card(self):
        code = self.ada["qr_url"].rsplit("/", 1)[1]
        st, h, _ = self.get(f"/l/{code}")
        self.assertEqual(st, 302)
        self.assertEqual(h["location"], f"/c/{self.ada['slug']}?l={code}")
        st, _, body = self.get("/l/zzzzzzzz")
        self.assertEqual(st, 404)
        self.assertIn(b"does not exist", body)

    def test_healthz_and_home(self):
        st, _, body = self.get("/healthz")
        self.assertEqual((st, body), (200, b"ok\n"))
        st, _, body = self.get("/")
        self.assertEqual(st, 200)
        self.assertIn(b"sharecard", body)


if __name__ == "__main__":
    harness.main()
