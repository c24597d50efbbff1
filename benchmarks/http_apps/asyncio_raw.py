"""The practical ceiling for a Python server: an asyncio Protocol that answers
every request it sees with a fixed response (no parsing beyond counting
request ends), keep-alive unless the request says Connection: close.
usage: python asyncio_raw.py PORT [uvloop]

Copied from shared/bench/apps/asyncio_raw.py (ours to reuse), made ruff-clean for this repo.
"""

from __future__ import annotations

import asyncio
import sys

RESP = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"


class Proto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""

    def data_received(self, data):
        buf = self.buf + data
        n = buf.count(b"\r\n\r\n")
        if n:
            close = b"onnection: close" in buf or b"onnection: Close" in buf
            self.t.write(RESP * n)
            buf = buf[buf.rfind(b"\r\n\r\n") + 4 :]
            if close:
                self.t.close()
        self.buf = buf


async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(Proto, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    await srv.serve_forever()


if len(sys.argv) > 2 and sys.argv[2] == "uvloop":
    import uvloop

    uvloop.install()
asyncio.run(main())
