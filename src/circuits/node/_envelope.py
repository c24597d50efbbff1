"""Node messages on a shared engine (``redis://``, ``nats://``): JSON envelopes.

A transport moves opaque bytes; the Node puts these in them. Each envelope is
one UTF-8 JSON object, ``"circuits": 1`` marking the format version:

* a call::

    {"circuits": 1, "kind": "call", "from": "node-a", "id": 7, "reply": true,
     "event": <3.2.5 event packet, "id" 7>}

  ``from`` is the sender's node name (results go to ``Target.node(from)``),
  ``id`` the sender's call id (an int, unique per sender while the call is
  pending), ``reply`` whether the sender waits for a result (``false`` for
  ``broadcast``). ``event`` is exactly what ``utils.dump_event`` writes.

* a result::

    {"circuits": 1, "kind": "result", "from": "node-b", "id": 7,
     "result": <3.2.5 result packet, "id" 7>, "error": null}

  On failure ``result.errors`` is true, ``result.value`` is the formatted
  traceback (what a 3.2.5 node would store) and ``error`` is
  ``{"type": "ValueError", "message": "...", "traceback": "..."}``: the caller
  raises it as `RemoteError`. Nothing is ever unpickled.

Anything else (not JSON, another version, a missing or mistyped field) is
refused with ``ValueError`` by `decode`; the Node logs and drops it.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = [
    "ENVELOPE_VERSION",
    "CallEnvelope",
    "RemoteError",
    "ResultEnvelope",
    "decode",
    "encode_call",
    "encode_result",
    "error_info",
]

ENVELOPE_VERSION = 1


class RemoteError(Exception):
    """A remote handler raised; its exception, described (never unpickled).

    Attributes:
        type_name: the remote exception's type, qualified unless a builtin
            (``"ValueError"``, ``"myapp.errors.Busy"``).
        message: ``str()`` of the remote exception.
        traceback: the remote traceback, formatted as text.
        node: the remote node's name (or peer connection name), if known.
    """

    def __init__(
        self, type_name: str, message: str, traceback: str = "", node: str | None = None
    ) -> None:
        super().__init__(type_name, message)
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.node = node

    def __str__(self) -> str:
        where = f" (on node {self.node!r})" if self.node else ""
        return f"{self.type_name}: {self.message}{where}"


def type_name(cls: type[BaseException]) -> str:
    """The name a traceback shows for ``cls``."""
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def error_info(
    etype: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> dict[str, str]:
    """``{"type", "message", "traceback"}`` for an exception caught by the dispatcher."""
    return {
        "type": type_name(etype),
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(etype, exc, tb)),
    }


def remote_error(info: Any, text: Any, node: str | None) -> RemoteError:
    """Build the `RemoteError` for a failed result.

    Args:
        info: the ``{"type", "message"[, "traceback"]}`` description, if the
            peer sent one (ours do; a 3.2.5 peer never reports errors).
        text: the result's value: the formatted traceback.
        node: who answered.
    """
    tb = text if isinstance(text, str) else ""
    if isinstance(info, dict) and isinstance(info.get("type"), str):
        return RemoteError(info["type"], str(info.get("message", "")), tb, node)
    # No description: the last traceback line reads "Type: message".
    last = tb.strip().splitlines()[-1] if tb.strip() else "Exception: remote handler failed"
    name, _, message = last.partition(": ")
    return RemoteError(name, message, tb, node)


@dataclass(frozen=True, slots=True)
class CallEnvelope:
    """A decoded call: run ``packet`` (a 3.2.5 event packet, decoded) for ``sender``."""

    sender: str
    id: int
    reply: bool
    packet: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResultEnvelope:
    """A decoded result of call ``id`` from ``sender``."""

    sender: str
    id: int
    packet: dict[str, Any]
    error: dict[str, Any] | None


def encode_call(sender: str, id: int, reply: bool, event_packet: str | dict[str, Any]) -> bytes:
    """A call envelope around ``event_packet``.

    Args:
        sender: this node's name.
        id: the call id (also the packet's).
        reply: whether a result is expected.
        event_packet: the packet as a dict (``utils.event_packet``: the
            envelope is then one ``json.dumps``), or as the text of
            ``dump_event(e, id)``. Both give the same bytes.

    Raises:
        TypeError: the packet holds a value JSON cannot encode.
    """
    head = {"circuits": ENVELOPE_VERSION, "kind": "call", "from": sender, "id": id, "reply": reply}
    if isinstance(event_packet, dict):
        head["event"] = event_packet
        return json.dumps(head).encode()
    return f'{json.dumps(head)[:-1]}, "event": {event_packet}}}'.encode()


def encode_result(
    sender: str, id: int, result_packet: str | dict[str, Any], error: dict[str, str] | None
) -> bytes:
    """A result envelope around ``result_packet`` (a dict, or the text of one).

    Raises:
        TypeError: the packet (a dict) holds a value JSON cannot encode.
    """
    head: dict[str, Any] = {
        "circuits": ENVELOPE_VERSION,
        "kind": "result",
        "from": sender,
        "id": id,
    }
    if isinstance(result_packet, dict):
        head["result"] = result_packet
        head["error"] = error
        return json.dumps(head).encode()
    text = json.dumps(head)[:-1]
    return f'{text}, "result": {result_packet}, "error": {json.dumps(error)}}}'.encode()


def decode(payload: bytes) -> CallEnvelope | ResultEnvelope:
    """Parse an envelope; anything but a well-formed one is refused.

    Raises:
        ValueError: not UTF-8 JSON, or not an envelope of a known version.
    """
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON envelope: {exc}") from None
    if not isinstance(data, dict) or data.get("circuits") != ENVELOPE_VERSION:
        got = data.get("circuits") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"not a circuits node envelope (version {ENVELOPE_VERSION}): {got!r}")
    sender, id, kind = data.get("from"), data.get("id"), data.get("kind")
    if not isinstance(sender, str) or not isinstance(id, int) or isinstance(id, bool):
        raise ValueError(f"envelope needs a string 'from' and an int 'id': {sender!r}, {id!r}")
    if kind == "call":
        packet, reply = data.get("event"), data.get("reply")
        if not isinstance(packet, dict) or not isinstance(reply, bool):
            raise ValueError("a call envelope needs an 'event' object and a boolean 'reply'")
        return CallEnvelope(sender, id, reply, packet)
    if kind == "result":
        packet, error = data.get("result"), data.get("error")
        if not isinstance(packet, dict) or not (error is None or isinstance(error, dict)):
            raise ValueError("a result envelope needs a 'result' object and an 'error' object")
        return ResultEnvelope(sender, id, packet, error)
    raise ValueError(f"unknown envelope kind {kind!r}: expected 'call' or 'result'")
