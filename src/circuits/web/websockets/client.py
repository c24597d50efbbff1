"""``WebSocketClient``: open a WebSocket connection and exchange messages as events.

The client owns a ``TCPClient`` (``_transport``) with the client HTTP protocol
below it, all on the client's channel (web.md §19.2). Once connected it sends
the opening handshake (RFC 6455 §4.1); a valid ``101`` answer brings in a
`WebSocketCodec` child, which fires ``read(data)`` on the websocket channel for
each message and sends ``write(data)`` from there as a frame.

Unlike 3.2.5, a 101 whose ``Sec-WebSocket-Accept``, ``Upgrade`` or
``Connection`` does not answer our request fails like any other refusal
(RFC 6455 §4.1: the client "MUST _Fail the WebSocket Connection_"), the
codec is RFC 6455 strict (see ``circuits.protocols.websocket``), and a
``close()`` the server leaves unanswered closes the TCP connection after
``close_timeout`` seconds.
"""

from __future__ import annotations

import base64
import errno
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from ..._sansio.websocket import MAX_MESSAGE_BYTES
from ...core.components import BaseComponent as BaseComponent
from ...core.handlers import handler as handler
from ...net.events import close as close, connect as connect, write as write
from ...net.sockets import TCPClient as TCPClient
from ...protocols.http import HTTP as HTTP, ResponseObject
from ...protocols.websocket import (
    CLOSE_TIMEOUT_S,
    WebSocketCodec as WebSocketCodec,
    _check_close_timeout,
)
from ..client import NotConnected as NotConnected
from ..headers import Headers as Headers
from .dispatcher import accept_key

__all__ = [
    "HTTP",
    "BaseComponent",
    "Headers",
    "NotConnected",
    "TCPClient",
    "WebSocketClient",
    "WebSocketCodec",
    "close",
    "connect",
    "handler",
    "write",
]

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"ws": 80, "wss": 443}


class WebSocketClient(BaseComponent):
    """A WebSocket client: ``read(data)``/``write(data)``/``close()`` on ``wschannel``.

    Args:
        url: ``ws://host[:port]/path[?query]`` or ``wss://...`` (TLS).
        channel: the channel of the client, its transport and its HTTP protocol.
        wschannel: the channel of the websocket events.
        headers: extra header fields for the opening handshake.
        max_message_bytes: the largest message accepted; a larger one closes
            the connection with 1009.
        close_timeout: seconds our Close (``close()`` on ``wschannel``) waits
            for the server's before the client closes the TCP connection
            itself; ``None`` waits forever (3.2.5).

    Raises:
        ValueError: ``close_timeout`` is negative.
    """

    channel = "wsclient"

    def __init__(
        self,
        url: str,
        channel: Any = "wsclient",
        wschannel: Any = "ws",
        headers: Any = None,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        close_timeout: float | None = CLOSE_TIMEOUT_S,
    ) -> None:
        super().__init__(channel=channel)
        self._url = url
        self._headers = headers
        self._wschannel = wschannel
        self._max_message_bytes = max_message_bytes
        self._close_timeout = _check_close_timeout(close_timeout)
        self._response: ResponseObject | None = None
        # Handshakes sent and not answered (3.2.5's ``_pending``, a Manager name here).
        self._handshakes = 0
        self._codec: WebSocketCodec | None = None
        self._key = ""
        self._resource = "/"
        self._transport = TCPClient(channel=channel).register(self)
        self._http = HTTP(channel=channel).register(self._transport)

    @property
    def connected(self) -> bool:
        """Whether the transport is connected."""
        return bool(getattr(self._transport, "connected", False))

    def close(self) -> None:
        """Close the connection (without a close handshake; fire ``close()`` on
        the websocket channel for an orderly one)."""
        if self.connected:
            self.fire(close(), self._transport)

    @handler("ready")
    def _on_ready(self, component: Any, *args: Any) -> None:
        if component is not self._transport:
            return
        host, port, resource, secure = _parse_ws_url(self._url)
        self._resource = resource
        self.fire(connect(host, port, secure), self._transport)

    @handler("connected", priority=-1)  # after HTTP's reset for the new connection
    def _on_connected(self, host: Any, port: Any) -> None:
        hostname, port, _, _ = _parse_ws_url(self._url)
        self._key = base64.b64encode(os.urandom(16)).decode("ascii")
        fields = Headers(self._headers or {})  # ValueError on CR, LF or NUL
        if "Host" not in fields:
            name = f"[{hostname}]" if ":" in hostname else hostname
            fields["Host"] = f"{name}:{port}"  # 3.2.5 always names the port
        fields["Upgrade"] = "websocket"
        fields["Connection"] = "Upgrade"
        fields["Sec-WebSocket-Key"] = self._key
        fields["Sec-WebSocket-Version"] = "13"
        data = self._http.send_request("GET", self._resource, list(fields.items()))
        self._handshakes += 1
        self.fire(write(data), self._transport)

    @handler("response")
    def _on_response(self, response: ResponseObject) -> None:
        self._response = response
        self._handshakes = max(0, self._handshakes - 1)
        problem = _refusal(response, self._key)
        if problem is not None:
            self.close()
            raise NotConnected(f"WebSocket handshake with {self._url} failed: {problem}")
        codec = WebSocketCodec(
            data=response.body.read(),
            channel=self._wschannel,
            max_message_bytes=self._max_message_bytes,
            close_timeout=self._close_timeout,
        )
        self._codec = codec.register(self)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        codec, self._codec = self._codec, None
        if codec is not None:
            codec.unregister()

    @handler("error", priority=1)
    def _on_error(self, event: Any, error: Any, *args: Any) -> None:
        # A kept-alive connection the server resets while nothing is asked is no error.
        if isinstance(error, OSError) and error.errno == errno.ECONNRESET and self._handshakes == 0:
            event.stop()


def _parse_ws_url(url: str) -> tuple[str, int, str, bool]:
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"URL must be absolute, not {url!r}")
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NotConnected(f"invalid URL scheme {parts.scheme!r}: expected ws or wss")
    resource = parts.path or "/"
    if parts.query:
        resource += "?" + parts.query
    resource = "".join(c for c in resource if " " < c <= "~")  # printable ASCII only
    return parts.hostname, parts.port or DEFAULT_PORTS[scheme], resource, scheme == "wss"


def _refusal(response: ResponseObject, key: str) -> str | None:
    """Why ``response`` does not accept our handshake (RFC 6455 §4.1), or ``None``."""
    if response.status != 101:
        return f"status {response.status} instead of 101"
    headers = response.headers
    connection = [t.strip().lower() for t in str(headers.get("Connection", "")).split(",")]
    if "close" in connection or "upgrade" not in connection:
        return f"Connection: {headers.get('Connection')!r}"
    if str(headers.get("Upgrade", "")).lower() != "websocket":
        return f"Upgrade: {headers.get('Upgrade')!r}"
    if str(headers.get("Sec-WebSocket-Accept", "")).strip() != accept_key(key):
        return "Sec-WebSocket-Accept does not answer our key"
    return None
