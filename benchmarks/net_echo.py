#!/usr/bin/env python3
"""TCP echo over loopback: circuits ``TCPServer`` against ``asyncio.start_server``.

    python benchmarks/net_echo.py [--mb 64] [--conns 2000] [--rounds 3]

Each server runs on its own loop thread in this process; the *same* client
runs in a child process (so it does not share the GIL with the server):

* throughput - 4 connections each send ``--mb / 4`` MiB in 64 KiB chunks
  and read the echo back concurrently; MB/s of echoed data;
* accept rate - ``--conns`` connections opened one after another, each
  sending one byte and waiting for its echo before closing; connections/s.

circuits is measured with the default ``bufsize`` (4096, 3.2.5's value:
one ``read`` event per 4 KiB) and with ``bufsize=65536`` (asyncio reads up
to 256 KiB per callback). Best of ``--rounds`` interleaved rounds; ratios
to asyncio are printed at the end (issue #6 target: >= 0.7 throughput).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from circuits import Component, Manager
from circuits.net.sockets import TCPServer

CHUNK = 64 * 1024
CLIENT_CONNS = 4


# -- the client (child process) ----------------------------------------------


def _pump(port: int, total: int) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    chunk = b"x" * CHUNK

    def send() -> None:
        left = total
        while left > 0:
            n = min(left, CHUNK)
            s.sendall(chunk[:n])
            left -= n

    t = threading.Thread(target=send)
    t.start()
    got = 0
    while got < total:
        data = s.recv(1 << 20)
        if not data:
            raise RuntimeError(f"connection closed after {got} of {total} bytes")
        got += len(data)
    t.join()
    s.close()


def client_throughput(port: int, total: int) -> float:
    per = total // CLIENT_CONNS
    threads = [threading.Thread(target=_pump, args=(port, per)) for _ in range(CLIENT_CONNS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * CLIENT_CONNS / (time.perf_counter() - t0) / 1e6


def client_accepts(port: int, conns: int) -> float:
    t0 = time.perf_counter()
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"!")
        if s.recv(1) != b"!":
            raise RuntimeError("no echo")
        s.close()
    return conns / (time.perf_counter() - t0)


def _child(conn: object, port: int, total: int, conns: int) -> None:
    conn.send((client_throughput(port, total), client_accepts(port, conns)))  # type: ignore[attr-defined]


def measure(port: int, total: int, conns: int) -> tuple[float, float]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child, args=(child, port, total, conns))
    p.start()
    result = parent.recv()
    p.join()
    return result


# -- the servers ----------------------------------------------------------------


class Echo(Component):
    channel = "server"

    def read(self, sock: object, data: bytes) -> bytes:
        return data


@contextmanager
def circuits_server(bufsize: int) -> Iterator[int]:
    m = Manager()
    server = TCPServer(("127.0.0.1", 0), bufsize=bufsize).register(m)
    Echo().register(m)
    m.start()
    try:
        yield server.port
    finally:
        m.stop()
        m.join()


@contextmanager
def asyncio_server() -> Iterator[int]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["stop"] = stop = asyncio.Event()
        ready.set()
        await stop.wait()
        server.close()
        await server.wait_closed()

    t = threading.Thread(target=loop.run_until_complete, args=(main(),))
    t.start()
    ready.wait()
    try:
        yield int(holder["port"])  # type: ignore[call-overload]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)  # type: ignore[attr-defined]
        t.join()
        loop.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=64, help="MiB echoed per throughput run")
    ap.add_argument("--conns", type=int, default=2000, help="connections per accept run")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    total = args.mb * 1024 * 1024
    servers: dict[str, Callable[[], object]] = {
        "asyncio": asyncio_server,
        "circuits bufsize=4096": lambda: circuits_server(4096),
        "circuits bufsize=65536": lambda: circuits_server(65536),
    }
    best: dict[str, list[float]] = {name: [0.0, 0.0] for name in servers}
    for _ in range(args.rounds):
        for name, make in servers.items():
            with make() as port:  # type: ignore[attr-defined]
                mbps, cps = measure(port, total, args.conns)
            best[name][0] = max(best[name][0], mbps)
            best[name][1] = max(best[name][1], cps)
    ref_mbps, ref_cps = best["asyncio"]
    print(f"{'server':<24} {'echo MB/s':>10} {'ratio':>6} {'conn/s':>9} {'ratio':>6}")
    for name, (mbps, cps) in best.items():
        print(f"{name:<24} {mbps:>10.1f} {mbps / ref_mbps:>6.2f} {cps:>9.0f} {cps / ref_cps:>6.2f}")


if __name__ == "__main__":
    main()
