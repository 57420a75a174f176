"""End to end in real headless Chromium (Debian's chromium, driven by
playwright-core from npm): tests/e2e/flow.mjs against the real server."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "e2e-password-1"


class EndToEnd(unittest.TestCase):
    def test_visit_share_signup_then_dashboard(self):
        srv = harness.Server(env={"SHARECARD_TZ": "Asia/Shanghai"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": PASSWORD})
            card = harness.add_member(db, "Zhang Wei", "zhang@example.cn", "--team", "north",
                                      "--title", "Sales Director", "--company", "Example Tech",
                                      "--phone", "+86 138 0013 8000", "--wechat", "zhangwei88")
            harness.add_member(db, "Mia Manager", "mia@example.com", "--team", "north",
                               "--role", "manager")
            for email in ("zhang@example.cn", "mia@example.com"):
                harness.sharecard("member", "password", "--email", email, db=db,
                                  env={"SHARECARD_PASSWORD": PASSWORD})
            token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
            srv.start()
            out = os.environ.get("SC_SCREENSHOTS") or os.path.join(
                os.environ.get("SC_TEST_TMPDIR", srv.tmp), "screenshots")
            os.makedirs(out, exist_ok=True)
            code = card["qr_url"].rsplit("/", 1)[1]
            p = subprocess.run(["node", os.path.join(HERE, "flow.mjs"), srv.base, out, code,
                                "Zhang Wei", "mia@example.com", "zhang@example.cn", PASSWORD],
                               capture_output=True, text=True, timeout=240, cwd=HERE,
                               env=dict(os.environ, SC_TOKEN=token))
            sys.stdout.write(p.stdout)
            self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
            for shot in ("landing.png", "thanks.png", "dashboard.png", "workspace.png",
                         "form-error.png", "signup-again.png", "show-qr.png", "rewards.png",
                         "rewards-phone.png", "dashboard-phone.png"):
                with open(os.path.join(out, shot), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", shot)
            srv.stop()
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
