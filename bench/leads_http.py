#!/usr/bin/python3
"""The leads list over HTTP, as people and programs ask for it: median wall time of
ROUNDS requests of each URL against each given binary, one after the other on the same
demo store (a fresh store per binary, `sharecard init` + `sharecard demo`), signed in as
the admin (a session for /leads, a token for the API).

    bench/leads_http.py ROUNDS BINARY [BINARY ...]
"""
import contextlib
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

URLS = ["/leads", "/leads?page=2", "/leads?quiet=30",
        "/api/v1/leads?days=90&limit=10000&order=score",
        "/api/v1/leads?days=90&limit=50&offset=50&order=score",
        "/api/v1/leads"]
PW = "admin-password-1"


@contextlib.contextmanager
def demo_server(binary, settle_s=1):
    """A fresh demo store (`sharecard init` + `sharecard demo`) served on a free loopback
    port: yields (server process, port, the admin's API token); stops and removes it after."""
    tmp = tempfile.mkdtemp(prefix="sharecard-bench-leads-")
    db = os.path.join(tmp, "s.db")
    env = dict(os.environ, SHARECARD_ADMIN_PASSWORD=PW)
    env.pop("SHARECARD_DB", None)
    subprocess.run([binary, f"--db={db}", "init", "--admin-email", "root@example.com"],
                   env=env, check=True, capture_output=True)
    subprocess.run([binary, f"--db={db}", "demo"], env=env, check=True, capture_output=True)
    token = subprocess.run([binary, f"--db={db}", "token", "create", "--email",
                            "root@example.com"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip()
    srv = subprocess.Popen([binary, f"--db={db}", "serve", "--listen", "127.0.0.1:0"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))
        time.sleep(settle_s)  # start-up work (model load, upkeep) done before the first measure
        yield srv, port, token
    finally:
        srv.terminate()
        srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def run(binary, rounds):
    with demo_server(binary) as (_, port, token):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def req(method, path, headers=None, body=None):
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheader("Set-Cookie"), r.read()

        _, ck, page = req("GET", "/login")
        cookie = ck.split(";", 1)[0]
        csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
        st, ck, _ = req("POST", "/login", {"Cookie": cookie, "Content-Type":
                                           "application/x-www-form-urlencoded"},
                        urllib.parse.urlencode({"csrf": csrf, "email": "root@example.com",
                                                "password": PW}))
        session = ck.split(";", 1)[0] if ck else cookie
        out = {}
        for url in URLS:
            h = ({"Authorization": f"Bearer {token}"} if url.startswith("/api/")
                 else {"Cookie": session})
            times, size = [], 0
            for _ in range(rounds):
                t0 = time.monotonic()
                st, _, body = req("GET", url, h)
                times.append((time.monotonic() - t0) * 1000)
                size = len(body)
                assert st == 200, (url, st)
            out[url] = (statistics.median(times), size)
        return out


def main():
    rounds = int(sys.argv[1])
    results = [(b, run(b, rounds)) for b in sys.argv[2:]]
    print("| request | " + " | ".join(f"median ms, bytes ({i + 1})" for i in range(len(results)))
          + " |")
    print("|---|" + "---|" * len(results))
    for url in URLS:
        print(f"| `{url}` | " + " | ".join(f"{r[url][0]:.1f}, {r[url][1]:,}" for _, r in results)
              + " |")
    for i, (b, _) in enumerate(results):
        print(f"({i + 1}) {b}")


if __name__ == "__main__":
    main()
