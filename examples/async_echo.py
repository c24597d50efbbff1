"""A TCP echo server: asyncio streams inside a circuits application.

``circuits.run_async()`` runs the application on an asyncio loop, so its
``async def`` handlers may await any asyncio library. Here ``started`` opens
an asyncio server; every line a client sends becomes a circuits ``line``
event, and the connection awaits that event's result and writes it back.

    python examples/async_echo.py [port]    # default 0: any free port
    nc 127.0.0.1 <port>                     # type lines; Ctrl-C stops the server
"""

from __future__ import annotations

import asyncio
import sys

import circuits
from circuits import Component, Event


class line(Event):
    """A client sent a line of text (``line(text)``)."""


class EchoServer(Component):
    def init(self, port: int = 0) -> None:
        self.port = port
        self.server: asyncio.Server | None = None

    async def started(self, manager: Component) -> None:
        # An async handler: under run_async() it is an asyncio task.
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        port = self.server.sockets[0].getsockname()[1]
        print(f"Echoing on 127.0.0.1:{port}", flush=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio's connection callback, not a handler (the name starts with
        # "_"): it talks to the application through events.
        try:
            while data := await reader.readline():
                reply = await self.fire(line(data.decode()))  # the handler's result
                writer.write(reply.encode())
                await writer.drain()
        finally:
            writer.close()

    def line(self, text: str) -> str:
        return text  # a plain handler; its result is what "await fire()" returns

    def stopped(self, manager: Component) -> None:
        if self.server is not None:
            self.server.close()


if __name__ == "__main__":
    circuits.run_async(EchoServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0))
