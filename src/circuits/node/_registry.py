"""Which `Transport` serves which URL scheme.

Entries are ``"module:Class"`` strings, imported on first use: a transport
whose client library is missing (``redis``, ``nats-py``) raises its
ImportError, naming the extra to install, only for a Node that asks for it.
"""

from __future__ import annotations

import importlib

from ._transport import Transport, TransportError

__all__ = ["TRANSPORTS", "register_transport", "transport_class"]

TRANSPORTS: dict[str, str] = {
    "tcp": "circuits.node._tcp:TcpTransport",
    "redis": "circuits.node._redis:RedisTransport",
    "nats": "circuits.node._nats:NatsTransport",
}


def register_transport(scheme: str, spec: str) -> None:
    """Serve ``scheme://`` URLs with the class named by ``spec`` (``"module:Class"``)."""
    if ":" not in spec:
        raise ValueError(f"expected 'module:Class', not {spec!r}")
    TRANSPORTS[scheme] = spec


def transport_class(scheme: str) -> type[Transport]:
    """The transport class for ``scheme``, imported now.

    Raises:
        TransportError: no transport is registered for ``scheme``.
        ImportError: the transport's client library is not installed.
    """
    try:
        spec = TRANSPORTS[scheme]
    except KeyError:
        known = ", ".join(f"{s}://" for s in sorted(TRANSPORTS))
        raise TransportError(f"no node transport for {scheme!r} URLs; expected {known}") from None
    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Transport)):
        raise TransportError(f"{spec!r} is not a Transport class")
    return cls
