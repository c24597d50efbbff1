"""``StdinServer``: one HTTP conversation over the process's stdin and stdout (web.md §3.4).

Re-exported by `circuits.web.servers`. The "socket" is `circuits.io.stdin`
(with `circuits.io.stdout` as its child), the whole conversation has one
`FakeSock` as its peer, and `HTTP` and the URL ``Dispatcher`` are children as
in `Server`: an inetd-style service, or a way to try an application with
``printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | python app.py``.

The glue, both ways: ``read(data)`` on ``"stdin"`` becomes ``read(sock, data)``
on the server's channel; HTTP's ``write(sock, data)`` becomes ``write(data)``
on ``"stdout"``. When HTTP closes the "connection" (``Connection: close``, an
HTTP/1.0 request, a malformed one, or the keep-alive timeout), stdout is
closed once its queued output is written and later input is ignored: one
conversation per process. The end of stdin alone does not end it, so
``printf ... | python app.py`` still gets its answer.
"""

from __future__ import annotations

import logging
from typing import Any

from circuits.core.components import BaseComponent
from circuits.core.handlers import handler
from circuits.io import events as io_events

from ._mount import Unlistening
from .http import HTTP

__all__ = ["StdinServer"]

log = logging.getLogger(__name__)


class StdinServer(Unlistening, BaseComponent):
    """Serve HTTP over stdin and stdout.

    Args:
        encoding: the response and path encoding.
        channel: the channel shared by `HTTP`, the ``Dispatcher`` and handlers.

    Raises:
        RuntimeError: the process has no usable stdin or stdout (``circuits.io``
            could not wrap them).
    """

    channel = "web"

    def __init__(self, encoding: str = "utf-8", channel: Any = channel) -> None:
        super().__init__(channel=channel)
        # Imported here: servers.py re-exports this class, and these modules
        # import the web package's siblings.
        from circuits import io

        from .dispatchers import Dispatcher
        from .servers import FakeSock

        stdin, stdout = io.stdin, io.stdout
        if stdin is None or stdout is None:
            raise RuntimeError(
                f"StdinServer needs the process's stdin and stdout, got {stdin!r} and {stdout!r}"
            )
        self.display_banner = True
        self.debug = False
        self._sock = FakeSock()  # one peer for the whole conversation
        self._done = False
        self._stdout = stdout
        stdout.register(stdin)  # 3.2.5: ``(stdin + stdout).register(self)``
        self.server = stdin.register(self)
        self.http = HTTP(self, encoding=encoding, channel=channel).register(self)
        Dispatcher(channel=channel).register(self)

    @property
    def host(self) -> Any:
        """The name of stdin (``'<stdin>'``)."""
        filename = self.server.filename  # the file object until stdin is opened
        return getattr(filename, "name", filename)

    @handler("read", channel="stdin")
    def _on_stdin_read(self, data: bytes) -> None:
        if self._done:
            log.debug("stdin: %d bytes after the conversation ended, ignored", len(data))
            return
        self.fire(io_events.read(self._sock, data), self.channel)

    @handler("write")
    def _on_write(self, sock: Any, data: bytes) -> None:
        self.fire(io_events.write(data), self._stdout.channel)

    @handler("close")
    def _on_close(self, sock: Any = None) -> None:
        # HTTP ends the conversation: flush and close stdout (the descriptor
        # itself stays open; circuits.io never closes the standard streams).
        if sock is self._sock and not self._done:
            self._done = True
            self.fire(io_events.close(), self._stdout.channel)
