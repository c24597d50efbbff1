"""The events of circuits.node.

``remote`` (3.2.5) runs an event on one named node; ``broadcast`` and
``to_group`` (new) reach every node, or one member of a group, of a
``redis://``/``nats://`` network (``broadcast`` also every peer of a TCP
node). ``connected_to``/``disconnected_from`` report peer links.
"""

from __future__ import annotations

from typing import Any

from ..core.events import Event as Event

__all__ = ["Event", "broadcast", "connected_to", "disconnected_from", "remote", "to_group"]


class remote(Event):
    """Run ``event`` on the node named ``connection_name``; the Value gets its result.

    Args:
        event: the event to run remotely.
        connection_name: a peer added with ``Node.add()``, or (redis, nats)
            the name of any node on the network.
        channel: where the event is fired there (default: the channels
            this ``remote`` event was fired on).
        timeout: seconds to wait for the result (default: the node's
            ``call_timeout``); on expiry the Value holds a
            ``circuits.TimeoutError``.
    """

    def __init__(
        self,
        event: Event,
        connection_name: str,
        channel: Any = None,
        timeout: float | None = None,
    ) -> None:
        if timeout is None:
            super().__init__(event, connection_name, channel=channel)
        else:
            super().__init__(event, connection_name, channel=channel, timeout=timeout)


class broadcast(Event):
    """Fire ``event`` on every other node (fire-and-forget).

    Args:
        event: the event to send.
        channel: where it is fired on the receiving nodes (default: the
            channels this event was fired on).
    """

    def __init__(self, event: Event, channel: Any = None) -> None:
        super().__init__(event, channel=channel)


class to_group(Event):
    """Run ``event`` on one member of ``group``; the Value gets its result.

    Args:
        event: the event to run remotely.
        group: the group name (a node joins groups with ``Node(groups=...)``).
        channel: where it is fired on the receiving node.
        timeout: seconds to wait for the result (default: ``call_timeout``).
    """

    def __init__(
        self, event: Event, group: str, channel: Any = None, timeout: float | None = None
    ) -> None:
        if timeout is None:
            super().__init__(event, group, channel=channel)
        else:
            super().__init__(event, group, channel=channel, timeout=timeout)


class connected_to(Event):
    """A peer link is up.

    ``connected_to(connection_name, hostname, port, client_channel, client_obj)``,
    fired on the node's channel. For ``redis://``/``nats://`` nodes the name is
    the URL scheme and ``client_obj`` the transport.
    """

    def __init__(
        self,
        connection_name: str,
        hostname: Any,
        port: Any,
        client_channel: Any,
        client_obj: Any,
    ) -> None:
        super().__init__(connection_name, hostname, port, client_channel, client_obj)


class disconnected_from(connected_to):
    """A peer link was lost; same arguments as `connected_to`."""
