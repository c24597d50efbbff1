#!/usr/bin/env python3
"""Open N keep-alive connections to a server, send one GET on each and read its
response, hold them idle, and report the server's RSS (summed over PID and its
descendants, from /proc) before and while holding them.

usage: idle_conns.py PORT PID [N=1000] [HOLD_SECONDS=2]
prints one JSON object: rss_before_kib, rss_held_kib, per_conn_kib, opened,
answered (got a complete 200 response), still_open (not closed by the server
after the hold).

Copied from shared/bench/idle_conns.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import time


def tree(pid):
    pids = [pid]
    for p in pids:
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return pids


def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    hold = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
    before = rss_kib(pid)
    req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    socks, answered = [], 0
    deadline = time.monotonic() + 60
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(req)
            data = b""
            while b"Hello, World!" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/1.1 200") and b"Hello, World!" in data:
                answered += 1
        except OSError:
            pass
        socks.append(s)
    time.sleep(hold)
    held = rss_kib(pid)
    # a socket the server has closed is readable with EOF
    still_open = 0
    for s in socks:
        try:
            r, _, _ = select.select([s], [], [], 0)
            if not r:
                still_open += 1
            else:
                s.setblocking(False)
                if s.recv(1, socket.MSG_PEEK):
                    still_open += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    print(
        json.dumps(
            {
                "rss_before_kib": before,
                "rss_held_kib": held,
                "per_conn_kib": round((held - before) / max(1, still_open), 2),
                "opened": len(socks),
                "answered": answered,
                "still_open": still_open,
            }
        )
    )


if __name__ == "__main__":
    main()
