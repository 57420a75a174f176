"""Nothing acknowledged is lost: under load, kill -9 the server several
times; every scan whose request got a 302 must be in the store afterwards,
the rollups must agree with the raw events, and the file must be intact."""

import http.client
import os
import secrets
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.0.0 Mobile Safari/537.36")


def new_cookie():
    return secrets.token_urlsafe(24)[:32].ljust(32, "A")


class Crash(unittest.TestCase):
    def test_kill_9_under_load_loses_nothing_acknowledged(self):
        srv = harness.Server()
        try:
            card = harness.add_member(srv.db, "Crash Test", "crash@example.com")
            code = card["qr_url"].rsplit("/", 1)[1]
            acked = []
            lock = threading.Lock()
            rounds = 3
            for _ in range(rounds):
                srv.start()
                stop = threading.Event()

                def load(port=srv.port):
                    conn = None
                    while not stop.is_set():
                        cookie = new_cookie()
                        try:
                            if conn is None:
                                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                            conn.request("GET", f"/l/{code}",
                                         headers={"Cookie": f"sc_vid={cookie}", "User-Agent": UA})
                            r = conn.getresponse()
                            r.read()
                            if r.status == 302:
                                with lock:
                                    acked.append(cookie)
                        except (OSError, http.client.HTTPException):
                            conn = None
                            if stop.is_set():
                                break
                            time.sleep(0.01)

                threads = [threading.Thread(target=load) for _ in range(4)]
                for t in threads:
                    t.start()
                time.sleep(1.5)
                srv.proc.send_signal(signal.SIGKILL)
                srv.proc.wait()
                stop.set()
                for t in threads:
                    t.join(timeout=10)
            self.assertGreater(len(acked), 50, "the load produced too few answers to judge")
            # On PostgreSQL the same holds: a batch is acknowledged only after its COMMIT.
            if not harness.is_pg(srv.db):
                self.assertEqual(harness.scalar(srv.db, "PRAGMA integrity_check"), "ok")
            stored = harness.event_visitors(srv.db, "e.type = 0")
            missing = [c for c in acked if harness.visitor_ref(srv.db, "c:" + c) not in stored]
            self.assertEqual(missing, [], f"{len(missing)} acknowledged scans were lost")
            raw = harness.scalar(srv.db, "SELECT count(*) FROM events WHERE type = 0 AND bot = 0")
            rolled = harness.scalar(srv.db, "SELECT sum(humans) FROM rollups WHERE type = 0")
            self.assertEqual(raw, rolled)
            self.assertGreaterEqual(raw, len(acked))
            # And the store still serves after all that.
            srv.start()
            st, _, _ = srv.request("GET", f"/l/{code}")
            self.assertEqual(st, 302)
            srv.stop()
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
