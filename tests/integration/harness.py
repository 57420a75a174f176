"""Integration-test harness: runs the real sharecard binary on a free port.

Each test module calls main() at the bottom; the binary's path is argv[1]
(CTest passes it).  A Server starts `sharecard serve --listen 127.0.0.1:0`
on a fresh store in a temporary directory, reads the port back from the
"listening on" line, waits for /healthz, and is stopped with SIGTERM, whose
clean exit is itself checked.
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = None


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
        self.db = db or os.path.join(self.tmp, "sharecard.db")
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


def main():
    global BIN
    if len(sys.argv) < 2:
        sys.exit("usage: test_x.py PATH/TO/sharecard")
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
