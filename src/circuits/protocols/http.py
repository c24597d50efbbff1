"""``HTTP``: turn the bytes of a client connection into ``response`` events.

Sits on the channel of a ``TCPClient`` (default ``"web"``): its ``read``
events go into the strict sans-I/O response parser
(``circuits._sansio.http_client``), and each complete response is fired as
``response(ResponseObject)``. Unlike 3.2.5, pipelined responses are delivered
one by one, a close-delimited body is delivered on ``disconnected``, and an
unknown status code gets an empty reason instead of raising.
"""

from __future__ import annotations

import logging
from email.message import Message
from http import HTTPStatus
from io import BytesIO
from typing import Any

from .._sansio import http_client as engine
from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..net.events import close

__all__ = ["HTTP", "BaseComponent", "Event", "ResponseObject", "handler", "request", "response"]

log = logging.getLogger("circuits.protocols")


class request(Event):
    """Defined for compatibility; this module does not use it."""


class response(Event):
    """A complete response: ``response(ResponseObject)``."""


class ResponseObject:
    """A received response.

    Args:
        headers: the header mapping (case-insensitive ``get``/``[]``).
        status: the status code.
        version: the HTTP version, e.g. ``(1, 1)``.
    """

    def __init__(self, headers: Any, status: int, version: tuple[int, int]) -> None:
        self.headers = headers
        self.status = status
        self.version = version
        self.body = BytesIO()
        try:
            self.reason = HTTPStatus(status).phrase
        except ValueError:
            self.reason = ""  # 3.2.5 raised KeyError here

    def __repr__(self) -> str:
        content_type = self.headers.get("Content-Type")
        size = len(self.body.getvalue())
        return f"<Response {self.status} {self.reason} {content_type} ({size})>"

    def read(self) -> bytes:
        """The rest of the body."""
        return self.body.read()


class HTTP(BaseComponent):
    """Parse HTTP/1.1 responses arriving as ``read`` events on its channel.

    Args:
        encoding: stored for compatibility (bodies stay bytes).
        channel: the channel of the client connection (default ``"web"``).
    """

    channel = "web"

    def __init__(self, encoding: str = "utf-8", channel: Any = "web") -> None:
        super().__init__(channel=channel)
        self._encoding = encoding
        self._parser = engine.ResponseParser()
        self._current: ResponseObject | None = None

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self._feed(data)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self._feed(b"")  # ends a close-delimited body
        self._parser = engine.ResponseParser()
        self._current = None

    def _feed(self, data: bytes) -> None:
        parser = self._parser
        try:
            parser.receive_data(data)
            while (event := parser.next_event()) is not None:
                self._handle(event)
        except engine.RemoteProtocolError as exc:
            log.warning("HTTP response on %r is malformed, closing: %s", self.channel, exc)
            self._parser = engine.ResponseParser()
            self._current = None
            if data:
                self.fire(close())

    def _handle(self, event: engine.Event) -> None:
        if isinstance(event, engine.Response):
            headers = Message()
            for name, value in event.headers:
                headers[_title(name)] = value.decode("latin-1")
            self._current = ResponseObject(headers, event.status, event.http_version)
        elif isinstance(event, engine.Data):
            if self._current is not None:
                self._current.body.write(event.data)
        elif self._current is not None:
            res, self._current = self._current, None
            if res.status == 101:
                res.body.write(self._parser.trailing_data)
            res.body.seek(0)
            self.fire(response(res))


def _title(name: bytes) -> str:
    return "-".join(part.capitalize() for part in name.decode("ascii").split("-"))
