"""A follow-up's reminder can be marked done, and a done reminder is gone (followups.done).

The salesperson marks it from /me (back to /me) or from the lead's page (back there):
POST /leads/{id}/followup/{fid}/done with the form's CSRF token.  Done, it no longer shows
among /me's reminders due nor in the live feed (a new stream's reminders already due); the
lead's page keeps it in the log, marked done.  Marking it again changes nothing; another
lead's id, a follow-up without a reminder, or one on a card the member may not see is a 404,
a stale form a 403, and nothing is changed by any of them.
"""

import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_leads_intel import ADMIN_PW, SALES_PW, Feed, csrf_of  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

DONE = re.compile(r'action="/leads/(\d+)/followup/(\d+)/done"')


class FollowupDone(unittest.TestCase):
    def test_done_reminder_leaves_me_and_the_live_feed(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        feeds = []
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            harness.add_member(db, "Hu Ping", "hu@example.com", "--slug", "huping",
                               "--team", "north")
            harness.add_member(db, "Wes Lee", "wes@example.com", "--slug", "weslee",
                               "--team", "south")
            for email in ("hu@example.com", "wes@example.com"):
                harness.sharecard("member", "password", "--email", email, db=db,
                                  env={"SHARECARD_PASSWORD": SALES_PW})
            token = harness.sharecard("token", "create", "--email", "hu@example.com",
                                      db=db).stdout.strip()
            srv.start()
            for _ in range(3):
                self.assertEqual(Browser(srv).get("/c/huping")[0], 200)
            st, _, body = srv.request("GET", "/api/v1/leads?order=recent&limit=10",
                                      headers={"Authorization": f"Bearer {token}"})
            a, b, c = sorted(x["id"] for x in json.loads(body))
            z = Session(srv, "198.51.100.241")
            z.login("hu@example.com", SALES_PW)
            yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))

            def log(lead, note, day=None):
                _, _, page = z.get(f"/leads/{lead}")
                form = {"csrf": csrf_of(page), "channel": "call", "outcome": "no_answer",
                        "note": note}
                if day:
                    form.update(remind_on=day, remind_at="09:00")
                self.assertEqual(z.post(f"/leads/{lead}/followup", form)[0], 303)

            log(a, "ring A", yesterday)
            log(b, "ring B", yesterday)
            log(c, "no reminder")
            _, _, me = z.get("/me")
            self.assertIn("ring A", me)
            self.assertIn("ring B", me)
            buttons = {int(lead): int(fid) for lead, fid in DONE.findall(me)}
            self.assertEqual(set(buttons), {a, b})
            fa = buttons[a]
            fc = buttons[b] + 1  # logged next, on lead c
            csrf = csrf_of(me)
            path = f"/leads/{a}/followup/{fa}/done"

            # Refused, and nothing changed: a stale form, a bad 'back', another lead's id,
            # no such follow-up, a follow-up without a reminder, someone else's card.
            self.assertEqual(z.post(path, {"csrf": "stale", "back": "me"})[0], 403)
            st, _, msg = z.post(path, {"csrf": csrf, "back": "elsewhere"})
            self.assertEqual(st, 400)
            self.assertIn("back", msg)
            self.assertEqual(z.post(f"/leads/{b}/followup/{fa}/done", {"csrf": csrf})[0], 404)
            self.assertEqual(z.post(f"/leads/{a}/followup/{fa + 1000}/done",
                                    {"csrf": csrf})[0], 404)
            self.assertEqual(z.post(f"/leads/{c}/followup/{fc}/done", {"csrf": csrf})[0], 404)
            w = Session(srv, "198.51.100.242")
            w.login("wes@example.com", SALES_PW)
            _, _, wme = w.get("/me")
            self.assertEqual(w.post(path, {"csrf": csrf_of(wme)})[0], 404)
            self.assertEqual(z.get(path)[0], 405)
            _, _, me = z.get("/me")
            self.assertIn("ring A", me)

            # Done from /me: back to /me, where it is gone and the other one stays.
            st, h, _ = z.post(path, {"csrf": csrf, "back": "me"})
            self.assertEqual((st, h.get("location")), (303, "/me"))
            _, _, me = z.get("/me")
            self.assertNotIn("ring A", me)
            self.assertIn("ring B", me)
            # Its lead's page keeps it in the log, marked done, without a Done button.
            _, _, page = z.get(f"/leads/{a}")
            self.assertIn("ring A", page)
            self.assertIn('class="reminder-done"', page)
            self.assertNotIn(path, page)
            # Again: no change, back to the lead's page (the page's own button).
            st, h, _ = z.post(path, {"csrf": csrf, "back": "lead"})
            self.assertEqual((st, h.get("location")), (303, f"/leads/{a}"))

            # A new live stream sends the reminders already due: B's, not A's.
            hu = Feed(srv, token)
            feeds.append(hu)
            self.assertTrue(hu.wait_for("reminder"))
            time.sleep(3)  # more ticks: nothing else comes
            notes = [r["text"].rsplit(" — ", 1)[1] for r in hu.of("reminder")]
            self.assertEqual(notes, ["ring B"])
        finally:
            for f in feeds:
                f.close()
            srv.stop()
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
