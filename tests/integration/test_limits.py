"""Over-long addresses and headers get our own 414 / 431 (issue 16), with the security headers
every answer of ours carries, and the connection closed.

libmicrohttpd 0.9.75 writes a page of its own, without those headers, when a request line or
its headers overflow the connection's memory (32 KiB), and offers no hook to change it; so
the server refuses sooner: a path and query over 8192 bytes gets 414, headers over 12288 bytes
in all 431.  Requests within the limits are answered as before.
"""

import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SECURITY = ("x-content-type-options", "content-security-policy", "x-frame-options",
            "referrer-policy")


def raw(port, request):
    """Sends 'request' on a fresh connection; returns (status, headers, body, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(request)
        data = b""
        closed = False
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, closed


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def ours(self, request, status, reason):
        st, h, body, closed = raw(self.srv.port, request)
        self.assertEqual(st, status, body[:200])
        for k in SECURITY:
            self.assertIn(k, h, f"{status} without {k}")
        self.assertEqual(h.get("connection", "").lower(), "close")
        self.assertTrue(closed, "the connection is closed after the answer")
        self.assertIn(reason, body.decode())

    def test_long_path_414_ours(self):
        self.ours(b"GET /" + b"a" * 8300 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "8192 bytes")
        self.ours(b"GET /" + b"a" * 30000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "8192 bytes")

    def test_long_query_414_ours(self):
        self.ours(b"GET /healthz?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                  "8192 bytes")

    def test_big_headers_431_ours(self):
        self.ours(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 13000 + b"\r\n\r\n",
                  431, "12288 bytes")
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(130))
        self.ours(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", 431, "12288 bytes")

    def test_within_the_limits_answered(self):
        st, h, _, _ = raw(self.srv.port, b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\n"
                                         b"Connection: close\r\n\r\n")
        self.assertEqual(st, 404)
        st, _, _, _ = raw(self.srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                          b"b" * 11000 + b"\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 200)


if __name__ == "__main__":
    harness.main()
