"""A full disk: the server answers 503 instead of acknowledging what it
could not store, keeps every scan it did acknowledge, and recovers by
itself once space is freed.  Runs the store on a small tmpfs (needs root,
which CI has; skipped elsewhere)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"


def try_mount(path, size):
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True).returncode == 0


class DiskFull(unittest.TestCase):
    @harness.skip_unless_sqlite("the store file lives on a tiny tmpfs; PostgreSQL's full disk "
                                "is its server's, and test_pg_multi covers a server gone away")
    def test_full_disk_is_503_then_recovers(self):
        mnt = tempfile.mkdtemp(prefix="sharecard-full-")
        if not try_mount(mnt, "3m"):
            os.rmdir(mnt)
            self.skipTest("cannot mount a tmpfs here (needs root)")
        srv = None
        try:
            db = os.path.join(mnt, "s.db")
            card = harness.add_member(db, "Full Disk", "full@example.com")
            code = card["qr_url"].rsplit("/", 1)[1]
            srv = harness.Server(db=db)
            srv.start()
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            acked, refused = [], 0
            for i in range(400):
                cookie = f"{i:032d}"
                st, _, body = srv.request("GET", f"/l/{code}",
                                          headers={"Cookie": f"sc_vid={cookie}", "User-Agent": UA})
                self.assertIn(st, (302, 503), body)
                if st == 302:
                    acked.append(cookie)
                else:
                    refused += 1
                    self.assertIn(b"try again", body)
                if refused >= 5:
                    break
            self.assertGreaterEqual(refused, 5, "the disk never filled up")
            os.remove(filler)
            # Space is back: the next scans are stored and acknowledged again.
            for i in range(5):
                cookie = f"{i + 1000:032d}"
                st, _, _ = srv.request("GET", f"/l/{code}",
                                       headers={"Cookie": f"sc_vid={cookie}", "User-Agent": UA})
                self.assertEqual(st, 302)
                acked.append(cookie)
            self.assertEqual(srv.request("GET", "/healthz")[0], 200)
            srv.stop()
            self.assertEqual(harness.scalar(db, "PRAGMA integrity_check"), "ok")
            stored = harness.event_visitors(db)
            self.assertEqual([c for c in acked if harness.visitor_ref(db, "c:" + c) not in stored],
                             [])
        finally:
            if srv:
                srv.cleanup()
            subprocess.run(["umount", mnt], capture_output=True)
            shutil.rmtree(mnt, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
