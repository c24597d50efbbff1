"""``StompClient``: a STOMP 1.2 client component, written natively.

3.2.5 wrapped the third-party stompest library and blocked the loop for up to
a second per tick while waiting for frames; this client needs no third-party
library and reads through the poller: a ``TCPClient`` (TLS with
``use_ssl=True``) under a ``StompTransport`` (see ``transport``) that runs the
sans-I/O engine ``circuits._sansio.stomp``. Heart-beats run on core Timers.

Usage::

    client = StompClient("broker", 61613, "user", "secret", use_ssl=False,
                         heartbeats=(10000, 10000)).register(app)
    client.fire(connect())           # -> connected()
    client.fire(subscribe("/queue/a", ack="client"))
    client.fire(send(destination="/queue/a", body="hello"))
    # -> message(frame, headers=..., message=b"hello"); ack(frame) to acknowledge
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from ..._sansio import stomp as engine
from ...core import _clock
from ...core.components import BaseComponent
from ...core.handlers import handler
from ...core.timers import Timer
from .events import (
    client_heartbeat,
    disconnect as disconnect_event,
    heartbeat_timeout,
    on_stomp_error,
    server_heartbeat,
)
from .transport import StompTransport

__all__ = ["StompClient"]

log = logging.getLogger("circuits.protocols")

# We send a heart-beat a little before it is due (3.2.5/stompest: 0.8 x the
# negotiated interval) so that network jitter does not make us look dead.
CLIENT_BEAT_FACTOR = 0.8
# The server's beats are checked every 2 x its interval (3.2.5's schedule).
SERVER_CHECK_FACTOR = 2.0


class StompClient(BaseComponent):
    """A STOMP 1.2 client on channel ``"stomp"``.

    Args:
        host: broker host name (also the CONNECT ``host`` header by default).
        port: broker port.
        username: CONNECT ``login``.
        password: CONNECT ``passcode``.
        connect_timeout: seconds for the TCP connect.
        connected_timeout: kept for 3.2.5 compatibility (the CONNECTED wait
            is not timed separately).
        version: must be ``"1.2"`` (the only version spoken).
        accept_versions: must contain ``"1.2"``; CONNECT offers 1.2 only.
        heartbeats: ``(cx, cy)`` ms: we offer to send every ``cx`` and want
            the server's beats every ``cy`` (0 = off).
        ssl_context: not supported (give ``ca_certs``/``cert_file``/``key_file``).
        use_ssl: connect with TLS (default True, as in 3.2.5).
        key_file: client key for TLS.
        cert_file: client certificate for TLS.
        ca_certs: CA bundle that verifies the broker.
        ssl_version: kept for 3.2.5 compatibility.
        key_file_password: not supported.
        proxy_host: HTTP proxies are not supported.
        proxy_port: see ``proxy_host``.
        proxy_user: see ``proxy_host``.
        proxy_password: see ``proxy_host``.
        channel: the component's channel.

    Raises:
        ValueError: a version other than 1.2 was asked for.
        NotImplementedError: a proxy, an ``ssl_context`` or a key password was given.
    """

    channel = "stomp"
    ALLOWANCE = 2

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        connect_timeout: float = 3,
        connected_timeout: float = 3,
        version: str = "1.2",
        accept_versions: Any = ("1.0", "1.1", "1.2"),
        heartbeats: tuple[int, int] = (0, 0),
        ssl_context: ssl.SSLContext | None = None,
        use_ssl: bool = True,
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_certs: str | None = None,
        ssl_version: int = ssl.PROTOCOL_TLS,
        key_file_password: str | None = None,
        proxy_host: str | None = None,
        proxy_port: int | None = None,
        proxy_user: str | None = None,
        proxy_password: str | None = None,
        channel: Any = "stomp",
    ) -> None:
        if version != "1.2" or "1.2" not in accept_versions:
            raise ValueError(
                f"only STOMP 1.2 is spoken, not version={version!r} "
                f"accept_versions={accept_versions!r}"
            )
        if proxy_host is not None:
            raise NotImplementedError("HTTP proxies are not supported; connect directly")
        if ssl_context is not None or key_file_password is not None:
            raise NotImplementedError(
                "ssl_context/key_file_password are not supported; use ca_certs, cert_file "
                "and key_file"
            )
        super().__init__(channel=channel)
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.connect_timeout = connect_timeout
        self.connected_timeout = connected_timeout
        self.heartbeats = heartbeats
        self.use_ssl = use_ssl
        self._tls: dict[str, Any] = {}
        if use_ssl:
            self._tls = {"certfile": cert_file, "keyfile": key_file, "ca_certs": ca_certs}
        self._subscribed: dict[str, str] = {}  # destination -> subscription id
        self._beat_timers: list[Timer] = []
        self._previous: dict[str, str] = {}  # destination -> ack mode, of the last session
        self._resubscribe: dict[str, str] = {}
        self.transport = StompTransport(
            channel, channel=f"{channel}.tcp", connect_timeout=connect_timeout
        ).register(self)

    @property
    def connected(self) -> bool:
        """Whether the STOMP session is open (CONNECTED received)."""
        return bool(self.transport.session_open)

    @property
    def subscribed(self) -> list[str]:
        """The destinations subscribed to."""
        return list(self._subscribed)

    @property
    def stomp_logger(self) -> logging.Logger:
        """The logger errors go to (``circuits.protocols``)."""
        return log

    # -- requests ----------------------------------------------------------

    @handler("connect")
    def _on_connect(self, subscribe: bool = False, host: str | None = None) -> None:
        # connect(subscribe=True) restores the subscriptions of the last session.
        self._resubscribe = self._previous if subscribe else {}
        request = engine.Connect(
            host=host or self.host,
            login=self.username,
            passcode=self.password,
            heartbeat=tuple(self.heartbeats),  # type: ignore[arg-type]
        )
        self.transport.open(self.host, self.port, request, self.use_ssl, **self._tls)

    @handler("disconnect")
    def _on_disconnect(self, receipt: str | None = None) -> str:
        self._stop_timers()
        if self.connected:
            self.transport.send(engine.Disconnect(receipt))
            if receipt is None:
                self.transport.close()
            # else: the transport closes when the RECEIPT arrives
        else:
            self.transport.close()
        self._subscribed.clear()
        self._previous.clear()
        return "disconnected"

    @handler("send")
    def _on_send(
        self,
        destination: str,
        body: str | bytes,
        headers: dict[str, str] | None = None,
        receipt: str | None = None,
        transaction: str | None = None,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        extra = tuple((headers or {}).items())
        self._request(engine.Send(destination, data, None, transaction, receipt, extra))

    @handler("subscribe")
    def _on_subscribe(
        self, destination: str, ack: str = "client-individual", receipt: str | None = None
    ) -> None:
        if ack not in engine.ACK_MODES:
            raise ValueError(f"ack mode {ack!r} is not one of {engine.ACK_MODES}")
        if destination in self._subscribed:
            return
        if self._request(engine.Subscribe(destination, destination, ack, receipt)):
            self._subscribed[destination] = destination
            self._previous[destination] = ack

    @handler("unsubscribe")
    def _on_unsubscribe(self, destination: str, receipt: str | None = None) -> None:
        token = self._subscribed.pop(destination, None)
        self._previous.pop(destination, None)
        if token is not None:
            self._request(engine.Unsubscribe(token, receipt))

    @handler("ack")
    def _on_ack(
        self, frame: Any, transaction: str | None = None, receipt: str | None = None
    ) -> None:
        self._request(engine.Ack(_ack_id(frame), transaction, receipt))

    @handler("nack")
    def _on_nack(
        self, frame: Any, transaction: str | None = None, receipt: str | None = None
    ) -> None:
        self._request(engine.Nack(_ack_id(frame), transaction, receipt))

    @handler("begin")
    def _on_begin(self, transaction: str, receipt: str | None = None) -> None:
        self._request(engine.Begin(transaction, receipt))

    @handler("commit")
    def _on_commit(self, transaction: str, receipt: str | None = None) -> None:
        self._request(engine.Commit(transaction, receipt))

    @handler("abort")
    def _on_abort(self, transaction: str, receipt: str | None = None) -> None:
        self._request(engine.Abort(transaction, receipt))

    def _request(self, request: engine.ClientRequest) -> bool:
        try:
            self.transport.send(request)
        except engine.LocalProtocolError as exc:
            log.warning("%s: cannot send %s: %s", self.transport.uri, type(request).__name__, exc)
            self.fire(on_stomp_error(None, exc))
            return False
        return True

    # -- session and heart-beats ------------------------------------------

    @handler("connected")
    def _on_connected(self) -> str:
        send_ms, receive_ms = self.transport.conn.heartbeat
        if send_ms:
            self._start_timer(send_ms * CLIENT_BEAT_FACTOR / 1000, client_heartbeat())
        if receive_ms:
            self._start_timer(receive_ms * SERVER_CHECK_FACTOR / 1000, server_heartbeat())
        for destination, ack in self._resubscribe.items():
            self._on_subscribe(destination, ack)
        self._resubscribe = {}
        return "success"

    @handler("disconnected")
    def _on_disconnected(self, *args: Any, **kwargs: Any) -> None:
        self._stop_timers()
        self._subscribed.clear()

    @handler("client_heartbeat")
    def _on_client_heartbeat(self) -> None:
        if self.connected:
            self.transport.send(engine.Heartbeat())

    @handler("server_heartbeat")
    def _on_server_heartbeat(self) -> None:
        receive_ms = self.transport.conn.heartbeat[1]
        if not self.connected or not receive_ms:
            return
        silence = _clock.now() - self.transport.last_received
        if silence > self.ALLOWANCE * receive_ms / 1000:
            log.warning(
                "%s: no data from the broker for %.1f s (heart-beat %d ms)",
                self.transport.uri,
                silence,
                receive_ms,
            )
            self.fire(heartbeat_timeout())
            self.fire(disconnect_event())

    def _start_timer(self, interval: float, event: Any) -> None:
        self._beat_timers.append(Timer(interval, event, self.channel, persist=True).register(self))

    def _stop_timers(self) -> None:
        for timer in self._beat_timers:
            timer.unregister()
        self._beat_timers.clear()


def _ack_id(frame: Any) -> str:
    """The id to ACK/NACK a MESSAGE with: its ``ack`` header (STOMP 1.2)."""
    value = frame.get("ack") or frame.get("message-id")
    if value is None:
        raise ValueError(f"{frame!r} has no 'ack' or 'message-id' header to acknowledge")
    return str(value)
