"""A tiny HTTP "Hello World" server built on the circuits core alone.

It polls its listening socket from a ``generate_events`` handler, the hook
the core gives event producers (the real circuits.web server supersedes it).

    python examples/hello_server.py [port]    # then open http://127.0.0.1:8000/
"""

from __future__ import annotations

import selectors
import socket
import sys

from circuits import Component, Event, handler


class request(Event):
    """A client sent a request (``request(conn, data)``)."""


class Server(Component):
    channel = "web"

    def init(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.selector = selectors.DefaultSelector()
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.sock.setblocking(False)
        self.selector.register(self.sock, selectors.EVENT_READ)
        # A wake-up pipe: resume() makes a blocking select() return at once
        # (the loop calls it when another thread fires an event, or on Ctrl-C).
        self.wakeup, self.waker = socket.socketpair()
        self.wakeup.setblocking(False)
        self.selector.register(self.wakeup, selectors.EVENT_READ)
        print(f"Serving on http://{host}:{self.sock.getsockname()[1]}/", flush=True)

    @handler("generate_events", channel="*", priority=-9)
    def _poll(self, event) -> None:
        # This handler does the loop's idle wait, as a poller does: block at
        # most as long as the loop may idle (never when work is queued), then
        # stop the event so that the fallback does not wait as well.
        event.stop()
        timeout = event.time_left if event.time_left >= 0 else None
        for key, _ in self.selector.select(timeout):
            if key.fileobj is self.wakeup:
                self.wakeup.recv(4096)
            elif key.fileobj is self.sock:
                conn, _ = self.sock.accept()
                conn.setblocking(False)
                self.selector.register(conn, selectors.EVENT_READ)
            else:
                conn = key.fileobj
                data = conn.recv(65536)
                if data:
                    self.fire(request(conn, data))
                else:
                    self.selector.unregister(conn)
                    conn.close()

    def resume(self) -> None:
        self.waker.send(b"x")

    def request(self, conn: socket.socket, data: bytes) -> None:
        body = b"Hello World!\n"
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % len(body)
        try:
            conn.sendall(head + b"Connection: close\r\n\r\n" + body)
        finally:
            self.selector.unregister(conn)
            conn.close()


if __name__ == "__main__":
    Server(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000).run()
