"""The state machine of one HTTP/1.1 connection.

Theory of operation: each side (CLIENT, SERVER) has its own state, moved by
the events that side sends. One request/response exchange is a *cycle*:

    CLIENT: IDLE -Request-> SEND_BODY -Data*-> -EndOfMessage-> DONE
    SERVER: IDLE -(client's Request)-> SEND_RESPONSE -InformationalResponse*->
            -Response-> SEND_BODY -Data*-> -EndOfMessage-> DONE

A server may also send a Response from IDLE: the error response to a request
it could not parse. When both sides are DONE the cycle ends: with keep-alive
both return to IDLE (the next pipelined request may be read); without it both
become MUST_CLOSE. ConnectionClosed moves a side to CLOSED; once one side is
CLOSED the other cannot start a new cycle (IDLE/DONE become MUST_CLOSE).

Protocol switches (RFC 9110 §7.8 Upgrade, §9.3.6 CONNECT): a client whose
request proposes one is MIGHT_SWITCH_PROTOCOL instead of DONE after its
EndOfMessage. The server's 101 (Upgrade) or 2xx (CONNECT) moves both sides to
SWITCHED_PROTOCOL: HTTP is over and the bytes that follow belong to the new
protocol. Any other final response declines, and the client becomes DONE.

ERROR marks a side whose bytes (or whose attempt to send) broke the protocol.
"""

from __future__ import annotations

import enum

from ._errors import LocalProtocolError

__all__ = ["CLIENT", "SERVER", "ConnectionState", "Role", "State"]


class Role(enum.Enum):
    """Which side of the connection an engine plays."""

    CLIENT = "client"
    SERVER = "server"

    # Members are singletons compared by identity: hash them by identity in C
    # (Enum's own __hash__ is a Python call, and states are looked up per event).
    __hash__ = object.__hash__


CLIENT = Role.CLIENT
SERVER = Role.SERVER


class State(enum.Enum):
    """The state of one side of the connection."""

    IDLE = "idle"
    SEND_RESPONSE = "send_response"
    SEND_BODY = "send_body"
    DONE = "done"
    MUST_CLOSE = "must_close"
    CLOSED = "closed"
    MIGHT_SWITCH_PROTOCOL = "might_switch_protocol"
    SWITCHED_PROTOCOL = "switched_protocol"
    ERROR = "error"

    __hash__ = object.__hash__  # as for Role


# Kinds of transition; the connection maps events to these.
REQUEST = "Request"
INFORMATIONAL = "InformationalResponse"
RESPONSE = "Response"
DATA = "Data"
END = "EndOfMessage"
CLOSE = "ConnectionClosed"

_CLOSABLE = {State.IDLE, State.SEND_RESPONSE, State.DONE, State.MUST_CLOSE, State.CLOSED}


class ConnectionState:
    """Both sides' states plus what decides how a cycle ends."""

    def __init__(self) -> None:
        self.states = {CLIENT: State.IDLE, SERVER: State.IDLE}
        self.keep_alive = True
        self.switch_proposed = False  # the current request asks for Upgrade/CONNECT

    def process(self, role: Role, kind: str, *, switch: bool = False) -> bool:
        """Apply ``role`` sending an event of ``kind``; return whether a new cycle began.

        ``switch``: this 101 or 2xx-to-CONNECT accepts the proposed switch.

        Raises:
            LocalProtocolError: the event is not allowed in the current state.
        """
        states = self.states
        state = states[role]
        if kind == CLOSE:
            if state not in _CLOSABLE:
                raise LocalProtocolError(f"cannot close in state {state.name} (a body is open)")
            states[role] = State.CLOSED
        elif role is CLIENT:
            self._client(state, kind)
        else:
            self._server(state, kind, switch)
        return self._settle()

    def _client(self, state: State, kind: str) -> None:
        states = self.states
        if kind == REQUEST and state is State.IDLE:
            states[CLIENT] = State.SEND_BODY
            if states[SERVER] is State.IDLE:
                states[SERVER] = State.SEND_RESPONSE
        elif kind == DATA and state is State.SEND_BODY:
            pass
        elif kind == END and state is State.SEND_BODY:
            states[CLIENT] = State.MIGHT_SWITCH_PROTOCOL if self.switch_proposed else State.DONE
        else:
            raise LocalProtocolError(f"a client cannot send {kind} in state {state.name}")

    def _server(self, state: State, kind: str, switch: bool) -> None:
        states = self.states
        if switch:
            if states[CLIENT] is not State.MIGHT_SWITCH_PROTOCOL:
                raise LocalProtocolError("no protocol switch was proposed by a complete request")
            states[CLIENT] = states[SERVER] = State.SWITCHED_PROTOCOL
            return
        if kind == INFORMATIONAL and state is State.SEND_RESPONSE:
            pass
        elif kind == RESPONSE and state in (State.IDLE, State.SEND_RESPONSE):
            if state is State.IDLE:  # an error response to an unparsable request
                self.keep_alive = False
            states[SERVER] = State.SEND_BODY
            self.switch_proposed = False
            if states[CLIENT] is State.MIGHT_SWITCH_PROTOCOL:
                states[CLIENT] = State.DONE  # the switch was declined
        elif kind == DATA and state is State.SEND_BODY:
            pass
        elif kind == END and state is State.SEND_BODY:
            states[SERVER] = State.DONE
        else:
            raise LocalProtocolError(f"a server cannot send {kind} in state {state.name}")

    def set_error(self, role: Role) -> None:
        self.states[role] = State.ERROR
        self.keep_alive = False
        self._settle()

    def _settle(self) -> bool:
        states = self.states
        if (
            self.keep_alive
            and states[CLIENT] is not State.DONE
            and states[SERVER] is not State.CLOSED
            and states[CLIENT] is not State.CLOSED
        ):
            # The common case mid-cycle: nothing to settle (no side is CLOSED
            # or DONE-and-closing, the cycle has not ended).
            return False
        closed = State.CLOSED in states.values()
        if not self.keep_alive or closed:
            for role, state in states.items():
                if state is State.DONE or (closed and state is State.IDLE):
                    states[role] = State.MUST_CLOSE
            return False
        if states[CLIENT] is State.DONE and states[SERVER] is State.DONE:
            states[CLIENT] = states[SERVER] = State.IDLE
            return True
        return False
