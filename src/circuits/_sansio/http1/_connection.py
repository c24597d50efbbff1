"""The HTTP/1.1 connection engine: bytes in, events out, events in, bytes out.

A :class:`Connection` plays one role (CLIENT or SERVER) on one connection.
``receive_data`` buffers what the peer sent; ``next_event`` turns it into
events; ``send`` turns our events into bytes for the caller to write.

Ordering guarantees: events come out in the order their bytes arrived. A
server reads pipelined requests one at a time: after a request's
EndOfMessage, ``next_event`` returns ``None`` (see :attr:`Connection.paused`)
until our response to it has been sent, and only then parses the next
request from the buffer. A client sends its next request only after the
previous response is complete (no client-side pipelining).

Keep-alive is the HTTP/1.1 default (RFC 9112 §9.3); it ends when either side
sends ``Connection: close``, the peer speaks HTTP/1.0 (we do not implement
HTTP/1.0 keep-alive), a response body is delimited by the close, or a
protocol error happened.
"""

from __future__ import annotations

import dataclasses

from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import (
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    InformationalResponse,
    Request,
    Response,
)
from ._headers import (
    comma_tokens,
    content_length,
    expects_100_continue,
    is_chunked,
    persistent,
    validate_host,
)
from ._limits import (
    MAX_BODY_BYTES,
    MAX_CHUNK_LINE_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADER_COUNT,
    MAX_REQUEST_LINE_BYTES,
    Limits,
)
from ._readers import (
    BodyReader,
    ChunkedReader,
    ContentLengthReader,
    ReceiveBuffer,
    UntilCloseReader,
    read_request_head,
    read_response_head,
)
from ._state import (
    CLIENT,
    CLOSE,
    DATA,
    END,
    INFORMATIONAL,
    REQUEST,
    RESPONSE,
    SERVER,
    ConnectionState,
    Role,
    State,
)
from ._writers import (
    BodyWriter,
    ChunkedWriter,
    NoBodyWriter,
    UntilCloseWriter,
    body_writer,
    write_request_head,
    write_response_head,
)

__all__ = ["Connection"]

_END = EndOfMessage()

_PAUSED_STATES = {
    State.DONE,
    State.MUST_CLOSE,
    State.MIGHT_SWITCH_PROTOCOL,
    State.SWITCHED_PROTOCOL,
}


