#!/usr/bin/python3
"""CPU of one request for a 10,000-lead list (issue 13: scoring it ≤ 50 ms): the server's own
CPU time (user + system, all its threads, from /proc/PID/stat) spent on each of ROUNDS
requests of `/api/v1/leads?days=180&limit=10000&order=score` (and of the CSV), one at a time,
the server otherwise idle, on a fresh demo store (`sharecard init` + `sharecard demo`: 180
days, over 10,000 leads), the admin's token.  CPU time, unlike wall time, is not inflated by
the other programs on a shared machine.  Prints per binary, run in the order given, the median
of the requests and their mean (the CPU of all of them over their number: the kernel counts
CPU in 10 ms ticks, so the mean of many is the finer figure).

    bench/leads_cpu.py ROUNDS BINARY [BINARY ...]
"""
import http.client
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import leads_http  # noqa: E402

URLS = ["/api/v1/leads?days=180&limit=10000&order=score",
        "/api/v1/leads?days=180&limit=10000&order=score&format=csv"]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def run(binary, rounds):
    with leads_http.demo_server(binary, settle_s=6) as (srv, port, token):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        out = {}
        for url in URLS:
            cpu, wall, rows, size = [], [], 0, 0
            total0 = None
            for i in range(rounds + 1):
                if i == 1:
                    total0 = cpu_s(srv.pid)
                c0, t0 = cpu_s(srv.pid), time.monotonic()
                c.request("GET", url, headers={"Authorization": f"Bearer {token}"})
                r = c.getresponse()
                body = r.read()
                wall.append((time.monotonic() - t0) * 1000)
                time.sleep(0.2)  # the kernel's accounting of the last tick settles
                cpu.append((cpu_s(srv.pid) - c0) * 1000)
                assert r.status == 200, (url, r.status)
                size = len(body)
                rows = body.count(b'"score":') if "format=csv" not in url \
                    else body.count(b"\n") - 1
            mean = (cpu_s(srv.pid) - total0) * 1000 / rounds
            out[url] = (statistics.median(cpu[1:]), mean, statistics.median(wall[1:]), rows, size)
        return out


def main():
    rounds = int(sys.argv[1])
    for b in sys.argv[2:]:
        res = run(b, rounds)
        print(f"{b}: median of {rounds} requests (the first, warming up, not counted)")
        print("| request | server CPU ms, median | mean | wall ms | rows | bytes |")
        print("|---|---:|---:|---:|---:|---:|")
        for url, (cpu, mean, wall, rows, size) in res.items():
            print(f"| `{url}` | {cpu:.0f} | {mean:.1f} | {wall:.0f} | {rows:,} | {size:,} |")


if __name__ == "__main__":
    main()
