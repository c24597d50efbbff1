"""``WebSocketsDispatcher``: accept WebSocket upgrades on one path of a web server.

Sits on the web channel beside the other dispatchers (web.md §19.1). A
``request`` for its path is checked against RFC 6455 §4.2.1 and answered with
``101 Switching Protocols``; a `WebSocketCodec` child then turns that socket's
bytes into ``read(sock, message)`` events on the websocket channel and
``write(sock, message)`` events back into frames.

The handover, in order (the ordering guarantee applications rely on):

1. ``request`` (this component): checks, prepares the 101, registers the
   codec, and from now on *holds* every ``read`` for the socket: a client
   may not send frames before it has seen the 101 (RFC 6455 §4.1), and the
   ones it sends anyway must not overtake the bytes HTTP still holds.
2. ``response``: HTTP sends the 101 head, stops parsing HTTP on the socket
   and fires ``read(sock, data)`` marked ``handover`` with the bytes it had
   buffered after the request.
3. That read: this component fires ``connect(sock, host, port)`` on the
   websocket channel, puts the held bytes after ``data`` and lets the read go
   on to the codec. So ``connect`` comes before the first message, and the
   codec sees the bytes in the order they arrived.

Unlike 3.2.5: ``path`` must match exactly (``/ws`` does not take ``/wsfoo``
or ``/ws/x``); a ``Sec-WebSocket-Key`` that is not base64, a method other
than GET and HTTP/1.0 get ``400`` (3.2.5: ``500``, or a 101 that HTTP/1.0
cannot carry); messages over ``max_message_bytes`` close with 1009, the
codec is RFC 6455 strict (see ``circuits.protocols.websocket``), and a
``close(sock)`` the client leaves unanswered closes the TCP connection after
``close_timeout`` seconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from typing import Any

from ..._sansio.websocket import MAX_MESSAGE_BYTES
from ...core.components import BaseComponent as BaseComponent
from ...core.handlers import handler as handler
from ...net.events import connect as connect, disconnect as disconnect
from ...protocols.websocket import (
    CLOSE_TIMEOUT_S,
    WebSocketCodec as WebSocketCodec,
    _check_close_timeout,
)
from ..errors import httperror as httperror
from ..headers import HeaderElement

__all__ = [
    "BaseComponent",
    "WebSocketCodec",
    "WebSocketsDispatcher",
    "connect",
    "disconnect",
    "handler",
    "httperror",
]

log = logging.getLogger(__name__)

# RFC 6455 §1.3: the server appends this GUID to the client's key, hashes with
# SHA-1 and returns the base64 digest as Sec-WebSocket-Accept.
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# RFC 6455 §4.2.1 item 4: the key is "a base64-encoded value that, when decoded,
# is 16 bytes in length".
KEY_BYTES = 16


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value answering ``key`` (RFC 6455 §4.2.2)."""
    digest = hashlib.sha1((key + WS_GUID).encode("ascii")).digest()  # RFC 6455 mandates SHA-1
    return base64.b64encode(digest).decode("ascii")