class Connection:
    """One side of an HTTP/1.1 connection, without I/O.

    Args:
        our_role: ``CLIENT`` or ``SERVER``.
        max_request_line_bytes: longer request lines are refused with 414.
        max_head_bytes: longer heads (and trailer sections) are refused with 431.
        max_header_count: more header fields are refused with 431.
        max_body_bytes: longer received bodies are refused with 413; ``None``: no limit.
        max_chunk_line_bytes: longer chunk-size lines are refused with 400.

    Raises:
        ValueError: ``our_role`` is not ``CLIENT`` or ``SERVER``.
    """

    def __init__(
        self,
        our_role: Role,
        *,
        max_request_line_bytes: int = MAX_REQUEST_LINE_BYTES,
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_header_count: int = MAX_HEADER_COUNT,
        max_body_bytes: int | None = MAX_BODY_BYTES,
        max_chunk_line_bytes: int = MAX_CHUNK_LINE_BYTES,
    ) -> None:
        if our_role not in (CLIENT, SERVER):
            raise ValueError(f"expected CLIENT or SERVER, not {our_role!r}")
        self.our_role = our_role
        self.their_role = SERVER if our_role is CLIENT else CLIENT
        self.limits = Limits(
            max_request_line_bytes, max_head_bytes, max_header_count, max_body_bytes,
            max_chunk_line_bytes,
        )  # fmt: skip
        self._cstate = ConnectionState()
        self._buffer = ReceiveBuffer()
        self._closed = False  # the peer closed (receive_data(b""))
        self._error: RemoteProtocolError | None = None
        self._start_cycle()

    def _start_cycle(self) -> None:
        self._reader: BodyReader | None = None
        self._writer: BodyWriter | None = None
        self._method: bytes | None = None  # of the current request
        self._peer_version: bytes | None = None  # the client's, seen by a server
        self.client_is_waiting_for_100_continue = False

    # -- state --------------------------------------------------------------

    @property
    def our_state(self) -> State:
        """Our side's :class:`State`."""
        return self._cstate.states[self.our_role]

    @property
    def their_state(self) -> State:
        """The peer's :class:`State`."""
        return self._cstate.states[self.their_role]

    @property
    def keep_alive(self) -> bool:
        """Whether the connection can carry another request after this one."""
        return self._cstate.keep_alive

    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        """A server's cue to send ``InformationalResponse(100)`` (or a final response).

        RFC 9110 §10.1.1: the client sent ``Expect: 100-continue`` and waits
        before sending the body; it stops waiting once it sees any response
        (or sends the body anyway).
        """
        return self.their_role is CLIENT and self.client_is_waiting_for_100_continue

    @property
    def paused(self) -> bool:
        """True while ``next_event`` will not read the buffer until we send.

        A server is paused after a request's EndOfMessage until its response
        is complete; bytes that arrive meanwhile (pipelined requests) wait in
        the buffer, so the I/O layer should stop reading until this clears.
        """
        return self.their_state in _PAUSED_STATES or (
            self.our_role is SERVER and self.our_state is not State.IDLE and
            self.their_state is State.IDLE
        )  # fmt: skip

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """The received bytes not consumed, and whether the peer closed.

        After SWITCHED_PROTOCOL these are the new protocol's first bytes.
        """
        return bytes(self._buffer.data), self._closed

    # -- receiving ----------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` means the peer closed the connection.

        Raises:
            RuntimeError: data after the close.
        """
        if data:
            if self._closed:
                raise RuntimeError("received data after the peer closed the connection")
            self._buffer.data += data
        else:
            self._closed = True

    def next_event(self) -> Event | None:
        """The next event, or ``None`` until more bytes arrive (or we send; see :attr:`paused`).

        Raises:
            RemoteProtocolError: the peer broke HTTP/1.1 or a limit; its
                ``error_status_hint`` is the status a server should answer.
                The peer's state becomes ERROR and the error repeats.
        """
        if self._error is not None:
            raise self._error
        try:
            event = self._extract()
            if event is not None:
                self._process_received(event)
        except RemoteProtocolError as exc:
            self._error = exc
            self._cstate.set_error(self.their_role)
            raise
        except LocalProtocolError as exc:  # a transition the peer may not make
            error = RemoteProtocolError(str(exc), exc.error_status_hint)
            self._error = error
            self._cstate.set_error(self.their_role)
            raise error from None
        return event

    def _extract(self) -> Event | None:
        state = self.their_state
        buf = self._buffer
        if state in _PAUSED_STATES or state is State.CLOSED:
            if (
                self._closed
                and state in (State.DONE, State.MUST_CLOSE)
                and not (buf and state is State.DONE)
            ):
                return ConnectionClosed()
            return None
        if state is State.SEND_BODY:
            assert self._reader is not None
            event = self._reader.read(buf)
            if event is None and self._closed:
                return self._reader.read_eof()
            return event
        if self.our_role is SERVER:  # their state: IDLE
            if self.our_state is not State.IDLE:  # our error response is under way
                return ConnectionClosed() if self._closed else None
            head: Event | None = read_request_head(buf, self.limits)
        elif state is State.IDLE:
            if buf:
                raise RemoteProtocolError(f"the server sent {bytes(buf.data[:40])!r} unasked")
            head = None
        else:  # SEND_RESPONSE
            head = read_response_head(buf, self.limits)
        if head is None and self._closed:
            if buf:
                raise RemoteProtocolError("the peer closed the connection inside a message head")
            return ConnectionClosed()
        return head

    def _process_received(self, event: Event) -> None:
        cstate = self._cstate
        if isinstance(event, Request):
            self._reader = self._request_reader(event)
            if self._switch_proposed(event):
                cstate.switch_proposed = True
            self._method = event.method
            self._peer_version = event.http_version
            self.client_is_waiting_for_100_continue = any(
                name == b"expect" for name, _ in event.headers
            ) and expects_100_continue(event.headers, event.http_version)
            new_cycle = cstate.process(CLIENT, REQUEST)
        elif isinstance(event, InformationalResponse):
            self.client_is_waiting_for_100_continue = False
            switch = event.status_code == 101
            if switch and not (cstate.switch_proposed and self._method != b"CONNECT"):
                raise RemoteProtocolError("101 Switching Protocols without an Upgrade request")
            new_cycle = cstate.process(SERVER, INFORMATIONAL, switch=switch)
        elif isinstance(event, Response):
            self.client_is_waiting_for_100_continue = False
            switch = self._accepts_connect(event)
            self._reader = None if switch else self._response_reader(event)
            new_cycle = cstate.process(SERVER, RESPONSE, switch=switch)
        elif isinstance(event, Data):
            if self.their_role is CLIENT:
                self.client_is_waiting_for_100_continue = False
            new_cycle = cstate.process(self.their_role, DATA)
        elif isinstance(event, EndOfMessage):
            new_cycle = cstate.process(self.their_role, END)
        else:
            new_cycle = cstate.process(self.their_role, CLOSE)
        if new_cycle:
            self._start_cycle()

    def _request_reader(self, request: Request) -> BodyReader:
        headers, version = request.headers, request.http_version
        validate_host(headers, version, RemoteProtocolError)
        # Received names are lower-case: look for the framing fields once and
        # skip the checks of those absent (most requests have none of them).
        names = {name for name, _ in headers}
        if version != b"1.1" or (b"connection" in names and not persistent(headers, version)):
            self._cstate.keep_alive = False
        chunked = b"transfer-encoding" in names and is_chunked(headers, RemoteProtocolError)
        length = (
            content_length(headers, RemoteProtocolError) if b"content-length" in names else None
        )
        if chunked:
            if length is not None:
                # RFC 9112 §6.1: both may be a request-smuggling attempt; a
                # server MAY reject it. We do: 400.
                raise RemoteProtocolError("both Transfer-Encoding and Content-Length")
            if request.http_version == b"1.0":
                # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding
                # must be treated as having faulty framing.
                raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 request")
            return ChunkedReader(self.limits)
        if length is None:  # RFC 9112 §6.3 rule 7: a request without framing has no body
            return ContentLengthReader(0)
        self._check_body_size(length)
        return ContentLengthReader(length)

    def _response_reader(self, response: Response) -> BodyReader:
        if not persistent(response.headers, response.http_version):
            self._cstate.keep_alive = False
        # RFC 9112 §6.3 rule 1: no body after HEAD, or in 1xx/204/304
        if self._method == b"HEAD" or response.status_code in (204, 304):
            return ContentLengthReader(0)
        chunked = is_chunked(response.headers, RemoteProtocolError)
        length = content_length(response.headers, RemoteProtocolError)
        if chunked:
            if length is not None:
                raise RemoteProtocolError("both Transfer-Encoding and Content-Length")
            return ChunkedReader(self.limits)
        if length is not None:
            self._check_body_size(length)
            return ContentLengthReader(length)
        self._cstate.keep_alive = False  # RFC 9112 §6.3 rule 8: the close ends it
        return UntilCloseReader(self.limits.max_body_bytes)

    def _check_body_size(self, length: int) -> None:
        limit = self.limits.max_body_bytes
        if limit is not None and length > limit:
            raise RemoteProtocolError(
                f"Content-Length {length} exceeds max_body_bytes={limit}", error_status_hint=413
            )

    def _switch_proposed(self, request: Request) -> bool:
        return request.method == b"CONNECT" or (
            any(n == b"upgrade" or n.lower() == b"upgrade" for n, _ in request.headers)
            and b"upgrade" in comma_tokens(request.headers, b"connection")
        )

    def _accepts_connect(self, response: Response) -> bool:
        return (
            self._method == b"CONNECT"
            and self._cstate.switch_proposed
            and 200 <= response.status_code < 300
        )

    # -- sending ------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """Serialise ``event``; return the bytes to write (``b""`` for ConnectionClosed).

        Raises:
            LocalProtocolError: the event is invalid or not allowed now;
                nothing was produced and our state becomes ERROR.
        """
        if self.our_state is State.ERROR:
            raise LocalProtocolError("cannot send after a local protocol error")
        try:
            return self._send(event)
        except ProtocolError as exc:
            self._cstate.set_error(self.our_role)
            if isinstance(exc, LocalProtocolError):
                raise
            raise LocalProtocolError(str(exc), exc.error_status_hint) from None

    def send_response(self, event: Response, body: bytes = b"") -> bytes:
        """Serialise a whole response: ``event``, then ``body`` (if any), then its end.

        The same bytes and checks as ``send(event) + send(Data(body)) +
        send(EndOfMessage())``, in one step: a server's common case.

        Raises:
            LocalProtocolError: as `send`; nothing was produced and our state
                becomes ERROR. A response that switches protocols (101, 2xx
                to CONNECT) has no end: send it with `send`.
        """
        if self.our_state is State.ERROR:
            raise LocalProtocolError("cannot send after a local protocol error")
        cstate = self._cstate
        try:
            if self.our_role is not SERVER or not isinstance(event, Response):
                raise LocalProtocolError("send_response is for a server's final Response")
            _event, head, _kind, switch = self._response_head(event)
            if switch:
                raise LocalProtocolError("a protocol switch has no end; send() its Response")
            writer = self._writer
            assert writer is not None
            data = writer.data(Data(body)) if body else b""
            end = writer.end(_END)
            cstate.process(SERVER, RESPONSE)
            self.client_is_waiting_for_100_continue = False
            new_cycle = cstate.process(SERVER, END)
        except ProtocolError as exc:
            cstate.set_error(SERVER)
            if isinstance(exc, LocalProtocolError):
                raise
            raise LocalProtocolError(str(exc), exc.error_status_hint) from None
        if new_cycle:
            self._start_cycle()
        return head + data + end if data else head + end

    def send_failed(self) -> None:
        """Tell the engine the bytes of the last ``send`` could not be written."""
        self._cstate.set_error(self.our_role)

    def _send(self, event: Event) -> bytes:
        cstate = self._cstate
        if isinstance(event, Request):
            if self.our_role is not CLIENT:
                raise LocalProtocolError("only a client sends requests")
            if self.our_state is not State.IDLE:
                raise LocalProtocolError(f"cannot send a request in state {self.our_state.name}")
            out = write_request_head(event)
            validate_host(event.headers, b"1.1", LocalProtocolError)
            writer = body_writer(event.headers, no_body=False, error=LocalProtocolError)
            self._writer = writer or NoBodyWriter()
            if not persistent(event.headers, b"1.1"):
                cstate.keep_alive = False
            cstate.switch_proposed = self._switch_proposed(event)
            self._method = event.method
            self.client_is_waiting_for_100_continue = expects_100_continue(event.headers, b"1.1")
            new_cycle = cstate.process(CLIENT, REQUEST)
        elif isinstance(event, (InformationalResponse, Response)):
            if self.our_role is not SERVER:
                raise LocalProtocolError("only a server sends responses")
            event, out, kind, switch = self._response_head(event)
            new_cycle = cstate.process(SERVER, kind, switch=switch)
            self.client_is_waiting_for_100_continue = False
        elif isinstance(event, (Data, EndOfMessage)):
            if self.our_state is not State.SEND_BODY or self._writer is None:
                raise LocalProtocolError(f"cannot send a body in state {self.our_state.name}")
            if isinstance(event, Data):
                out = self._writer.data(event)
                new_cycle = cstate.process(self.our_role, DATA)
            else:
                out = self._writer.end(event)
                new_cycle = cstate.process(self.our_role, END)
            if self.our_role is CLIENT:
                self.client_is_waiting_for_100_continue = False
        elif isinstance(event, ConnectionClosed):
            out = b""
            new_cycle = cstate.process(self.our_role, CLOSE)
        else:
            raise LocalProtocolError(f"expected an HTTP/1.1 event, not {event!r}")
        if new_cycle:
            self._start_cycle()
        return out

    def _response_head(
        self, event: InformationalResponse | Response
    ) -> tuple[InformationalResponse | Response, bytes, str, bool]:
        cstate = self._cstate
        if self.our_state not in (State.IDLE, State.SEND_RESPONSE) or (
            isinstance(event, InformationalResponse) and self.our_state is State.IDLE
        ):
            raise LocalProtocolError(
                f"cannot send {type(event).__name__} in state {self.our_state.name}"
            )
        if isinstance(event, InformationalResponse):
            write_response_head(event)  # validates
            if self._peer_version == b"1.0":
                # RFC 9110 §15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client."
                raise LocalProtocolError("cannot send a 1xx response to an HTTP/1.0 client")
            switch = event.status_code == 101
            if switch and (not cstate.switch_proposed or self._method == b"CONNECT"):
                raise LocalProtocolError("101 Switching Protocols needs the client's Upgrade")
            return event, write_response_head(event), INFORMATIONAL, switch
        status, headers = event.status_code, event.headers
        names = {n.lower() for n, _ in headers}  # the framing checks skip absent fields
        switch = self._accepts_connect(event)
        no_body = switch or self._method == b"HEAD" or status in (204, 304)
        if (status == 204 or switch) and (
            b"content-length" in names or b"transfer-encoding" in names
        ):
            # RFC 9110 §8.6, RFC 9112 §6.1, RFC 9110 §9.3.6
            raise LocalProtocolError(
                f"a {status} response{' to CONNECT' if switch else ''} carries no"
                " Content-Length or Transfer-Encoding"
            )
        writer = body_writer(headers, no_body=no_body, error=LocalProtocolError, names=names)
        if writer is None:
            if self._peer_version == b"1.1" and self.our_state is State.SEND_RESPONSE:
                headers = (*headers, (b"transfer-encoding", b"chunked"))
                writer = ChunkedWriter()
            else:  # an HTTP/1.0 client, or an error response to an unparsed request
                cstate.keep_alive = False
                writer = UntilCloseWriter()
        elif isinstance(writer, ChunkedWriter) and self._peer_version != b"1.1":
            raise LocalProtocolError("chunked responses need an HTTP/1.1 request (RFC 9112 §6.1)")
        if (
            self.client_is_waiting_for_100_continue
            and self.their_state is State.SEND_BODY
            and not switch
        ):
            # A final answer to a client still waiting to send its body: the
            # body may or may not follow, so the connection cannot be reused.
            cstate.keep_alive = False
        has_connection = b"connection" in names
        if self._peer_version != b"1.1" or (has_connection and not persistent(headers, b"1.1")):
            cstate.keep_alive = False
        if not cstate.keep_alive and not (
            has_connection and b"close" in comma_tokens(headers, b"connection")
        ):
            headers = (*headers, (b"connection", b"close"))
        self._writer = writer
        if headers is not event.headers:
            event = dataclasses.replace(event, headers=headers)
        return event, write_response_head(event), RESPONSE, switch
