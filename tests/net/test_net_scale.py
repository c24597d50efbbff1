"""Scale: 10,000 concurrent idle TCP connections on the default poller."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from circuits import Component
from circuits.core.pollers import Poller
from circuits.net.sockets import TCPServer

CONNECTIONS = 10_000
# The client ends live in a child process, so each process needs one
# descriptor per connection (plus a margin for the interpreter and pytest).
FDS_NEEDED = CONNECTIONS + 500
# Connects in flight before waiting for the server to accept them: below the
# kernel's accept-queue limit (somaxconn, 4096 on Linux since 5.4), so that
# no SYN is dropped and retried a second later.
BATCH = 1000

# The child: open BATCH connections, report, wait for "go", repeat; then
# check a few echo, report, and wait for "close" (or EOF) to exit.
CLIENT = """
import resource, socket, sys
port, total, batch, nofile = map(int, sys.argv[1:])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, nofile), hard))
peers = []
for first in range(0, total, batch):
    for _ in range(batch):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        peers.append(s)
    print(len(peers), flush=True)
    sys.stdin.readline()
for s in peers[:: total // 10]:
    s.setblocking(True)
    s.settimeout(5)
    s.sendall(b"ping")
    assert s.recv(4) == b"ping"
print("echoed", flush=True)
sys.stdin.readline()
for s in peers:
    s.close()
"""

resource = pytest.importorskip("resource", reason="needs the POSIX resource module")


class Echo(Component):
    channel = "server"

    def read(self, sock, data):
        return data


@pytest.fixture
def many_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= FDS_NEEDED:
        yield
        return
    want = FDS_NEEDED if hard == resource.RLIM_INFINITY else min(FDS_NEEDED, hard)
    if want < FDS_NEEDED:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {FDS_NEEDED} descriptors needed")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError) as exc:
        pytest.skip(f"the OS refused to raise RLIMIT_NOFILE to {want}: {exc}")
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_ten_thousand_idle_connections(app, many_fds):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)
    Echo().register(m)
    start()
    rec.wait_for("ready", "server")
    assert isinstance(server._poller, Poller)
    t0 = time.monotonic()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLIENT,
            str(server.port),
            str(CONNECTIONS),
            str(BATCH),
            str(FDS_NEEDED),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(0, CONNECTIONS, BATCH):
            n = int(child.stdout.readline())
            rec.wait_until(lambda n=n: len(server._clients) >= n, 10, f"{n} accepted")
            child.stdin.write("go\n")
            child.stdin.flush()
        connected_s = time.monotonic() - t0
        assert len(server._clients) == CONNECTIONS
        # Every one is alive: a few, spread over the set, still get answers.
        assert child.stdout.readline().strip() == "echoed"
        child.stdin.write("close\n")
        child.stdin.flush()
        assert child.wait(20) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stdout.close()
    rec.wait_for("disconnect", "server", count=CONNECTIONS, timeout=20)
    assert not server._clients
    print(f"{CONNECTIONS} connections accepted in {connected_s:.2f} s")