class WebSocketsDispatcher(BaseComponent):
    """Upgrade requests for ``path`` to WebSocket connections on ``wschannel``.

    Applications handle ``connect(sock, host, port)``, ``read(sock, data)``
    (``str`` for text, ``bytearray`` for binary messages) and
    ``disconnect(sock)`` on ``wschannel``; they send with ``write(sock,
    data)`` and close with ``close(sock)`` there. Each of those events (but
    ``write``/``close``) carries the upgrade request as ``event.request``.

    Args:
        path: the request path to serve, matched exactly; ``None`` takes
            every request reaching it (3.2.5), upgrade or not.
        wschannel: the channel of the websocket events.
        max_message_bytes: the largest message accepted; a larger one closes
            the connection with 1009.
        close_timeout: seconds our Close (``close(sock)``) waits for the
            client's before the TCP connection is closed anyway; ``None``
            waits forever (3.2.5).
        *args: passed on to ``BaseComponent``.
        **kwargs: passed on to ``BaseComponent`` (``channel``, default ``"web"``).

    Raises:
        ValueError: ``close_timeout`` is negative.
    """

    channel = "web"

    def __init__(
        self,
        path: str | None = None,
        wschannel: Any = "wsserver",
        *args: Any,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        close_timeout: float | None = CLOSE_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._path = path
        self._wschannel = wschannel
        self._max_message_bytes = max_message_bytes
        self._close_timeout = _check_close_timeout(close_timeout)
        self._requests: dict[Any, Any] = {}  # sock -> the upgrade Request, once switched
        self._codecs: dict[Any, WebSocketCodec] = {}
        self._held: dict[Any, list[bytes]] = {}  # sock -> reads set aside until the handover
        self._upgrading: dict[Any, Any] = {}  # sock -> the Request, 101 not sent yet

        @handler("read", channel=wschannel, priority=100)
        def _on_ws_read(self: WebSocketsDispatcher, event: Any, sock: Any, *args: Any) -> None:
            event.request = self._requests.get(sock)

        self.addHandler(_on_ws_read)

    def select_subprotocol(self, subprotocols: list[HeaderElement]) -> HeaderElement:
        """Choose among the subprotocols the client offered (never empty).

        Returns the first of the reverse-sorted list, as 3.2.5; override to choose.
        """
        return subprotocols[0]

    @handler("request", priority=0.2)
    def _on_request(self, event: Any, req: Any, res: Any, *args: Any) -> Any:
        if self._path is not None and req.path != self._path:
            return None
        event.stop()
        headers = req.headers
        connection = [t.strip().lower() for t in str(headers.get("Connection", "")).split(",")]
        problem = None
        if req.method != "GET":
            problem = "a WebSocket handshake is a GET request"  # RFC 6455 §4.1 item 2
        elif tuple(req.protocol) < (1, 1):
            problem = "a WebSocket handshake needs HTTP/1.1"
        elif "Host" not in headers:
            problem = "no Host header"
        elif str(headers.get("Upgrade", "")).lower() != "websocket":
            problem = "Upgrade is not websocket"
        elif "upgrade" not in connection:
            problem = "Connection does not list upgrade"
        elif not _valid_key(str(headers.get("Sec-WebSocket-Key", ""))):
            problem = "Sec-WebSocket-Key is not 16 bytes in base64"
        if problem is not None:
            log.info("%r: WebSocket handshake refused: %s", req, problem)
            return httperror(req, res, 400, description=problem)
        if str(headers.get("Sec-WebSocket-Version", "")).strip() != "13":
            # RFC 6455 §4.4: name the versions we speak.
            res.headers["Sec-WebSocket-Version"] = "13"
            return httperror(req, res, 400, description="Sec-WebSocket-Version must be 13")

        res.status = 101
        res.close = False
        res.headers.pop("Content-Type", None)
        res.headers["Upgrade"] = "WebSocket"
        res.headers["Connection"] = "Upgrade"
        key = str(headers["Sec-WebSocket-Key"]).strip()
        res.headers["Sec-WebSocket-Accept"] = accept_key(key)
        offered = headers.elements("Sec-WebSocket-Protocol")
        if offered:
            res.headers["Sec-WebSocket-Protocol"] = str(self.select_subprotocol(offered))

        sock = req.sock
        self._upgrading[sock] = req
        self._held[sock] = []
        codec = WebSocketCodec(
            sock,
            channel=self._wschannel,
            max_message_bytes=self._max_message_bytes,
            close_timeout=self._close_timeout,
        )
        self._codecs[sock] = codec
        codec.register(self)
        return res

    @handler("read", priority=11)  # before the codec (10) and HTTP (0)
    def _on_raw_read(self, event: Any, sock: Any, *args: Any) -> None:
        if sock not in self._held or not take_handover(self._held, event, sock):
            return  # (every read of the server passes here: one lookup for the rest)
        req = self._requests[sock] = self._upgrading.pop(sock)
        try:
            peer = sock.getpeername()
        except OSError:  # gone already: its disconnect follows
            peer = ()
        ev = connect(sock, *peer) if isinstance(peer, tuple) else connect(sock)
        ev.request = req  # type: ignore[attr-defined]
        self.fire(ev, self._wschannel)
        # the read goes on to the codec

    @handler("disconnect")
    def _on_disconnect(self, sock: Any = None, *args: Any) -> None:
        self._held.pop(sock, None)
        self._upgrading.pop(sock, None)
        self._codecs.pop(sock, None)  # the codec unregisters itself
        req = self._requests.pop(sock, None)
        if req is not None:
            ev = disconnect(sock)
            ev.request = req  # type: ignore[attr-defined]
            self.fire(ev, self._wschannel)


def take_handover(held_reads: dict[Any, list[bytes]], event: Any, sock: Any) -> bool:
    """Whether this ``read`` on ``sock`` is the handover of a connection upgraded here.

    Between the upgrade request and the 101 going out, ``held_reads[sock]``
    keeps what the client sent (it is not HTTP any more): such a read is
    stopped and kept. The handover read (``event.handover``, fired by `HTTP`
    with what came after the request) gets the kept bytes appended and goes
    on. A socket not in ``held_reads`` is not ours: ``False``.
    """
    held = held_reads.get(sock)
    if held is None:
        return False
    if not getattr(event, "handover", False):
        event.stop()
        held.append(event.args[-1])
        return False
    del held_reads[sock]
    if held:
        event.args[-1] = event.args[-1] + b"".join(held)
    return True


def _valid_key(key: str) -> bool:
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == KEY_BYTES
